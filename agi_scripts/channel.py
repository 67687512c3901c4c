"""One live FastAGI call: send a command, await its reply, know when the caller is gone.

The connection (``server.py``) feeds parsed replies and ``HANGUP`` signals in; handlers only
call :meth:`AgiChannel.command`.  Commands are serialized; each one waits for exactly one
reply, so an asynchronous ``HANGUP`` line can never be mistaken for a reply.  A command
cancelled while waiting keeps its place in line: its late reply is discarded, and the next
command still gets its own reply.

Every command has a deadline: ``command_timeout`` by default, or
the caller's own for commands that wait for the caller (a prompt's length plus the digit
timeout).  A command past its deadline ends the session: one log line, the connection is
closed, and Asterisk continues the dialplan after ``AGI()`` (the fail-open path).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Coroutine
from typing import Any, Protocol, TypeVar

from clinicall.agi_scripts.protocol import (
    AgiChannelGone,
    AgiCommandTimeout,
    AgiEnvironment,
    AgiError,
    AgiProtocolError,
    AgiReply,
    encode_command,
    raise_for_reply,
)
from clinicall.agi_scripts.scope import CallScope

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_COMMAND_TIMEOUT = 10.0  # seconds; a live Asterisk answers a non-media command in ms


class AgiCommands(Protocol):
    """What a port needs from a channel: its environment and command/reply."""

    @property
    def env(self) -> AgiEnvironment: ...

    async def command(
        self,
        command: str,
        *args: str | int,
        minus_one_is_hangup: bool = False,
        deadline_s: float | None = None,
    ) -> AgiReply: ...


class _Deadline:
    """The command awaiting its reply, and when it must have it (loop time)."""

    __slots__ = ("command", "due", "future", "seconds")

    def __init__(self) -> None:
        self.future: asyncio.Future[AgiReply] | None = None
        self.command = ""
        self.seconds = 0.0
        self.due = 0.0

    def watch(
        self, future: asyncio.Future[AgiReply], command: str, seconds: float, due: float
    ) -> None:
        self.future = future
        self.command = command
        self.seconds = seconds
        self.due = due


class AgiChannel:
    """Command/reply access to one channel, plus its environment.

    :meth:`command` raises :class:`AgiChannelGone` (a ``CallerHungUp``) once the caller hung
    up or the connection closed, :class:`AgiCommandError` when Asterisk refuses the command,
    :class:`AgiProtocolError` when the peer broke the protocol (the connection is then closed),
    :class:`AgiCommandTimeout` when no reply came within the deadline (the same).
    ``scope`` holds the tasks the call started (:meth:`start_task`).
    """

    def __init__(
        self,
        env: AgiEnvironment,
        transport: asyncio.WriteTransport,
        *,
        command_timeout: float = DEFAULT_COMMAND_TIMEOUT,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.env = env
        self.command_timeout = command_timeout
        self.scope = CallScope(env.uniqueid)
        self._transport = transport
        # Kept, not looked up per command: on Python 3.11 every get_running_loop() is a
        # getpid() system call (its fork check), and a command used to make four of them.
        self._loop = asyncio.get_running_loop() if loop is None else loop
        self._lock = asyncio.Lock()
        self._waiters: deque[asyncio.Future[AgiReply]] = deque()
        self._deadline = _Deadline()
        self._timer: asyncio.TimerHandle | None = None  # wakes _check_deadline, at most one
        self._hung_up = False
        self._gone = asyncio.Event()  # set on HANGUP, end of stream or protocol error
        self._failure: str | None = None  # why the connection is unusable, once it is
        self._protocol_broken = False
        self._timed_out = False

    @property
    def hung_up(self) -> bool:
        """True once Asterisk reported the hang-up or the connection ended."""
        return self._hung_up or self._failure is not None

    async def wait_hung_up(self) -> None:
        """Return once the caller is gone; lets work without AGI commands race the hang-up."""
        await self._gone.wait()

    async def command(
        self,
        command: str,
        *args: str | int,
        minus_one_is_hangup: bool = False,
        deadline_s: float | None = None,
    ) -> AgiReply:
        """Send one command and return its successful reply (see class docstring).

        ``deadline_s``: seconds to wait for the reply; ``command_timeout`` when not given.
        """
        line = encode_command(command, *args)
        deadline = self.command_timeout if deadline_s is None else deadline_s
        async with self._lock:
            self._check_usable()
            future: asyncio.Future[AgiReply] = self._loop.create_future()
            self._waiters.append(future)
            # No drain(): one short line per reply awaited, the buffer cannot grow.
            self._transport.write(line)
            self._watch(future, command, deadline)
            reply = await future  # AgiCommandTimeout when _check_deadline finds it late
        return raise_for_reply(reply, minus_one_is_hangup=minus_one_is_hangup)

    def start_task(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Run work beside the commands as part of this call (cancelled when it ends)."""
        return self.scope.start(coro)

    def close(self) -> None:
        """End the AGI session: Asterisk continues the dialplan after ``AGI()``."""
        self._stop_timer()
        self._transport.close()

    # -- deadlines ---------------------------------------------------------------------------

    def _watch(self, future: asyncio.Future[AgiReply], command: str, deadline_s: float) -> None:
        """Give the command awaiting ``future`` its deadline.

        One timer per session, not one per command: a reply takes milliseconds and a deadline
        is seconds, so the timer already armed for an earlier command is nearly always due
        before this one's deadline and is kept; when it fires, :meth:`_check_deadline` finds
        the command answered, or re-arms for its real deadline.  Only a deadline earlier than
        the armed timer re-arms it.  (An ``asyncio.timeout`` per command, each armed,
        cancelled and sifted through the loop's heap, was about a sixth of a session's CPU in
        the FastAGI bench: bench/README.md, "FastAGI per command, and uvloop".)
        """
        due = self._loop.time() + deadline_s
        self._deadline.watch(future, command, deadline_s, due)
        timer = self._timer
        if timer is None or timer.when() > due:
            if timer is not None:
                timer.cancel()
            self._timer = self._loop.call_at(due, self._check_deadline)

    def _check_deadline(self) -> None:
        """The timer fired: time out the awaited command if its deadline has passed."""
        self._timer = None
        watched = self._deadline
        future = watched.future
        if future is None or future.done():
            return  # answered (or cancelled): no command is waiting, no timer is needed
        if self._loop.time() < watched.due:
            self._timer = self._loop.call_at(watched.due, self._check_deadline)
            return
        future.set_exception(self._time_out(watched.command, watched.seconds))

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._deadline.future = None

    def _time_out(self, command: str, deadline: float) -> AgiCommandTimeout:
        """End the session after a missed deadline; one log line (no arguments: no numbers)."""
        self._timed_out = True
        self._failure = f"no reply to {command} within {deadline:g} s"
        log.warning("AGI %s: %s; ending the session", self.env.uniqueid, self._failure)
        self.scope.cancel()
        self._transport.close()
        return AgiCommandTimeout(self._failure)

    def _check_usable(self) -> None:
        if self._timed_out:
            raise AgiCommandTimeout(self._failure or "timed out")
        if self._protocol_broken:
            raise AgiProtocolError(self._failure or "protocol error")
        if self._failure is not None:
            raise AgiChannelGone(self._failure)
        if self._hung_up:
            raise AgiChannelGone("caller hung up (HANGUP)")

    # -- fed by the connection -------------------------------------------------------------

    def on_reply(self, reply: AgiReply) -> None:
        if not self._waiters:
            self.on_error(AgiProtocolError(f"reply without a command: {reply.text[:60]!r}"))
            return
        future = self._waiters.popleft()
        if not future.done():  # a cancelled command's reply is dropped here
            future.set_result(reply)

    def on_hangup(self) -> None:
        self._hung_up = True
        self._gone.set()
        self.scope.cancel()

    def on_closed(self) -> None:
        if self._failure is None:
            self._failure = "connection closed"
        self._fail_waiters(AgiChannelGone(self._failure))

    def on_error(self, error: AgiError) -> None:
        """A protocol error: fail the waiting command, close the connection."""
        self._failure = str(error)
        self._protocol_broken = isinstance(error, AgiProtocolError)
        self._fail_waiters(error)
        self._transport.close()

    def _fail_waiters(self, error: AgiError) -> None:
        self._stop_timer()
        self._gone.set()
        self.scope.cancel()
        while self._waiters:
            future = self._waiters.popleft()
            if not future.done():
                future.set_exception(error)
