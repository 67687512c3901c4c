"""Callback jobs in the store (SQLite and PostgreSQL): claims under a lease, the attempt key
written before the dial and never twice, settling through the writer, the intake's one
decision per missed call."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.callbacks import CallbackStore, Settlement, attempt_key
from clinicall.db.models import (
    Call,
    Callback,
    CallbackReason,
    CallbackState,
    Direction,
    IvrOutcome,
    MissCause,
)
from clinicall.db.writer import StoreWriter

Sessions = async_sessionmaker[AsyncSession]
T0 = datetime(2026, 11, 10, 8, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)
ANNA, BORYS = "+380501111111", "+380502222222"


def store(sessions: Sessions, owner: str = "c1") -> CallbackStore:
    return CallbackStore(sessions, owner=owner, lease=LEASE)


async def add(cbs: CallbackStore, phone: str, arrived: datetime, *, queue: str = "therapy",
              priority: int = 0, origin: int | None = None) -> int:  # fmt: skip
    return await cbs.add_job(phone=phone, queue=queue, reason=CallbackReason.MISSED,
                             arrived_at=arrived, due_at=arrived, now=arrived,
                             priority=priority, origin_call_id=origin)  # fmt: skip


async def test_claims_take_due_jobs_in_line_order_once(db_sessions: Sessions) -> None:
    one, two = store(db_sessions, "c1"), store(db_sessions, "c2")
    late = await add(one, ANNA, T0 + timedelta(minutes=3))
    early = await add(one, BORYS, T0 + timedelta(minutes=1))
    urgent = await add(one, "+380503333333", T0 + timedelta(minutes=5), priority=5)
    not_due = await add(one, "+380504444444", T0 + timedelta(hours=1))
    now = T0 + timedelta(minutes=10)
    line = await one.line("therapy", now, limit=10)
    assert [j.id for j in line] == [urgent, early, late]
    got_one, got_two = await asyncio.gather(one.claim([urgent, early, late, not_due], now),
                                            two.claim([urgent, early, late, not_due], now))
    ids_one, ids_two = [j.id for j in got_one], [j.id for j in got_two]
    assert sorted(ids_one + ids_two) == sorted([urgent, early, late])  # each once, not_due none
    assert await one.in_flight(now) == {"therapy": 3}
    assert await one.claim([urgent], now) == []  # claimed and the lease holds


async def test_an_expired_lease_is_claimed_again(db_sessions: Sessions) -> None:
    dead, alive = store(db_sessions, "dead"), store(db_sessions, "alive")
    job = await add(dead, ANNA, T0)
    assert [j.id for j in await dead.claim([job], T0)] == [job]
    assert await alive.claim([job], T0 + LEASE) == []  # at the edge the lease still holds
    taken = await alive.claim([job], T0 + LEASE + timedelta(seconds=1))
    assert [(j.id, j.claimed_by) for j in taken] == [(job, "alive")]
    assert await dead.in_flight(T0 + LEASE + timedelta(seconds=1)) == {"therapy": 1}


async def test_the_attempt_key_is_written_once_and_blocks_a_second_sender(
    db_sessions: Sessions,
) -> None:
    dead, alive = store(db_sessions, "dead"), store(db_sessions, "alive")
    job_id = await add(dead, ANNA, T0)
    [job] = await dead.claim([job_id], T0)
    first = await dead.begin_attempt(job, call_id_for=lambda k: f"id-{k}", agent="op1", now=T0)
    assert first is not None
    assert first.key == attempt_key(job_id, 1) == f"cb{job_id}-1"
    assert first.call_id == f"id-cb{job_id}-1"
    # the lease runs out; another controller takes the job and finds the open attempt
    later = T0 + LEASE + timedelta(seconds=1)
    [again] = await alive.claim([job_id], later)
    assert await alive.open_attempt(job_id) == first
    # the dead controller cannot start another attempt on a job it no longer holds
    assert await dead.begin_attempt(job, call_id_for=str, agent=None, now=later) is None
    settled = Settlement(CallbackState.PENDING.value, 1, later + timedelta(minutes=5),
                         "no_answer")  # fmt: skip
    assert not await dead.settle(job, first, outcome="no_answer", settlement=settled, now=later)
    assert await alive.settle(again, first, outcome="no_answer", settlement=settled, now=later)
    [row] = await alive.attempts(job_id)
    assert (row.outcome, row.owner) == ("no_answer", "dead")
    after = await alive.job(job_id)
    assert after is not None
    assert (after.state, after.attempts, after.claimed_by) == ("pending", 1, None)
    assert after.due_at == later + timedelta(minutes=5)


async def test_a_done_callback_returns_its_missed_call(db_sessions: Sessions) -> None:
    async with db_sessions.begin() as session, StoreWriter(session) as writer:
        call = Call(call_key="m1", direction=Direction.INBOUND, caller=ANNA, started_at=T0,
                    ended_at=T0 + timedelta(seconds=30), ivr_outcome=IvrOutcome.QUEUE,
                    missed=True, miss_cause=MissCause.ABANDONED)  # fmt: skip
        session.add(call)
        writer.call_changed(Direction.INBOUND, ANNA, None, T0)
    cbs = store(db_sessions)
    job_id = await add(cbs, ANNA, T0, origin=call.id)
    [job] = await cbs.claim([job_id], T0 + timedelta(minutes=1))
    attempt = await cbs.begin_attempt(job, call_id_for=str, agent="op1",
                                      now=T0 + timedelta(minutes=1))  # fmt: skip
    done_at = T0 + timedelta(minutes=4)
    assert await cbs.settle(job, attempt, outcome="answered", now=done_at,
                            settlement=Settlement("done", 1, None, "answered"))  # fmt: skip
    async with db_sessions() as session:
        delay = await session.scalar(select(Call.return_delay_ms).where(Call.id == call.id))
        state = await session.scalar(select(Callback.state).where(Callback.id == job_id))
    assert state == CallbackState.DONE
    assert delay == (done_at - (T0 + timedelta(seconds=30))) // timedelta(milliseconds=1)


async def test_each_missed_call_is_decided_once(db_sessions: Sessions) -> None:
    async with db_sessions.begin() as session, StoreWriter(session) as writer:
        for key, minute in (("m1", 0), ("m2", 5)):
            at = T0 + timedelta(minutes=minute)
            session.add(Call(call_key=key, direction=Direction.INBOUND, caller=ANNA,
                             started_at=at, missed=True, miss_cause=MissCause.ABANDONED))
            writer.call_changed(Direction.INBOUND, ANNA, None, at)
    cbs = store(db_sessions)
    first, second = await cbs.missed_calls(T0, limit=10)
    job = Callback(phone=ANNA, queue=None, reason=CallbackReason.MISSED, arrived_at=T0,
                   due_at=T0, created_at=T0, origin_call_id=first.call_id)  # fmt: skip
    job_id = await cbs.take_in(first.call_id, action="create", now=T0, create=job)
    assert job_id is not None
    again = Callback(phone=ANNA, queue=None, reason=CallbackReason.MISSED, arrived_at=T0,
                     due_at=T0, created_at=T0, origin_call_id=first.call_id)  # fmt: skip
    assert await cbs.take_in(first.call_id, action="create", now=T0, create=again) is None
    assert await cbs.take_in(second.call_id, action="merge", now=T0, merge_into=job_id,
                             arrived_at=second.started_at) == job_id  # fmt: skip
    assert await cbs.missed_calls(T0, limit=10) == []
    assert len(await cbs.jobs()) == 1


async def test_a_second_open_job_for_a_number_and_queue_is_refused(db_sessions: Sessions) -> None:
    """Two controllers that both decided "create" for two missed calls of one number: the
    second create is refused and leaves its call undecided (the next round merges it)."""
    async with db_sessions.begin() as session, StoreWriter(session) as writer:
        for key in ("m1", "m2"):
            session.add(Call(call_key=key, direction=Direction.INBOUND, caller=ANNA,
                             started_at=T0, missed=True, miss_cause=MissCause.ABANDONED))
        writer.call_changed(Direction.INBOUND, ANNA, None, T0)
    cbs = store(db_sessions)
    first, second = await cbs.missed_calls(T0, limit=10)

    def job(origin: int) -> Callback:
        return Callback(phone=ANNA, queue="therapy", reason=CallbackReason.MISSED, due_at=T0,
                        arrived_at=T0, created_at=T0, origin_call_id=origin)  # fmt: skip

    assert await cbs.take_in(first.call_id, action="create", now=T0, create=job(first.call_id))
    assert await cbs.take_in(second.call_id, action="create", now=T0,
                             create=job(second.call_id)) is None  # fmt: skip
    assert [c.call_id for c in await cbs.missed_calls(T0, limit=10)] == [second.call_id]
    assert len(await cbs.jobs()) == 1
    reminder = await cbs.add_job(phone=ANNA, queue="therapy", reason=CallbackReason.REMINDER,
                                 arrived_at=T0, due_at=T0, now=T0)  # reminders stand apart
    assert len(await cbs.jobs()) == 2
    assert reminder


async def test_the_offer_booked_from_a_call_linked_or_by_number_and_queue(
    db_sessions: Sessions,
) -> None:
    """A call that left the queue for the offer (docs/callbacks.md, "Missed calls"): the job
    the offer booked is found by its link to the call, or, unlinked (the call's row came
    later), by its queue and number placed within the call; nothing else counts."""
    carl, dana = "+380503333333", "+380504444444"
    async with db_sessions.begin() as session, StoreWriter(session) as writer:
        calls = [Call(call_key=key, direction=Direction.INBOUND, caller=phone, started_at=T0,
                      missed=True, miss_cause=MissCause.EXIT_KEY)
                 for key, phone in (("linked", ANNA), ("unlinked", BORYS), ("none", carl),
                                    ("missed", dana))]  # fmt: skip
        session.add_all(calls)
        for call in calls:
            writer.call_changed(Direction.INBOUND, call.caller, None, T0)
    linked, unlinked, none, missed = (c.id for c in calls)
    cbs = store(db_sessions)
    joined = T0 + timedelta(seconds=40)
    await cbs.add_job(phone="+380509999999", queue="therapy", reason=CallbackReason.REQUESTED,
                      arrived_at=joined, due_at=joined, now=joined, origin_call_id=linked)
    await cbs.add_job(phone=BORYS, queue="therapy", reason=CallbackReason.REQUESTED,
                      arrived_at=joined, due_at=joined, now=joined)
    await cbs.add_job(phone=carl, queue="lab", reason=CallbackReason.REQUESTED,
                      arrived_at=joined, due_at=joined, now=joined)  # another queue
    await add(cbs, dana, joined, origin=missed)  # a missed-call job, not the offer's

    async def booked(call_id: int, phone: str) -> bool:
        return await cbs.offer_booked(call_id, queue="therapy", phone=phone, since=T0)

    assert await booked(linked, ANNA)  # booked on another number, linked to the call
    assert await booked(unlinked, BORYS)
    assert not await booked(none, carl)
    assert not await booked(missed, dana)
    assert not await cbs.offer_booked(unlinked, queue="therapy", phone=BORYS,
                                      since=joined + timedelta(seconds=1))  # placed before
