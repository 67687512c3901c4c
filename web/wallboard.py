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
from clinicall.web.keys import CONFIG, IDENTITY
from clinicall.web.pages import esc, layout, logout_forms
from clinicall.web.wallboard_push import HEARTBEAT_S, PUSH, push_context

STALE_AFTER_S = 3 * HEARTBEAT_S  # three heartbeats missed


def render_wallboard(title: str, socket_path: str, who: str, csrf_token: str) -> str:
    signed_in = (f'<div class="who"><span>{esc(who)}</span>{logout_forms(csrf_token)}</div>'
                 if csrf_token else "")
    body = f"""
<header class="board-head">
  <div><h1>{esc(title)}</h1>
  <p class="sub"><span id="feed" class="feed stale" role="status"
    aria-live="polite">connecting…</span> · <span id="updated"></span></p></div>
  {signed_in}
</header>
<main class="board" data-socket="{esc(socket_path)}" data-stale-after="{STALE_AFTER_S:g}">
  <section aria-label="Queues"><div id="tiles" class="tiles board-tiles"></div></section>
  <section aria-label="Operators"><h2>Operators</h2>
  <table id="operators" class="grid"><thead><tr><th>Operator</th><th>Status</th>
  <th>Reason</th><th>For</th><th>Queues</th></tr></thead><tbody></tbody></table></section>
</main>"""
    return layout(f"{title} — wallboard", body, scripts=("/assets/wallboard.js",),
                  styles=("/assets/console.css",),
                  csrf_token=csrf_token)


def _title(request: web.Request) -> str:
    config = request.app[CONFIG]
    return config.clinic.name.get(config.default_language, "clinicall")


async def wallboard_page(request: web.Request) -> web.Response:
    identity = request[IDENTITY]
    html = render_wallboard(_title(request), "/ws/wallboard",
                            f"{identity.username} ({identity.role.value})",
                            identity.csrf_token or "")
    return web.Response(text=html, content_type="text/html")


async def kiosk_page(request: web.Request) -> web.Response:
    socket = "/kiosk/ws?" + urlencode({"token": request.query.get("token", "")})
    return web.Response(text=render_wallboard(_title(request), socket, "", ""),
                        content_type="text/html")


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
