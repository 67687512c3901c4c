"""CallTracker: the exact account of every call, from an engine's facts and the IVR into the store.

Engine-neutral: an engine adapter hands it facts (``controller.facts``) from its live events
(``handle_fact``) and from its durable record (``reconcile``); the IVR hands it each call's
outcome (``record_ivr``).  Everything is journaled first (append-only, idempotency keys), then
the touched calls are re-projected from their journal rows (``project.py``) in the same
transaction.  Live events cannot replay what the controller missed, the durable record can:
``reconcile`` reads it from the cursor saved in the store (``ingest_state``) on start, after
every reconnect, every ``reconcile_interval_s`` and soon after a caller leaves a queue or
hangs up.  While the engine is quiet (no live fact, nothing new in the record) the interval
doubles up to ``reconcile_idle_max_s``, and the first live fact after the quiet spell brings
the next reconcile forward: an idle controller wakes a few times a minute, not every second
(docs/architecture.md, "Idle").

Usage::

    tracker = CallTracker(sessions, engine, TrackingConfig.from_clinic(cfg))
    await tracker.start()                      # reconciles, then runs its two loops
    engine.subscribe(tracker.handle_fact)      # every live fact (sync, never blocks)
    await tracker.record_ivr(info, outcome, started_at)   # from the IVR session
    ...
    await tracker.close()                      # stops the loops, writes what is pending

Two judgments need more than one call's rows, so the tracker makes them and journals the
result as per-call facts: an engine that started again (``EngineStarted``) cut the calls it had
(``_cut_by_restart``), and an IVR session the engine never reported within ``confirm_grace_s``
is no call (``check_ivr_sessions``: counted apart, never projected).

A DB error never loses a fact while the process lives: the batch stays pending and is retried
with backoff; an unreachable store is logged as one outage, two lines (``outage.py``).
Counters are in ``tracker.stats``; live queue state in ``tracker.live``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.calltypes import CallInfo, IvrOutcome, SurveyOutcome
from clinicall.controller.facts import (
    CallFact,
    ChannelClosed,
    ChannelCut,
    ChannelOfCall,
    ChannelOpened,
    EngineLink,
    EngineStarted,
    Fact,
    QueueCompleted,
    QueueLeft,
)
from clinicall.controller.port import DurableRecord, ReconcileBatch
from clinicall.controller.tracking import store
from clinicall.controller.tracking.config import TrackingConfig
from clinicall.controller.tracking.live import LiveState
from clinicall.controller.tracking.outage import StoreOutage
from clinicall.controller.tracking.presence import write_presence
from clinicall.controller.tracking.rows import fact_entries, ivr_entries, journaled
from clinicall.controller.tracking.surveys import CallNotInStore, write_survey
from clinicall.db import JournalEntry, insert_journal
from clinicall.logbudget import excerpt

logger = logging.getLogger(__name__)

SOON = (QueueLeft, QueueCompleted, ChannelClosed)
MAX_CHANNELS = 100_000  # remembered channel → call mappings (older ones are read from the store)
MAX_WATCHED = 10_000  # IVR sessions awaiting the engine's word (a flood forgets the oldest)
#: The engine's last sign of life belongs to its restart only if this recent (a longer silence
#: is a link that was down, not an engine that died).
RESTART_WINDOW = timedelta(minutes=2)
RECORD_GRAIN = timedelta(seconds=1)  # the durable record's times are whole seconds
#: Tries to write a survey's answers (the store down, the call not projected yet), with the
#: delay doubling from SURVEY_RETRY_S: about a minute in all.
SURVEY_TRIES = 7
SURVEY_RETRY_S = 0.5


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class TrackerStats:
    """Counters for health pages and tests."""

    live_facts: int = 0
    record_facts: int = 0
    record_skipped: int = 0
    journaled: int = 0  # new journal rows, counted once committed
    calls_projected: int = 0
    db_errors: int = 0
    #: IVR sessions whose call the engine never reported within ``confirm_grace_s``: kept
    #: apart (not calls, never missed ones): a local peer, or a call while the link was down.
    ivr_unconfirmed: int = 0


@dataclass(frozen=True, slots=True)
class AccountHealth:
    """The call account now, for the health page and /metrics."""

    store_up: bool  # the last write reached the store
    pending: int  # facts kept in memory, not yet written
    ivr_unconfirmed: int


class CallTracker:
    """See the module docstring.  Owns two tasks (flush loop, reconcile loop) between
    ``start`` and ``close``."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        record: DurableRecord,
        config: TrackingConfig,
        *,
        clock: Callable[[], datetime] = utc_now,
        batch_size: int = 200,
        batch_interval_s: float = 0.1,
        reconcile_interval_s: float = 1.0,
        reconcile_idle_max_s: float = 8.0,
        soon_delay_s: float = 0.2,
        max_write: int = 5000,
        retry_max_s: float = 10.0,
        confirm_grace_s: float = 60.0,
    ) -> None:
        self.sessions, self.record, self.config, self.clock = sessions, record, config, clock
        self.batch_size, self.batch_interval_s = batch_size, batch_interval_s
        self.reconcile_interval_s, self.soon_delay_s = reconcile_interval_s, soon_delay_s
        self.reconcile_idle_max_s = max(reconcile_idle_max_s, reconcile_interval_s)
        self.max_write, self.retry_max_s = max_write, retry_max_s
        self.confirm_grace = timedelta(seconds=confirm_grace_s)
        self.stats = TrackerStats()
        self.live = LiveState()
        self.outage = StoreOutage(logger)
        self._pending: list[JournalEntry] = []
        self._channels: dict[str, str] = {}  # channel id → call id
        self._ivr_sessions: dict[str, datetime] = {}  # call id → IVR end, until confirmed
        self._last_heard: datetime | None = None  # the newest live call fact
        self._heard_before_loss: datetime | None = None  # the newest before the link's loss
        self._cursor: Mapping[str, Any] | None = None
        self._cursor_loaded = False
        self._lock = asyncio.Lock()  # one writer at a time in this process
        self._wake = asyncio.Event()
        self._soon = asyncio.Event()
        self._quiet = False  # the reconcile loop is backing off: nothing happened lately
        self._tasks: list[asyncio.Task[None]] = []

    # ---- live facts --------------------------------------------------------------------

    def handle_fact(self, fact: Fact) -> None:
        """One live fact from the engine, in wire order (sync; never raises or blocks)."""
        self.stats.live_facts += 1
        self.live.apply(fact)
        if isinstance(fact, ChannelOpened) and fact.call_id and fact.channel_id:
            self._remember(fact.channel_id, fact.call_id)
        if isinstance(fact, CallFact):
            self._last_heard = fact.at
        elif isinstance(fact, EngineLink) and not fact.up:
            self._heard_before_loss = self._last_heard
        if journaled(fact):
            if not self._pending:
                self._wake.set()  # the flush loop sleeps while nothing is pending
            self._pending.extend(fact_entries(fact, self._call_key(fact)))
        if isinstance(fact, SOON) or (isinstance(fact, EngineLink) and fact.up) or self._quiet:
            self._quiet = False  # the first fact after a quiet spell: reconcile soon
            self._soon.set()
        if len(self._pending) >= self.batch_size:
            self._wake.set()

    async def engine_up(self) -> None:
        """The engine link (re)connected: reconcile what was missed (a failure is logged and
        the loop retries)."""
        await self._contained(self.reconcile(), "reconcile after reconnect")

    def _remember(self, channel_id: str, call_id: str) -> None:
        if len(self._channels) >= MAX_CHANNELS:
            self._channels.pop(next(iter(self._channels)))
        self._channels[channel_id] = call_id

    def _call_key(self, fact: Fact) -> str | None:
        """The fact's call: named, or its channel's call if known, else its channel (the
        store resolves the channel when the mapping arrives later)."""
        if not isinstance(fact, CallFact):
            return None
        if fact.call_id:
            return fact.call_id
        return self._channels.get(fact.channel_id, fact.channel_id) or None

    # ---- IVR ---------------------------------------------------------------------------

    async def record_ivr(self, info: CallInfo, outcome: IvrOutcome, started_at: datetime) -> None:
        """The IVR's account of one call (journal key ``ivr:<call id>``), written at once;
        on a DB error it stays pending for the flush loop (the IVR session is never failed)."""
        self._remember(info.channel_id, info.call_id)
        self._watch(info.call_id)
        if not self._pending:
            self._wake.set()  # if this write fails, the flush loop retries it
        self._pending.extend(ivr_entries(info, outcome, started_at, self.clock()))
        await self._contained(self.flush(), "IVR outcome write")  # else pending, retried

    async def record_survey(self, info: CallInfo, outcome: SurveyOutcome) -> None:
        """A post-call survey's answers, written against the call at once; while the store is
        unreachable or the call not in it yet, retried with backoff (``SURVEY_TRIES``), then
        logged as lost.  Never raises."""
        answered = info.answered
        if answered is None:
            logger.error("a survey without the answered call it rates (call id %s): dropped",
                         excerpt(info.call_id))
            return
        at, delay = self.clock(), SURVEY_RETRY_S
        for _ in range(SURVEY_TRIES):
            try:
                await self.flush()  # the call's own facts first
                async with self.sessions() as session, session.begin():
                    await write_survey(session, info.call_id, answered, outcome, at)
                return
            except CallNotInStore:
                pass
            except Exception as exc:  # contained: retried below
                self.stats.db_errors += 1
                self.outage.failed(exc, "survey write", len(self._pending))
            await asyncio.sleep(delay)  # backoff: nothing signals that the store came back
            delay *= 2
        logger.error("the survey of call %s could not be written (CSAT %s, NPS %s): lost",
                     excerpt(info.call_id), outcome.csat, outcome.nps)

    def _watch(self, call_id: str) -> None:
        if len(self._ivr_sessions) >= MAX_WATCHED:
            self._ivr_sessions.pop(next(iter(self._ivr_sessions)))
        self._ivr_sessions[call_id] = self.clock()

    async def check_ivr_sessions(self) -> int:
        """IVR sessions older than the grace whose call the engine never reported: counted,
        logged, forgotten.  Returns how many were found unconfirmed now."""
        due = self.clock() - self.confirm_grace
        old = [key for key, at in self._ivr_sessions.items() if at <= due]
        if not old:
            return 0
        async with self.sessions() as session:
            known = await store.known_calls(session, old)
        unconfirmed = [key for key in old if key not in known]
        for key in old:
            del self._ivr_sessions[key]
        for key in unconfirmed:
            logger.warning("an IVR session (call id %s) has no trace in the engine's events or "
                           "record after %.0f s: kept apart, not counted as a call",
                           excerpt(key), self.confirm_grace.total_seconds())
        self.stats.ivr_unconfirmed += len(unconfirmed)
        return len(unconfirmed)

    def health(self) -> AccountHealth:
        return AccountHealth(self.outage.since is None, len(self._pending),
                             self.stats.ivr_unconfirmed)

    # ---- writing -----------------------------------------------------------------------

    async def flush(self) -> None:
        """Journal every pending fact and re-project their calls.  Raises the DB error if a
        write fails; the facts then stay pending."""
        while self._pending:
            async with self._lock:
                batch = self._pending[: self.max_write]
                if not batch:
                    return
                keys = {e.call_key for e in batch if e.call_key}
                async with self.sessions() as session, session.begin():
                    new = await insert_journal(session, batch)
                    projected = await store.project_calls(session, keys, self.config)
                del self._pending[: len(batch)]  # committed: only now are they counted
                self.outage.reached()
                self.stats.journaled += new
                self.stats.calls_projected += projected

    async def reconcile(self) -> int:
        """Read the engine's durable record from the saved cursor to its end; journal and
        project.  Returns the number of facts read.  Raises the DB error (the cursor then
        does not advance)."""
        read = 0
        async with self._lock:
            while True:
                if not self._cursor_loaded:
                    async with self.sessions() as session:
                        self._cursor = await store.load_cursor(session, self.record.record_name)
                    self._cursor_loaded = True
                batch = await self.record.reconcile(self._cursor)
                if not batch.facts and not batch.skipped and batch.cursor == self._cursor:
                    return read  # nothing new: no write transaction (idle CPU, issue 16)
                done = False
                try:
                    await self._ingest(batch)
                    done = True
                finally:
                    # a failed write resumes from the saved cursor next time
                    self._cursor_loaded = done
                    if done:
                        self._cursor = batch.cursor
                read += len(batch.facts)
                if not batch.more:
                    return read

    async def _ingest(self, batch: ReconcileBatch) -> None:
        async with self.sessions() as session, session.begin():
            entries = await self._record_entries(session, batch.facts)
            new = await insert_journal(session, entries)
            await store.save_cursor(session, self.record.record_name, batch.cursor, self.clock())
            keys = {e.call_key for e in entries if e.call_key}
            projected = await store.project_calls(session, keys, self.config)
            await write_presence(session, batch.facts)  # operators' log-ins and pauses
            for started in (f for f in batch.facts if isinstance(f, EngineStarted)):
                cut, recast = await self._cut_by_restart(session, started)
                new, projected = new + cut, projected + recast
        self.outage.reached()
        self.stats.record_facts += len(batch.facts)
        self.stats.record_skipped += batch.skipped
        self.stats.journaled += new
        self.stats.calls_projected += projected

    async def _record_entries(
        self, session: AsyncSession, facts: Sequence[Fact]
    ) -> list[JournalEntry]:
        """Journal entries of a durable batch, each fact under its call: the record names
        calls through its mapping facts (the dialplan's routing mark) or only channels."""
        for fact in facts:
            if isinstance(fact, ChannelOfCall):
                self._remember(fact.channel_id, fact.call_id)
        unknown = {f.channel_id for f in facts if isinstance(f, CallFact) and not f.call_id}
        unknown -= self._channels.keys() | {""}
        for channel_id, call_id in (await store.calls_of_channels(session, unknown)).items():
            self._remember(channel_id, call_id)
        return [entry for fact in facts for entry in fact_entries(fact, self._call_key(fact))]

    async def _cut_by_restart(
        self, session: AsyncSession, started: EngineStarted
    ) -> tuple[int, int]:
        """The engine started again: the calls it had are gone.  A stopping engine says so per
        channel (live ``ChannelCut``); one that died said nothing.  So every call still open,
        and every call that ended after the engine's last sign of life this controller heard
        (its IVR session saw the line drop), is journaled as cut at that sign of life.
        Returns the new journal rows and the calls re-projected."""
        silent_since = self._silent_since(started.at)
        # the start's time is whole seconds: a call begun in that second is the old engine's
        keys = await store.calls_cut_by_restart(session, started.at + RECORD_GRAIN,
                                                silent_since)
        cut_at = silent_since or started.at
        entries = [entry for key in keys for entry in fact_entries(ChannelCut(
            key=f"{started.key}/cut/{key}", at=cut_at, call_id=key, channel_id=key), key)]
        new = await insert_journal(session, entries)
        if keys:
            logger.info("the engine started at %s: %d calls it had are cut (last heard %s)",
                        started.at.isoformat(), len(keys),
                        silent_since.isoformat() if silent_since else "-")
        return new, await store.project_calls(session, set(keys), self.config)

    def _silent_since(self, started_at: datetime) -> datetime | None:
        """The old engine's last live call fact before its start at ``started_at`` (None if
        this controller did not hear it shortly before): nothing it said can end a call later.
        The start's time is the durable record's, in whole seconds: a fact of that second may
        still be the old engine's."""
        window = (started_at - RESTART_WINDOW, started_at + RECORD_GRAIN)
        heard = [t for t in (self._last_heard, self._heard_before_loss)
                 if t is not None and window[0] <= t <= window[1]]
        return max(heard, default=None)

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
            logger.error("%d tracking facts could not be written", len(self._pending))

    async def _contained(self, work: Any, what: str) -> bool:
        try:
            await work
        except Exception as exc:  # contained: logged and retried by the loops
            self.stats.db_errors += 1
            self.outage.failed(exc, what, len(self._pending))
            return False
        return True

    async def _flush_loop(self) -> None:
        """Flush a batch when it is full or ``batch_interval_s`` after its first fact; with
        nothing pending, sleep until a fact comes (no wake-up per interval when idle)."""
        delay = self.batch_interval_s
        while True:
            if not self._pending:
                await self._wake.wait()  # the first fact after a quiet spell
                self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)  # set: a full batch
            self._wake.clear()
            if not self._pending:
                continue
            ok = await self._contained(self.flush(), "journal write")
            delay = self.batch_interval_s if ok else min(max(delay * 2, 0.5), self.retry_max_s)

    async def _reconcile_loop(self) -> None:
        delay, heard = self.reconcile_interval_s, self.stats.live_facts
        while True:
            try:
                await asyncio.wait_for(self._soon.wait(), delay)
                await asyncio.sleep(self.soon_delay_s)  # let the engine write its record
            except TimeoutError:
                pass
            self._soon.clear()
            read = self.stats.record_facts
            ok = await self._contained(self.reconcile(), "durable record reconcile")
            ok = ok and await self._contained(self.check_ivr_sessions(), "IVR session check")
            quiet = ok and heard == self.stats.live_facts and read == self.stats.record_facts
            if not ok:
                delay = min(delay * 2, self.retry_max_s)
            elif quiet:  # no live fact since the last round and nothing new in the record
                delay = min(max(delay * 2, self.reconcile_interval_s), self.reconcile_idle_max_s)
            else:
                delay = self.reconcile_interval_s
            self._quiet, heard = quiet, self.stats.live_facts
