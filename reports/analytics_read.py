"""Reading the survey, demand and staffing facts of a period: whole hours from their hourly
sums (first brought up to date, like a KPI report's, and committed), edges from the rows.

Without KPI settings (no thresholds, so no sums key) every fact is read from the rows: the
same numbers, slower; the tests compare the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.reports import rollup
from clinicall.reports import timebuckets as tb
from clinicall.reports.analytics_hours import Fact, Kind, read_rows, read_sums
from clinicall.reports.kpi import update_hourly_sums
from clinicall.reports.settings import KpiSettings


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
        await update_hourly_sums(session, start=start, end=end, config=settings)
    facts = await read_rows(session, kind, plan.raw, dims, time_keys, zone)
    if plan.hours is not None:
        facts += await read_sums(session, kind, rollup.settings_key(settings), plan.hours,
                                 dims, time_keys, segments)
    return facts
