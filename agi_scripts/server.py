"""The FastAGI server: Asterisk's ``AGI(agi://127.0.0.1:4573/ivr)`` lands here.

Each connection first delivers its environment block (bounded in size and time: a peer that
connects and closes, or sends junk, costs one short log line at most), then becomes an
:class:`AgiChannel` handed to ``handler(channel)`` in a task the server owns.  A handler that
raises is logged once for that call; the server keeps serving.  Closing the connection at the
end of the handler returns the call to the dialplan, which reads the CLINICALL_* variables.

Built on ``asyncio.Protocol`` rather than streams: replies are parsed as bytes arrive, so a
``HANGUP`` line is noticed even between commands and the per-command path is one write and
one future.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Self

from clinicall.agi_scripts.channel import AgiChannel
from clinicall.agi_scripts.protocol import (
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

    ``max_sessions`` bounds connections in progress; a connection beyond it is closed at once
    and Asterisk continues the dialplan (the fail-open path).
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
    ) -> None:
        self._handler = handler
        self._host = host
        self._port = port
        self.env_timeout = env_timeout
        self.env_limit = env_limit
        self.max_sessions = max_sessions
        self._server: asyncio.Server | None = None
        self._connections: set[_AgiConnection] = set()
        self._sessions: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """The bound port (useful with ``port=0``)."""
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def session_count(self) -> int:
        return len(self._sessions)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
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

    def _accept(self, connection: _AgiConnection) -> bool:
        if len(self._connections) >= self.max_sessions:
            log.warning(
                "FastAGI: %d sessions in progress, refusing a connection", self.max_sessions
            )
            return False
        self._connections.add(connection)
        return True

    def _release(self, connection: _AgiConnection) -> None:
        self._connections.discard(connection)

    def _start_session(self, channel: AgiChannel) -> None:
        task = asyncio.get_running_loop().create_task(self._run_session(channel))
        self._sessions.add(task)
        task.add_done_callback(self._sessions.discard)

    async def _run_session(self, channel: AgiChannel) -> None:
        try:
            await self._handler(channel)
        except CallerHungUp:
            log.debug("AGI %s: caller hung up", channel.env.uniqueid)
        except AgiProtocolError as exc:
            log.warning("AGI %s: protocol error: %s", channel.env.uniqueid, exc)
        except Exception:  # one call's bug must not take the server down
            log.exception("AGI %s: handler failed", channel.env.uniqueid)
        finally:
            channel.close()


class _AgiConnection(asyncio.Protocol):
    """Bytes in → environment, then replies and HANGUP signals to the channel."""

    def __init__(self, server: FastAgiServer) -> None:
        self._server = server
        self._transport: asyncio.Transport | None = None
        self._env_parser: EnvironmentParser | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._replies = ReplyParser()
        self._replies_broken = False
        self._channel: AgiChannel | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        if not self._server._accept(self):
            transport.close()
            return
        self._env_parser = EnvironmentParser(self._server.env_limit)
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._server.env_timeout, self._env_timed_out)

    def data_received(self, data: bytes) -> None:
        if self._channel is not None:
            if not self._replies_broken:
                self._feed_replies(self._channel, data)
        elif self._env_parser is not None:
            self._feed_environment(self._env_parser, data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        self._server._release(self)
        if self._channel is not None:
            self._channel.on_closed()
        elif self._env_parser is not None:
            log.debug("FastAGI: peer closed before the end of the environment")
            self._env_parser = None

    def close_if_no_session(self) -> None:
        if self._channel is None and self._transport is not None:
            self._transport.close()

    def _feed_environment(self, parser: EnvironmentParser, data: bytes) -> None:
        try:
            env = parser.feed(data)
        except AgiProtocolError as exc:
            log.info("FastAGI: dropping a connection: %s", exc)
            self._drop()
            return
        if env is None:
            return
        self._cancel_timer()
        self._env_parser = None
        assert self._transport is not None
        channel = self._channel = AgiChannel(env, self._transport)
        self._server._start_session(channel)
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

    def _env_timed_out(self) -> None:
        self._timer = None
        log.info("FastAGI: no complete environment within %.1f s", self._server.env_timeout)
        self._drop()

    def _drop(self) -> None:
        self._env_parser = None
        if self._transport is not None:
            self._transport.close()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
