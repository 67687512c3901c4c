"""A KPI report over a long period whose hours were never summed (a store just migrated, new
thresholds) reads the period from its rows and leaves the summing to the keeper; a month or
less of missing hours it still sums itself (``rollup.Coverage.rows_pay``).  On SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.changes import hour_of
from clinicall.db.models import (
    Call,
    Direction,
    IvrOutcome,
    QueueAttempt,
    QueueOutcome,
    kpi_call_hours,
    kpi_changed_hours,
    kpi_hours_built,
    kpi_queue_hours,
    kpi_wait_counts,
)
from clinicall.db.models.rollups import HOURLY_SUM_TABLES
from clinicall.db.writer import StoreWriter
from clinicall.reports import compute, rollup
from clinicall.reports.keeper import HourlySumsKeeper
from clinicall.reports.settings import KpiSettings

Sessions = async_sessionmaker[AsyncSession]
SETTINGS = KpiSettings(timezone="Europe/Kyiv")
START = datetime(2026, 9, 1, tzinfo=UTC)
DAYS = 60
END = START + timedelta(days=DAYS)
KPI_SUMS = (kpi_queue_hours, kpi_call_hours, kpi_wait_counts, kpi_hours_built)


async def _store(sessions: Sessions) -> None:
    """Two inbound calls a day for ``DAYS`` days, written as the tracker writes them (their
    hours marked changed); every third one missed in the queue."""
    rows: list[Any] = []
    changed: list[tuple[str, datetime, datetime]] = []
    for n in range(1, 2 * DAYS + 1):
        at = START + timedelta(hours=12 * (n - 1) + 9, minutes=n % 50)
        caller = f"+38050000{n:04d}"
        answered = n % 3 != 0
        joined = at + timedelta(seconds=15)
        rows += [Call(id=n, call_key=f"c{n}", direction=Direction.INBOUND, caller=caller,
                      started_at=at, route="therapy" if n % 2 else "ultrasound",
                      ivr_outcome=IvrOutcome.QUEUE, missed=not answered),
                 QueueAttempt(id=n, call_id=n, channel_id=f"ch{n}",
                              queue="therapy" if n % 2 else "ultrasound", joined_at=joined,
                              connected_at=joined + timedelta(seconds=n % 40) if answered
                              else None,
                              outcome=QueueOutcome.ANSWERED if answered
                              else QueueOutcome.ABANDONED,
                              wait_s=float(n % 40), talk_s=60.0 if answered else None,
                              agent="op1" if answered else None)]
        changed.append((caller, at, joined))
    async with sessions() as session, session.begin(), StoreWriter(session) as writer:
        session.add_all(rows)
        for caller, at, joined in changed:
            writer.call_changed(Direction.INBOUND, caller, None, at, [joined])


async def _counts(sessions: Sessions, tables: tuple[Table, ...]) -> list[int]:
    async with sessions() as session:
        return [int(await session.scalar(select(func.count()).select_from(t)) or 0)
                for t in tables]


async def _report(sessions: Sessions, start: datetime = START, end: datetime = END, *,
                  hourly_sums: bool = True) -> dict[str, object]:
    async with sessions() as session:
        report = await compute(session, start=start, end=end, by=["queue"], config=SETTINGS,
                               hourly_sums=hourly_sums)
    return report.to_dict()


def _offered(report: dict[str, object]) -> int:
    sections: Any = report["sections"]
    return sum(int(row["offered"]) for row in sections["queues"]["rows"])


async def test_a_long_unsummed_period_is_read_from_its_rows(db_sessions: Sessions) -> None:
    await _store(db_sessions)
    changed = await _counts(db_sessions, (kpi_changed_hours,))
    assert changed[0] > 0
    first = await _report(db_sessions)
    # nothing summed, no mark taken: the period's 1,440 hours are left to the keeper
    assert await _counts(db_sessions, KPI_SUMS) == [0, 0, 0, 0]
    assert await _counts(db_sessions, (kpi_changed_hours,)) == changed
    assert first == await _report(db_sessions, hourly_sums=False)
    offered = _offered(first)
    assert offered == 2 * DAYS

    keeper = HourlySumsKeeper(db_sessions, SETTINGS, clock=lambda: END, chunk_hours=24 * 7)
    assert await keeper.run_once() == DAYS * 24 - 9  # from the first call's hour to END
    assert await _report(db_sessions) == first
    # ... and that report read the sums: one hour's sum altered shows in it
    async with db_sessions() as session, session.begin():
        await session.execute(update(kpi_queue_hours).where(
            kpi_queue_hours.c.hour == hour_of(START + timedelta(hours=9)),
            kpi_queue_hours.c.queue == "therapy").values(offered=kpi_queue_hours.c.offered + 100))
    assert _offered(await _report(db_sessions)) == offered + 100


async def test_a_month_of_missing_hours_is_summed_by_the_report(db_sessions: Sessions) -> None:
    await _store(db_sessions)
    end = START + timedelta(days=31)
    report = await _report(db_sessions, end=end)
    assert await _counts(db_sessions, (kpi_hours_built,)) == [31 * 24]
    assert report == await _report(db_sessions, end=end, hourly_sums=False)
    # the rest of the 60 days is less than a third of them: summed by the report as well
    assert await _report(db_sessions) == await _report(db_sessions, hourly_sums=False)
    assert await _counts(db_sessions, (kpi_hours_built,)) == [DAYS * 24]
    assert await _counts(db_sessions, (kpi_changed_hours,)) == [0]


async def test_emptied_sums_send_the_next_long_report_to_the_rows(db_sessions: Sessions
                                                                  ) -> None:
    await _store(db_sessions)
    summed = await _report(db_sessions, end=START + timedelta(days=31))
    assert summed  # the first month summed by its report
    async with db_sessions() as session, session.begin():  # what a migration may do
        for table in HOURLY_SUM_TABLES:
            await session.execute(table.delete())
    assert await _report(db_sessions) == await _report(db_sessions, hourly_sums=False)
    assert await _counts(db_sessions, KPI_SUMS) == [0, 0, 0, 0]


def test_rows_pay_from_a_month_and_a_third_of_the_period() -> None:
    month = rollup.ROWS_FROM_MISSING
    assert month == 31 * 24

    def pays(hours: int, built: int, changed: int = 0) -> bool:
        return rollup.Coverage(hours, built, changed).rows_pay

    assert not pays(8760, 8760)
    assert not pays(8760, 8760 - month)  # a month missing: summed
    assert not pays(8760, 8760 - month - 1)  # more, but under a third of the year
    assert pays(8760, 8760 - 2920)  # a third of the year
    assert pays(8760, 0)
    assert pays(month + 1, 0)
    assert not pays(month, 0)  # a month or less: summed, whatever its share
    assert not rollup.Coverage(24, 24, 1).current
    assert not pays(24, 24, 1)


async def test_a_report_in_a_writing_session_counts_its_uncommitted_call(db_sessions: Sessions
                                                                         ) -> None:
    """On SQLite a long period's rows are read on two connections at once, unless the
    report's own session holds writes the second connection could not see."""
    await _store(db_sessions)
    # SQLite's statistics made by a first report, so that this one writes nothing and
    # commits nothing (the next id stays under twice the rows the statistics counted)
    await _report(db_sessions)
    at = START + timedelta(days=DAYS // 2, hours=15)
    async with db_sessions() as session:
        async with StoreWriter(session) as writer:
            session.add(Call(id=2 * DAYS + 1, call_key="late", direction=Direction.INBOUND,
                             caller="+380509999999", started_at=at, route="therapy",
                             ivr_outcome=IvrOutcome.QUEUE, missed=True))
            writer.call_changed(Direction.INBOUND, "+380509999999", None, at, [])
        report = await compute(session, start=START, end=END, by=["queue"], config=SETTINGS,
                               hourly_sums=False)
        await session.rollback()
    (calls,) = report.section("calls").rows
    assert calls["inbound"] == 2 * DAYS + 1
    assert calls["missed"] == DAYS * 2 // 3 + 1
