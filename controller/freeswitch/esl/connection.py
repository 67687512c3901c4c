"""One Event Socket TCP link: a reader task, replies matched in order, background jobs by uuid.

Used by both sides: the inbound client (``client``) and each outbound session (``outbound``).

FreeSWITCH answers commands (``api``, ``bgapi``, ``event``, ``sendmsg``...) strictly in the
order they were sent, with no id in the reply, so replies are matched to a FIFO of waiters.
A waiter whose deadline passed keeps its place (its late reply is read and dropped), or every
later reply would go to the wrong command.  Writes and FIFO appends happen in one synchronous
step, so the FIFO is in wire order.

``bgapi`` results come later as ``BACKGROUND_JOB`` events carrying the ``Job-UUID``.  The
client picks that uuid itself (the ``Job-UUID`` header of the ``bgapi`` command) and registers
the waiter before sending, so a result can never arrive unclaimed; should FreeSWITCH ignore
the header, the uuid of its reply is adopted, and a result that came first waits in a small
bounded map.

A connection never outlives its socket and never re-sends anything: when the socket dies,
every waiter fails with ``EslLinkLost`` and the client opens a new connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from clinicall.controller.freeswitch.esl import protocol
from clinicall.controller.freeswitch.esl.commands import encode_command
from clinicall.controller.freeswitch.esl.errors import (
    EslAuthError,
    EslCommandError,
    EslLinkLost,
    EslRejected,
)
from clinicall.controller.freeswitch.esl.message import EslEvent, EslMessage
from clinicall.logbudget import excerpt

log = logging.getLogger(__name__)

READ_SIZE = 64 * 1024
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_:]{0,31}")
#: BACKGROUND_JOB results kept while no waiter claims them (oldest dropped first).
MAX_UNCLAIMED_JOBS = 256
REPLY_TYPES = frozenset({protocol.COMMAND_REPLY, protocol.API_RESPONSE})
EVENT_TYPES = frozenset({protocol.EVENT_PLAIN, protocol.EVENT_JSON})


def command_label(command: str) -> str:
    """What an error or a log line may say about a command: its first word, and the second
    when it is a plain name (``api uuid_kill``, ``bgapi originate``); never the arguments,
    which may hold a phone number or a password."""
    words = command.split()[:2]
    if len(words) == 2 and (words[0] == "auth" or not _PLAIN_NAME.fullmatch(words[1])):
        words.pop()  # ``auth``'s word is the password
    return " ".join(words)[:40]


@dataclass(slots=True)
class _Waiter:
    label: str
    future: asyncio.Future[EslMessage]


class EslConnection:
    """A connected socket plus its parser, its reply FIFO and its job waiters."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        on_event: Callable[[EslEvent], None],
        *,
        on_notice: Callable[[EslMessage], None] | None = None,
        hold_events: bool = True,
        max_header: int = protocol.DEFAULT_MAX_HEADER,
        max_body: int = protocol.DEFAULT_MAX_BODY,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._on_event = on_event
        self._on_notice = on_notice
        self._parser = protocol.EslParser(max_header=max_header, max_body=max_body)
        self._replies: deque[_Waiter] = deque()
        self._jobs: dict[str, asyncio.Future[EslEvent]] = {}
        self._unclaimed: OrderedDict[str, EslEvent] = OrderedDict()
        self._auth_request: asyncio.Future[EslMessage] = asyncio.get_running_loop().create_future()
        self._lost: str | None = None
        self._held: list[EslEvent] | None = [] if hold_events else None  # until ``release``
        self.rejected = False
        self.goodbye = False  # FreeSWITCH sent its disconnect notice
        self.reader_task: asyncio.Task[str] | None = None

    @property
    def malformed(self) -> int:
        return self._parser.malformed

    def start(self) -> None:
        self.reader_task = asyncio.create_task(self._read_loop(), name="esl-reader")

    # ---- login -------------------------------------------------------------------------

    async def authenticate(self, password: str, timeout: float) -> None:  # noqa: ASYNC109
        """Wait for ``auth/request``, answer it.  Raises EslAuthError (wrong password),
        EslRejected (ACL), EslLinkLost, TimeoutError."""
        async with asyncio.timeout(timeout):
            await asyncio.shield(self._auth_request)
        reply = await self.send(encode_command(f"auth {password}"), "auth", timeout)
        if not reply.reply_text.startswith("+OK"):
            raise EslAuthError(f"FreeSWITCH refused the password: {excerpt(reply.reply_text)}")

    # ---- commands ----------------------------------------------------------------------

    async def send(self, data: bytes, label: str, timeout: float) -> EslMessage:  # noqa: ASYNC109
        """Write one command and wait for its reply (``command/reply`` or ``api/response``).

        Raises TimeoutError (the reply may still come; it is dropped), EslLinkLost (the link
        died first: not re-sent), EslRejected (the ACL refused the connection)."""
        waiter = self._enqueue(data, label)
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(waiter.future)
        except TimeoutError:
            raise TimeoutError(f"ESL {label}: no reply within {timeout:g} s") from None

    def _enqueue(self, data: bytes, label: str) -> _Waiter:
        if self._lost is not None or self._writer.is_closing():
            raise EslLinkLost(f"{label} not sent: {self._lost or 'connection closing'}")
        waiter = _Waiter(label, asyncio.get_running_loop().create_future())
        self._replies.append(waiter)
        self._writer.write(data)
        return waiter

    async def bgapi(self, command: str, timeout: float) -> str:  # noqa: ASYNC109
        """``bgapi command`` and its BACKGROUND_JOB's output (which may start ``-ERR``).

        Raises EslCommandError (FreeSWITCH refused to start the job), TimeoutError,
        EslLinkLost (the link died before the result: the job may have run; not re-sent)."""
        label = f"bgapi {command_label(command)}"
        job_uuid = str(uuid.uuid4())
        job: asyncio.Future[EslEvent] = asyncio.get_running_loop().create_future()
        self._jobs[job_uuid] = job
        try:
            async with asyncio.timeout(timeout):
                data = encode_command(f"bgapi {command}", {"Job-UUID": job_uuid})
                reply = await asyncio.shield(self._enqueue(data, label).future)
                if not reply.reply_text.startswith("+OK"):
                    raise EslCommandError(label, reply.reply_text)
                given = reply.get("Job-UUID", job_uuid)
                if given != job_uuid:  # FreeSWITCH chose its own uuid
                    del self._jobs[job_uuid]
                    job_uuid = given
                    self._jobs[job_uuid] = job
                    early = self._unclaimed.pop(job_uuid, None)
                    if early is not None and not job.done():
                        job.set_result(early)
                event = await asyncio.shield(job)
        except TimeoutError:
            raise TimeoutError(f"ESL {label}: no result within {timeout:g} s") from None
        finally:
            self._jobs.pop(job_uuid, None)
        return event.body

    # ---- reading -----------------------------------------------------------------------

    async def _read_loop(self) -> str:
        """Feed the parser until EOF; returns why the connection ended."""
        reason = "connection closed by FreeSWITCH"
        try:
            while data := await self._reader.read(READ_SIZE):
                for message in self._parser.feed(data):
                    self._route(message)
        except OSError as exc:
            reason = f"read failed: {exc.__class__.__name__}: {exc}"
        if self.rejected:
            reason = "FreeSWITCH refused the connection (text/rude-rejection: check its ACL)"
        elif self.goodbye:
            reason = "FreeSWITCH ended the session (disconnect notice)"
        self._fail_all(reason)
        return reason

    def _route(self, message: EslMessage) -> None:
        kind = message.content_type
        if message.event is not None and kind in EVENT_TYPES:
            self._event(message.event)
        elif kind in REPLY_TYPES:
            self._reply(message)
        elif kind == protocol.AUTH_REQUEST:
            if not self._auth_request.done():
                self._auth_request.set_result(message)
        elif kind == protocol.DISCONNECT_NOTICE:
            if message.get("Content-Disposition") != "linger":
                self.goodbye = True
            if self._on_notice is not None:
                self._on_notice(message)
        elif kind == protocol.RUDE_REJECTION:
            self.rejected = True
        else:
            log.debug("ESL: ignored a %s message", excerpt(kind, 40))

    def _reply(self, message: EslMessage) -> None:
        if not self._replies:
            log.warning("ESL: a reply nobody waits for (%s)", excerpt(message.reply_text, 40))
            return
        waiter = self._replies.popleft()
        if not waiter.future.done():
            waiter.future.set_result(message)

    def _event(self, event: EslEvent) -> None:
        if event.name == "BACKGROUND_JOB":
            job_uuid = event.get("Job-UUID", "")
            job = self._jobs.get(job_uuid)
            if job is not None:
                if not job.done():
                    job.set_result(event)
            elif job_uuid:
                self._unclaimed[job_uuid] = event
                while len(self._unclaimed) > MAX_UNCLAIMED_JOBS:
                    self._unclaimed.popitem(last=False)
        if self._held is not None:
            self._held.append(event)
        else:
            self._on_event(event)

    def release(self) -> None:
        """Start delivering events, first those that came before (in the read that carried
        the subscription's reply): the client announces the link up before any of them."""
        held, self._held = self._held or [], None
        for event in held:
            self._on_event(event)

    def _fail_all(self, reason: str) -> None:
        self._lost = reason
        error_type = EslRejected if self.rejected else EslLinkLost
        for waiter in self._replies:
            _fail(waiter.future, error_type(f"{waiter.label}: {reason}; not re-sent"))
        self._replies.clear()
        for job in self._jobs.values():
            _fail(job, EslLinkLost(f"bgapi: {reason} before its result; not re-sent"))
        _fail(self._auth_request, error_type(reason))

    async def close(self, reason: str = "closed by the client") -> None:
        """Drop the socket now (no goodbye: it may be half-open) and stop the reader."""
        if self._lost is None:
            self._fail_all(reason)
        self._writer.transport.abort()
        if self.reader_task is not None and not self.reader_task.done():
            self.reader_task.cancel()
            await asyncio.wait({self.reader_task})
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()


def _fail(future: asyncio.Future[EslMessage] | asyncio.Future[EslEvent], error: Exception) -> None:
    """Fail a waiter; marked as seen, since one whose deadline passed is awaited by nobody
    (whoever still awaits it gets the error all the same)."""
    if not future.done():
        future.set_exception(error)
        future.exception()
