"""Migration 0007 on a real store of the previous version (SQLite and PostgreSQL).

The store (``tests/data/stores/account_0006.json``) was written by the 0006 call tracker from
a real Asterisk: AMI events and queue_log lines in the journal.  After the upgrade every row is
still there under its new column names, the journal holds engine-neutral facts that the
codec reads back, and re-projecting every call from them gives exactly the rows the old
tracker wrote; a queue_log re-read adds nothing (the keys are kept).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from clinicall.controller.port import ReconcileBatch
from clinicall.controller.tracking import CallTracker, TrackingConfig
from clinicall.controller.tracking.codec import decode
from clinicall.db import create_engine, session_factory, upgrade
from clinicall.db.models import IngestState
from clinicall.reports import compute
from clinicall.reports.settings import KpiSettings

FIXTURE = Path(__file__).parents[1] / "data" / "stores" / "account_0006.json"
TABLES = ("calls", "queue_attempts", "ring_attempts", "recordings", "event_journal",
          "ingest_state")  # fmt: skip
RENAMED = {"calls": {"linkedid": "call_key"}, "queue_attempts": {"uniqueid": "channel_id"},
           "recordings": {"linkedid": "call_key"}}  # fmt: skip
#: The test's clinic numbers are Ukrainian (as in test_account's example clinic).
CONFIG = TrackingConfig(country_code="380")
#: Rows no fact stands for, kept as they were: queue_log's QUEUESTART and the dialplan
#: variables the account never read (CLINICALL_QUEUE, CLINICALL_DIALLED, ...).
NOT_FACTS = {"QUEUESTART", "VariableSet"}
SOURCES = {"ami": "live", "queue_log": "record"}
CONVERTED_VARIABLES = {"QUEUESTATUS", "MIXMONITOR_FILENAME", "CLINICALL_LANG", "CLINICALL_PATH",
                       "CLINICALL_ROUTE", "CLINICALL_OUTCOME"}  # fmt: skip


class NoRecord:
    """The queue_log is not here: only the journal is re-projected."""

    record_name = "queue_log"

    async def reconcile(self, cursor: Mapping[str, Any] | None) -> ReconcileBatch:
        raise AssertionError("rebuild reads only the journal")


def _load() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text())
    assert data["revision"] == "0006"
    return data


def _value(column: sa.Column[Any], value: Any) -> Any:
    if value is not None and isinstance(column.type, sa.DateTime):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value


async def _insert_0006(connection: AsyncConnection, data: dict[str, Any]) -> None:
    tables = await connection.run_sync(
        lambda sync: {t: sa.Table(t, sa.MetaData(), autoload_with=sync) for t in TABLES})
    for name in TABLES:
        table = tables[name]
        rows = [{k: _value(table.c[k], v) for k, v in row.items()} for row in data[name]]
        await connection.execute(table.insert(), rows)
    if connection.dialect.name == "postgresql":  # the fixture's ids were given explicitly
        for name in ("calls", "queue_attempts", "ring_attempts", "recordings", "event_journal"):
            await connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT max(id) FROM {name}))")


async def _rows(connection: AsyncConnection, table: str) -> list[dict[str, Any]]:
    result = await connection.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1"))
    return [_plain(dict(row)) for row in result.mappings()]


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """Times as aware UTC, numbers as floats where the column is a float: both databases alike."""
    out = {}
    for key, value in row.items():
        if isinstance(value, datetime):
            value = value if value.tzinfo else value.replace(tzinfo=UTC)
        elif isinstance(value, str) and key.endswith("_at") and value[:2] == "20":
            value = datetime.fromisoformat(value).replace(tzinfo=UTC)
        out[key] = value
    return out


@pytest.fixture
async def migrated(empty_db_url: str) -> tuple[str, dict[str, list[Any]]]:
    """The fixture loaded at 0006, its rows read back, then the store upgraded to head."""
    data = _load()
    await upgrade(empty_db_url, "0006")
    engine = create_engine(empty_db_url)
    try:
        async with engine.begin() as connection:
            await _insert_0006(connection, data)
        async with engine.connect() as connection:
            before = {t: await _rows(connection, t) for t in TABLES}
    finally:
        await engine.dispose()
    await upgrade(empty_db_url)
    return empty_db_url, before


def _as_before(after: list[dict[str, Any]], before: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows read after the upgrade, restricted to the columns the store had before (under
    their new names): later migrations add columns of their own, which this one does not own."""
    columns = set(before[0]) if before else set()
    return [{k: v for k, v in row.items() if k in columns} for row in after]


def _renamed(table: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names = RENAMED.get(table, {})
    return [{names.get(k, k): v for k, v in row.items()} for row in rows]


async def test_every_row_is_kept_under_the_new_names(
    migrated: tuple[str, dict[str, list[Any]]],
) -> None:
    url, before = migrated
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            for table in ("calls", "queue_attempts", "ring_attempts", "recordings"):
                expected = _renamed(table, before[table])
                assert _as_before(await _rows(connection, table), expected) == expected, table
            journal = await _rows(connection, "event_journal")
        async with session_factory(engine)() as session:
            state = await session.get(IngestState, "queue_log")
    finally:
        await engine.dispose()
    old_state = before["ingest_state"][0]
    assert state is not None
    assert dict(state.cursor) == {"offset": old_state["position"], "inode": old_state["inode"],
                                  "line_no": old_state["line_no"],
                                  "fingerprint": old_state["fingerprint"]}  # fmt: skip
    old_journal = {row["key"]: row for row in before["event_journal"]}
    assert {row["key"] for row in journal} == set(old_journal)  # every key, no new one
    for row in journal:
        old = old_journal[row["key"]]
        assert (row["at"], row["call_key"]) == (old["at"], old["call_key"])
        payload, old_payload = _json(row["payload"]), _json(old["payload"])
        if row["kind"] == old["kind"]:  # not converted: untouched, and only what no fact is
            assert (row["source"], payload) == (SOURCES[old["source"]], old_payload)
            assert row["kind"] in NOT_FACTS
            assert old_payload.get("name") not in CONVERTED_VARIABLES
        elif row["kind"] != "ivr.outcome":
            assert decode(row["kind"], row["key"], row["at"], payload) is not None, row
            assert row["source"] in ("live", "record"), row


async def test_rebuilding_every_call_from_the_neutral_journal_gives_the_same_rows(
    migrated: tuple[str, dict[str, list[Any]]],
) -> None:
    url, before = migrated
    engine = create_engine(url)
    sessions = session_factory(engine)
    settings = KpiSettings(timezone="Europe/Kyiv")
    try:
        start = min(row["started_at"] for row in before["calls"]).replace(minute=0, second=0,
                                                                          microsecond=0)
        end = max(row["started_at"] for row in before["calls"]).replace(minute=59, second=59)
        async with sessions() as session:
            report_before = await compute(session, start=start, end=end, by=["queue"],
                                          config=settings, hourly_sums=False)
        tracker = CallTracker(sessions, NoRecord(), CONFIG)
        assert await tracker.rebuild() == len(before["calls"])
        async with engine.connect() as connection:
            for table in ("calls", "queue_attempts", "ring_attempts"):
                expected = _renamed(table, before[table])
                after = _as_before(await _rows(connection, table), expected)
                assert _without_ids(after) == _without_ids(expected), table
            recordings = await _rows(connection, "recordings")
        expected = _renamed("recordings", before["recordings"])
        assert _as_before(recordings, expected) == expected
        async with sessions() as session:
            report_after = await compute(session, start=start, end=end, by=["queue"],
                                         config=settings, hourly_sums=False)
        assert report_after == report_before
    finally:
        await engine.dispose()


def _json(value: Any) -> dict[str, Any]:
    """A JSON column as read by raw SQL: text on SQLite, decoded on PostgreSQL."""
    return value if isinstance(value, dict) else dict(json.loads(value))


def _without_ids(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Attempts and rings get new ids when a call is re-projected (the call keeps its own)."""
    drop = {"id", "queue_attempt_id"}
    return sorted(({k: v for k, v in row.items() if k not in drop} for row in rows),
                  key=lambda r: json.dumps(r, default=str, sort_keys=True))
