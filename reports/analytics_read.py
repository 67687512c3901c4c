"""Reading the survey, demand and staffing facts of a period: whole hours from their hourly
sums (first brought up to date by :func:`update_sums`, like a KPI report's, and committed),
edges from the rows.  These sums have their own built marks (``analytics_hours_built``): a
report here sums only them, never the KPI sums.

Without KPI settings (no thresholds, so no sums key) every fact is read from the rows: the
same numbers, slower; the tests compare the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.db.models import analytics_hours_built
from clinicall.reports import rollup
from clinicall.reports import timebuckets as tb
from clinicall.reports.analytics_hours import Fact, Kind, read_rows, read_sums
from clinicall.reports.kpi import REPORT_WORK_MEM
from clinicall.reports.settings import KpiSettings


async def update_sums(session: AsyncSession, *, start: datetime, end: datetime,
                      settings: KpiSettings) -> int:
    """Bring the survey, demand and staffing sums of the whole hours in [start, end) up to
    date (``rollup.bring_analytics_up_to_date``) and commit; returns how many hours were
    summed.  When they are current already (one read), nothing is written or committed."""
    plan = rollup.plan(tb.offset_segments(settings.zone, start, end), start, end)
    if plan.hours is None:
        return 0
    key = rollup.settings_key(settings)
    if await rollup.current(session, key, plan.hours, marks=analytics_hours_built):
        return 0
    if (await session.connection()).dialect.name == "postgresql":  # sorts in memory
        await session.execute(text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))
    summed = await rollup.bring_analytics_up_to_date(session, key, plan.hours)
    await session.commit()
    return summed


async def collect(session: AsyncSession, kind: Kind, *, start: datetime, end: datetime,
                  zone: ZoneInfo, settings: KpiSettings | None, dims: Sequence[str],
                  time_keys: Sequence[str] = (), current: bool = False) -> list[Fact]:  # fmt: skip
    """The facts of [start, end) grouped by ``dims`` and local ``time_keys``
    (``reports.analytics_hours``); partial groups, which the caller adds up.  ``current``:
    the caller has just brought the period's sums up to date (several reads of one report)."""
    if settings is None:
        return await read_rows(session, kind, [(start, end)], dims, time_keys, zone)
    segments = tb.offset_segments(zone, start, end)
    plan = rollup.plan(segments, start, end)
    if plan.hours is not None and not current:
        await update_sums(session, start=start, end=end, settings=settings)
    facts = await read_rows(session, kind, plan.raw, dims, time_keys, zone)
    if plan.hours is not None:
        facts += await read_sums(session, kind, rollup.settings_key(settings), plan.hours,
                                 dims, time_keys, segments)
    return facts
