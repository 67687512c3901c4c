"""The wallboard page (``/wallboard``, any signed-in role) and its kiosk twin for a wall screen
(``/kiosk/wallboard?token=...``, the read-only ``console.kiosk_token`` of the config, no
login), each with its WebSocket (``/ws/wallboard``, ``/kiosk/ws?token=...``).

The page is a frame; the script (``/assets/wallboard.js``) fills it from the socket's pushes
(web/wallboard_push.py) and never polls: it reconnects with a growing back-off and marks the
board "stale" when no push came for ``STALE_AFTER_S``.  docs/console.md describes it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from clinicall.web.csrf import same_site
from clinicall.web.i18n import language_of, tr, words_json
from clinicall.web.keys import CONFIG, IDENTITY
from clinicall.web.pages import esc, language_links, layout, logout_forms
from clinicall.web.wallboard_push import HEARTBEAT_S, PUSH, push_context

STALE_AFTER_S = 3 * HEARTBEAT_S  # three heartbeats missed


WALLBOARD_WORDS = ("waiting", "longest_wait", "sl_today", "abandoned_today", "missed_today",
                   "live", "stale", "stale_no_pbx", "updated", "left", "st_available",
                   "st_ringing", "st_on_call", "st_wrap_up", "st_paused", "st_offline")


def render_wallboard(title: str, socket_path: str, who: str, csrf_token: str,
                     lang: str = "en", here: str = "/wallboard") -> str:
    signed_in = (f'<div class="who"><span>{esc(who)}</span>'
                 f"{logout_forms(csrf_token, lang)}</div>" if csrf_token else "")
    heads = "".join(f"<th>{esc(tr(lang, k))}</th>"
                    for k in ("operator", "status", "reason", "for", "queues"))
    body = f"""
<header class="board-head">
  <div><h1>{esc(title)}</h1>
  <p class="sub"><span id="feed" class="feed stale" role="status"
    aria-live="polite">{esc(tr(lang, "connecting"))}</span> · <span id="updated"></span></p>
  </div>
  {language_links(lang, here)}
  {signed_in}
</header>
<main class="board" data-socket="{esc(socket_path)}" data-stale-after="{STALE_AFTER_S:g}"
  data-words="{esc(words_json(lang, WALLBOARD_WORDS))}">
  <section aria-label="{esc(tr(lang, "queues"))}"><div id="tiles" class="tiles board-tiles">
  </div></section>
  <section aria-label="{esc(tr(lang, "operators"))}"><h2>{esc(tr(lang, "operators"))}</h2>
  <div class="scroll"><table id="operators" class="grid"><thead><tr>{heads}</tr></thead>
  <tbody></tbody></table></div></section>
</main>"""
    return layout(f"{title} — {tr(lang, 'wallboard')}", body,
                  scripts=("/assets/wallboard.js",), styles=("/assets/console.css",),
                  csrf_token=csrf_token, lang=lang)


def _title(request: web.Request) -> str:
    config = request.app[CONFIG]
    return config.clinic.name.get(config.default_language, "clinicall")


async def wallboard_page(request: web.Request) -> web.Response:
    identity = request[IDENTITY]
    html = render_wallboard(_title(request), "/ws/wallboard",
                            f"{identity.username} ({identity.role.value})",
                            identity.csrf_token or "", language_of(request))
    return web.Response(text=html, content_type="text/html")


async def kiosk_page(request: web.Request) -> web.Response:
    query = urlencode({"token": request.query.get("token", "")})
    html = render_wallboard(_title(request), "/kiosk/ws?" + query, "", "",
                            language_of(request), "/kiosk/wallboard?" + query)
    return web.Response(text=html, content_type="text/html")


async def wallboard_socket(request: web.Request) -> web.WebSocketResponse:
    """The push socket.  A browser sends cookies with a cross-site WebSocket handshake too,
    and no CSRF token: so the Origin must be this site (docs/web-security.md)."""
    if not same_site(request):
        raise web.HTTPForbidden(text='{"error": "cross-site socket refused"}',
                                content_type="application/json")
    return await request.app[PUSH].serve(request)


def add_routes(app: web.Application) -> None:
    """The wallboard's routes and its push (started and stopped with the app)."""
    app.cleanup_ctx.append(push_context)
    app.on_shutdown.append(_close_sockets)
    app.router.add_get("/wallboard", wallboard_page)
    app.router.add_get("/ws/wallboard", wallboard_socket)
    app.router.add_get("/kiosk/wallboard", kiosk_page)
    app.router.add_get("/kiosk/ws", wallboard_socket)


async def _close_sockets(app: web.Application) -> None:
    await app[PUSH].close_all()
