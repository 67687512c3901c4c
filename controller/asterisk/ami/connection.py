"""One logged-in-or-not AMI TCP session: a reader task, and actions matched by ActionID.

A connection never outlives its socket and never re-sends anything: when the socket dies,
every pending action fails with ``AMIConnectionLost`` and the client opens a new connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from clinicall.controller.asterisk.ami.errors import AMIActionError, AMIConnectionLost
from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.ami.protocol import (
    DEFAULT_MAX_FRAME,
    AMIParser,
    FieldValue,
    encode_action,
)

log = logging.getLogger(__name__)

READ_SIZE = 64 * 1024


@dataclass(slots=True)
class ActionResult:
    """The reply to one action; ``events`` holds an EventList's events up to its Complete."""

    response: Message
    events: list[Message] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.response.response.lower() != "error"


@dataclass(slots=True)
class _Pending:
    name: str
    future: asyncio.Future[ActionResult]
    response: Message | None = None
    events: list[Message] = field(default_factory=list)

    def finish(self) -> None:
        if self.future.done() or self.response is None:
            return
        if not ActionResult(self.response).ok:
            self.future.set_exception(AMIActionError(self.name, self.response))
        else:
            self.future.set_result(ActionResult(self.response, self.events))


class AMIConnection:
    """A connected socket plus its parser and pending actions.  Call ``start`` once."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        on_event: Callable[[Message], None],
        *,
        max_frame: int = DEFAULT_MAX_FRAME,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._on_event = on_event
        self._parser = AMIParser(max_frame=max_frame)
        self._pending: dict[str, _Pending] = {}
        self._prefix = f"cc-{secrets.token_hex(4)}-"
        self._ids = itertools.count(1)
        self._lost: str | None = None
        self.reader_task: asyncio.Task[str] | None = None

    @property
    def banner(self) -> str | None:
        return self._parser.banner

    def start(self) -> None:
        self.reader_task = asyncio.create_task(self._read_loop(), name="ami-reader")

    async def send_action(
        self,
        name: str,
        fields: Mapping[str, FieldValue] | None,
        timeout: float,  # noqa: ASYNC109 - a per-action deadline is the API
    ) -> ActionResult:
        """Send once and wait for the reply.

        Raises AMIActionError (``Response: Error``), TimeoutError, AMIConnectionLost (the
        socket died before the reply; the action is not re-sent), ValueError (CR/LF in a field).
        """
        action_id = f"{self._prefix}{next(self._ids)}"
        data = encode_action(name, fields, action_id)
        if self._lost is not None or self._writer.is_closing():
            raise AMIConnectionLost(f"{name} not sent: {self._lost or 'connection closing'}")
        pending = _Pending(name, asyncio.get_running_loop().create_future())
        self._pending[action_id] = pending
        try:
            async with asyncio.timeout(timeout):
                self._writer.write(data)
                await self._writer.drain()
                return await pending.future
        except TimeoutError:
            raise TimeoutError(f"AMI action {name} got no reply within {timeout:g} s") from None
        except ConnectionError as exc:
            raise AMIConnectionLost(f"{name}: write failed ({exc}); not re-sent") from None
        finally:
            self._pending.pop(action_id, None)

    async def _read_loop(self) -> str:
        """Feed the parser until EOF; returns why the connection ended."""
        reason = "connection closed by Asterisk"
        try:
            while data := await self._reader.read(READ_SIZE):
                for msg in self._parser.feed(data):
                    self._route(msg)
        except OSError as exc:
            reason = f"read failed: {exc.__class__.__name__}: {exc}"
        finally:
            self._fail_pending(reason)
        return reason

    def _route(self, msg: Message) -> None:
        action_id = msg.action_id  # read once: every frame comes through here
        pending = self._pending.get(action_id) if action_id else None
        if pending is None:
            if msg.event:
                self._on_event(msg)
            elif msg.response:
                log.debug("AMI: reply for an action no longer waited for (%s)", action_id)
            return
        if pending.response is None and msg.response:
            pending.response = msg
            if msg.get("EventList", "").lower() != "start" or msg.response.lower() == "error":
                pending.finish()
                # A later event naming this ActionID (Originate's OriginateResponse, even in
                # the same read as the reply) is an event, not part of the reply.
                del self._pending[action_id]
            return
        pending.events.append(msg)
        if pending.response is not None and msg.get("EventList", "").lower() == "complete":
            pending.finish()

    def _fail_pending(self, reason: str) -> None:
        self._lost = reason
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(
                    AMIConnectionLost(f"{pending.name}: {reason}; not re-sent")
                )

    async def close(self, reason: str = "closed by the client") -> None:
        """Drop the socket now (no goodbye: it may be half-open) and stop the reader."""
        if self._lost is None:
            self._fail_pending(reason)
        self._writer.transport.abort()
        if self.reader_task is not None and not self.reader_task.done():
            self.reader_task.cancel()
            await asyncio.wait({self.reader_task})
        # the socket is released when close() returns; a reset on a dead link is expected
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()
