"""The FastAGI server: Asterisk's ``AGI(agi://127.0.0.1:4573/ivr)`` lands here.

Only the PBX's addresses are served (``allow``, the config's ``engine.agi_allow``): any other
peer is closed on connect, before a byte is read, and counted in one rate-limited log line
(:mod:`clinicall.agi_scripts.peers`).  Each connection first delivers its environment block
(bounded in size and time: a peer that connects and closes, or sends junk, costs one short log
line at most), then becomes an :class:`AgiChannel` handed to ``handler(channel)`` in a task
the server owns.  Two budgets keep one peer from locking calls out of the IVR:
``max_pending_headers`` connections may be sending their environment at once (each for at
most ``env_timeout``; at most ``max_pending_per_peer`` of them from one address; when full,
the one heard from least recently goes: see ``FastAgiServer._accept``), and
``max_sessions`` counts only sessions past it; every command then has a deadline
(``command_timeout``), so a session that stops answering ends too.  The tasks a call
started live in its :class:`~clinicall.agi_scripts.scope.CallScope` and are awaited before
the session ends.
A handler that raises is logged once for that call; the server keeps serving.  Closing the
connection at the end of the handler returns the call to the dialplan, which reads the
CLINICALL_* variables.

Built on ``asyncio.Protocol`` rather than streams: replies are parsed as bytes arrive, so a
``HANGUP`` line is noticed even between commands and the per-command path is one write and
one future.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Self, cast

from clinicall.agi_scripts.channel import DEFAULT_COMMAND_TIMEOUT, AgiChannel, CommandDeadlines
from clinicall.agi_scripts.peers import LOOPBACK_ONLY, PeerAllowList, RefusalLog
from clinicall.agi_scripts.protocol import (
    AgiCommandTimeout,
    AgiError,
    AgiProtocolError,
    AgiReply,
    EnvironmentParser,
    HangupSignal,
    ReplyParser,
    ReplyStreamError,
)
from clinicall.ivr.port import CallerHungUp

log = logging.getLogger(__name__)

AgiHandler = Callable[[AgiChannel], Awaitable[None]]


class ScriptRouter:
    """A handler that dispatches on the script name (``agi://host:port/<script>``)."""

    def __init__(self, routes: Mapping[str, AgiHandler]) -> None:
        self._routes = dict(routes)

    async def __call__(self, channel: AgiChannel) -> None:
        handler = self._routes.get(channel.env.network_script)
        if handler is None:
            log.warning(
                "no AGI handler for script %r (channel %s); returning the call to the dialplan",
                channel.env.network_script,
                channel.env.uniqueid,
            )
            return
        await handler(channel)


class FastAgiServer:
    """Serves FastAGI connections; ``async with FastAgiServer(handler, port=0) as server:``.

    ``max_sessions`` bounds sessions past their environment block: a session beyond it is
    closed at once and Asterisk continues the dialplan (the fail-open path).
    ``max_pending_headers`` bounds the connections still sending it: the one heard from least
    recently is dropped for a new one, and ``max_pending_per_peer`` bounds them per address in
    the same way (with two PBXs allowed, half the budget each keeps either from crowding the
    other out).  It is the whole budget by default: the allow-list leaves only the PBX's
    addresses, and one PBX needs all of it for a burst of calls connecting at once (the
    server may accept a hundred connections before it reads the first environment).
    ``command_timeout`` is the default deadline of every AGI command (see
    :class:`AgiChannel`).  ``allow``: the peer addresses served (loopback by default); a
    connection from any other is closed at once.  What it closes before a session is counted:
    ``refused_count``, ``pending_dropped_count``, ``malformed_count`` and
    ``env_timeout_count`` (the engine's health reports them: docs/engines/asterisk.md,
    "FastAGI").
    """

    def __init__(
        self,
        handler: AgiHandler,
        host: str = "127.0.0.1",
        port: int = 4573,
        *,
        env_timeout: float = 5.0,
        env_limit: int = 16384,
        max_sessions: int = 1000,
        max_pending_headers: int = 128,
        max_pending_per_peer: int | None = None,
        command_timeout: float = DEFAULT_COMMAND_TIMEOUT,
        allow: PeerAllowList = LOOPBACK_ONLY,
    ) -> None:
        self._handler = handler
        self._host = host
        self._port = port
        self.env_timeout = env_timeout
        self.env_limit = env_limit
        self.max_sessions = max_sessions
        self.max_pending_headers = max_pending_headers
        self.max_pending_per_peer = (
            max_pending_headers if max_pending_per_peer is None else max_pending_per_peer
        )
        if min(max_sessions, max_pending_headers, self.max_pending_per_peer) < 1:
            raise ValueError("FastAGI budgets must be at least 1")
        self.command_timeout = command_timeout
        self.allow = allow
        self.refusals: RefusalLog | None = None  # made with the loop's clock on start
        self._server: asyncio.Server | None = None
        # Connections still sending their environment, oldest first (insertion order).
        self._connections: dict[_AgiConnection, None] = {}
        self._pending_by_peer: dict[str, int] = {}  # only addresses with some pending
        self._headers_dropped = 0  # pending connections dropped for a full budget
        self._malformed = 0  # connections dropped for an environment that is not AGI
        self._env_timeouts = 0  # connections dropped for no environment within env_timeout
        self._heard = 0  # counts connects and environment lines heard: see _accept
        self._sessions: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None  # the serving loop, once started
        self._deadlines: CommandDeadlines | None = None  # the sessions' commands', on start
        # One timer for every pending environment's env_timeout: see _env_sweep.
        self._env_timer: asyncio.TimerHandle | None = None
        self._last_admitted: str | None = None  # the address last found in ...
        self._admitted_by: PeerAllowList | None = None  # ... this list

    @property
    def port(self) -> int:
        """The bound port (useful with ``port=0``)."""
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def session_count(self) -> int:
        """Sessions past their environment block (what ``max_sessions`` counts)."""
        return len(self._sessions)

    @property
    def pending_header_count(self) -> int:
        """Connections still sending their environment block."""
        return len(self._connections)

    @property
    def pending_dropped_count(self) -> int:
        """Connections dropped since the start, still without their environment, because a
        pending-environment budget was full (the one heard from least recently goes:
        ``_accept``); the engine's health reports it (docs/engines/asterisk.md)."""
        return self._headers_dropped

    @property
    def malformed_count(self) -> int:
        """Connections dropped since the start because their environment was not FastAGI: a
        line that is not ``agi_name: value``, a bad id, too long, or no ``agi_request``."""
        return self._malformed

    @property
    def env_timeout_count(self) -> int:
        """Connections dropped since the start because their environment was not complete
        within ``env_timeout`` (``_env_sweep``); the engine's health reports it."""
        return self._env_timeouts

    @property
    def refused_count(self) -> int:
        """Connections refused since the start because their address is not allowed."""
        return 0 if self.refusals is None else self.refusals.refused

    async def start(self) -> None:
        loop = self._loop = asyncio.get_running_loop()
        self.refusals = RefusalLog(loop.time)
        self._deadlines = CommandDeadlines(loop)
        self._server = await loop.create_server(
            lambda: _AgiConnection(self), self._host, self._port, reuse_address=True
        )

    async def close(self) -> None:
        """Stop accepting, cancel running sessions and wait for them to finish."""
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections):
            connection.close_if_no_session()
        sessions = list(self._sessions)
        for task in sessions:
            task.cancel()
        await asyncio.gather(*sessions, return_exceptions=True)
        if self._env_timer is not None:
            self._env_timer.cancel()
            self._env_timer = None
        if self._deadlines is not None:
            self._deadlines.close()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- used by the connections ---------------------------------------------------------

    def _admit(self, peer: str) -> bool:
        """Whether ``peer`` may connect at all; a refusal is counted (and maybe logged)."""
        allow = self.allow
        if (peer == self._last_admitted and self._admitted_by is allow) or allow.allows(peer):
            # One PBX connects from one address: it is parsed and matched once, not per call.
            self._last_admitted, self._admitted_by = peer, allow
            return True
        if self.refusals is not None:
            self.refusals.refuse(peer)
        return False

    def _accept(self, connection: _AgiConnection) -> None:
        """Count a new connection against the header budgets; a full one drops one.

        Asterisk's res_agi writes the environment a line at a time (a write per ``agi_``
        line, then the blank line), so a real call's environment may be read in several
        pieces, and a connection that sent part of one is no less likely a call: what a call
        does is keep sending until the blank line, within milliseconds.  So the connection
        dropped is the one heard from least recently: whose last read that brought a whole
        line (or, if none did, whose connect) came before every other's.  A call whose lines
        are coming in keeps its place against connections that connected and stay silent or
        stopped after a few lines, however many of them arrive; among connections not heard
        from since their connect, the oldest goes.  Order, not time: a counter of connects
        and lines heard (a clock that ticks once a loop iteration would tie a burst).  The
        per-address budget is checked first, so a peer over its share loses one of its own.
        """
        if self._pending_by_peer.get(connection.peer, 0) >= self.max_pending_per_peer:
            self._drop_pending(self._heard_least_recently(connection.peer))
        if len(self._connections) >= self.max_pending_headers:
            self._drop_pending(self._heard_least_recently(None))
        assert self._loop is not None  # a connection comes from the started server
        connection.env_due = self._loop.time() + self.env_timeout
        self._heard_from(connection)
        self._connections[connection] = None
        self._pending_by_peer[connection.peer] = self._pending_by_peer.get(connection.peer, 0) + 1
        if self._env_timer is None:
            self._env_timer = self._loop.call_at(connection.env_due, self._env_sweep)

    def _heard_from(self, connection: _AgiConnection) -> None:
        """``connection`` connected, or a read brought whole lines of its environment."""
        self._heard += 1
        connection.heard = self._heard

    def _env_sweep(self) -> None:
        """Drop the connections whose environment did not come within ``env_timeout``.

        One timer for all of them, not one per connection: it is armed for the oldest pending
        connection's due time (the dict keeps them oldest first), and on firing drops every
        one past its due time and re-arms for the oldest left.  An environment comes within
        milliseconds, so the timer fires about once per ``env_timeout`` while calls come in,
        and never when none is pending.
        """
        self._env_timer = None
        assert self._loop is not None
        now = self._loop.time()
        for connection in list(self._connections):
            if connection.env_due > now:
                self._env_timer = self._loop.call_at(connection.env_due, self._env_sweep)
                return
            connection.env_timed_out()

    def _heard_least_recently(self, peer: str | None) -> _AgiConnection:
        """The pending connection (of ``peer``, or of any) heard from least recently."""
        pending = (c for c in self._connections if peer is None or c.peer == peer)
        return min(pending, key=lambda c: c.heard)

    def _drop_pending(self, connection: _AgiConnection) -> None:
        """Drop a connection still without its environment; one log line per 1,000."""
        self._headers_dropped += 1
        if self._headers_dropped == 1 or self._headers_dropped % 1000 == 0:
            log.warning(
                "FastAGI: %d connections still sending their environment (%d from its "
                "address); dropped the one heard from least recently (%d so far)",
                len(self._connections),
                self._pending_by_peer.get(connection.peer, 0),
                self._headers_dropped,
            )
        connection.drop()

    def _release(self, connection: _AgiConnection) -> None:
        if self._connections.pop(connection, False) is None:  # it was pending
            left = self._pending_by_peer[connection.peer] - 1
            if left:
                self._pending_by_peer[connection.peer] = left
            else:
                del self._pending_by_peer[connection.peer]

    def _start_session(self, channel: AgiChannel) -> bool:
        if len(self._sessions) >= self.max_sessions:
            log.warning("FastAGI: %d sessions in progress, refusing one", self.max_sessions)
            return False
        assert self._loop is not None  # a session comes from a connection of the server
        task = self._loop.create_task(self._run_session(channel))
        self._sessions.add(task)
        task.add_done_callback(self._sessions.discard)
        return True

    async def _run_session(self, channel: AgiChannel) -> None:
        call = channel.env.uniqueid
        try:
            await self._handler(channel)
        except CallerHungUp:
            log.debug("AGI %s: caller hung up", call)
        except AgiCommandTimeout:
            log.debug("AGI %s: ended after a missed deadline", call)  # the channel logged it
        except AgiError as exc:  # peer text in it is a bounded excerpt; no traceback needed
            log.warning("AGI %s: %s: %s", call, type(exc).__name__, _text(exc))
        except Exception:  # one call's bug must not take the server down
            log.exception("AGI %s: handler failed", call)
        finally:
            channel.close()
            channel.scope.cancel()
            if channel.scope.running:  # else nothing to await (the usual IVR call)
                await channel.scope.aclose()


def _text(exc: AgiError) -> str:
    """An error as a log argument: its text, not the exception, which would pin its traceback
    (and the peer's bytes in the frames) for as long as a handler keeps the record."""
    return str(exc)


class _AgiConnection(asyncio.Protocol):
    """Bytes in → environment, then replies and HANGUP signals to the channel."""

    def __init__(self, server: FastAgiServer) -> None:
        self._server = server
        self._transport: asyncio.Transport | None = None
        self._env_parser: EnvironmentParser | None = None
        self.env_due = 0.0  # when its environment must be complete (loop time; the server's)
        self._replies = ReplyParser()
        self._replies_broken = False
        self._channel: AgiChannel | None = None
        self.heard = 0  # the server's count when it last heard from it (FastAgiServer._accept)
        self.peer = ""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport, whatever its class: uvloop's is not an asyncio.Transport
        # subclass, and an assert on the class refused every connection under it.
        transport = cast(asyncio.Transport, transport)
        peername = transport.get_extra_info("peername")
        self.peer = str(peername[0]) if isinstance(peername, tuple) and peername else ""
        if not self._server._admit(self.peer):
            transport.abort()  # not the PBX: nothing is read, nothing is answered
            return
        self._transport = transport
        self._env_parser = EnvironmentParser(self._server.env_limit)
        self._server._accept(self)  # its env_timeout is watched from now on (_env_sweep)

    def data_received(self, data: bytes) -> None:
        channel = self._channel
        if channel is not None:
            if self._replies_broken:
                return
            reply = self._replies.whole_reply(data)  # what nearly every read is
            if reply is not None:
                channel.on_reply(reply)
            else:
                self._feed_replies(channel, data)
        elif self._env_parser is not None:
            self._feed_environment(self._env_parser, data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._server._release(self)
        if self._channel is not None:
            self._channel.on_closed()
        elif self._env_parser is not None:
            log.debug("FastAGI: peer closed before the end of the environment")
            self._env_parser = None

    def close_if_no_session(self) -> None:
        """Server shutdown: a connection still sending its environment is closed."""
        if self._channel is None and self._transport is not None:
            self._transport.close()

    def _feed_environment(self, parser: EnvironmentParser, data: bytes) -> None:
        try:
            env = parser.feed(data)
        except AgiProtocolError as exc:  # its text quotes the peer's bytes as an excerpt only
            self._server._malformed += 1
            log.info("FastAGI: dropping a connection: %s", _text(exc))
            self.drop()
            return
        if env is None:
            if b"\n" in data:  # whole lines came, and the parser took them: it is sending
                self._server._heard_from(self)
            return
        self._env_parser = None
        self._server._release(self)  # past its header: counted as a session from now on
        assert self._transport is not None
        channel = AgiChannel(
            env,
            self._transport,
            command_timeout=self._server.command_timeout,
            loop=self._server._loop,
            deadlines=self._server._deadlines,
        )
        if not self._server._start_session(channel):
            self.drop()
            return
        self._channel = channel
        if parser.rest:
            self._feed_replies(channel, parser.rest)

    def _feed_replies(self, channel: AgiChannel, data: bytes) -> None:
        try:
            items = self._replies.feed(data)
        except ReplyStreamError as exc:
            self._replies_broken = True
            self._deliver(channel, exc.parsed)  # what came before the bad line still counts
            channel.on_error(exc)
            return
        self._deliver(channel, items)

    @staticmethod
    def _deliver(channel: AgiChannel, items: list[AgiReply | HangupSignal]) -> None:
        for item in items:
            if isinstance(item, HangupSignal):
                channel.on_hangup()
            else:
                channel.on_reply(item)

    def env_timed_out(self) -> None:
        self._server._env_timeouts += 1
        log.info("FastAGI: no complete environment within %.1f s", self._server.env_timeout)
        self.drop()

    def drop(self) -> None:
        """Close a connection that has no session (yet)."""
        self._server._release(self)
        self._env_parser = None
        if self._transport is not None:
            self._transport.close()
