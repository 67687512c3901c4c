"""The operator's page (``/operator``) and its JSON API and socket (operator role):

- ``POST /api/operator/queue`` ``{"queue": id, "logged_in": bool}``: log in to / out of one of
  the operator's queues (their skills in the config);
- ``POST /api/operator/pause`` ``{"paused": bool, "reason": id}``: pause with a reason from
  ``console.pause_reasons``, or resume;
- ``POST /api/operator/disposition`` ``{"call_id": id, "disposition": id}``: what the call was
  (``console.dispositions``), stored on the call;
- ``GET /ws/operator``: the operator's state (queues, pause, the call ringing them or on the
  line with the screen-pop) pushed on every change of the live state, as the wallboard's:
  whole once, then what changed (web/delta_sockets.py).

The engine is reached only through the desk the wiring hands the app (``controller.desk``);
without one (the web run alone) the page says so and the API answers 503.  docs/console.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Iterable
from typing import Protocol

from aiohttp import WSMsgType, web

from clinicall.web.api_errors import api_error, json_object
from clinicall.web.csrf import same_site
from clinicall.web.delta_sockets import DeltaSockets
from clinicall.web.i18n import Lang, language_of, tr, words_json
from clinicall.web.keys import CLOCK, CONFIG, IDENTITY, SESSIONS
from clinicall.web.operator_calls import (
    DispositionRefused,
    own_calls,
    previous_calls,
    store_disposition,
)
from clinicall.web.operator_open_cases import open_cases
from clinicall.web.operator_view import (
    LiveCallLike,
    MembershipLike,
    desk_state,
    operator_of,
)
from clinicall.web.pages import esc, language_links, layout, logout_forms
from clinicall.web.wallboard import STALE_AFTER_S
from clinicall.web.wallboard_push import HEARTBEAT_S, live_push_context

log = logging.getLogger(__name__)


class DeskCallLike(Protocol):
    @property
    def call(self) -> LiveCallLike: ...
    @property
    def caller_e164(self) -> str | None: ...


class DeskLike(Protocol):
    """What the web needs of ``controller.desk.OperatorDesk``."""

    def memberships(self, operator_id: str) -> Iterable[MembershipLike]: ...
    async def log_in(self, operator_id: str, queue: str) -> None: ...
    async def log_out(self, operator_id: str, queue: str) -> None: ...
    async def pause(self, operator_id: str, *, paused: bool, reason: str = "") -> None: ...
    def call_now(self, operator_id: str) -> DeskCallLike | None: ...


DESK: web.AppKey[DeskLike | None] = web.AppKey("desk")


class OperatorPush:
    """Each operator's sockets get their own state on every change (and a heartbeat)."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        # the sockets of each (operator, language): one state, sent as deltas (the wallboard's
        # machinery, web/delta_sockets.py)
        self._feeds: dict[tuple[str, Lang], DeltaSockets] = {}
        self._changed = asyncio.Event()
        self._previous: dict[str, list[dict[str, object]]] = {}  # call id → previous calls
        self._open: dict[str, dict[str, list[dict[str, object]]]] = {}  # call id → open cases

    def wake(self) -> None:
        self._changed.set()

    async def state(self, operator_id: str, lang: Lang) -> dict[str, object]:
        app = self._app
        config, now, desk = app[CONFIG], app[CLOCK](), app[DESK]
        operator = operator_of(config, operator_id)
        if operator is None or desk is None:
            return {"at": now.isoformat(), "operator": operator_id, "available": False}
        now_call = desk.call_now(operator_id)
        previous: list[dict[str, object]] = []
        cases: dict[str, list[dict[str, object]]] = {}
        if now_call is not None and now_call.caller_e164:
            call_id = now_call.call.call_id
            if call_id not in self._previous:  # read once per call
                self._previous[call_id] = await previous_calls(
                    app[SESSIONS], now_call.caller_e164, now, zone=config.clinic.zone,
                    exclude=call_id)
                self._open[call_id] = await open_cases(
                    app[SESSIONS], now_call.caller_e164, zone=config.clinic.zone)
            previous, cases = self._previous[call_id], self._open[call_id]
        state = desk_state(config, operator, desk.memberships(operator_id),
                           now_call.call if now_call else None,
                           now_call.caller_e164 if now_call else None, previous, now, lang,
                           open_cases=cases)
        state["available"] = True
        return state

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(HEARTBEAT_S):
                    await self._changed.wait()
            self._changed.clear()
            for who, feed in list(self._feeds.items()):
                if feed:
                    await feed.send(await self.state(*who))
            if len(self._previous) > 1000:  # calls long gone
                self._previous.clear()
                self._open.clear()

    async def serve(self, request: web.Request, operator_id: str) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=30.0)
        await ws.prepare(request)
        who = (operator_id, language_of(request))
        feed = self._feeds.setdefault(who, DeltaSockets())
        try:
            await feed.open(ws, await self.state(*who))
            async for message in ws:
                if message.type == WSMsgType.ERROR:
                    break
        finally:
            feed.drop(ws)
            if not feed and self._feeds.get(who) is feed:
                del self._feeds[who]  # its last page closed
        return ws

    async def close_all(self) -> None:
        for feed in list(self._feeds.values()):
            await feed.close_all()
        self._feeds.clear()


OPERATOR_PUSH = web.AppKey("operator_push", OperatorPush)


_push_context = live_push_context(OPERATOR_PUSH, OperatorPush, "operator-push")


OPERATOR_WORDS = ("incoming_call", "on_the_line", "none", "logged_in", "logged_out",
                  "queue_log_in", "queue_log_out", "paused", "live", "stale", "saved", "saving",
                  "no_answer", "callback", "complaint", "attempts", "flag_done",
                  "flag_complaint")


def my_callbacks_url(queues: Iterable[str]) -> str:
    """The operator's own callback list: the open jobs of their queues (``/api/callbacks``)."""
    return "/api/callbacks?state=pending,claimed&limit=100&queue=" + ",".join(queues)


def render_operator_page(request: web.Request) -> str:
    app, identity = request.app, request[IDENTITY]
    config = app[CONFIG]
    lang = language_of(request)
    operator = operator_of(config, identity.username)
    token = identity.csrf_token or ""
    if operator is None:
        problem = tr(lang, "no_operator_id", id=repr(identity.username))
    elif app[DESK] is None:
        problem = tr(lang, "no_controller")
    else:
        problem = ""
    reasons = "".join(f'<option value="{esc(k)}">{esc(v.get(lang, k))}</option>'
                      for k, v in config.console.pause_reasons.items())
    dispositions = "".join(
        f'<button type="button" class="disposition" data-disposition="{esc(k)}">'
        f"{esc(v.get(lang, k))}</button>" for k, v in config.console.dispositions.items())
    callbacks_url = my_callbacks_url(operator.queues if operator else ())
    facts = "".join(f'<dt>{esc(tr(lang, word))}</dt><dd data-pop="{field}"></dd>'
                    for word, field in (("number", "number"), ("name", "name"),
                                        ("language", "language"), ("queue", "queue_name"),
                                        ("route", "route"), ("ivr_path", "path"),
                                        ("waited", "wait_s")))
    body = f"""
<header class="board-head">
  <div><h1>{esc(operator.name if operator else identity.username)}</h1>
  <p class="sub"><span id="feed" class="feed stale" role="status"
    aria-live="polite">{esc(tr(lang, "connecting"))}</span></p></div>
  <div class="who">{language_links(lang, "/operator")}
  <a href="/wallboard">{esc(tr(lang, "wallboard"))}</a>
  <span>{esc(identity.username)} ({esc(identity.role.value)})</span>
  {logout_forms(token, lang)}</div>
</header>
<main class="board desk" data-socket="/ws/operator" data-stale-after="{STALE_AFTER_S:g}"
  data-words="{esc(words_json(lang, OPERATOR_WORDS))}">
  {f'<p class="error" role="alert">{esc(problem)}</p>' if problem else ""}
  <p id="desk-error" class="error" role="alert" hidden></p>
  <section aria-label="{esc(tr(lang, "incoming_call"))}" id="pop" class="pop" hidden>
    <h2 id="pop-title">{esc(tr(lang, "incoming_call"))}</h2>
    <dl class="pop-facts">{facts}</dl>
    <h3>{esc(tr(lang, "previous_calls"))}</h3>
    <ul id="pop-previous"></ul>
    <h3>{esc(tr(lang, "open_callbacks"))}</h3>
    <ul id="pop-callbacks"></ul>
    <h3>{esc(tr(lang, "open_complaints"))}</h3>
    <ul id="pop-complaints"></ul>
  </section>
  <section aria-label="{esc(tr(lang, "after_the_call"))}" id="after-call" hidden>
    <h2>{esc(tr(lang, "after_the_call"))}</h2>
    <p>{esc(tr(lang, "what_was_call"))} <span id="after-call-id"></span>?</p>
    <div class="dispositions">{dispositions}</div>
  </section>
  <section aria-label="{esc(tr(lang, "flag_complaint"))}" id="flag" hidden>
  <label>{esc(tr(lang, "flag_note"))} <input id="flag-note" maxlength="500"></label>
  <button type="button" id="flag-complaint">{esc(tr(lang, "flag_complaint"))}</button>
  <span id="flag-done" role="status"></span></section>
  <p id="disposition-done" role="status"></p>
  <section aria-label="{esc(tr(lang, "my_queues"))}"><h2>{esc(tr(lang, "my_queues"))}</h2>
  <div class="scroll"><table id="my-queues" class="grid"><thead><tr>
  <th>{esc(tr(lang, "queue"))}</th><th>{esc(tr(lang, "status"))}</th><th></th></tr>
  </thead><tbody></tbody></table></div></section>
  <section aria-label="{esc(tr(lang, "pause"))}"><h2>{esc(tr(lang, "pause"))}</h2>
  <label>{esc(tr(lang, "reason"))} <select id="pause-reason">{reasons}</select></label>
  <button type="button" id="pause">{esc(tr(lang, "pause"))}</button>
  <button type="button" id="resume">{esc(tr(lang, "resume"))}</button>
  <span id="pause-state" role="status"></span></section>
  <section aria-label="{esc(tr(lang, "my_callbacks"))}"><h2>{esc(tr(lang, "my_callbacks"))}</h2>
  <button type="button" id="callbacks-refresh">{esc(tr(lang, "refresh"))}</button>
  <div class="scroll"><table id="my-callbacks" class="grid"
    data-source="{esc(callbacks_url)}" data-zone="{esc(config.clinic.timezone)}"
    data-lang="{lang}"><thead><tr>
  <th>{esc(tr(lang, "number"))}</th><th>{esc(tr(lang, "queue"))}</th>
  <th>{esc(tr(lang, "reason"))}</th><th>{esc(tr(lang, "state"))}</th>
  <th>{esc(tr(lang, "due"))}</th><th>{esc(tr(lang, "attempts"))}</th></tr>
  </thead><tbody></tbody></table></div></section>
  <section aria-label="{esc(tr(lang, "my_calls"))}"><h2>{esc(tr(lang, "my_calls"))}</h2>
  <button type="button" id="my-calls-refresh">{esc(tr(lang, "refresh"))}</button>
  <div class="scroll"><table id="my-calls" class="grid"><thead><tr>
  <th>{esc(tr(lang, "when"))}</th><th>{esc(tr(lang, "number"))}</th>
  <th>{esc(tr(lang, "route"))}</th><th>{esc(tr(lang, "disposition"))}</th><th></th></tr>
  </thead><tbody></tbody></table></div></section>
</main>"""
    return layout(f"{tr(lang, 'my_desk')} — clinicall", body,
                  scripts=("/assets/operator.js",), styles=("/assets/console.css",),
                  csrf_token=token, lang=lang)


async def operator_page(request: web.Request) -> web.Response:
    return web.Response(text=render_operator_page(request), content_type="text/html")


async def operator_socket(request: web.Request) -> web.WebSocketResponse:
    if not same_site(request):
        raise web.HTTPForbidden(text='{"error": "cross-site socket refused"}',
                                content_type="application/json")
    return await request.app[OPERATOR_PUSH].serve(request, request[IDENTITY].username)


def _desk(request: web.Request) -> tuple[DeskLike, str]:
    desk = request.app[DESK]
    if desk is None:
        raise api_error(web.HTTPServiceUnavailable, "the console runs without the controller",
                        "no_controller")
    operator = operator_of(request.app[CONFIG], request[IDENTITY].username)
    if operator is None:
        raise api_error(web.HTTPForbidden, "no operator with this id in the config",
                        "not_an_operator")
    return desk, operator.id


async def _engine_call(action: str, call: Awaitable[None]) -> web.Response:
    """Run a desk command; an engine error is a 502 saying what failed, nothing more."""
    try:
        await call
    except Exception as exc:  # the port raises only EngineError; the web does not import it
        log.warning("operator %s failed: %s", action, exc)
        return web.json_response({"error": f"the phone system refused: {exc}"}, status=502)
    return web.json_response({"ok": True})


async def api_queue(request: web.Request) -> web.Response:
    desk, operator_id = _desk(request)
    body = await json_object(request)
    queue, logged_in = body.get("queue"), body.get("logged_in")
    operator = operator_of(request.app[CONFIG], operator_id)
    assert operator is not None
    if not isinstance(queue, str) or queue not in operator.queues:
        raise api_error(web.HTTPBadRequest,
                        "queue: one of your queues " + ", ".join(operator.queues),
                        "unknown_queue")
    if not isinstance(logged_in, bool):
        raise api_error(web.HTTPBadRequest, "logged_in: true or false", "invalid_logged_in")
    action = desk.log_in if logged_in else desk.log_out
    return await _engine_call("queue login" if logged_in else "queue logout",
                              action(operator_id, queue))


async def api_pause(request: web.Request) -> web.Response:
    desk, operator_id = _desk(request)
    body = await json_object(request)
    paused, reason = body.get("paused"), body.get("reason", "")
    reasons = request.app[CONFIG].console.pause_reasons
    if not isinstance(paused, bool):
        raise api_error(web.HTTPBadRequest, "paused: true or false", "invalid_paused")
    if paused and reason not in reasons:
        raise api_error(web.HTTPBadRequest, "reason: one of " + ", ".join(reasons),
                        "invalid_pause_reason")
    return await _engine_call("pause", desk.pause(operator_id, paused=paused,
                                                  reason=str(reason) if paused else ""))


async def api_disposition(request: web.Request) -> web.Response:
    _, operator_id = _desk(request)
    body = await json_object(request)
    call_id, disposition = body.get("call_id"), body.get("disposition")
    choices = request.app[CONFIG].console.dispositions
    if not isinstance(call_id, str) or not call_id or len(call_id) > 64:
        raise api_error(web.HTTPBadRequest, "call_id: the call's id from the screen-pop",
                        "invalid_call_id")
    if disposition not in choices:
        raise api_error(web.HTTPBadRequest, "disposition: one of " + ", ".join(choices),
                        "invalid_disposition")
    try:
        await store_disposition(request.app[SESSIONS], call_id, operator_id, str(disposition),
                                request.app[CLOCK]())
    except DispositionRefused as exc:
        code = "call_not_in_account" if "not in the account" in str(exc) else "not_your_call"
        return web.json_response({"error": str(exc), "code": code}, status=409)
    return web.json_response({"ok": True})


async def api_my_calls(request: web.Request) -> web.Response:
    """``GET /api/operator/calls``: the calls this operator took in the last 7 days."""
    config = request.app[CONFIG]
    operator = operator_of(config, request[IDENTITY].username)
    if operator is None:  # the role allows it: the config lacks the operator (the admin's fix)
        raise api_error(web.HTTPConflict, "no operator with this id in the config",
                        "not_an_operator")
    calls = await own_calls(request.app[SESSIONS], operator.id, request.app[CLOCK](),
                            zone=config.clinic.zone)
    return web.json_response({"calls": calls})


def add_routes(app: web.Application, desk: DeskLike | None) -> None:
    app[DESK] = desk
    app.cleanup_ctx.append(_push_context)
    app.on_shutdown.append(_close_sockets)
    app.router.add_get("/operator", operator_page)
    app.router.add_get("/ws/operator", operator_socket)
    app.router.add_post("/api/operator/queue", api_queue)
    app.router.add_post("/api/operator/pause", api_pause)
    app.router.add_post("/api/operator/disposition", api_disposition)
    app.router.add_get("/api/operator/calls", api_my_calls)


async def _close_sockets(app: web.Application) -> None:
    await app[OPERATOR_PUSH].close_all()
