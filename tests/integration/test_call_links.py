"""The links between calls of one number, kept by the tracker's writes, and the hourly sums
that the writes mark changed; on SQLite and PostgreSQL.

Calls are written as the tracker writes them (``write_call``, one transaction each, in
several orders, some twice as a call progresses, one superseded); the links they leave must
equal a full rebuild's and the values worked out by hand, and a report after a change must
equal one read from the rows alone.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.controller.tracking.attempts import AttemptRecord
from clinicall.controller.tracking.project import CallRecord
from clinicall.controller.tracking.store import write_call
from clinicall.db import call_links, create_engine, session_factory, upgrade
from clinicall.db.models import (
    Call,
    Callback,
    CallbackReason,
    CallbackState,
    Direction,
    IvrOutcome,
    MissCause,
    QueueOutcome,
    kpi_changed_hours,
    kpi_hours_built,
)
from clinicall.db.writer import StoreWriter
from clinicall.reports import compute, rollup
from clinicall.reports.keeper import HourlySumsKeeper
from clinicall.reports.settings import KpiSettings

Sessions = async_sessionmaker[AsyncSession]
SETTINGS = KpiSettings(timezone="Europe/Kyiv")
DAY = datetime(2026, 11, 10, tzinfo=UTC)
ANNA, BOHDAN, CLINIC = "+380501111111", "+380502222222", "+380441234567"


def at(hours: float) -> datetime:
    return DAY + timedelta(hours=hours)


def inbound(call_key: str, caller: str | None, start: datetime, *, answered: bool,
            seconds: float = 60) -> CallRecord:
    attempt = AttemptRecord(
        channel_id=call_key, queue="therapy", joined_at=start + timedelta(seconds=5),
        connected_at=start + timedelta(seconds=8) if answered else None,
        left_at=start + timedelta(seconds=seconds),
        outcome=QueueOutcome.ANSWERED if answered else QueueOutcome.ABANDONED,
        wait_s=3.0 if answered else seconds - 5, talk_s=seconds - 8 if answered else None)
    return CallRecord(
        call_key=call_key, direction=Direction.INBOUND, caller=caller, dialled=CLINIC,
        started_at=start, answered_at=attempt.connected_at,
        ended_at=start + timedelta(seconds=seconds), language="uk", ivr_path="1",
        route="therapy", ivr_outcome=IvrOutcome.QUEUE, hangup_side=None,
        missed=not answered, miss_cause=None if answered else MissCause.ABANDONED,
        attempts=(attempt,))


def outbound(call_key: str, number: str, start: datetime) -> CallRecord:
    return CallRecord(
        call_key=call_key, direction=Direction.OUTBOUND, caller=CLINIC, dialled=number,
        started_at=start, answered_at=start + timedelta(seconds=6),
        ended_at=start + timedelta(seconds=90), language=None, ivr_path=None, route=None,
        ivr_outcome=None, hangup_side=None, missed=False, miss_cause=None, attempts=())


# The calls and the links worked out by hand: call key → (repeat_gap_ms, return_delay_ms)
CALLS = [
    inbound("a1", ANNA, at(8), answered=False, seconds=10),  # missed, ends 08:00:10
    inbound("a2", ANNA, at(8 + 5 / 60), answered=True),  # its return, 4 min 50 s later
    inbound("a3", ANNA, at(8 + 5 / 60), answered=False),  # same instant as a2: not "later"
    inbound("a4", ANNA, at(24 * 5), answered=True),  # 5 days later
    inbound("b1", BOHDAN, at(9), answered=False, seconds=20),  # missed, ends 09:00:20
    outbound("o1", BOHDAN, at(9.5)),  # returned by the clinic's call, 29 min 40 s later
    inbound("b2", BOHDAN, at(24 * 9), answered=True),  # 9 days later: no link
    inbound("x1", None, at(10), answered=False),  # withheld number: no links
]
FIVE_DAYS_FROM_0805_MS = (120 * 60 - (8 * 60 + 5)) * 60_000  # 111 h 55 min
EXPECTED = {
    "a1": (300_000, 290_000),  # next call 08:05:00; returned 08:05:00 − end 08:00:10
    "a2": (FIVE_DAYS_FROM_0805_MS, None),  # next call a4 (a3 is at the same instant)
    "a3": (FIVE_DAYS_FROM_0805_MS, FIVE_DAYS_FROM_0805_MS - 60_000),  # returned by a4
    "a4": (None, None),
    "b1": (None, 1_780_000),  # b2 is past the 8-day search; o1 at 09:30 − end 09:00:20
    "b2": (None, None),
    "x1": (None, None),
}


async def links(sessions: Sessions) -> dict[str, tuple[int | None, int | None]]:
    async with sessions() as session:
        rows = await session.execute(select(Call.call_key, Call.repeat_gap_ms,
                                            Call.return_delay_ms))
        return {key: (gap, delay) for key, gap, delay in rows if key in EXPECTED}


async def write(sessions: Sessions, record: CallRecord, superseded: tuple[str, ...] = ()) -> None:
    async with sessions() as session, session.begin(), StoreWriter(session) as writer:
        await write_call(writer, record, superseded=superseded)


def writes(seed: int) -> list[tuple[CallRecord, tuple[str, ...]]]:
    """The calls in a shuffled order, a2 first seen still ringing, b1 first projected under
    its channel's id and then merged."""
    order = list(CALLS)
    random.Random(seed).shuffle(order)
    out: list[tuple[CallRecord, tuple[str, ...]]] = []
    for record in order:
        if record.call_key == "a2":
            out.append((replace(record, missed=False, answered_at=None, attempts=(
                replace(record.attempts[0], connected_at=None, outcome=None, wait_s=None,
                        talk_s=None),)), ()))
        if record.call_key == "b1":
            out.append((replace(record, call_key="b1-chan"), ()))
            out.append((record, ("b1-chan",)))
            continue
        out.append((record, ()))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_links_kept_by_the_tracker_equal_a_rebuild(db_sessions: Sessions, seed: int
                                                          ) -> None:
    for record, superseded in writes(seed):
        await write(db_sessions, record, superseded)
    kept = await links(db_sessions)
    assert kept == EXPECTED
    async with db_sessions() as session, session.begin(), StoreWriter(session):
        await call_links.rebuild(session)
    assert await links(db_sessions) == kept


async def test_links_kept_by_a_batch_of_writes(db_sessions: Sessions) -> None:
    """As the tracker's flush writes: many calls in one transaction, relinked once."""
    async with db_sessions() as session, session.begin(), StoreWriter(session) as writer:
        for record, superseded in writes(4):
            await write_call(writer, record, superseded=superseded)
    assert await links(db_sessions) == EXPECTED


async def test_a_done_callback_returns_the_missed_call(db_sessions: Sessions) -> None:
    missed = inbound("m1", ANNA, at(8), answered=False, seconds=10)
    await write(db_sessions, missed)
    async with db_sessions() as session, session.begin(), StoreWriter(session) as writer:
        call_id = await session.scalar(select(Call.id).where(Call.call_key == "m1"))
        assert call_id is not None
        session.add(Callback(phone=ANNA, reason=CallbackReason.MISSED, origin_call_id=call_id,
                             created_at=at(8), due_at=at(8), state=CallbackState.DONE,
                             completed_at=at(8 + 0.1)))
        writer.callbacks_changed([call_id])
    async with db_sessions() as session:
        delay = await session.scalar(select(Call.return_delay_ms).where(Call.id == call_id))
    assert delay == 360_000 - 10_000


async def report_dict(sessions: Sessions, by: list[str], *, hourly_sums: bool = True
                      ) -> dict[str, object]:
    async with sessions() as session:
        report = await compute(session, start=DAY, end=DAY + timedelta(days=10), by=by,
                               config=SETTINGS, hourly_sums=hourly_sums)
    return report.to_dict()


@pytest.mark.parametrize("by", [["queue", "day"], ["route", "hour"]])
async def test_a_write_after_a_report_is_in_the_next_report(
    db_sessions: Sessions, by: list[str]
) -> None:
    for record in CALLS:
        await write(db_sessions, record)
    before = await report_dict(db_sessions, by)
    # b2 turns out abandoned, the withheld caller was answered after all (no number: only
    # the write's own marks tell), and a new call of Anna's lands an hour into day 5
    await write(db_sessions, inbound("b2", BOHDAN, at(24 * 9), answered=False))
    await write(db_sessions, inbound("x1", None, at(10), answered=True))
    await write(db_sessions, inbound("a5", ANNA, at(24 * 5 + 1), answered=True))
    async with db_sessions() as session:
        marks = await session.scalar(select(func.count()).select_from(kpi_changed_hours))
        assert marks is not None
        assert marks > 0
    after = await report_dict(db_sessions, by)
    async with db_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(kpi_changed_hours)) == 0
    assert after != before
    assert await report_dict(db_sessions, by, hourly_sums=False) == after


async def test_other_thresholds_get_their_own_sums(db_sessions: Sessions) -> None:
    for record in CALLS:
        await write(db_sessions, record)
    strict = replace(SETTINGS, service_level_s=1)
    async with db_sessions() as session:
        lenient = await compute(session, start=DAY, end=DAY + timedelta(days=10),
                                config=SETTINGS)
    async with db_sessions() as session:
        harsh = await compute(session, start=DAY, end=DAY + timedelta(days=10), config=strict)
    (row_lenient,), (row_harsh,) = lenient.section("queues").rows, harsh.section("queues").rows
    # 3 of 7 attempts answered after 3 s: within 20 s, not within 1 s
    assert (row_lenient["service_level"], row_harsh["service_level"]) == (42.86, 0.0)
    async with db_sessions() as session:
        again = await compute(session, start=DAY, end=DAY + timedelta(days=10),
                              config=SETTINGS)
    assert again.to_dict() == lenient.to_dict()
    # the clinic's keeper drops the sums nobody will read again (the strict ones) ...
    keeper = HourlySumsKeeper(db_sessions, SETTINGS, clock=lambda: DAY + timedelta(days=10))
    assert await keeper.drop_other_thresholds() > 0
    assert await keeper.drop_other_thresholds() == 0
    async with db_sessions() as session:
        keys = set(await session.scalars(select(kpi_hours_built.c.settings_key).distinct()))
        harsh_again = await compute(session, start=DAY, end=DAY + timedelta(days=10),
                                    config=strict)
    assert keys == {rollup.settings_key(SETTINGS)}
    assert harsh_again.to_dict() == harsh.to_dict()  # ... and a strict report sums them anew


async def test_the_keeper_sums_every_hour_before_any_report(db_sessions: Sessions) -> None:
    for record in CALLS:
        await write(db_sessions, record)
    now = DAY + timedelta(days=12, minutes=25)
    keeper = HourlySumsKeeper(db_sessions, SETTINGS, clock=lambda: now, every_s=0.05,
                              chunk_hours=50)
    assert await keeper.run_once() == 12 * 24 - 8  # 08:00 on the first day → 00:00 today
    assert await keeper.run_once() == 0
    await write(db_sessions, inbound("x1", None, at(10), answered=True))
    assert await keeper.run_once() == 1  # the hour the write marked
    await write(db_sessions, inbound("x2", None, at(11), answered=True))
    await keeper.start()  # the loop does the same, until closed
    async with asyncio.timeout(30):
        await keeper.wait_rounds(1)
    assert keeper.last_summed == 1  # its first round summed the hour x2 marked
    await keeper.close()
    async with db_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(kpi_changed_hours)) == 0
    assert await keeper.run_once() == 0


async def test_the_migration_links_the_calls_a_store_already_holds(empty_db_url: str) -> None:
    """A store at revision 0005 (before the links) with calls in it: 0006 computes them."""
    await upgrade(empty_db_url, "0005")
    engine = create_engine(empty_db_url)
    try:
        async with engine.begin() as connection:
            # the tables as they were at 0005 (the ids were renamed since)
            calls = sa.table("calls", *(sa.column(c) for c in (
                "id", "linkedid", "direction", "caller", "dialled", "started_at", "answered_at",
                "ended_at", "route", "missed", "miss_cause")))
            attempts = sa.table("queue_attempts", *(sa.column(c) for c in (
                "call_id", "uniqueid", "queue", "joined_at", "connected_at", "left_at", "outcome",
                "wait_s", "talk_s", "priority")))
            for n, record in enumerate(CALLS, start=1):
                await connection.execute(calls.insert().values(
                    id=n, linkedid=record.call_key, direction=record.direction,
                    caller=record.caller, dialled=record.dialled,
                    started_at=record.started_at, answered_at=record.answered_at,
                    ended_at=record.ended_at, route=record.route, missed=record.missed,
                    miss_cause=record.miss_cause))
                for a in record.attempts:
                    await connection.execute(attempts.insert().values(
                        call_id=n, uniqueid=a.channel_id, queue=a.queue, joined_at=a.joined_at,
                        connected_at=a.connected_at, left_at=a.left_at, outcome=a.outcome,
                        wait_s=a.wait_s, talk_s=a.talk_s, priority=a.priority))
        await upgrade(empty_db_url)
        assert await links(session_factory(engine)) == EXPECTED
    finally:
        await engine.dispose()
