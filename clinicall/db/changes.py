"""Marking the hours whose calls changed, so the reports sum those hours again.

The reports keep hourly sums (``clinicall.db.models.rollups``).  A writer that inserts, changes
or deletes calls, queue attempts, callback jobs or survey answers calls :func:`mark_changed`
with the instants it touched (a call's start, an attempt's join; old and new values), in the
same transaction as its write.  The upsert takes the row's lock on PostgreSQL, so a report
that takes the marks (``DELETE … RETURNING``) waits for this writer's commit and then sums
rows that include its write.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.db.models import kpi_changed_hours

HOUR_S = 3600


def hour_of(at: datetime) -> int:
    """Hours since 1970-01-01 00:00 UTC of an aware instant."""
    return int(at.timestamp()) // HOUR_S


async def mark_changed(session: AsyncSession, instants: Iterable[datetime | None]) -> None:
    """Mark the UTC hours of these instants (None ignored) as changed."""
    hours = sorted({hour_of(at) for at in instants if at is not None})
    if not hours:
        return
    dialect = (await session.connection()).dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(kpi_changed_hours)
    await session.execute(
        statement.on_conflict_do_update(index_elements=["hour"],
                                        set_={"hour": statement.excluded.hour}),
        [{"hour": h} for h in hours],
    )
