"""Writing the event journal exactly once per event, on SQLite and PostgreSQL alike.

``insert_journal`` is INSERT … ON CONFLICT (key) DO NOTHING … RETURNING id, so it tells the
caller how many events were new: a replayed source (AMI resync, queue_log re-read) counts 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.db.models import JournalEvent, JournalSource

# Well under SQLite's (32766) and PostgreSQL's (32767) bound-parameter limits at 5 per row.
BATCH_ROWS = 1000


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One event to journal.  ``key`` is its idempotency key (stable across replays)."""

    key: str
    source: JournalSource
    at: datetime
    kind: str
    payload: Mapping[str, Any] = field(default_factory=dict)


async def insert_journal(session: AsyncSession, events: Iterable[JournalEntry]) -> int:
    """Insert the events whose key is not journaled yet; return how many were new.

    Runs inside the caller's transaction (no commit).  Duplicate keys within ``events`` count
    once.  Raises ValueError on a database other than SQLite or PostgreSQL.
    """
    rows = _unique_rows(events)
    dialect = session.get_bind().dialect.name
    inserted = 0
    for start in range(0, len(rows), BATCH_ROWS):
        batch = rows[start : start + BATCH_ROWS]
        result = await session.execute(_insert_ignore(dialect, batch))
        inserted += len(result.all())
    return inserted


def _unique_rows(events: Iterable[JournalEntry]) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for entry in events:
        rows.setdefault(
            entry.key,
            {
                "key": entry.key,
                "source": entry.source,
                "at": entry.at,
                "kind": entry.kind,
                "payload": dict(entry.payload),
            },
        )
    return list(rows.values())


def _insert_ignore(dialect: str, rows: list[dict[str, Any]]) -> Any:
    if dialect == "postgresql":
        pg_stmt = postgresql.insert(JournalEvent).values(rows)
        return pg_stmt.on_conflict_do_nothing(index_elements=["key"]).returning(JournalEvent.id)
    if dialect == "sqlite":
        lite_stmt = sqlite.insert(JournalEvent).values(rows)
        return lite_stmt.on_conflict_do_nothing(index_elements=["key"]).returning(JournalEvent.id)
    raise ValueError(f"insert_journal: unsupported dialect {dialect!r}")
