"""One live FastAGI call: send a command, await its reply, know when the caller is gone.

The connection (``server.py``) feeds parsed replies and ``HANGUP`` signals in; handlers only
call :meth:`AgiChannel.command`.  Commands are serialized; each one waits for exactly one
reply, so an asynchronous ``HANGUP`` line can never be mistaken for a reply.  A command
cancelled while waiting keeps its place in line: its late reply is discarded, and the next
command still gets its own reply.

Every command has a deadline (``deadline_s``; media commands pass their own, covering the
prompt and the wait for keys): a peer that stops answering ends the session with
:class:`AgiDeadline` instead of holding it, and with it a session slot, for ever.  Work a call
starts beside its commands belongs to the call's scope (:meth:`start_soon`), which ends with
the call.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Coroutine
from typing import Any, Protocol

from clinicall.agi_scripts.protocol import (
    AgiChannelGone,
    AgiDeadline,
    AgiEnvironment,
    AgiError,
    AgiProtocolError,
    AgiReply,
    encode_command,
    raise_for_reply,
)


class AgiCommands(Protocol):
    """What a port needs from a channel: its environment and command/reply."""

    @property
    def env(self) -> AgiEnvironment: ...

    async def command(
        self, command: str, *args: str | int, minus_one_is_hangup: bool = False,
        deadline_s: float | None = None,
    ) -> AgiReply: ...


class AgiChannel:
    """Command/reply access to one channel, plus its environment.

    :meth:`command` raises :class:`AgiChannelGone` (a ``CallerHungUp``) once the caller hung
    up or the connection closed, :class:`AgiCommandError` when Asterisk refuses the command,
    :class:`AgiProtocolError` when the peer broke the protocol (the connection is then closed).
    """

    def __init__(self, env: AgiEnvironment, transport: asyncio.WriteTransport, *,
                 deadline_s: float = 10.0) -> None:  # fmt: skip
        self.env = env
        self.deadline_s = deadline_s
        self._scope: asyncio.TaskGroup | None = None
        self._transport = transport
        self._lock = asyncio.Lock()
        self._waiters: deque[asyncio.Future[AgiReply]] = deque()
        self._hung_up = False
        self._gone = asyncio.Event()  # set on HANGUP, end of stream or protocol error
        self._failure: str | None = None  # why the connection is unusable, once it is
        self._protocol_broken = False

    @property
    def hung_up(self) -> bool:
        """True once Asterisk reported the hang-up or the connection ended."""
        return self._hung_up or self._failure is not None

    async def wait_hung_up(self) -> None:
        """Return once the caller is gone; lets work without AGI commands race the hang-up."""
        await self._gone.wait()

    async def command(
        self, command: str, *args: str | int, minus_one_is_hangup: bool = False,
        deadline_s: float | None = None,
    ) -> AgiReply:
        """Send one command and return its successful reply (see class docstring); raises
        AgiDeadline when no reply comes within ``deadline_s`` (default: the channel's)."""
        line = encode_command(command, *args)
        deadline = self.deadline_s if deadline_s is None else deadline_s
        async with self._lock:
            self._check_usable()
            future: asyncio.Future[AgiReply] = asyncio.get_running_loop().create_future()
            self._waiters.append(future)
            # No drain(): one short line per reply awaited, the buffer cannot grow.
            self._transport.write(line)
            try:
                async with asyncio.timeout(deadline):
                    reply = await future
            except TimeoutError:
                error = AgiDeadline(f"{command}: no reply within {deadline:g} s")
                self._give_up(error)
                raise error from None
        return raise_for_reply(reply, minus_one_is_hangup=minus_one_is_hangup)

    def start_soon(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``work`` in the call's scope: it is cancelled when the call's session ends."""
        if self._scope is None:
            work.close()
            raise RuntimeError("the call's session is not running")
        return self._scope.create_task(work)

    def bind_scope(self, scope: asyncio.TaskGroup) -> None:
        """The server's task group for this call (see ``start_soon``)."""
        self._scope = scope

    def _give_up(self, error: AgiDeadline) -> None:
        """The peer stopped answering: fail the rest and end the session."""
        self._failure = str(error)
        self._fail_waiters(error)
        self._transport.close()

    def close(self) -> None:
        """End the AGI session: Asterisk continues the dialplan after ``AGI()``."""
        self._transport.close()

    def _check_usable(self) -> None:
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
        self._gone.set()
        while self._waiters:
            future = self._waiters.popleft()
            if not future.done():
                future.set_exception(error)
