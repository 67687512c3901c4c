"""The two families of hourly sums, each under its own built marks (migration 0022), on SQLite
and PostgreSQL: a KPI report sums only the KPI sums it reads, a survey, demand or staffing
report only theirs; the keeper keeps both; a changed hour drops both; each family, summed
alone, reads the same as its report from the rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import (
    Call,
    Direction,
    IvrOutcome,
    QueueAttempt,
    QueueOutcome,
    SurveyAnswer,
    SurveyQuestion,
    analytics_hours_built,
    demand_hours,
    kpi_call_hours,
    kpi_changed_hours,
    kpi_hours_built,
    kpi_queue_hours,
    kpi_wait_counts,
    staffing_hours,
    survey_hours,
)
from clinicall.db.writer import StoreWriter
from clinicall.reports import compute
from clinicall.reports.keeper import HourlySumsKeeper
from clinicall.reports.settings import KpiSettings
from clinicall.reports.staffing import compute_staffing
from clinicall.reports.survey import compute_survey
from clinicall.settings.loader import load_config

Sessions = async_sessionmaker[AsyncSession]
SETTINGS = KpiSettings(timezone="Europe/Kyiv")
CLINIC = load_config(Path(__file__).resolve().parents[2] / "config" / "clinic.example.yaml")
T0 = datetime(2026, 11, 10, 7, tzinfo=UTC)
START, END = datetime(2026, 11, 10, tzinfo=UTC), datetime(2026, 11, 11, tzinfo=UTC)
KPI_SUMS = (kpi_queue_hours, kpi_call_hours, kpi_wait_counts, kpi_hours_built)
ANALYTICS_SUMS = (survey_hours, demand_hours, staffing_hours, analytics_hours_built)


async def _store(sessions: Sessions, first: int = 1, hours: int = 3) -> None:
    """One answered, surveyed inbound call an hour from T0, ids from ``first``."""
    rows: list[Any] = []
    changed: list[tuple[str, datetime, datetime]] = []
    for n in range(first, first + hours):
        at = T0 + timedelta(hours=n - first, minutes=10)
        call = Call(id=n, call_key=f"c{n}", direction=Direction.INBOUND,
                    caller=f"+38050000{n:04d}", started_at=at, ivr_path="main:1/survey:1",
                    route="therapy", ivr_outcome=IvrOutcome.QUEUE, missed=False)
        joined = at + timedelta(seconds=20)
        changed.append((f"+38050000{n:04d}", at, joined))
        rows += [call,
                 QueueAttempt(id=n, call_id=n, channel_id=f"ch{n}", queue="therapy",
                              joined_at=joined, connected_at=joined + timedelta(seconds=7),
                              outcome=QueueOutcome.ANSWERED, wait_s=7.0, talk_s=60.0,
                              agent="op1"),
                 SurveyAnswer(id=n, call_id=n, question=SurveyQuestion.CSAT, score=4,
                              answered_at=at + timedelta(minutes=5), queue="therapy",
                              operator="op1", route="therapy", complete=True)]
    async with sessions() as session, session.begin(), StoreWriter(session) as writer:
        session.add_all(rows)
        for caller, at, joined in changed:  # as the tracker marks the hours it writes
            writer.call_changed(Direction.INBOUND, caller, None, at, [joined])


async def _counts(sessions: Sessions, tables: tuple[Table, ...]) -> list[int]:
    async with sessions() as session:
        return [int(await session.scalar(select(func.count()).select_from(t)) or 0)
                for t in tables]


async def _survey(sessions: Sessions, *, sums: bool) -> dict[str, Any]:
    async with sessions() as session:
        report = await compute_survey(session, start=START, end=END, by="queue",
                                      timezone=SETTINGS.timezone, always=(),
                                      settings=SETTINGS if sums else None)
    return report.to_dict()


async def test_each_report_sums_only_its_own_family(db_sessions: Sessions) -> None:
    await _store(db_sessions)
    async with db_sessions() as session:
        kpi = await compute(session, start=START, end=END, by="queue", config=SETTINGS)
    assert all(await _counts(db_sessions, KPI_SUMS))
    assert await _counts(db_sessions, ANALYTICS_SUMS) == [0, 0, 0, 0]
    async with db_sessions() as session:
        staffing = await compute_staffing(session, start=START, end=END, config=CLINIC)
    assert all(await _counts(db_sessions, ANALYTICS_SUMS))
    survey = await _survey(db_sessions, sums=True)
    # from the sums, as from the rows
    async with db_sessions() as session:
        assert (await compute(session, start=START, end=END, by="queue", config=SETTINGS,
                              hourly_sums=False)).to_dict() == kpi.to_dict()
        assert (await compute_staffing(session, start=START, end=END, config=CLINIC,
                                       hourly_sums=False)).to_dict() == staffing.to_dict()
    assert await _survey(db_sessions, sums=False) == survey
    (row,) = kpi.section("queues").rows
    assert row["offered"] == 3


async def test_a_changed_hour_drops_both_families(db_sessions: Sessions) -> None:
    await _store(db_sessions)
    async with db_sessions() as session:
        await compute(session, start=START, end=END, config=SETTINGS)
    before = await _survey(db_sessions, sums=True)
    built = await _counts(db_sessions, (kpi_hours_built, analytics_hours_built))
    await _store(db_sessions, first=10, hours=1)  # a fourth call, in the first hour
    assert await _counts(db_sessions, (kpi_changed_hours,)) == [1]
    after = await _survey(db_sessions, sums=True)  # drops the hour's sums of both families
    assert after != before
    assert after == await _survey(db_sessions, sums=False)
    # the KPI family lost the hour's mark too, and its report sums it again
    assert await _counts(db_sessions, (kpi_hours_built, analytics_hours_built)) == [
        built[0] - 1, built[1]]
    async with db_sessions() as session:
        summed = await compute(session, start=START, end=END, config=SETTINGS)
        rows = await compute(session, start=START, end=END, config=SETTINGS,
                             hourly_sums=False)
    assert summed.to_dict() == rows.to_dict()
    assert summed.section("queues").rows[0]["offered"] == 4


async def test_the_keeper_keeps_both_families(db_sessions: Sessions) -> None:
    await _store(db_sessions)
    keeper = HourlySumsKeeper(db_sessions, SETTINGS, clock=lambda: END + timedelta(hours=5),
                              chunk_hours=24)
    summed = await keeper.run_once()
    assert summed == 22  # from 07:00 on the first call's day to 05:00 the next day
    assert await _counts(db_sessions, (kpi_hours_built, analytics_hours_built)) == [22, 22]
    async with db_sessions() as session:  # a KPI report summed one family: the keeper the other
        await session.execute(analytics_hours_built.delete())
        await session.execute(survey_hours.delete())
        await session.execute(demand_hours.delete())
        await session.execute(staffing_hours.delete())
        await session.commit()
    assert await keeper.run_once() == 22
    assert await keeper.run_once() == 0
    assert await _survey(db_sessions, sums=True) == await _survey(db_sessions, sums=False)
