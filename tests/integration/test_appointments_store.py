"""Appointments in the store (SQLite and PostgreSQL): the import is idempotent by external id,
a reminder is planned once per appointment, answers set the state."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.appointment_input import AppointmentInput
from clinicall.db.appointments import CANCELLED, CONFIRMED, AppointmentStore, ImportCount
from clinicall.db.models import Callback

Sessions = async_sessionmaker[AsyncSession]
T0 = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)


def appointment(external_id: str, hour: int = 9, doctor: str = "petrenko") -> AppointmentInput:
    return AppointmentInput(external_id, "+380501112233", "uk", doctor, "therapy",
                            datetime(2026, 12, 5, hour, 0, tzinfo=UTC))


async def test_a_second_import_of_the_same_rows_changes_nothing(db_sessions: Sessions) -> None:
    store = AppointmentStore(db_sessions)
    rows = [appointment("a1"), appointment("a2", 10)]
    assert await store.import_rows(rows, T0) == ImportCount(created=2)
    first = await store.by_external_id("a1")
    assert await store.import_rows(rows, T0 + timedelta(hours=1)) == ImportCount(unchanged=2)
    assert await store.by_external_id("a1") == first  # not even its updated time
    moved = [appointment("a1", 11), appointment("a2", 10)]
    assert await store.import_rows(moved, T0) == ImportCount(updated=1, unchanged=1)
    again = await store.by_external_id("a1")
    assert again is not None
    assert first is not None
    assert (again.id, again.starts_at.hour) == (first.id, 11)


async def test_a_reminder_is_planned_once_even_by_two_planners(db_sessions: Sessions) -> None:
    store = AppointmentStore(db_sessions)
    await store.import_rows([appointment("a1")], T0)
    [row] = await store.to_remind(T0, T0 + timedelta(days=2))
    due = T0 + timedelta(hours=1)
    one, two = await asyncio.gather(
        store.plan_reminder(row, queue="therapy", due_at=due, now=T0),
        store.plan_reminder(row, queue="therapy", due_at=due, now=T0))
    planned = [job for job in (one, two) if job is not None]
    assert len(planned) == 1
    async with db_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Callback)) == 1
    assert await store.to_remind(T0, T0 + timedelta(days=2)) == []
    of_job = await store.of_job(planned[0])
    assert of_job is not None
    assert of_job.external_id == "a1"


async def test_answers_set_the_state_and_a_cancellation_stays(db_sessions: Sessions) -> None:
    store = AppointmentStore(db_sessions)
    await store.import_rows([appointment("a1"), appointment("a2")], T0)
    a1, a2 = await store.by_external_id("a1"), await store.by_external_id("a2")
    assert a1 is not None
    assert a2 is not None
    assert await store.record_answer(a1.id, CONFIRMED, T0)
    assert await store.record_answer(a2.id, CANCELLED, T0)
    assert not await store.record_answer(a2.id, CONFIRMED, T0)  # cancelled stays cancelled
    day = await store.between(T0, T0 + timedelta(days=2))
    assert [(a.external_id, a.state, a.reminder_result) for a in day] == [
        ("a1", "confirmed", "confirmed"), ("a2", "cancelled", "cancelled")]
    open_ones = await store.between(T0, T0 + timedelta(days=2), states=["scheduled"])
    assert open_ones == []


async def test_a_moved_appointment_is_reminded_again(db_sessions: Sessions) -> None:
    store = AppointmentStore(db_sessions)
    await store.import_rows([appointment("a1"), appointment("a2")], T0)
    jobs = {}
    for row in await store.to_remind(T0, T0 + timedelta(days=2)):
        jobs[row.external_id] = await store.plan_reminder(row, queue="therapy", due_at=T0,
                                                          now=T0)  # fmt: skip
    a1 = await store.by_external_id("a1")
    assert a1 is not None
    await store.record_answer(a1.id, CONFIRMED, T0)
    a2 = await store.by_external_id("a2")
    assert a2 is not None
    await store.record_answer(a2.id, CANCELLED, T0)
    moved = [appointment("a1", 15), appointment("a2", 15)]
    assert await store.import_rows(moved, T0) == ImportCount(updated=2)
    again = await store.by_external_id("a1")
    assert again is not None
    assert (again.state, again.reminder_job_id, again.reminder_result) == ("scheduled", None,
                                                                           None)
    still = await store.by_external_id("a2")
    assert still is not None
    assert (still.state, still.reminder_job_id) == ("cancelled", jobs["a2"])
    async with db_sessions() as session:
        old = await session.get(Callback, jobs["a1"])
        assert old is not None
        assert (old.state, old.result) == ("cancelled", "moved")
    assert [r.external_id for r in await store.to_remind(T0, T0 + timedelta(days=2))] == ["a1"]
