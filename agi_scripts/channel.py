"""One live FastAGI call: send a command, await its reply, know when the caller is gone.

The connection (``server.py``) feeds parsed replies and ``HANGUP`` signals in; handlers only
call :meth:`AgiChannel.command`.  Commands are serialized; each one waits for exactly one
reply, so an asynchronous ``HANGUP`` line can never be mistaken for a reply.  A command
cancelled while waiting keeps its place in line: its late reply is discarded, and the next
command still gets its own reply.  The serializing is the channel's own turn, not an
``asyncio.Lock``: a command that finds no other in flight (every command of a call's
sequential IVR) takes it with one attribute check, and only a command that has to wait for
another's reply awaits its turn.

Every command has a deadline: ``command_timeout`` by default, or
the caller's own for commands that wait for the caller (a prompt's length plus the digit
timeout).  A command past its deadline ends the session: one log line, the connection is
closed, and Asterisk continues the dialplan after ``AGI()`` (the fail-open path).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Coroutine
from typing import Any, Protocol, TypeVar

from clinicall.agi_scripts.protocol import (
    ENCODED_LINES,
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


class CommandDeadlines:
    """The command deadlines of many channels (a server's sessions) on one timer.

    Each command a channel writes has a due time; the one timer is armed for the earliest due
    time handed in since it last fired (:meth:`arm`, only when a command's is earlier).  When
    it fires, every channel whose command is still unanswered past its due time times out, and
    the timer is re-armed for the earliest due time still ahead.  A reply takes milliseconds
    and a deadline is seconds, so the timer fires about once a deadline, not once a command or
    a session: no timer is armed, cancelled and sifted through the loop's heap per call.
    (An ``asyncio.timeout`` per command was about a sixth of a session's CPU in the FastAGI
    bench, a timer per session still a few per cent: bench/README.md.)
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._channels: set[AgiChannel] = set()
        self._timer: asyncio.TimerHandle | None = None
        self.due = math.inf  # when the timer fires (loop time); inf: not armed

    def add(self, channel: AgiChannel) -> None:
        self._channels.add(channel)

    def discard(self, channel: AgiChannel) -> None:
        self._channels.discard(channel)
        if not self._channels and self._timer is not None:  # the last session ended
            self._timer.cancel()
            self._timer = None
            self.due = math.inf

    def arm(self, due: float) -> None:
        """Fire at ``due`` instead (an earlier due time than the armed one)."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_at(due, self._fire)
        self.due = due

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.due = math.inf
        self._channels.clear()

    def _fire(self) -> None:
        self._timer = None
        self.due = math.inf
        now = self._loop.time()
        ahead = math.inf
        for channel in list(self._channels):
            due = channel._check_deadline(now)
            if due < ahead:
                ahead = due
        if ahead < self.due:  # a channel's timeout may have armed an earlier one meanwhile
            self.arm(ahead)


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
        deadlines: CommandDeadlines | None = None,
    ) -> None:
        """``deadlines``: the timer shared with the server's other sessions (its own if
        none is given)."""
        self.env = env
        self.command_timeout = command_timeout
        self.scope = CallScope(env.uniqueid)
        self._transport = transport
        # Kept, not looked up per command: on Python 3.11 every get_running_loop() is a
        # getpid() system call (its fork check), and a command used to make four of them.
        self._loop = asyncio.get_running_loop() if loop is None else loop
        self._deadlines = CommandDeadlines(self._loop) if deadlines is None else deadlines
        self._deadlines.add(self)
        self._busy = False  # a command holds the turn: it was written, its reply is awaited
        self._turns: deque[asyncio.Future[None]] = deque()  # commands waiting for the turn
        self._waiters: deque[asyncio.Future[AgiReply]] = deque()
        # The command awaiting its reply (at most one: the turn), for _check_deadline.
        self._watched: asyncio.Future[AgiReply] | None = None
        self._watched_command = ""
        self._watched_seconds = 0.0
        self._watched_due = 0.0
        self._hung_up = False
        self._gone = False  # HANGUP, end of stream or protocol error came
        self._gone_event: asyncio.Event | None = None  # made by the first wait_hung_up()
        self._failure: str | None = None  # why the connection is unusable, once it is
        self._protocol_broken = False
        self._timed_out = False

    @property
    def hung_up(self) -> bool:
        """True once Asterisk reported the hang-up or the connection ended."""
        return self._hung_up or self._failure is not None

    async def wait_hung_up(self) -> None:
        """Return once the caller is gone; lets work without AGI commands race the hang-up."""
        if self._gone_event is None:
            self._gone_event = asyncio.Event()
            if self._gone:
                self._gone_event.set()
        await self._gone_event.wait()

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
        # The line from protocol's memo of encoded lines when it is there (nearly every
        # command of a call): a call of encode_command less on every command's path.
        line = ENCODED_LINES.get((command, *args)) or encode_command(command, *args)
        seconds = self.command_timeout if deadline_s is None else deadline_s
        if self._busy:
            await self._wait_turn()  # another task's command is in flight: after its reply
        self._busy = True
        try:
            if self._hung_up or self._failure is not None:
                self._raise_unusable()
            future: asyncio.Future[AgiReply] = self._loop.create_future()
            self._waiters.append(future)
            # No drain(): one short line per reply awaited, the buffer cannot grow.
            self._transport.write(line)
            # The deadline (CommandDeadlines), inline: this is every command's path.
            due = self._loop.time() + seconds
            self._watched = future
            self._watched_command = command
            self._watched_seconds = seconds
            self._watched_due = due
            if due < self._deadlines.due:
                self._deadlines.arm(due)
            reply = await future  # AgiCommandTimeout when _check_deadline finds it late
        finally:
            if self._turns:
                self._pass_turn()
            else:
                self._busy = False  # no other command waits: the usual case
        if reply.code == 200 and (not minus_one_is_hangup or reply.result != "-1"):
            return reply  # what raise_for_reply returns, without the call (the usual reply)
        return raise_for_reply(reply, minus_one_is_hangup=minus_one_is_hangup)

    async def _wait_turn(self) -> None:
        """Wait until the command in flight (and any queued before) got its reply."""
        turn: asyncio.Future[None] = self._loop.create_future()
        self._turns.append(turn)
        try:
            await turn
        except BaseException:
            if turn.done() and not turn.cancelled():
                self._pass_turn()  # handed the turn, but cancelled before taking it
            raise

    def _pass_turn(self) -> None:
        """The command in flight is done: the next waiting command goes, else none is busy."""
        turns = self._turns
        while turns:
            turn = turns.popleft()
            if not turn.done():  # a command cancelled while waiting left a done one
                turn.set_result(None)
                return
        self._busy = False

    def start_task(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Run work beside the commands as part of this call (cancelled when it ends)."""
        return self.scope.start(coro)

    def close(self) -> None:
        """End the AGI session: Asterisk continues the dialplan after ``AGI()``."""
        self._stop_timer()
        self._transport.close()

    # -- deadlines ---------------------------------------------------------------------------

    def _check_deadline(self, now: float) -> float:
        """The deadlines' timer fired at ``now``: time out the awaited command if its due time
        has passed.  The due time still ahead, else ``math.inf`` (no command waiting)."""
        future = self._watched
        if future is None or future.done():
            return math.inf  # answered (or cancelled): no command is waiting
        if now < self._watched_due:
            return self._watched_due
        future.set_exception(self._time_out(self._watched_command, self._watched_seconds))
        return math.inf

    def _stop_timer(self) -> None:
        """No more deadlines to watch: the session is over."""
        self._deadlines.discard(self)
        self._watched = None

    def _time_out(self, command: str, deadline: float) -> AgiCommandTimeout:
        """End the session after a missed deadline; one log line (no arguments: no numbers)."""
        self._timed_out = True
        self._failure = f"no reply to {command} within {deadline:g} s"
        log.warning("AGI %s: %s; ending the session", self.env.uniqueid, self._failure)
        self.scope.cancel()
        self._transport.close()
        return AgiCommandTimeout(self._failure)

    def _raise_unusable(self) -> None:
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
        self._set_gone()
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

    def _set_gone(self) -> None:
        self._gone = True
        if self._gone_event is not None:
            self._gone_event.set()

    def _fail_waiters(self, error: AgiError) -> None:
        self._stop_timer()
        self._set_gone()
        self.scope.cancel()
        while self._waiters:
            future = self._waiters.popleft()
            if not future.done():
                future.set_exception(error)
