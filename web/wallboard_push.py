"""The wallboard's push: every connected wallboard gets the new state over its WebSocket as
soon as the controller's live state changes, and a heartbeat when nothing changes.

The live state (``controller.tracking.live.LiveState``) calls ``watch`` listeners after each
fact that changed it; the listener only sets an event, and one task per app builds the state
once and sends it to every socket.  Facts that arrive while a state is being sent coalesce
into the next send.  With nothing new the same state goes out every ``HEARTBEAT_S`` seconds,
so a page that hears nothing for longer knows its push stopped and marks itself stale.
A socket gets the whole state when it connects (``{"full": ...}``) and after that only what
changed since the last state it was sent (``{"delta": ...}``, a JSON merge patch,
web/state_delta.py); a page that reconnects starts again from a whole state.
Today's numbers (service level, abandoned, missed) come from the store at most every
``TODAY_EVERY_S`` seconds.  docs/console.md describes the whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from datetime import datetime
from typing import Protocol, TypeVar, runtime_checkable

from aiohttp import WSMsgType, web

from clinicall.reports.table import Value
from clinicall.web.delta_sockets import DeltaSockets
from clinicall.web.keys import CLOCK, CONFIG, HEALTH, LIVE, SESSIONS
from clinicall.web.kpi_today import rows_by_queue, today_report
from clinicall.web.live import QueueNowLike
from clinicall.web.wallboard_view import MemberNowLike, wallboard_state

log = logging.getLogger(__name__)

HEARTBEAT_S = 5.0
TODAY_EVERY_S = 15.0


@runtime_checkable
class WatchedLive(Protocol):
    """The live state with its operator grid and change signal (``LiveState``)."""

    def snapshot(self, now: datetime) -> Mapping[str, QueueNowLike]: ...
    def members(self) -> Iterable[MemberNowLike]: ...
    def watch(self, listener: Callable[[], None]) -> None: ...


class WallboardPush:
    """The sockets of the open wallboards and the task that feeds them."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._sockets = DeltaSockets()
        self._changed = asyncio.Event()
        self._today: dict[str, dict[str, Value]] = {}
        self._today_at: datetime | None = None
        self.sent = 0  # states sent (all sockets count once), for tests and the benchmark
        self.fulls = 0  # whole states sent (one per connecting socket), for tests

    def wake(self) -> None:
        self._changed.set()

    async def state(self) -> dict[str, object]:
        now = self._app[CLOCK]()
        await self._refresh_today(now)
        live = self._app[LIVE]
        snapshot = dict(live.snapshot(now)) if live is not None else {}
        members = list(live.members()) if isinstance(live, WatchedLive) else []
        health = self._app[HEALTH]
        connected = live is not None and (health is None or health().up)
        return wallboard_state(self._app[CONFIG], snapshot, members, self._today, now,
                               connected=connected)

    async def _refresh_today(self, now: datetime) -> None:
        if self._today_at is not None and (now - self._today_at).total_seconds() < TODAY_EVERY_S:
            return
        try:
            report = await today_report(self._app[SESSIONS], self._app[CONFIG], now)
        except Exception:  # the store is down: the live part still goes out
            log.warning("wallboard: today's numbers unavailable (store)", exc_info=True)
            return
        self._today, self._today_at = rows_by_queue(report), now

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(HEARTBEAT_S):
                    await self._changed.wait()
            self._changed.clear()
            if self._sockets:
                await self.broadcast(await self.state())

    async def broadcast(self, state: dict[str, object]) -> None:
        """``state`` to every socket as its difference from what that socket last got."""
        await self._sockets.send(state)
        self.sent += 1

    async def serve(self, request: web.Request) -> web.WebSocketResponse:
        """One wallboard's socket: the state at once, then every push until it closes.
        Anything the page sends is ignored (the socket is read only to see it close)."""
        ws = web.WebSocketResponse(heartbeat=30.0)
        await ws.prepare(request)
        state = await self.state()
        await self._sockets.open(ws, state)
        self.fulls += 1
        try:
            async for message in ws:
                if message.type == WSMsgType.ERROR:
                    break
        finally:
            self._sockets.drop(ws)
        return ws

    async def close_all(self) -> None:
        await self._sockets.close_all()


PUSH = web.AppKey("wallboard_push", WallboardPush)


class LivePush(Protocol):
    """A push that feeds open sockets from the live state (wallboard, dashboard, operator)."""

    def wake(self) -> None: ...
    async def run(self) -> None: ...
    async def close_all(self) -> None: ...


P = TypeVar("P", bound=LivePush)


def live_push_context(
    key: web.AppKey[P], make: Callable[[web.Application], P], name: str
) -> Callable[[web.Application], AsyncIterator[None]]:
    """The app's cleanup context for one push: made and started with the app (under ``key``),
    woken by every change of the live state, stopped with its sockets closed at shutdown."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        push = make(app)
        app[key] = push
        live = app[LIVE]
        if isinstance(live, WatchedLive):
            live.watch(push.wake)
        task = asyncio.create_task(push.run(), name=name)
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await push.close_all()

    return context


push_context = live_push_context(PUSH, WallboardPush, "wallboard-push")
