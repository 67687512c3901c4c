"""The outbound Event Socket: FreeSWITCH's ``socket HOST:PORT async full`` app dials in, one
TCP connection per call, and the controller drives the call over it.

Per session (docs/engines/freeswitch.md, "Outbound"): ``connect`` (the reply is the channel
data: a header block with no ``Content-Length``), ``myevents`` (every event of this channel),
``linger`` (events keep coming after the hang-up, so an application interrupted by it still
reports its ``CHANNEL_EXECUTE_COMPLETE``).  An application runs by ``sendmsg`` with
``call-command: execute`` and an ``Event-UUID`` the session picks; in async mode the reply is
an immediate ``+OK`` and the completion is the ``CHANNEL_EXECUTE_COMPLETE`` whose
``Application-UUID`` is that uuid.

Hang-up: ``CHANNEL_HANGUP`` marks the session hung up (its cause kept), cancels the tasks the
session owns and makes every later command fail with ``EslHungUp`` without being sent; an
application already running still completes with its own event (``variable_read_result:
failure`` for an interrupted ``play_and_get_digits``).  The linger notice
(``text/disconnect-notice``, ``Content-Disposition: linger``) comes after the channel's last
events: whatever still waits then fails with ``EslHungUp``.  Plain ``linger`` never closes on
its own, so the session always ends with ``exit`` (then FreeSWITCH's final notice and close).
Every command has a deadline.

The socket app parks the channel only once ``connect`` has come, in the channel's own thread;
the finished session lets the park go.  A session that ends before the park began (one that
ran no application: nothing to say on this leg) leaves a park that nobody ends, and, on a leg
that does not resume its dialplan, the channel waits there until it hangs up (seen on the real
engine: a callback's patient, held until the originate's limit).  Such a session first runs
one application that does nothing (``PARK_PROOF``): it is run by the park, so once it has
completed, ``exit`` ends the park.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from clinicall.controller.freeswitch.esl import protocol
from clinicall.controller.freeswitch.esl.commands import encode_command, encode_sendmsg
from clinicall.controller.freeswitch.esl.connection import EslConnection, command_label
from clinicall.controller.freeswitch.esl.errors import (
    EslCommandError,
    EslError,
    EslHungUp,
    EslLinkLost,
    EslNotConnected,
)
from clinicall.controller.freeswitch.esl.message import EslEvent, EslMessage

log = logging.getLogger(__name__)

EXECUTE_COMPLETE = "CHANNEL_EXECUTE_COMPLETE"
#: The application a session that ran none runs before ``exit`` (see the module docstring).
PARK_PROOF = ("set", "clinicall_session=done")
#: DTMF digits kept while nobody reads them (oldest dropped): a caller typing ahead.
MAX_PENDING_DIGITS = 64
SessionHandler = Callable[["OutboundSession"], Awaitable[None]]


class OutboundSession:
    """One call's outbound socket.  Made by ``OutboundServer``; ``channel`` is set once
    connected.  Not for use across event loops."""

    def __init__(self, conn: EslConnection, *, command_timeout: float = 10.0) -> None:
        self._conn = conn
        self.command_timeout = command_timeout
        self.channel = EslEvent([])
        self.hangup_cause = ""
        self._hung_up = asyncio.Event()
        self._ended = asyncio.Event()  # the linger notice, the final notice or EOF
        self._executing: dict[str, asyncio.Future[EslEvent]] = {}
        self._digits: deque[str] = deque(maxlen=MAX_PENDING_DIGITS)
        self._digit_arrived = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._handlers: list[Callable[[EslEvent], None]] = []
        self._connected = False  # an async session that FreeSWITCH has begun to park
        self._parked = False  # an application ran: the park runs

    @property
    def uuid(self) -> str:
        """The channel's uuid (``Unique-ID`` of the channel data)."""
        return self.channel.unique_id

    @property
    def hung_up(self) -> bool:
        return self._hung_up.is_set()

    async def wait_hung_up(self) -> None:
        await self._hung_up.wait()

    def add_handler(self, handler: Callable[[EslEvent], None]) -> None:
        """Call ``handler(event)`` for every event of this channel (sync; must not block)."""
        self._handlers.append(handler)

    # ---- set-up --------------------------------------------------------------------------

    async def connect(self, *, linger: bool = True) -> EslEvent:
        """``connect``, ``myevents`` and (by default) ``linger``; returns the channel data."""
        reply = await self._conn.send(encode_command("connect"), "connect", self.command_timeout)
        if reply.event is None or not reply.reply_text.startswith("+OK"):
            raise EslCommandError("connect", reply.reply_text or "no channel data")
        self.channel = reply.event
        if reply.get("Socket-Mode") != "async":
            # Static mode answers a sendmsg only once the application ends and has no linger:
            # the dialplan (or originate) must say ``socket HOST:PORT async full``.
            mode = reply.get("Socket-Mode", "?")
            raise EslCommandError("connect", f"socket mode {mode[:20]!r}, not async")
        await self.command("myevents")
        if linger:
            await self.command("linger")
        self._connected = True
        return self.channel

    # ---- commands ------------------------------------------------------------------------

    async def command(self, text: str, *, timeout: float | None = None) -> str:  # noqa: ASYNC109
        """Send one command and return its ``Reply-Text``; raises EslCommandError on ``-ERR``,
        EslHungUp when the link is gone, TimeoutError."""
        label = command_label(text)
        try:
            reply = await self._conn.send(encode_command(text), label, self._deadline(timeout))
        except (EslLinkLost, EslNotConnected) as exc:
            raise EslHungUp(str(exc)) from None
        if reply.reply_text.startswith("-ERR"):
            raise EslCommandError(label, reply.reply_text)
        return reply.reply_text

    async def execute(self, app: str, arg: str = "", *, timeout: float | None = None) -> EslEvent:  # noqa: ASYNC109
        """Run dialplan application ``app`` with ``arg`` and wait until it completes: the
        ``CHANNEL_EXECUTE_COMPLETE`` event (``Application-Response``, ``variable_*`` headers).

        Raises EslHungUp (the channel hung up before it was sent, or the session ended before
        it completed), EslCommandError (FreeSWITCH refused it), TimeoutError."""
        if self.hung_up:
            raise EslHungUp(f"execute {app}: the channel hung up ({self.hangup_cause}); not sent")
        deadline = self._deadline(timeout)
        event_uuid = str(uuid.uuid4())
        done: asyncio.Future[EslEvent] = asyncio.get_running_loop().create_future()
        self._executing[event_uuid] = done
        try:
            async with asyncio.timeout(deadline):
                data = encode_sendmsg(app, arg, event_uuid=event_uuid)
                try:
                    reply = await self._conn.send(data, f"execute {app}", deadline)
                except (EslLinkLost, EslNotConnected) as exc:
                    raise EslHungUp(str(exc)) from None
                if not reply.reply_text.startswith("+OK"):
                    raise EslCommandError(f"execute {app}", reply.reply_text)
                complete = await asyncio.shield(done)
                self._parked = True
                return complete
        except TimeoutError:
            raise TimeoutError(f"ESL execute {app}: not complete within {deadline:g} s") from None
        finally:
            self._executing.pop(event_uuid, None)

    async def hangup(self, cause: str = "NORMAL_CLEARING") -> None:
        """Hang the channel up (the ``hangup`` application); a channel already gone is fine."""
        with contextlib.suppress(EslHungUp):
            await self.execute("hangup", cause)

    async def read_digit(self, timeout: float) -> str | None:  # noqa: ASYNC109
        """The next DTMF digit the caller pressed (typed-ahead ones first), None when none
        came within ``timeout``; EslHungUp once the channel hung up with none left."""
        try:
            async with asyncio.timeout(timeout):
                while not self._digits:
                    if self.hung_up:
                        raise EslHungUp(f"the channel hung up ({self.hangup_cause})")
                    self._digit_arrived.clear()
                    waiters = [asyncio.ensure_future(self._digit_arrived.wait()),
                               asyncio.ensure_future(self._hung_up.wait())]  # fmt: skip
                    try:
                        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        for waiter in waiters:
                            waiter.cancel()
                        await asyncio.wait(waiters)
                return self._digits.popleft()
        except TimeoutError:
            return None

    def start_task(self, coro: Coroutine[Any, Any, Any], name: str = "") -> asyncio.Task[Any]:
        """Run ``coro`` beside the session's commands; it is cancelled when the caller hangs up
        or the session ends, and awaited before the session closes."""
        task = asyncio.create_task(coro, name=name or "esl-session-task")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if self.hung_up:
            task.cancel()
        return task

    # ---- events --------------------------------------------------------------------------

    def on_event(self, event: EslEvent) -> None:
        name = event.name
        if name == EXECUTE_COMPLETE:
            done = self._executing.get(event.get("Application-UUID", ""))
            if done is not None and not done.done():
                done.set_result(event)
        elif name == "DTMF" and event.unique_id == self.uuid:
            self._digits.append(event.get("DTMF-Digit", ""))
            self._digit_arrived.set()
        elif name == "CHANNEL_HANGUP" and event.unique_id == self.uuid:
            self._mark_hung_up(event.get("Hangup-Cause", ""))
        for handler in self._handlers:
            try:
                handler(event)
            except Exception:
                log.exception("ESL session handler %r failed on %s", handler, name)

    def on_notice(self, notice: EslMessage) -> None:
        """The linger notice (the channel is gone, its events all sent) or the final one."""
        self._mark_hung_up(self.hangup_cause or "session ended")
        self._end(f"FreeSWITCH: {notice.get('Content-Disposition', 'disconnect')} notice")

    def _mark_hung_up(self, cause: str) -> None:
        if self.hung_up:
            return
        self.hangup_cause = cause
        self._hung_up.set()
        for task in self._tasks:
            task.cancel()

    def _end(self, reason: str) -> None:
        self._ended.set()
        for done in self._executing.values():
            if not done.done():
                done.set_exception(EslHungUp(f"{reason} before the application completed"))
                done.exception()

    def _deadline(self, timeout: float | None) -> float:
        return self.command_timeout if timeout is None else timeout

    # ---- the end -------------------------------------------------------------------------

    async def close(self) -> None:
        """End the session: cancel and await its tasks, send ``exit`` (plain ``linger`` never
        closes by itself), drop the socket.  A session that ran no application runs
        ``PARK_PROOF`` first (see the module docstring)."""
        try:
            if self._connected and not self._parked and not self.hung_up:
                with contextlib.suppress(EslError, TimeoutError):
                    await self.execute(*PARK_PROOF)
        finally:
            self._mark_hung_up(self.hangup_cause or "session closed by the controller")
        try:
            if self._tasks:
                tasks = list(self._tasks)
                for task in tasks:
                    task.cancel()
                await asyncio.wait(tasks)
            with contextlib.suppress(EslError, TimeoutError):
                await self._conn.send(encode_command("exit"), "exit", self.command_timeout)
        finally:  # also when the server cancels the session: the socket is always released
            self._end("session closed")
            await self._conn.close("session closed")


class OutboundServer:
    """Listens for FreeSWITCH's ``socket`` app; runs ``handler(session)`` per call, after
    ``connect``/``myevents``/``linger``, and closes the session when it returns.  Every
    session's task is owned: ``close`` cancels and awaits them.  At most ``max_sessions``
    run at once; a call beyond them is closed at once."""

    def __init__(
        self,
        handler: SessionHandler,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        command_timeout: float = 10.0,
        linger: bool = True,
        max_sessions: int = 1000,
        max_header: int = protocol.DEFAULT_MAX_HEADER,
        max_body: int = protocol.DEFAULT_MAX_BODY,
    ) -> None:
        self.handler = handler
        self.host, self.port = host, port
        self.command_timeout = command_timeout
        self.linger = linger
        self.max_sessions = max_sessions
        self.refused = 0  # connections closed at once: ``max_sessions`` were running
        self.max_header, self.max_body = max_header, max_body
        self.served = 0  # sessions that connected, in all
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        """Start listening; returns the port (useful with port 0)."""
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        """Stop listening, end every session (cancelled, then awaited)."""
        if self._server is not None:
            self._server.close()
        for task in list(self._sessions):
            task.cancel()
        if self._sessions:
            await asyncio.wait(list(self._sessions))
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if len(self._sessions) >= self.max_sessions:
            # Closed unanswered, the socket app fails and the dialplan goes on to its
            # fallback (docs/engines/freeswitch.md): better than a call nobody drives.
            self.refused += 1
            log.warning("ESL: %d sessions running; a new call is refused", len(self._sessions))
            writer.transport.abort()
            return
        self._sessions.add(task)
        task.add_done_callback(self._sessions.discard)
        session: OutboundSession | None = None

        def on_event(event: EslEvent) -> None:
            if session is not None:
                session.on_event(event)

        def on_notice(notice: EslMessage) -> None:
            if session is not None:
                session.on_notice(notice)

        conn = EslConnection(
            reader, writer, on_event, on_notice=on_notice, hold_events=False,
            max_header=self.max_header, max_body=self.max_body,
        )  # fmt: skip
        session = OutboundSession(conn, command_timeout=self.command_timeout)
        conn.start()
        assert conn.reader_task is not None
        conn.reader_task.add_done_callback(lambda _: session._end("the socket closed"))
        try:
            await session.connect(linger=self.linger)
            self.served += 1
            await self.handler(session)
        except EslHungUp as exc:
            log.info("ESL session %s ended: %s", session.uuid or "?", exc)
        except (EslError, TimeoutError, OSError) as exc:
            log.warning("ESL session %s failed: %s", session.uuid or "?", exc)
        except Exception:
            log.exception("ESL session %s: the handler failed", session.uuid or "?")
        finally:
            await session.close()
