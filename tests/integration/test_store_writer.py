"""Every write of calls goes through the one StoreWriter, which keeps the call links and the
reports' hour marks; a write that bypasses it fails (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import (
    Call,
    Callback,
    CallbackReason,
    CallbackState,
    Direction,
    IvrOutcome,
    MissCause,
    kpi_changed_hours,
)
from clinicall.db.writer import StoreWriter, UnguardedWrite

Sessions = async_sessionmaker[AsyncSession]
T0 = datetime(2026, 11, 10, 8, 0, tzinfo=UTC)
ANNA = "+380501111111"


def missed_call(key: str, at: datetime) -> Call:
    return Call(call_key=key, direction=Direction.INBOUND, caller=ANNA, started_at=at,
                ended_at=at + timedelta(seconds=30), ivr_outcome=IvrOutcome.QUEUE, missed=True,
                miss_cause=MissCause.ABANDONED)  # fmt: skip


async def test_adding_a_call_outside_the_writer_fails_and_writes_nothing(
    db_sessions: Sessions,
) -> None:
    with pytest.raises(UnguardedWrite, match="calls rows are written only through StoreWriter"):
        async with db_sessions.begin() as session:
            session.add(missed_call("x1", T0))
    async with db_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Call)) == 0


async def test_statements_on_guarded_tables_outside_the_writer_fail(db_sessions: Sessions) -> None:
    async with db_sessions.begin() as session, StoreWriter(session):
        session.add(missed_call("x1", T0))
    for statement in (update(Call).values(route="therapy"),
                      update(Callback).values(attempts=1)):  # fmt: skip
        with pytest.raises(UnguardedWrite):
            async with db_sessions.begin() as session:
                await session.execute(statement)
    async with db_sessions() as session:  # reading needs no writer
        assert await session.scalar(select(Call.route)) is None


async def test_the_writer_marks_the_hours_and_links_the_calls_it_wrote(
    db_sessions: Sessions,
) -> None:
    async with db_sessions.begin() as session, StoreWriter(session) as writer:
        first = missed_call("m1", T0)
        session.add(first)
        writer.call_changed(Direction.INBOUND, ANNA, None, T0)
        session.add(missed_call("m2", T0 + timedelta(hours=2)))
        writer.call_changed(Direction.INBOUND, ANNA, None, T0 + timedelta(hours=2))
    async with db_sessions() as session:
        marks = await session.scalar(select(func.count()).select_from(kpi_changed_hours))
        gap = await session.scalar(select(Call.repeat_gap_ms).where(Call.call_key == "m1"))
    assert marks == 2  # the two hours the calls started in
    assert gap == 2 * 3600 * 1000  # m1 links to Anna's next call

    async with db_sessions.begin() as session, StoreWriter(session) as writer:
        call_id = await session.scalar(select(Call.id).where(Call.call_key == "m2"))
        assert call_id is not None
        later = T0 + timedelta(hours=2)
        session.add(Callback(phone=ANNA, reason=CallbackReason.MISSED, origin_call_id=call_id,
                             created_at=later, due_at=later, state=CallbackState.DONE,
                             completed_at=later + timedelta(minutes=5)))
        writer.callbacks_changed([call_id])
    async with db_sessions() as session:
        delay = await session.scalar(select(Call.return_delay_ms).where(Call.id == call_id))
    assert delay == 5 * 60 * 1000 - 30 * 1000  # from the missed call's end to the done callback
