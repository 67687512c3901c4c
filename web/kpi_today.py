"""Today's KPIs per queue and for the whole clinic, from ``reports.kpi.compute``.

"Today" is the clinic's local calendar day (its time zone from the config), from local
midnight to now.
"""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.reports import Report, compute
from clinicall.reports.table import Value
from clinicall.settings.models import ClinicConfig


def local_midnight(config: ClinicConfig, now: datetime) -> datetime:
    zone = config.clinic.zone
    return datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)


async def today_report(
    sessions: async_sessionmaker[AsyncSession], config: ClinicConfig, now: datetime
) -> Report:
    async with sessions() as session:
        return await compute(
            session, start=local_midnight(config, now), end=now, by="queue", config=config
        )


def rows_by_queue(report: Report) -> dict[str, dict[str, Value]]:
    return {str(row["queue"]): row for row in report.section("queues").rows}


def clinic_row(report: Report) -> dict[str, Value]:
    rows = report.section("calls").rows
    return rows[0] if rows else {}
