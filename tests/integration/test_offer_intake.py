"""Calls that left the queue into the callback offer, in the missed-call intake (SQLite and
PostgreSQL; docs/callbacks.md, "Missed calls"): decided only once the offer surely ended; one
the offer booked makes no second job; one whose patient hung up during the offer unbooked is
returned as an abandon."""

from __future__ import annotations

from datetime import datetime, timedelta

from callback_fakes import QUEUE, TUESDAY_10_KYIV, example_config
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.controller.callbacks.intake import OFFER_SETTLED, take_in_missed
from clinicall.db.callbacks import CallbackStore
from clinicall.db.models import (
    Call,
    CallbackReason,
    Direction,
    IvrOutcome,
    MissCause,
    QueueAttempt,
    QueueOutcome,
)
from clinicall.db.writer import StoreWriter
from clinicall.routing.hours import OpeningHours

Sessions = async_sessionmaker[AsyncSession]
T0 = TUESDAY_10_KYIV  # the clinic is open
HUNG, BOOKED = "+380501230040", "+380501230041"


async def _offered_call(sessions: Sessions, key: str, caller: str) -> int:
    """A call that waited 40 s, left the queue by the offer key and hung up at T0 + 60 s."""
    async with sessions.begin() as session, StoreWriter(session) as writer:
        call = Call(call_key=key, direction=Direction.INBOUND, caller=caller, started_at=T0,
                    ended_at=T0 + timedelta(seconds=60), ivr_outcome=IvrOutcome.QUEUE,
                    route=QUEUE, missed=True, miss_cause=MissCause.EXIT_KEY)  # fmt: skip
        call.queue_attempts.append(QueueAttempt(
            channel_id=f"{key}-ch", queue=QUEUE, joined_at=T0 + timedelta(seconds=10),
            left_at=T0 + timedelta(seconds=50), outcome=QueueOutcome.EXIT_KEY,
            exit_key="1"))  # fmt: skip
        session.add(call)
        writer.call_changed(Direction.INBOUND, caller, None, T0, [T0 + timedelta(seconds=10)])
        await session.flush()
        return call.id


async def test_an_offer_left_unbooked_is_returned_as_an_abandon_once_it_surely_ended(
    db_sessions: Sessions,
) -> None:
    config = example_config()
    store = CallbackStore(db_sessions, owner="c1", lease=timedelta(minutes=3))
    hours = OpeningHours.from_config(config.hours, config.clinic.zone)
    hung = await _offered_call(db_sessions, "hung", HUNG)
    booked = await _offered_call(db_sessions, "booked", BOOKED)
    joined = T0 + timedelta(seconds=10)
    offer_job = await store.add_job(phone=BOOKED, queue=QUEUE, reason=CallbackReason.REQUESTED,
                                    arrived_at=joined, due_at=T0, now=T0,
                                    origin_call_id=booked)  # fmt: skip

    async def take_in(at: datetime) -> tuple[int, int, int]:
        counts = await take_in_missed(store, config, now=at, since=timedelta(days=1),
                                      country_code="380", hours=hours)  # fmt: skip
        return counts.created, counts.merged, counts.skipped

    ended = T0 + timedelta(seconds=60)
    assert await take_in(ended + OFFER_SETTLED - timedelta(seconds=1)) == (0, 0, 0)
    assert len(await store.missed_calls(T0, limit=10)) == 2  # both wait for a decision
    assert await take_in(ended + OFFER_SETTLED) == (1, 0, 1)
    jobs = {j.id: j for j in await store.jobs()}
    [new] = [j for i, j in jobs.items() if i != offer_job]
    assert (new.phone, new.queue, new.reason, new.arrived_at, new.origin_call_id) == (
        HUNG, QUEUE, "missed", T0, hung)
    assert jobs[offer_job].reason == "requested"
    assert await store.missed_calls(T0, limit=10) == []
