"""Today's KPIs per queue and for the whole clinic, from ``reports.kpi.compute``.

"Today" is the clinic's local calendar day (its time zone from the config), from local
midnight to now.

One report at a time per store: a report first brings the hourly sums up to date, a write,
and on SQLite many at once (200 dashboards polling ``/api/kpi``) wait on each other past the
busy timeout and fail with "database is locked" (bench/README.md, the wallboard push).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, time
from weakref import WeakKeyDictionary

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.reports import Report, compute
from clinicall.reports.table import Value
from clinicall.settings.models import ClinicConfig


def local_midnight(config: ClinicConfig, now: datetime) -> datetime:
    zone = config.clinic.zone
    return datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)


_ONE_AT_A_TIME: WeakKeyDictionary[async_sessionmaker[AsyncSession], asyncio.Lock] = (
    WeakKeyDictionary())


async def today_report(
    sessions: async_sessionmaker[AsyncSession], config: ClinicConfig, now: datetime
) -> Report:
    lock = _ONE_AT_A_TIME.setdefault(sessions, asyncio.Lock())
    async with lock, sessions() as session:
        return await compute(
            session, start=local_midnight(config, now), end=now, by="queue", config=config
        )


def rows_by_queue(report: Report) -> dict[str, dict[str, Value]]:
    return {str(row["queue"]): row for row in report.section("queues").rows}


def clinic_row(report: Report) -> dict[str, Value]:
    rows = report.section("calls").rows
    return rows[0] if rows else {}
