"""A report on SQLite runs ANALYZE when the tables its plans depend on have no statistics or
have more than doubled since, and not before every report (docs/store.md)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.db import create_engine, session_factory
from clinicall.reports import kpi


async def _add_calls(session: AsyncSession, first: int, last: int) -> None:
    for n in range(first, last + 1):
        await session.execute(text(
            "INSERT INTO calls (id, call_key, direction, started_at, missed) "
            "VALUES (:n, :key, 'inbound', '2026-11-10 08:00:00.000000', 0)"),
            {"n": n, "key": f"k{n}"})  # fmt: skip
        await session.execute(text(
            "INSERT INTO queue_attempts (id, call_id, channel_id, queue, joined_at, priority) "
            "VALUES (:n, :n, :key, 'therapy', '2026-11-10 08:00:10.000000', 0)"),
            {"n": n, "key": f"ch{n}"})  # fmt: skip
    await session.commit()


async def _analyzed_rows(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(text(
        "SELECT tbl, max(CAST(stat AS INTEGER)) FROM sqlite_stat1 GROUP BY tbl"))
    return {str(table): int(count) for table, count in rows}


async def test_analyze_runs_only_when_statistics_are_missing_or_stale(
    sqlite_db_url: str,
) -> None:
    engine = create_engine(sqlite_db_url)
    try:
        async with session_factory(engine)() as session:
            await _add_calls(session, 1, 10)
            await kpi._sqlite_statistics(session)
            await session.commit()
            first = await _analyzed_rows(session)
            assert (first["calls"], first["queue_attempts"]) == (10, 10)

            await _add_calls(session, 11, 20)  # doubled, not more: the statistics stay
            await kpi._sqlite_statistics(session)
            await session.commit()
            assert await _analyzed_rows(session) == first

            await _add_calls(session, 21, 21)  # more than doubled: analyzed again
            await kpi._sqlite_statistics(session)
            await session.commit()
            again = await _analyzed_rows(session)
            assert (again["calls"], again["queue_attempts"]) == (21, 21)
    finally:
        await engine.dispose()
