"""Migration 0022 on SQLite and PostgreSQL: the survey, demand and staffing sums get their own
built marks.  An hour built before it (one mark for both families) keeps its sums and is
marked built for both, so nothing is summed again; downgrading empties every hourly sum,
since the older code takes a KPI mark to cover the analytics sums too."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Connection, text

from clinicall.db import create_engine, upgrade
from clinicall.db.migrate import alembic_config

HOUR = 493_000
SURVEY = ("INSERT INTO survey_hours (settings_key, hour, queue, operator, route, due_agreed, "
          "due_other, answered, partial, " + ", ".join(f"csat_{n}" for n in range(1, 6)) + ", "
          + ", ".join(f"nps_{n}" for n in range(11)) + ") VALUES ('k', :hour, 'therapy', "
          "'op1', 'therapy', 1, 0, 1, 0" + ", 0" * 4 + ", 1" + ", 0" * 11 + ")")


async def _downgrade(url: str, revision: str) -> None:
    def down(connection: Connection) -> None:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(down)
    finally:
        await engine.dispose()


async def _counts(url: str, tables: tuple[str, ...]) -> list[int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return [int((await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one())
                    for t in tables]
    finally:
        await engine.dispose()


async def test_the_marks_made_before_it_cover_both_families(empty_db_url: str) -> None:
    await upgrade(empty_db_url, "0021")
    engine = create_engine(empty_db_url)
    try:
        async with engine.begin() as conn:
            for hour in (HOUR, HOUR + 1):
                await conn.execute(text("INSERT INTO kpi_hours_built (settings_key, hour) "
                                        "VALUES ('k', :hour)"), {"hour": hour})
            await conn.execute(text(SURVEY), {"hour": HOUR})
    finally:
        await engine.dispose()
    await upgrade(empty_db_url)
    engine = create_engine(empty_db_url)
    try:
        async with engine.connect() as conn:
            marks = (await conn.execute(text(
                "SELECT settings_key, hour FROM analytics_hours_built ORDER BY hour"))).all()
    finally:
        await engine.dispose()
    assert [tuple(m) for m in marks] == [("k", HOUR), ("k", HOUR + 1)]
    assert await _counts(empty_db_url, ("kpi_hours_built", "survey_hours")) == [2, 1]
    await _downgrade(empty_db_url, "0021")
    assert await _counts(empty_db_url, ("kpi_hours_built", "survey_hours")) == [0, 0]
