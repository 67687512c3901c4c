"""Migration 0017 on SQLite: a callback attempt's call that an older account stored as an
inbound missed call becomes outbound, of purpose ``callback``, to the job's number, not
missed; a patient's call is left as it was (docs/kpi.md, "calls clinicall places")."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from clinicall.db import create_engine, upgrade

ROWS = """
INSERT INTO calls (id, call_key, direction, caller, started_at, missed, miss_cause)
VALUES (1, 'patient', 'inbound', '+380501111111', '2026-11-24 08:00:00.000000', 1, 'abandoned'),
       (2, 'cb-attempt', 'inbound', '+380441234567', '2026-11-24 08:05:00.000000', 1, 'failed');
INSERT INTO callbacks (id, phone, reason, origin_call_id, queue, created_at, arrived_at,
                       priority, due_at, state, attempts)
VALUES (1, '+380501111111', 'missed', 1, 'therapy', '2026-11-24 08:01:00.000000',
        '2026-11-24 08:00:00.000000', 0, '2026-11-24 08:01:00.000000', 'pending', 1);
INSERT INTO callback_attempts (callback_id, number, key, call_id, owner, started_at)
VALUES (1, 1, 'cb1-1', 'cb-attempt', 'c1', '2026-11-24 08:05:00.000000');
"""


async def test_a_stored_callback_attempt_becomes_an_outbound_call(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await upgrade(url, "0015")
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for statement in ROWS.split(";"):
                if statement.strip():
                    await conn.execute(text(statement))
        await upgrade(url)
        async with engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT call_key, direction, purpose, dialled, missed, miss_cause FROM calls "
                "ORDER BY id"))).all()  # fmt: skip
    finally:
        await engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("patient", "inbound", None, None, 1, "abandoned"),
        ("cb-attempt", "outbound", "callback", "+380501111111", 0, None),
    ]
