"""Store basics on SQLite alone: URL normalization, naive times refused, SQLite pragmas."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError
from store_writes import writing

from clinicall.db import async_url, create_engine, session_factory
from clinicall.db.engine import UnsupportedDatabaseError
from clinicall.db.models import Direction
from clinicall.db.models.calls import Call
from clinicall.db.types import NaiveDatetimeError


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///var/clinicall.db", "sqlite+aiosqlite:///var/clinicall.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql://u@db/clinic", "postgresql+asyncpg://u@db/clinic"),
        ("postgres://u@db/clinic", "postgresql+asyncpg://u@db/clinic"),
        ("postgresql+asyncpg://u@db:5433/c", "postgresql+asyncpg://u@db:5433/c"),
    ],
)
def test_async_url(given: str, expected: str) -> None:
    assert async_url(given).render_as_string() == expected


@pytest.mark.parametrize("url", ["mysql://u@db/c", "postgresql+psycopg2://u@db/c"])
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(UnsupportedDatabaseError):
        async_url(url)


async def test_naive_datetime_is_refused(sqlite_db_url: str) -> None:
    engine = create_engine(sqlite_db_url)
    try:
        with pytest.raises(StatementError) as caught:
            async with writing(session_factory(engine)) as session:
                session.add(
                    Call(call_key="1", direction=Direction.INBOUND, started_at=datetime(2026, 1, 1))
                )
        assert isinstance(caught.value.orig, NaiveDatetimeError)
    finally:
        await engine.dispose()


async def test_sqlite_connections_get_the_pragmas(sqlite_db_url: str) -> None:
    engine = create_engine(sqlite_db_url)
    try:
        async with engine.connect() as connection:
            values = [
                (await connection.execute(text(f"PRAGMA {name}"))).scalar_one()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            ]
    finally:
        await engine.dispose()
    assert values == ["wal", 1, 1, 5000]
