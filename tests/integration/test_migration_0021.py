"""Migration 0021 on SQLite: the hourly sums made before it (without the resolution counters
or the answered waits' counts) are dropped with their built marks, so the next report sums
those hours again and reads a marked call's disposition and its wait from them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text

from clinicall.db import create_engine, session_factory, upgrade
from clinicall.reports import compute
from clinicall.reports.rollup import settings_key
from clinicall.reports.settings import KpiSettings

KYIV = ZoneInfo("Europe/Kyiv")
SETTINGS = KpiSettings(timezone="Europe/Kyiv")
ROWS = """
INSERT INTO calls (id, call_key, direction, caller, started_at, route, ivr_outcome, missed,
                   disposition, disposition_by)
VALUES (1, 'c1', 'inbound', '+380501111111', '2026-11-10 08:00:00.000000', 'therapy', 'queue',
        0, 'resolved', 'op1');
INSERT INTO queue_attempts (id, call_id, channel_id, queue, joined_at, connected_at, left_at,
                            outcome, wait_s, talk_s, priority)
VALUES (1, 1, 'ch1', 'therapy', '2026-11-10 08:00:10.000000', '2026-11-10 08:00:52.000000',
        '2026-11-10 08:02:52.000000', 'answered', 42.0, 120.0, 0);
"""


async def test_the_sums_before_it_are_summed_again(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await upgrade(url, "0020")
    engine = create_engine(url)
    key = settings_key(SETTINGS)
    hour = int(datetime(2026, 11, 10, 8, tzinfo=ZoneInfo("UTC")).timestamp()) // 3600
    try:
        async with engine.begin() as conn:
            for statement in ROWS.split(";"):
                if statement.strip():
                    await conn.execute(text(statement))
            # the hour as the code before 0021 left it: built, one wrong call counted
            columns = [str(row[1]) for row in await conn.execute(
                text("PRAGMA table_info(kpi_call_hours)"))]
            values: dict[str, object] = {
                c: 0 for c in columns if c not in ("settings_key", "hour", "route")}
            values.update(settings_key=key, hour=hour, route="therapy", inbound=99,
                          ttc_max=None)
            await conn.execute(text(
                f"INSERT INTO kpi_call_hours ({', '.join(values)}) "
                f"VALUES ({', '.join(':' + c for c in values)})"), values)
            await conn.execute(text("INSERT INTO kpi_hours_built (settings_key, hour) "
                                    "VALUES (:key, :hour)"), {"key": key, "hour": hour})
        await upgrade(url)
        async with engine.connect() as conn:
            left = [int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())
                    for table in ("kpi_hours_built", "kpi_call_hours", "kpi_wait_counts")]
        assert left == [0, 0, 0]
        async with session_factory(engine)() as session:
            report = await compute(session, start=datetime(2026, 11, 10, tzinfo=KYIV),
                                   end=datetime(2026, 11, 11, tzinfo=KYIV), by="queue",
                                   config=SETTINGS)
    finally:
        await engine.dispose()
    (queue,) = report.section("queues").rows
    (calls,) = report.section("calls").rows
    (resolution,) = report.section("resolution").rows
    assert (queue["offered"], queue["wait_p50"], queue["wait_p90"]) == (1, 42.0, 42.0)
    assert calls["inbound"] == 1
    assert (resolution["dispositioned"], resolution["resolved"], resolution["fcr"]) == (
        1, 1, 100.0)
