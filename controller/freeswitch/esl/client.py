"""The asyncio inbound Event Socket client: one live link kept up in the background, visibly.

What it adds to ``EslConnection``: the password, the event subscription (again after every
reconnect), reconnects with exponential backoff and jitter, a deadline on every command,
health (up, since, last event, reconnects) and event delivery to handlers and bounded streams.

Decisions (docs/engines/freeswitch.md, "Inbound"):

* the subscription always includes ``BACKGROUND_JOB`` (``bgapi`` results come only as that
  event) and puts ``CUSTOM`` and its subclasses last (``subscription_command``);
* a command pending when the link dies fails with ``EslLinkLost`` at once and is never re-sent
  (a ``bgapi originate`` re-sent after a reconnect dials the patient twice);
* a link that answers nothing (half-open) is found by a keepalive ``api status`` and dropped;
* a wrong password or an ACL refusal stops the client (retrying cannot help) unless
  ``retry_auth``; any other failure is retried with backoff;
* every link change is also delivered as a synthetic event (``STATUS_EVENT``), so a consumer
  sees up/down in order with the events around it;
* an exception in an event handler is logged with the event name and contained.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from uuid import uuid4

from clinicall.controller.freeswitch.esl import protocol
from clinicall.controller.freeswitch.esl.commands import (
    encode_command,
    encode_sendmsg,
    subscription_command,
)
from clinicall.controller.freeswitch.esl.connection import EslConnection, command_label
from clinicall.controller.freeswitch.esl.errors import (
    EslAuthError,
    EslCommandError,
    EslLinkLost,
    EslNotConnected,
)
from clinicall.controller.freeswitch.esl.message import EslEvent

log = logging.getLogger(__name__)

CLIENT_CLOSED = "client closed"
#: ``Event-Name`` of the synthetic event delivered on every link change (never FreeSWITCH's).
STATUS_EVENT = "CLINICALL_ESL_STATUS"
BACKGROUND_JOB = "BACKGROUND_JOB"

SyncHandler = Callable[[EslEvent], None]
AsyncHandler = Callable[[EslEvent], Awaitable[None]]
StatusHook = Callable[[bool, str], None]


def status_event(up: bool, detail: str) -> EslEvent:
    return EslEvent(
        [("Event-Name", STATUS_EVENT), ("Status", "up" if up else "down"), ("Detail", detail)]
    )


def backoff_delay(attempt: int, initial: float, maximum: float, rng: random.Random) -> float:
    """Exponential backoff with jitter: uniform in [d/2, d], d = min(maximum, initial*2**n)."""
    ceiling = min(maximum, initial * 2 ** min(attempt, 30))
    return rng.uniform(ceiling / 2, ceiling)


@dataclass(frozen=True, slots=True)
class EslHealth:
    """The link as health pages see it (the port's ``EngineHealth`` is built from it)."""

    up: bool
    since: datetime | None  # the last up/down change
    last_event_at: datetime | None
    reconnects: int  # links opened after the first one
    last_error: str
    malformed: int  # messages the parser skipped, all links together


class EslEventStream:
    """``async for event in stream``: a bounded queue; when full, new events are dropped and
    counted (a slow consumer must not stall the reader, and with it every command reply)."""

    def __init__(self, maxsize: int, unregister: Callable[[EslEventStream], None]) -> None:
        self._queue: asyncio.Queue[EslEvent | None] = asyncio.Queue(maxsize)
        self._unregister = unregister
        self._closed = False
        self.dropped = 0

    def offer(self, event: EslEvent) -> None:
        if self._closed:
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("ESL event stream full: %d event(s) dropped so far", self.dropped)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._unregister(self)
        if self._queue.full():
            self._queue.get_nowait()  # room for the end marker
        self._queue.put_nowait(None)

    def __aiter__(self) -> EslEventStream:
        return self

    async def __anext__(self) -> EslEvent:
        event = await self._queue.get()
        if event is None:
            self._queue.put_nowait(None)
            raise StopAsyncIteration
        return event


class EslClient:
    """Inbound ESL client.  ``async with EslClient(...) as esl`` or ``start()`` / ``close()``.

    ``events`` are subscribed by name, ``subclasses`` as CUSTOM subclasses
    (``callcenter::info``); ``event_format`` is ``plain`` or ``json``.
    """

    def __init__(
        self,
        host: str,
        port: int,
        password: str,
        *,
        events: Sequence[str] = (),
        subclasses: Sequence[str] = (),
        event_format: str = "plain",
        connect_timeout: float = 5.0,
        command_timeout: float = 10.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        retry_auth: bool = False,
        keepalive_interval: float = 10.0,
        keepalive_timeout: float = 5.0,
        on_status: StatusHook | None = None,
        max_header: int = protocol.DEFAULT_MAX_HEADER,
        max_body: int = protocol.DEFAULT_MAX_BODY,
    ) -> None:
        self.host, self.port = host, port
        self._password = password
        names = [*events, *([] if BACKGROUND_JOB in events else [BACKGROUND_JOB])]
        self.subscription = subscription_command(names, subclasses, format=event_format)
        self.connect_timeout, self.command_timeout = connect_timeout, command_timeout
        self.backoff_initial, self.backoff_max = backoff_initial, backoff_max
        self.retry_auth = retry_auth
        self.keepalive_interval, self.keepalive_timeout = keepalive_interval, keepalive_timeout
        self.on_status = on_status
        self.max_header, self.max_body = max_header, max_body
        self.last_error = ""
        self.reconnects = 0
        self.since: datetime | None = None
        self.last_event_at: datetime | None = None
        self._links = 0
        self._malformed_before = 0  # malformed counts of links already closed
        self._rng = random.Random()
        self._conn: EslConnection | None = None
        self._up = asyncio.Event()
        self._sync_handlers: list[SyncHandler] = []
        self._async_handlers: list[AsyncHandler] = []
        self._backlog: asyncio.Queue[EslEvent] = asyncio.Queue()
        self._streams: set[EslEventStream] = set()
        self._supervisor: asyncio.Task[None] | None = None
        self._dispatcher: asyncio.Task[None] | None = None

    # ---- public API ----------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._up.is_set()

    async def wait_connected(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Return once the link is up and subscribed; TimeoutError after ``timeout`` s."""
        async with asyncio.timeout(timeout):
            await self._up.wait()

    def health(self) -> EslHealth:
        live = self._conn.malformed if self._conn is not None else 0
        return EslHealth(
            self.connected, self.since, self.last_event_at, self.reconnects, self.last_error,
            self._malformed_before + live,
        )  # fmt: skip

    def add_handler(self, callback: SyncHandler | AsyncHandler) -> None:
        """Call ``callback(event)`` for every event.  Async callbacks are awaited in order."""
        if inspect.iscoroutinefunction(callback) or inspect.iscoroutinefunction(
            getattr(callback, "__call__", None)  # noqa: B004 - async callable objects
        ):
            self._async_handlers.append(callback)  # type: ignore[arg-type]
        else:
            self._sync_handlers.append(callback)  # type: ignore[arg-type]

    def events(self, maxsize: int = 10_000) -> EslEventStream:
        """A new async iterator over events from now on (bounded; see ``EslEventStream``)."""
        stream = EslEventStream(maxsize, self._streams.discard)
        self._streams.add(stream)
        return stream

    async def api(self, command: str, *, timeout: float | None = None) -> str:  # noqa: ASYNC109
        """``api command``: its output (an error is output too: it starts ``-ERR``).

        Raises EslNotConnected, EslLinkLost, TimeoutError, ValueError (CR/LF in the command).
        A blocking ``api`` holds the link: FreeSWITCH answers nothing else meanwhile."""
        reply = await self._live().send(
            encode_command(f"api {command}"),
            f"api {command_label(command)}",
            self.command_timeout if timeout is None else timeout,
        )
        return reply.text

    async def bgapi(self, command: str, *, timeout: float | None = None) -> str:  # noqa: ASYNC109
        """``bgapi command``: its BACKGROUND_JOB's output, ``-ERR CAUSE`` included.

        ``timeout`` covers the reply and the job.  Raises EslNotConnected (not sent),
        EslLinkLost (sent; the job may have run; never re-sent), EslCommandError (no job
        started), TimeoutError."""
        deadline = self.command_timeout if timeout is None else timeout
        return await self._live().bgapi(command, deadline)

    async def sendmsg(
        self,
        uuid: str,
        app: str,
        arg: str = "",
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> str:
        """Run dialplan application ``app`` on channel ``uuid`` (``sendmsg <uuid>``, e.g.
        ``record_session``); returns once FreeSWITCH accepted it (its completion, if wanted,
        is the CHANNEL_EXECUTE_COMPLETE whose ``Application-UUID`` is the returned uuid).
        Raises EslCommandError on ``-ERR``, and as ``api``."""
        event_uuid = str(uuid4())
        label = f"sendmsg {app[:30]}"
        data = encode_sendmsg(app, arg, event_uuid=event_uuid, uuid=uuid)
        reply = await self._live().send(
            data, label, self.command_timeout if timeout is None else timeout
        )
        if not reply.reply_text.startswith("+OK"):
            raise EslCommandError(label, reply.reply_text)
        return event_uuid

    async def command(self, text: str, *, timeout: float | None = None) -> str:  # noqa: ASYNC109
        """Any other command (``sendmsg <uuid>``, ``filter``...): its ``Reply-Text``.
        Raises EslCommandError on ``-ERR``, and as ``api``."""
        label = command_label(text)
        reply = await self._live().send(
            encode_command(text), label, self.command_timeout if timeout is None else timeout
        )
        if reply.reply_text.startswith("-ERR"):
            raise EslCommandError(label, reply.reply_text)
        return reply.reply_text

    async def start(self, *, wait: bool = True) -> None:
        """Connect, authenticate, subscribe, and keep the link up in the background.

        With ``wait`` (default) the first attempt's failure is raised (EslAuthError,
        OSError, TimeoutError, EslLinkLost); with ``wait=False`` it is retried with backoff."""
        if self._supervisor is not None:
            raise RuntimeError("EslClient already started")
        self._dispatcher = asyncio.create_task(self._dispatch(), name="esl-dispatch")
        conn: EslConnection | None = None
        if wait:
            try:
                conn = await self._open()
            except BaseException:
                await _cancel_and_wait(self._dispatcher)
                self._dispatcher = None
                raise
        self._supervisor = asyncio.create_task(self._supervise(conn), name="esl-supervisor")

    async def close(self) -> None:
        """Stop reconnecting, drop the link (pending commands fail), end the streams."""
        if self._supervisor is not None:
            await _cancel_and_wait(self._supervisor)
            self._supervisor = None
        if self._conn is not None:
            await self._drop(self._conn, CLIENT_CLOSED)
        if self._up.is_set():
            self._set_status(False, CLIENT_CLOSED)
        if self._dispatcher is not None:
            await _cancel_and_wait(self._dispatcher)
            self._dispatcher = None
        for stream in list(self._streams):
            stream.close()

    async def __aenter__(self) -> EslClient:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # ---- the link's life -----------------------------------------------------------------

    def _live(self) -> EslConnection:
        conn = self._conn
        if conn is None or not self._up.is_set():
            raise EslNotConnected(f"ESL not connected ({self.last_error or 'not started'})")
        return conn

    async def _open(self) -> EslConnection:
        """Connect, authenticate and subscribe; the connection is closed on any failure."""
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), self.connect_timeout
        )
        conn = EslConnection(
            reader, writer, self._deliver, max_header=self.max_header, max_body=self.max_body
        )
        conn.start()
        ready = False
        try:
            await conn.authenticate(self._password, self.connect_timeout)
            label = command_label(self.subscription)
            reply = await conn.send(encode_command(self.subscription), label, self.connect_timeout)
            if not reply.reply_text.startswith("+OK"):
                raise EslCommandError(label, reply.reply_text)
            ready = True
        finally:
            if not ready:
                await self._drop(conn, "login failed")
        self._conn = conn
        if self._links:
            self.reconnects += 1
        self._links += 1
        self._set_status(True, f"connected to {self.host}:{self.port}, {self.subscription}")
        conn.release()
        return conn

    async def _drop(self, conn: EslConnection, reason: str) -> None:
        await conn.close(reason)
        self._malformed_before += conn.malformed
        if self._conn is conn:
            self._conn = None

    async def _supervise(self, conn: EslConnection | None) -> None:
        attempt = 0
        while True:
            if conn is not None:
                reason = await self._watch(conn)
                await self._drop(conn, reason)
                self._set_status(False, reason)
                conn = None
            delay = backoff_delay(attempt, self.backoff_initial, self.backoff_max, self._rng)
            attempt += 1
            await asyncio.sleep(delay)
            try:
                conn = await self._open()
                attempt = 0
            except EslAuthError as exc:
                self.last_error = str(exc)
                log.error("ESL: %s%s", exc, "; retrying" if self.retry_auth else "; giving up")
                if not self.retry_auth:
                    self._notify(False, str(exc))
                    return
            except (OSError, TimeoutError, EslLinkLost, EslCommandError) as exc:
                self.last_error = f"{exc.__class__.__name__}: {exc}"
                log.warning(
                    "ESL reconnect to %s:%s failed (%s); next try in up to %.1f s",
                    self.host, self.port, self.last_error,
                    min(self.backoff_max, self.backoff_initial * 2 ** min(attempt, 30)),
                )  # fmt: skip

    async def _watch(self, conn: EslConnection) -> str:
        """Until the link ends (the reader's reason) or stops answering (the keepalive's)."""
        assert conn.reader_task is not None
        if not self.keepalive_interval:
            return await asyncio.shield(conn.reader_task)
        pinger = asyncio.create_task(self._keepalive(conn), name="esl-keepalive")
        try:
            await asyncio.wait({conn.reader_task, pinger}, return_when=asyncio.FIRST_COMPLETED)
            return pinger.result() if pinger.done() else conn.reader_task.result()
        finally:
            await _cancel_and_wait(pinger)

    async def _keepalive(self, conn: EslConnection) -> str:
        """A half-open link (a cut cable, a frozen FreeSWITCH) answers nothing and closes
        nothing: an ``api status`` every ``keepalive_interval`` s must be answered within
        ``keepalive_timeout`` s."""
        while True:
            await asyncio.sleep(self.keepalive_interval)
            try:
                await conn.send(encode_command("api status"), "keepalive", self.keepalive_timeout)
            except TimeoutError:
                return f"no answer to a keepalive within {self.keepalive_timeout:g} s"
            except EslLinkLost as exc:
                return str(exc)

    def _set_status(self, up: bool, detail: str) -> None:
        self.since = datetime.now(UTC)
        if up:
            self._up.set()
            self.last_error = ""
            log.info("ESL up: %s", detail)
        else:
            self._up.clear()
            self.last_error = detail
            level = logging.INFO if detail == CLIENT_CLOSED else logging.WARNING
            log.log(level, "ESL down: %s", detail)
        self._notify(up, detail)
        self._fan_out(status_event(up, detail))

    def _notify(self, up: bool, detail: str) -> None:
        if self.on_status is None:
            return
        try:
            self.on_status(up, detail)
        except Exception:
            log.exception("ESL on_status hook failed")

    # ---- event delivery ------------------------------------------------------------------

    def _deliver(self, event: EslEvent) -> None:
        self.last_event_at = datetime.now(UTC)
        self._fan_out(event)

    def _fan_out(self, event: EslEvent) -> None:
        for handler in self._sync_handlers:
            try:
                handler(event)
            except Exception:
                log.exception("ESL event handler %r failed on %s", handler, event.name)
        if self._async_handlers:
            self._backlog.put_nowait(event)
        for stream in self._streams:
            stream.offer(event)

    async def _dispatch(self) -> None:
        """Await async handlers one event at a time, in wire order."""
        while True:
            event = await self._backlog.get()
            for handler in list(self._async_handlers):
                try:
                    await handler(event)
                except Exception:
                    log.exception("ESL event handler %r failed on %s", handler, event.name)


async def _cancel_and_wait(task: asyncio.Task[Any]) -> None:
    """Cancel an owned task and wait for it to finish."""
    task.cancel()
    await asyncio.wait({task})
