"""Callback jobs in the store: made, merged, claimed under a lease, attempted once, settled.

The scheduler (``controller.callbacks``) decides with the pure policy (``routing``) and writes
here; this module owns the store's side of "exactly once" (docs/callbacks.md, "The scheduler"):

- **Claim under a lease.**  A job is claimable when it is ``pending`` and due, or ``claimed``
  by a controller whose lease ran out (it died or lost the store).  On PostgreSQL the claim is
  one ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)``: two controllers never
  wait for nor take the same row.  On SQLite the same statement runs without the lock clause
  (SQLite has one writer at a time, so the ``UPDATE`` is the single-writer equivalent); the
  claimable condition is repeated on the outer ``UPDATE`` on both.
- **The key before the dial.**  :meth:`CallbackStore.begin_attempt` commits the attempt row,
  with its idempotency key (unique) and the engine's call id, before the originate is sent.
  An attempt whose outcome is still NULL is never sent again: whoever finds it (the same
  controller after a restart, or another one after the lease ran out) settles it from what
  the engine recorded about its call id.
- **Writes through the writer.**  Every change of a ``callbacks`` row is made inside a
  ``StoreWriter`` told the job's missed call, so a done callback returns it in the reports
  (clinicall.db.call_links).

Values cross this boundary as plain data (``JobRow``): the store may not import ``routing``
(docs/architecture.md, "Layers").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from clinicall.db.models import (
    Call,
    Callback,
    CallbackAttempt,
    CallbackIntake,
    CallbackReason,
    CallbackState,
    Direction,
    JournalEvent,
    QueueAttempt,
    QueueOutcome,
)
from clinicall.db.writer import StoreWriter

Sessions = async_sessionmaker[AsyncSession]
OPEN = (CallbackState.PENDING.value, CallbackState.CLAIMED.value)
#: The outcome stored on an attempt whose call the engine has no record of (see
#: ``CallbackStore.settle``): it counts as a failed try, and is never re-sent.
UNKNOWN = "unknown"
#: The journal kind of a call data fact (``controller.facts.CallDataSet.KIND``).
CALL_DATA_KIND = "call.data"


class OperatorHeld(Exception):
    """The operator chosen for an attempt is reserved by another attempt in progress, on this
    controller or another (the one-open-attempt-per-operator index)."""

    def __init__(self, agent: str) -> None:
        super().__init__(f"operator {agent} is held by another callback attempt")
        self.agent = agent


@dataclass(frozen=True, slots=True)
class JobRow:
    """One ``callbacks`` row as the scheduler needs it."""

    id: int
    phone: str
    queue: str | None
    reason: str
    arrived_at: datetime
    due_at: datetime
    state: str
    attempts: int
    priority: int
    origin_call_id: int | None
    language: str | None
    claimed_by: str | None
    result: str | None


@dataclass(frozen=True, slots=True)
class AttemptRow:
    """One ``callback_attempts`` row."""

    id: int
    callback_id: int
    number: int
    key: str
    call_id: str
    owner: str
    agent: str | None
    started_at: datetime
    outcome: str | None


@dataclass(frozen=True, slots=True)
class MissedCallRow:
    """A missed inbound call not yet taken in, with what the intake policy needs."""

    call_id: int
    caller: str | None
    started_at: datetime
    cause: str | None
    route: str | None
    queue: str | None  # the last queue it waited in, if any
    priority: int
    language: str | None
    ended_at: datetime | None = None  # None: the call goes on (e.g. in the callback offer)


@dataclass(frozen=True, slots=True)
class CallRecord:
    """The account's record of one call: an operator connected to it in a queue, and the
    ``outcome`` call data the engine set on it (``CallDataSet`` facts in the journal)."""

    connected: bool
    outcomes: frozenset[str]


@dataclass(frozen=True, slots=True)
class Settlement:
    """A job's next values after an attempt (the policy's ``Transition`` in the store's words)."""

    state: str
    attempts: int
    due_at: datetime | None
    result: str


def _job(row: Callback) -> JobRow:
    return JobRow(id=row.id, phone=row.phone, queue=row.queue, reason=str(row.reason),
                  arrived_at=row.arrived_at, due_at=row.due_at, state=str(row.state),
                  attempts=row.attempts, priority=row.priority,
                  origin_call_id=row.origin_call_id, language=row.language,
                  claimed_by=row.claimed_by, result=row.result)  # fmt: skip


def _attempt(row: CallbackAttempt) -> AttemptRow:
    return AttemptRow(id=row.id, callback_id=row.callback_id, number=row.number, key=row.key,
                      call_id=row.call_id, owner=row.owner, agent=row.agent,
                      started_at=row.started_at, outcome=row.outcome)  # fmt: skip


def attempt_key(job_id: int, number: int) -> str:
    """The idempotency key of a job's ``number``-th attempt: the same on every controller."""
    return f"cb{job_id}-{number}"


#: Reminders ring the patient first and hold no operator: they are not in a queue's line.
IN_LINE = Callback.reason != CallbackReason.REMINDER.value


def claimable(now: datetime) -> ColumnElement[bool]:
    """Due pending jobs, and claims whose lease ran out."""
    return or_(
        and_(Callback.state == CallbackState.PENDING.value, Callback.due_at <= now),
        and_(Callback.state == CallbackState.CLAIMED.value, Callback.lease_until < now),
    )


class CallbackStore:
    """The store side of callback jobs for one controller (``owner``), see the module
    docstring.  ``lease``: how long a claim holds without being settled; it must exceed the
    longest attempt (ring time plus the engine's deadline)."""

    def __init__(self, sessions: Sessions, *, owner: str, lease: timedelta) -> None:
        self.sessions, self.owner, self.lease = sessions, owner, lease

    # ---- reading -----------------------------------------------------------------------

    async def job(self, job_id: int) -> JobRow | None:
        async with self.sessions() as session:
            row = await session.get(Callback, job_id)
            return _job(row) if row is not None else None

    async def jobs(self, *, states: Iterable[str] = (), limit: int = 100,
                   queues: Iterable[str] = ()) -> list[JobRow]:
        """The newest jobs first, in these states and of these queues (all when empty)."""
        wanted, of_queues = list(states), list(queues)
        query = select(Callback).order_by(Callback.created_at.desc(), Callback.id.desc())
        if wanted:
            query = query.where(Callback.state.in_(wanted))
        if of_queues:
            query = query.where(Callback.queue.in_(of_queues))
        async with self.sessions() as session:
            return [_job(row) for row in await session.scalars(query.limit(limit))]

    async def attempts(self, job_id: int) -> list[AttemptRow]:
        async with self.sessions() as session:
            rows = await session.scalars(select(CallbackAttempt).where(
                CallbackAttempt.callback_id == job_id).order_by(CallbackAttempt.number))
            return [_attempt(row) for row in rows]

    async def offer_booked(self, call_id: int, *, queue: str | None, phone: str | None,
                           since: datetime) -> bool:  # fmt: skip
        """Whether the in-queue offer booked a callback from call ``call_id``: a ``requested``
        job linked to it, or, when the call's row was not written yet as the offer booked
        (the job has no link), one of the same queue and number placed at or after
        ``since`` (the call's start)."""
        unlinked = and_(Callback.origin_call_id.is_(None), Callback.queue == queue,
                        Callback.phone == phone, Callback.arrived_at >= since)  # fmt: skip
        query = select(Callback.id).where(
            Callback.reason == CallbackReason.REQUESTED.value,
            or_(Callback.origin_call_id == call_id, unlinked) if phone else
            Callback.origin_call_id == call_id).limit(1)  # fmt: skip
        async with self.sessions() as session:
            return await session.scalar(query) is not None

    async def open_jobs_of(self, phone: str) -> list[JobRow]:
        async with self.sessions() as session:
            rows = await session.scalars(select(Callback).where(
                Callback.phone == phone, Callback.state.in_(OPEN)))
            return [_job(row) for row in rows]

    async def line(self, queue: str | None, now: datetime, *, limit: int,
                   with_unqueued: bool = False) -> list[JobRow]:  # fmt: skip
        """A queue's claimable jobs in line order (priority, then place), the first ``limit``;
        ``with_unqueued``: the jobs with no queue too, in the same line (the front desk's)."""
        where = Callback.queue.is_(None) if queue is None else Callback.queue == queue
        if with_unqueued:
            where = or_(where, Callback.queue.is_(None))
        async with self.sessions() as session:
            rows = await session.scalars(
                select(Callback).where(where, IN_LINE, claimable(now))
                .order_by(Callback.priority.desc(), Callback.arrived_at, Callback.id)
                .limit(limit))  # fmt: skip
            return [_job(row) for row in rows]

    async def kept_places(self, queue: str, channel_ids: Iterable[str]) -> dict[str, datetime]:
        """The first join instant in ``queue`` of each of these waiting channels that left
        it by a key before (a declined callback offer: the caller came back to the place
        they left, so their place in the line is their first join, not the engine's restarted
        wait; docs/callbacks.md, "Exact place").  Read from the account's queue attempts."""
        ids = list(channel_ids)
        if not ids:
            return {}
        async with self.sessions() as session:
            rows = await session.execute(
                select(QueueAttempt.channel_id, func.min(QueueAttempt.joined_at))
                .where(QueueAttempt.queue == queue, QueueAttempt.channel_id.in_(ids),
                       QueueAttempt.outcome == QueueOutcome.EXIT_KEY)
                .group_by(QueueAttempt.channel_id))  # fmt: skip
            return {channel: joined for channel, joined in rows if joined is not None}

    async def queues_due(self, now: datetime) -> list[str | None]:
        """The queues that have a claimable job now."""
        async with self.sessions() as session:
            return list(await session.scalars(
                select(Callback.queue).where(IN_LINE, claimable(now)).distinct()))

    async def in_flight(self, now: datetime) -> dict[str | None, int]:
        """Claimed jobs whose lease holds, by queue, over every controller: each holds (or is
        about to hold) one operator of its queue."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(Callback.queue, func.count()).where(
                    IN_LINE, Callback.state == CallbackState.CLAIMED.value,
                    Callback.lease_until >= now)
                .group_by(Callback.queue))  # fmt: skip
            return {queue: count for queue, count in rows.all()}

    async def claims_awaiting_operator(self, now: datetime) -> dict[str | None, int]:
        """Of :meth:`in_flight`, the claims whose operator is not reserved by a stored attempt
        yet (claimed a moment ago, here or on another controller), by queue: each will hold
        one operator of its queue that :meth:`reserved_agents` does not show yet."""
        reserving = exists().where(CallbackAttempt.callback_id == Callback.id,
                                   CallbackAttempt.outcome.is_(None),
                                   CallbackAttempt.agent.is_not(None))  # fmt: skip
        async with self.sessions() as session:
            rows = await session.execute(
                select(Callback.queue, func.count()).where(
                    IN_LINE, Callback.state == CallbackState.CLAIMED.value,
                    Callback.lease_until >= now, ~reserving)
                .group_by(Callback.queue))  # fmt: skip
            return {queue: count for queue, count in rows.all()}

    async def recent_serves(self, queue: str, *, since: datetime, limit: int,
                            with_unqueued: bool = False) -> list[str]:  # fmt: skip
        """The queue's last ``limit`` serves since ``since``, oldest first: ``"live"`` for a
        caller the queue connected to an operator, ``"callback"`` for a callback that reached
        its patient (started then: the operator was theirs from the reservation on);
        ``with_unqueued``: the callbacks of jobs with no queue too (the front desk's).  The
        live-caller share counts them (docs/callbacks.md, "Exact place")."""
        of_queue = Callback.queue == queue
        if with_unqueued:
            of_queue = or_(of_queue, Callback.queue.is_(None))
        live = (select(QueueAttempt.connected_at)
                .where(QueueAttempt.queue == queue, QueueAttempt.joined_at >= since,
                       QueueAttempt.connected_at.is_not(None))
                .order_by(QueueAttempt.connected_at.desc()).limit(limit))  # fmt: skip
        callbacks = (select(CallbackAttempt.started_at)
                     .join(Callback, Callback.id == CallbackAttempt.callback_id)
                     .where(of_queue, CallbackAttempt.started_at >= since,
                            CallbackAttempt.outcome == "answered")
                     .order_by(CallbackAttempt.started_at.desc()).limit(limit))  # fmt: skip
        async with self.sessions() as session:
            served = [(at, "live") for at in await session.scalars(live) if at is not None]
            served += [(at, "callback") for at in await session.scalars(callbacks)]
        return [kind for _, kind in sorted(served)[-limit:]]

    async def open_attempt(self, job_id: int) -> AttemptRow | None:
        """The job's attempt with no outcome yet (sent, or about to be, by someone)."""
        async with self.sessions() as session:
            row = await session.scalar(select(CallbackAttempt).where(
                CallbackAttempt.callback_id == job_id, CallbackAttempt.outcome.is_(None)))
            return _attempt(row) if row is not None else None

    async def last_answered_at(self, phone: str) -> datetime | None:
        """When an inbound call from ``phone`` last reached an operator (the account)."""
        async with self.sessions() as session:
            return await session.scalar(
                select(func.max(Call.started_at))
                .join(QueueAttempt, QueueAttempt.call_id == Call.id)
                .where(Call.caller == phone, Call.direction == Direction.INBOUND.value,
                       QueueAttempt.connected_at.is_not(None)))  # fmt: skip

    async def missed_calls(self, since: datetime, *, limit: int) -> list[MissedCallRow]:
        """Missed inbound calls that started at or after ``since`` and were not taken in yet,
        oldest first."""
        last_queue = (select(QueueAttempt.queue).where(QueueAttempt.call_id == Call.id)
                      .order_by(QueueAttempt.joined_at.desc()).limit(1).scalar_subquery())
        last_priority = (select(QueueAttempt.priority).where(QueueAttempt.call_id == Call.id)
                         .order_by(QueueAttempt.joined_at.desc()).limit(1).scalar_subquery())
        taken = select(CallbackIntake.call_id).where(CallbackIntake.call_id == Call.id).exists()
        query = (select(Call.id, Call.caller, Call.started_at, Call.miss_cause, Call.route,
                        last_queue, last_priority, Call.language, Call.ended_at)
                 .where(Call.direction == Direction.INBOUND.value, Call.missed.is_(True),
                        Call.started_at >= since, ~taken)
                 .order_by(Call.started_at, Call.id).limit(limit))  # fmt: skip
        async with self.sessions() as session:
            rows = (await session.execute(query)).all()
            return [MissedCallRow(call_id=i, caller=caller, started_at=at,
                                  cause=str(cause) if cause is not None else None, route=route,
                                  queue=queue, priority=priority or 0, language=language,
                                  ended_at=ended)
                    for i, caller, at, cause, route, queue, priority, language, ended in rows]

    async def call_record(self, call_key: str) -> CallRecord | None:
        """What the account recorded (from the engine's facts, live or read back from its
        durable record) about the call ``call_key``; None when it holds nothing."""
        async with self.sessions() as session:
            call = await session.scalar(select(Call).where(Call.call_key == call_key))
            values = list(await session.scalars(select(JournalEvent.payload).where(
                JournalEvent.call_key == call_key, JournalEvent.kind == CALL_DATA_KIND)))
            outcomes = {str(p.get("value")) for p in values if p.get("name") == "outcome"}
            if call is None and not outcomes:
                return None
            connected = call is not None and await session.scalar(
                select(QueueAttempt.id).where(QueueAttempt.call_id == call.id,
                                              QueueAttempt.connected_at.is_not(None))
                .limit(1)) is not None  # fmt: skip
            return CallRecord(connected=connected, outcomes=frozenset(outcomes))

    # ---- intake ------------------------------------------------------------------------

    async def take_in(self, call_id: int, *, action: str, now: datetime,
                      reason: str | None = None, create: Callback | None = None,
                      merge_into: int | None = None, arrived_at: datetime | None = None,
                      ) -> int | None:  # fmt: skip
        """Record the decision on one missed call, with its effect, in one transaction: a new
        job (``create``), an earlier place for job ``merge_into`` (``arrived_at``), or none.
        Returns the job's id; None when the call was taken in already (by another controller)
        or was skipped."""
        try:
            async with self.sessions.begin() as session, StoreWriter(session) as writer:
                job_id = merge_into
                if create is not None:
                    session.add(create)
                    await session.flush()
                    job_id = create.id
                    writer.callbacks_changed([create.origin_call_id] if create.origin_call_id
                                             else [])  # fmt: skip
                elif merge_into is not None and arrived_at is not None:
                    await session.execute(update(Callback).where(
                        Callback.id == merge_into, Callback.state.in_(OPEN),
                        Callback.arrived_at > arrived_at).values(arrived_at=arrived_at))
                session.add(CallbackIntake(call_id=call_id, callback_id=job_id, action=action,
                                           reason=reason, decided_at=now))  # fmt: skip
        except IntegrityError:
            return None  # decided already: the primary key keeps one decision per call
        return job_id

    async def add_job(self, *, phone: str, queue: str | None, reason: CallbackReason,
                      arrived_at: datetime, due_at: datetime, now: datetime, priority: int = 0,
                      origin_call_id: int | None = None, language: str | None = None,
                      ) -> int:  # fmt: skip
        """A new pending job (staff, the IVR offer, tests)."""
        job = Callback(phone=phone, queue=queue, reason=reason, arrived_at=arrived_at,
                       due_at=due_at, created_at=now, priority=priority,
                       origin_call_id=origin_call_id, language=language,
                       state=CallbackState.PENDING, attempts=0)  # fmt: skip
        async with self.sessions.begin() as session, StoreWriter(session) as writer:
            session.add(job)
            await session.flush()
            writer.callbacks_changed([origin_call_id] if origin_call_id else [])
        return job.id

    async def settle_answered(self, now: datetime) -> list[int]:
        """Cancel (``called_in``) every open non-reminder job whose number reached an operator
        in a queue at or after the job's place: the patient got through.

        Either an inbound call from the number, or a call clinicall placed to it (a reminder
        whose patient pressed 0 and was answered in the specialty's queue, docs/reminders.md):
        since migration 0017 such a call is outbound, the patient's number its ``dialled``."""
        patient = or_(and_(Call.direction == Direction.INBOUND.value,
                           Call.caller == Callback.phone),
                      and_(Call.purpose.is_not(None), Call.dialled == Callback.phone))
        answered = (select(Call.id).join(QueueAttempt, QueueAttempt.call_id == Call.id)
                    .where(patient,
                           Call.started_at >= Callback.arrived_at,
                           QueueAttempt.connected_at.is_not(None)).exists())  # fmt: skip
        # a claimed job is being dialled: its attempt settles it (the engine is the judge)
        where = (Callback.state == CallbackState.PENDING.value,
                 Callback.reason != CallbackReason.REMINDER.value, answered)
        async with self.sessions.begin() as session, StoreWriter(session) as writer:
            rows = (await session.execute(select(Callback.id, Callback.origin_call_id)
                                          .where(*where))).all()  # fmt: skip
            if not rows:
                return []
            ids = [job_id for job_id, _ in rows]
            await session.execute(update(Callback).where(
                Callback.id.in_(ids), Callback.state == CallbackState.PENDING.value).values(
                state=CallbackState.CANCELLED.value, result="called_in", completed_at=now))
            writer.callbacks_changed(origin for _, origin in rows if origin is not None)
        return ids

    # ---- claiming and dialling ---------------------------------------------------------

    async def claim(self, job_ids: Sequence[int], now: datetime) -> list[JobRow]:
        """Claim these jobs for this controller, those still claimable and not locked by
        another claim in progress; the claimed ones, in line order."""
        if not job_ids:
            return []
        chosen = (select(Callback.id).where(Callback.id.in_(list(job_ids)), claimable(now))
                  .with_for_update(skip_locked=True))  # SQLite: no lock clause (one writer)
        return await self._claim(chosen, now)

    async def claim_due(self, now: datetime, *, limit: int) -> list[JobRow]:
        """Claim up to ``limit`` claimable jobs of any queue, in line order (no operator check:
        reminders and benchmarks)."""
        chosen = (select(Callback.id).where(claimable(now))
                  .order_by(Callback.priority.desc(), Callback.arrived_at, Callback.id)
                  .limit(limit).with_for_update(skip_locked=True))  # fmt: skip
        return await self._claim(chosen, now)

    async def claim_reminders(self, now: datetime, *, limit: int) -> list[JobRow]:
        """Claim up to ``limit`` claimable reminder jobs, the earliest due first (they hold
        no operator: docs/reminders.md)."""
        chosen = (select(Callback.id).where(~IN_LINE, claimable(now))
                  .order_by(Callback.due_at, Callback.id)
                  .limit(limit).with_for_update(skip_locked=True))  # fmt: skip
        return await self._claim(chosen, now)

    async def _claim(self, chosen: object, now: datetime) -> list[JobRow]:
        statement = (update(Callback)
                     .where(Callback.id.in_(chosen), claimable(now))  # type: ignore[arg-type]
                     .values(state=CallbackState.CLAIMED.value, claimed_by=self.owner,
                             claimed_at=now, lease_until=now + self.lease)
                     .returning(Callback)
                     .execution_options(synchronize_session=False))  # fmt: skip
        async with self.sessions.begin() as session, StoreWriter(session):
            rows = list((await session.scalars(statement)).all())
        rows.sort(key=lambda r: (-r.priority, r.arrived_at, r.id))
        return [_job(row) for row in rows]

    async def begin_attempt(self, job: JobRow, *, call_id_for: Callable[[str], str],
                            agent: str | None, now: datetime) -> AttemptRow | None:  # fmt: skip
        """Commit the job's next attempt (its key and call id) before anything is dialled.

        None when the claim was lost meanwhile (the lease ran out and another controller took
        the job) or the attempt exists already: then nothing may be dialled.  Raises
        :class:`OperatorHeld` when ``agent`` is reserved by another attempt in progress (on
        any controller): this one may not dial them."""
        async with self.sessions() as session:
            last = await session.scalar(select(func.max(CallbackAttempt.number)).where(
                CallbackAttempt.callback_id == job.id))
        number = (last or 0) + 1
        key = attempt_key(job.id, number)
        row = CallbackAttempt(callback_id=job.id, number=number, key=key,
                              call_id=call_id_for(key), owner=self.owner, agent=agent,
                              started_at=now)  # fmt: skip
        try:
            async with self.sessions.begin() as session, StoreWriter(session):
                held = await session.execute(update(Callback).where(
                    Callback.id == job.id, Callback.state == CallbackState.CLAIMED.value,
                    Callback.claimed_by == self.owner).values(lease_until=now + self.lease)
                    .execution_options(synchronize_session=False))
                if held.rowcount != 1:  # type: ignore[attr-defined]
                    return None
                session.add(row)
        except IntegrityError:
            async with self.sessions() as session:
                stored = await session.scalar(select(CallbackAttempt.id).where(
                    CallbackAttempt.key == key))
            if stored is None and agent is not None:  # not the key: the operator's index
                raise OperatorHeld(agent) from None
            return None
        return _attempt(row)

    async def settle(self, job: JobRow, attempt: AttemptRow | None, *, outcome: str,
                     settlement: Settlement, now: datetime) -> bool:  # fmt: skip
        """Store an attempt's outcome (always: it happened) and the job's next values (through
        the writer, so a done job returns its missed call).  False when the job is no longer
        this controller's claim (staff cancelled it, or the lease ran out and another
        controller holds it): the job is then left as it is."""
        done = settlement.state != CallbackState.PENDING.value
        async with self.sessions.begin() as session, StoreWriter(session) as writer:
            if attempt is not None:
                await session.execute(update(CallbackAttempt).where(
                    CallbackAttempt.id == attempt.id, CallbackAttempt.outcome.is_(None))
                    .values(outcome=outcome, ended_at=now))
            values: dict[str, object] = {
                "state": settlement.state, "attempts": settlement.attempts,
                "result": settlement.result, "claimed_by": None, "lease_until": None,
                "completed_at": now if done else None,
            }  # fmt: skip
            if settlement.due_at is not None:
                values["due_at"] = settlement.due_at
            changed = await session.execute(update(Callback).where(
                Callback.id == job.id, Callback.state == CallbackState.CLAIMED.value,
                Callback.claimed_by == self.owner).values(**values)
                .execution_options(synchronize_session=False))
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                return False
            if job.origin_call_id is not None:
                writer.callbacks_changed([job.origin_call_id])
        return True

    async def release(self, job_id: int, *, due_at: datetime | None = None) -> None:
        """Give back a claim without an attempt (no operator after all, outside the window):
        the job is pending again, due at ``due_at`` (unchanged when None)."""
        values: dict[str, object] = {"state": CallbackState.PENDING.value, "claimed_by": None,
                                     "lease_until": None}  # fmt: skip
        if due_at is not None:
            values["due_at"] = due_at
        async with self.sessions.begin() as session, StoreWriter(session):
            await session.execute(update(Callback).where(
                Callback.id == job_id, Callback.state == CallbackState.CLAIMED.value,
                Callback.claimed_by == self.owner).values(**values)
                .execution_options(synchronize_session=False))

    async def postpone(self, job_id: int, due_at: datetime) -> None:
        """A pending job that may not be dialled now is due at ``due_at`` (the next window)."""
        async with self.sessions.begin() as session, StoreWriter(session):
            await session.execute(update(Callback).where(
                Callback.id == job_id, Callback.state == CallbackState.PENDING.value)
                .values(due_at=due_at).execution_options(synchronize_session=False))

    async def open_attempts(self, job_ids: Iterable[int]) -> dict[int, AttemptRow]:
        """The attempts without an outcome of these jobs, by job."""
        ids = sorted(set(job_ids))
        if not ids:
            return {}
        async with self.sessions() as session:
            rows = await session.scalars(select(CallbackAttempt).where(
                CallbackAttempt.callback_id.in_(ids), CallbackAttempt.outcome.is_(None)))
            return {row.callback_id: _attempt(row) for row in rows}

    async def reserved_agents(self) -> set[str]:
        """The operators held by attempts in progress (no outcome yet), on every controller."""
        async with self.sessions() as session:
            rows = await session.scalars(select(CallbackAttempt.agent).where(
                CallbackAttempt.outcome.is_(None), CallbackAttempt.agent.is_not(None)))
            return {agent for agent in rows if agent}

    async def cancel(self, job_id: int, *, now: datetime, result: str = "cancelled") -> bool:
        """Cancel an open job (staff): a job being dialled is cancelled too, and its attempt
        settles as it ends (the scheduler's settle then finds it no longer claimed)."""
        async with self.sessions.begin() as session, StoreWriter(session) as writer:
            origin = await session.scalar(select(Callback.origin_call_id).where(
                Callback.id == job_id))
            changed = await session.execute(update(Callback).where(
                Callback.id == job_id, Callback.state.in_(OPEN)).values(
                state=CallbackState.CANCELLED.value, result=result, completed_at=now,
                claimed_by=None, lease_until=None)
                .execution_options(synchronize_session=False))
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                return False
            if origin is not None:
                writer.callbacks_changed([origin])
        return True
