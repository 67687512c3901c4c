"""The asyncio AMI client: one live connection kept up in the background, visibly.

What it adds to ``AMIConnection``: login, a Ping keepalive with a timeout (a half-open TCP
connection is noticed within ``ping_interval + ping_timeout``), reconnects with exponential
backoff and jitter, a status hook, and event delivery to handlers and bounded streams.

Decisions that panoramisk gets wrong and this client makes explicit:

* an action pending when the connection dies fails with ``AMIConnectionLost`` at once and is
  never re-sent (an Originate re-sent after a reconnect dials the patient twice);
* an exception in an event handler is logged with the event name and contained: the
  connection and the rest of the chunk are unaffected;
* async handlers are awaited one after another by one owned task, so they see events in
  wire order without stalling the socket reader (and with it the Pong replies).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any

from clinicall.controller.asterisk.ami.connection import ActionResult, AMIConnection
from clinicall.controller.asterisk.ami.errors import AMIActionError, AMIAuthError, AMIConnectionLost
from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.ami.protocol import DEFAULT_MAX_FRAME, FieldValue
from clinicall.controller.asterisk.ami.stream import EventStream

log = logging.getLogger(__name__)

CLIENT_CLOSED = "client closed"

#: ``Event`` name of the synthetic message sent to subscribers on every login and loss.
STATUS_EVENT = "ClinicallAMIStatus"

SyncHandler = Callable[[Message], None]
AsyncHandler = Callable[[Message], Awaitable[None]]
StatusHook = Callable[[bool, str], None]


def status_message(up: bool, detail: str) -> Message:
    """The synthetic event that tells subscribers the AMI link went up or down."""
    status = "up" if up else "down"
    return Message([("Event", STATUS_EVENT), ("Status", status), ("Detail", detail)])


def backoff_delay(attempt: int, initial: float, maximum: float, rng: random.Random) -> float:
    """Exponential backoff with jitter: uniform in [d/2, d], d = min(maximum, initial*2**n)."""
    ceiling = min(maximum, initial * 2 ** min(attempt, 30))
    return rng.uniform(ceiling / 2, ceiling)


class AMIClient:
    """AMI client.  Use ``async with AMIClient(...) as ami`` or ``start()`` / ``close()``."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        events: str = "on",
        ping_interval: float = 5.0,
        ping_timeout: float = 3.0,
        connect_timeout: float = 5.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        retry_auth: bool = False,
        on_status: StatusHook | None = None,
        max_frame: int = DEFAULT_MAX_FRAME,
    ) -> None:
        self.host, self.port, self.username = host, port, username
        self._secret = secret
        self._events_mask = events
        self.ping_interval, self.ping_timeout = ping_interval, ping_timeout
        self.connect_timeout = connect_timeout
        self.backoff_initial, self.backoff_max = backoff_initial, backoff_max
        self.retry_auth = retry_auth
        self.on_status = on_status
        self.max_frame = max_frame
        self.last_error: str = ""
        self._rng = random.Random()
        self._conn: AMIConnection | None = None
        self._up = asyncio.Event()
        self._sync_handlers: list[SyncHandler] = []
        self._async_handlers: list[AsyncHandler] = []
        self._async_backlog: asyncio.Queue[Message] = asyncio.Queue()
        self._streams: set[EventStream] = set()
        self._supervisor: asyncio.Task[None] | None = None
        self._dispatcher: asyncio.Task[None] | None = None

    # -- public API -------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._up.is_set()

    async def wait_connected(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Return once logged in; raises TimeoutError after ``timeout`` seconds."""
        async with asyncio.timeout(timeout):
            await self._up.wait()

    def add_handler(self, callback: SyncHandler | AsyncHandler) -> None:
        """Call ``callback(msg)`` for every event.  Async callbacks are awaited in order."""
        if inspect.iscoroutinefunction(callback) or inspect.iscoroutinefunction(
            getattr(callback, "__call__", None)  # noqa: B004 - async callable objects
        ):
            self._async_handlers.append(callback)  # type: ignore[arg-type]
        else:
            self._sync_handlers.append(callback)  # type: ignore[arg-type]

    def remove_handler(self, callback: SyncHandler | AsyncHandler) -> None:
        for handlers in (self._sync_handlers, self._async_handlers):
            if callback in handlers:
                handlers.remove(callback)  # type: ignore[arg-type]

    def events(self, maxsize: int = 10_000) -> EventStream:
        """A new async iterator over events from now on (bounded; see ``EventStream``)."""
        stream = EventStream(maxsize, self._streams.discard)
        self._streams.add(stream)
        return stream

    async def action(
        self,
        name: str,
        fields: Mapping[str, FieldValue] | None = None,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 - a per-action deadline is the API
    ) -> ActionResult:
        """Send one action on the live connection and wait for its reply.

        Raises AMIActionError on ``Response: Error``, TimeoutError after ``timeout`` s,
        AMIConnectionLost when not connected or when the connection dies first (never
        re-sent), ValueError when a field contains CR/LF.
        """
        conn = self._conn
        if conn is None or not self._up.is_set():
            raise AMIConnectionLost(f"{name} not sent: AMI not connected ({self.last_error})")
        return await conn.send_action(name, fields, timeout)

    async def start(self, *, wait: bool = True) -> None:
        """Connect, log in, and keep the connection alive in the background.

        With ``wait`` (default) the first attempt's failure is raised (AMIAuthError, OSError,
        TimeoutError); with ``wait=False`` the background task retries with backoff.
        """
        if self._supervisor is not None:
            raise RuntimeError("AMIClient already started")
        self._dispatcher = asyncio.create_task(self._dispatch_async(), name="ami-dispatch")
        conn: AMIConnection | None = None
        if wait:
            try:
                conn = await self._open()
            except BaseException:
                await _cancel_and_wait(self._dispatcher)
                self._dispatcher = None
                raise
        self._supervisor = asyncio.create_task(self._supervise(conn), name="ami-supervisor")

    async def close(self) -> None:
        """Stop reconnecting, drop the connection (pending actions fail), end the streams."""
        if self._supervisor is not None:
            await _cancel_and_wait(self._supervisor)
            self._supervisor = None
        if self._conn is not None:  # the supervisor may be cancelled before it ever ran
            await self._conn.close(CLIENT_CLOSED)
            self._conn = None
        if self._up.is_set():
            self._set_status(False, CLIENT_CLOSED)
        if self._dispatcher is not None:
            await _cancel_and_wait(self._dispatcher)
            self._dispatcher = None
        for stream in list(self._streams):
            stream.close()

    async def __aenter__(self) -> AMIClient:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- connection life cycle --------------------------------------------------------------

    async def _open(self) -> AMIConnection:
        """Connect and log in; the connection is closed again on any failure."""
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), self.connect_timeout
        )
        conn = AMIConnection(reader, writer, self._deliver, max_frame=self.max_frame)
        conn.start()
        logged_in = False
        try:
            fields = {
                "Username": self.username,
                "Secret": self._secret,
                "Events": self._events_mask,
            }
            await conn.send_action("Login", fields, self.connect_timeout)
            logged_in = True
        except AMIActionError as exc:
            raise AMIAuthError(
                f"AMI login as {self.username!r} to {self.host}:{self.port} refused: "
                f"{exc.message or 'no reason given'}"
            ) from None
        finally:
            if not logged_in:
                await conn.close("login failed")
        self._conn = conn
        banner = conn.banner or "no banner"
        self._set_status(
            True, f"logged in to {self.host}:{self.port} as {self.username} ({banner})"
        )
        return conn

    async def _supervise(self, conn: AMIConnection | None) -> None:
        attempt = 0
        while True:
            if conn is not None:
                reason = await self._serve(conn)
                self._set_status(False, reason)
                conn = None
            delay = backoff_delay(attempt, self.backoff_initial, self.backoff_max, self._rng)
            attempt += 1
            await asyncio.sleep(delay)
            try:
                conn = await self._open()
                attempt = 0
            except AMIAuthError as exc:
                self.last_error = str(exc)
                log.error("%s%s", exc, "; retrying" if self.retry_auth else "; giving up")
                if not self.retry_auth:
                    self._notify_hook(False, str(exc))
                    return
            except (OSError, TimeoutError, AMIConnectionLost) as exc:
                self.last_error = f"{exc.__class__.__name__}: {exc}"
                log.warning(
                    "AMI reconnect to %s:%s failed (%s); next try in up to %.1f s",
                    self.host,
                    self.port,
                    self.last_error,
                    min(self.backoff_max, self.backoff_initial * 2 ** min(attempt, 30)),
                )

    async def _serve(self, conn: AMIConnection) -> str:
        """Run until the connection ends; return why.  The connection is closed afterwards."""
        assert conn.reader_task is not None
        pinger = asyncio.create_task(self._keepalive(conn), name="ami-keepalive")
        try:
            await asyncio.wait({conn.reader_task, pinger}, return_when=asyncio.FIRST_COMPLETED)
            done = pinger if pinger.done() else conn.reader_task
            reason = done.result()
        finally:
            await _cancel_and_wait(pinger)
        await conn.close(reason)
        self._conn = None
        return reason

    async def _keepalive(self, conn: AMIConnection) -> str:
        while True:
            await asyncio.sleep(self.ping_interval)
            try:
                await conn.send_action("Ping", None, self.ping_timeout)
            except TimeoutError:
                return f"no reply to Ping within {self.ping_timeout:g} s"
            except AMIConnectionLost as exc:
                return str(exc)
            except AMIActionError as exc:
                log.warning("AMI Ping answered with an error: %s", exc.message)

    def _set_status(self, up: bool, detail: str) -> None:
        if up:
            self._up.set()
            self.last_error = ""
            log.info("AMI up: %s", detail)
        else:
            self._up.clear()
            self.last_error = detail
            # Our own close() is not news; any other loss is.
            level = logging.INFO if detail == CLIENT_CLOSED else logging.WARNING
            log.log(level, "AMI down: %s", detail)
        self._notify_hook(up, detail)
        self._deliver(status_message(up, detail))

    def _notify_hook(self, up: bool, detail: str) -> None:
        if self.on_status is None:
            return
        try:
            self.on_status(up, detail)
        except Exception:
            log.exception("AMI on_status hook failed")

    # -- event delivery ---------------------------------------------------------------------

    def _deliver(self, msg: Message) -> None:
        for handler in self._sync_handlers:
            try:
                handler(msg)
            except Exception:
                log.exception("AMI event handler %r failed on event %s", handler, msg.event)
        if self._async_handlers:
            self._async_backlog.put_nowait(msg)
        for stream in self._streams:
            stream.offer(msg)

    async def _dispatch_async(self) -> None:
        """Await async handlers one event at a time, in wire order."""
        while True:
            msg = await self._async_backlog.get()
            for handler in list(self._async_handlers):
                try:
                    await handler(msg)
                except Exception:
                    log.exception("AMI event handler %r failed on event %s", handler, msg.event)


async def _cancel_and_wait(task: asyncio.Task[Any]) -> None:
    """Cancel an owned task and wait for it to finish, without swallowing our own cancel."""
    task.cancel()
    await asyncio.wait({task})
