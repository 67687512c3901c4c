"""CallTracker: the exact account of every call, from AMI, queue_log and the IVR into the store.

Everything is journaled first (append-only, idempotency keys), then the touched calls are
re-projected from their journal rows (``project.py``) in the same transaction.  AMI cannot
replay what the controller missed, queue_log can: ``reconcile`` reads queue_log from the saved
offset (``ingest_state``) on start, after every AMI reconnect, every ``reconcile_interval_s``
and soon after a caller leaves a queue or hangs up.

Usage::

    tracker = CallTracker(sessions, "/var/log/asterisk/queue_log", TrackingConfig.from_clinic(cfg))
    await tracker.start()                      # reconciles, then runs its two loops
    ami.add_handler(tracker.handle_event)      # every AMI event (sync, never blocks)
    await tracker.record_ivr(info, outcome, started_at)   # from the FastAGI session
    ...
    await tracker.close()                      # stops the loops, writes what is pending

A DB error never loses an event while the process lives: the batch stays pending and is
retried with backoff.  Counters are in ``tracker.stats``; live queue state in ``tracker.live``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.marks import ClinicallMark, decode_mark
from clinicall.controller.asterisk.normalize import MalformedEvent, normalize
from clinicall.controller.asterisk.queue_log import QueueLogRecord, QueueLogTail, TailBatch
from clinicall.controller.events import (
    AgentCompleted,
    AnyEvent,
    CallEvent,
    ChannelCreated,
    ChannelHungUp,
    EngineStatus,
    QueueLeft,
)
from clinicall.controller.tracking import store
from clinicall.controller.tracking.config import TrackingConfig
from clinicall.controller.tracking.live import LiveState
from clinicall.controller.tracking.rows import (
    ami_entries,
    ivr_entries,
    mark_channel_entry,
    queue_log_entry,
)
from clinicall.db import JournalEntry, insert_journal
from clinicall.ivr.outcome import IvrOutcome
from clinicall.ivr.port import CallInfo

logger = logging.getLogger(__name__)

QUEUE_LOG_SOURCE = "queue_log"
NOT_A_CALL = frozenset({"", "NONE"})  # queue_log uniqueid of member and queue events
SOON_EVENTS = (QueueLeft, AgentCompleted, ChannelHungUp)
MAX_CHANNELS = 100_000  # remembered channel → call mappings (older ones are read from the store)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class TrackerStats:
    """Counters for health pages and tests."""

    ami_events: int = 0
    ami_ignored: Counter[str] = field(default_factory=Counter)  # by AMI event name
    ami_malformed: Counter[str] = field(default_factory=Counter)
    queue_log_records: int = 0
    queue_log_malformed: int = 0
    journaled: int = 0  # new journal rows
    calls_projected: int = 0
    db_errors: int = 0


class CallTracker:
    """See the module docstring.  Owns two tasks (flush loop, reconcile loop) between
    ``start`` and ``close``."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        queue_log_path: str | os.PathLike[str],
        config: TrackingConfig,
        *,
        clock: Callable[[], datetime] = utc_now,
        batch_size: int = 200,
        batch_interval_s: float = 0.1,
        reconcile_interval_s: float = 1.0,
        soon_delay_s: float = 0.2,
        max_write: int = 5000,
        retry_max_s: float = 10.0,
    ) -> None:
        self.sessions, self.queue_log_path, self.config, self.clock = (
            sessions, queue_log_path, config, clock,
        )  # fmt: skip
        self.batch_size, self.batch_interval_s = batch_size, batch_interval_s
        self.reconcile_interval_s, self.soon_delay_s = reconcile_interval_s, soon_delay_s
        self.max_write, self.retry_max_s = max_write, retry_max_s
        self.stats = TrackerStats()
        self.live = LiveState()
        self._pending: list[JournalEntry] = []
        self._channels: dict[str, str] = {}  # uniqueid → linkedid
        self._tail: QueueLogTail | None = None
        self._lock = asyncio.Lock()  # one writer at a time in this process
        self._wake = asyncio.Event()
        self._soon = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # ---- AMI ---------------------------------------------------------------------------

    def handle_event(self, message: Message) -> None:
        """One AMI frame (sync handler for the AMI client).  Ignored and malformed events are
        counted per event name and logged once per name; nothing here raises or blocks."""
        name = message.event
        try:
            event = normalize(message)
        except MalformedEvent as error:
            if not self.stats.ami_malformed[name]:
                logger.warning("skipping malformed AMI %s events: %s", name, error)
            self.stats.ami_malformed[name] += 1
            return
        if event is None:
            if not self.stats.ami_ignored[name]:
                logger.debug("AMI %s events are not tracked", name)
            self.stats.ami_ignored[name] += 1
            return
        self.handle_normalized(event)

    async def handle_message(self, message: Message) -> None:
        """``handle_event`` for callers that await their handlers (clinicall.app.CallAccount)."""
        self.handle_event(message)

    async def engine_up(self) -> None:
        """The AMI link (re)connected: reconcile what was missed (a failure is logged and the
        loop retries)."""
        await self._contained(self.reconcile(), "reconcile after reconnect")

    def handle_normalized(self, event: AnyEvent) -> None:
        """A normalized event (from any engine adapter)."""
        self.stats.ami_events += 1
        self.live.apply(event)
        if isinstance(event, ChannelCreated):
            self._remember(event.uniqueid, event.linkedid)
        if isinstance(event, CallEvent | EngineStatus):
            self._pending.extend(ami_entries(event))
        if isinstance(event, SOON_EVENTS) or (isinstance(event, EngineStatus) and event.up):
            self._soon.set()
        if len(self._pending) >= self.batch_size:
            self._wake.set()

    def _remember(self, uniqueid: str, linkedid: str) -> None:
        if len(self._channels) >= MAX_CHANNELS:
            self._channels.pop(next(iter(self._channels)))
        self._channels[uniqueid] = linkedid

    # ---- IVR ---------------------------------------------------------------------------

    async def record_ivr(self, info: CallInfo, outcome: IvrOutcome, started_at: datetime) -> None:
        """The IVR's account of one call (journal key ``ivr:<linkedid>``), written at once;
        on a DB error it stays pending for the flush loop (the IVR session is never failed)."""
        self._remember(info.channel_id, info.call_id)
        self._pending.extend(ivr_entries(info, outcome, started_at, self.clock()))
        try:
            await self.flush()
        except Exception:  # contained: the entry is pending and retried by the loop
            self.stats.db_errors += 1
            logger.warning("IVR outcome of a call not written yet; will retry", exc_info=True)

    # ---- writing -----------------------------------------------------------------------

    async def flush(self) -> None:
        """Journal every pending event and re-project their calls.  Raises the DB error if
        a write fails; the events then stay pending."""
        while self._pending:
            async with self._lock:
                batch = self._pending[: self.max_write]
                if not batch:
                    return
                keys = {e.call_key for e in batch if e.call_key}
                async with self.sessions() as session, session.begin():
                    self.stats.journaled += await insert_journal(session, batch)
                    projected = await store.project_calls(session, keys, self.config)
                del self._pending[: len(batch)]
                self.stats.calls_projected += projected

    async def reconcile(self) -> int:
        """Read queue_log from the saved position to its end; journal and project.  Returns
        the number of records read.  Raises the DB error (position then not advanced)."""
        read = 0
        async with self._lock:
            while True:
                tail = await self._open_tail()
                batch = await tail.read_async()
                done = False
                try:
                    await self._ingest(batch)
                    done = True
                finally:
                    if not done:
                        self._tail = None  # resume from the saved position next time
                read += len(batch.records)
                if not batch.more:
                    return read

    async def _open_tail(self) -> QueueLogTail:
        if self._tail is None:
            async with self.sessions() as session:
                state = await store.load_tail_state(session, QUEUE_LOG_SOURCE)
            self._tail = QueueLogTail(self.queue_log_path, state)
        return self._tail

    async def _ingest(self, batch: TailBatch) -> None:
        if batch.errors:
            first = batch.errors[0]
            logger.warning("queue_log: %d malformed line(s) skipped, first: %s",
                           len(batch.errors), first)  # fmt: skip
        if batch.restarted:
            logger.info("queue_log read from its top again (%s)", batch.restarted)
        async with self.sessions() as session, session.begin():
            entries = await self._queue_log_entries(session, batch.records)
            new = await insert_journal(session, entries)
            await store.save_tail_state(session, QUEUE_LOG_SOURCE, batch.state, self.clock())
            keys = {e.call_key for e in entries if e.call_key}
            projected = await store.project_calls(session, keys, self.config)
        self.stats.queue_log_records += len(batch.records)
        self.stats.queue_log_malformed += len(batch.errors)
        self.stats.journaled += new
        self.stats.calls_projected += projected

    async def _queue_log_entries(
        self, session: AsyncSession, records: list[QueueLogRecord]
    ) -> list[JournalEntry]:
        marks: dict[int, ClinicallMark] = {}
        for index, record in enumerate(records):
            if (mark := decode_mark(record)) is not None:
                marks[index] = mark
                self._remember(mark.uniqueid, mark.linkedid)
        unknown = {r.uniqueid for r in records if r.uniqueid not in NOT_A_CALL}
        unknown -= self._channels.keys()
        for uniqueid, linkedid in (await store.linkedids_of(session, unknown)).items():
            self._remember(uniqueid, linkedid)
        entries: list[JournalEntry] = []
        for index, record in enumerate(records):
            if index in marks:
                entries.append(queue_log_entry(record, marks[index].linkedid))
                entries.append(mark_channel_entry(marks[index]))
            elif record.uniqueid in NOT_A_CALL:
                entries.append(queue_log_entry(record, None))
            else:
                call_key = self._channels.get(record.uniqueid, record.uniqueid)
                entries.append(queue_log_entry(record, call_key))
        return entries

    async def rebuild(self) -> int:
        """Re-project every call in the journal (after a projector change); returns how many."""
        async with self._lock:
            async with self.sessions() as session:
                keys = await store.journal_call_keys(session)
            done = 0
            for start in range(0, len(keys), store.CHUNK):
                async with self.sessions() as session, session.begin():
                    chunk = keys[start : start + store.CHUNK]
                    done += await store.project_calls(session, chunk, self.config)
            return done

    # ---- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Reconcile once (a failure is logged, the loop retries), then start the loops."""
        if self._tasks:
            return
        await self._contained(self.reconcile(), "reconcile")
        self._tasks = [
            asyncio.create_task(self._flush_loop(), name="tracker-flush"),
            asyncio.create_task(self._reconcile_loop(), name="tracker-reconcile"),
        ]

    async def close(self) -> None:
        """Stop the loops and try a last flush (logged if the store is unreachable)."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except asyncio.CancelledError:
                if not task.cancelled():
                    raise  # we are being cancelled ourselves
        await self._contained(self.flush(), "final flush")
        if self._pending:
            logger.error("%d tracking events could not be written", len(self._pending))

    async def _contained(self, work: Any, what: str) -> bool:
        try:
            await work
        except Exception:  # contained: logged and retried by the loops
            self.stats.db_errors += 1
            logger.warning("call tracking: %s failed", what, exc_info=True)
            return False
        return True

    async def _flush_loop(self) -> None:
        delay = self.batch_interval_s
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
            self._wake.clear()
            if not self._pending:
                continue
            ok = await self._contained(self.flush(), "journal write")
            delay = self.batch_interval_s if ok else min(max(delay * 2, 0.5), self.retry_max_s)

    async def _reconcile_loop(self) -> None:
        delay = self.reconcile_interval_s
        while True:
            try:
                await asyncio.wait_for(self._soon.wait(), delay)
                await asyncio.sleep(self.soon_delay_s)  # let Asterisk write its line
            except TimeoutError:
                pass
            self._soon.clear()
            ok = await self._contained(self.reconcile(), "queue_log reconcile")
            delay = self.reconcile_interval_s if ok else min(delay * 2, self.retry_max_s)
