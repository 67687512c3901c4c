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


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One event to journal.  ``key`` is its idempotency key (stable across replays)."""

    key: str
    source: JournalSource
    at: datetime
    kind: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    call_key: str | None = None  # the call's linkedid (see JournalEvent.call_key)


async def insert_journal(session: AsyncSession, events: Iterable[JournalEntry]) -> int:
    """Insert the events whose key is not journaled yet; return how many were new.

    Runs inside the caller's transaction (no commit).  Duplicate keys within ``events`` count
    once.  Raises ValueError on a database other than SQLite or PostgreSQL.
    """
    rows = _unique_rows(events)
    if not rows:
        return 0
    statement = _insert_ignore(session.get_bind().dialect.name)
    # executemany with RETURNING: SQLAlchemy batches it as multi-row VALUES ("insertmanyvalues").
    result = await session.execute(statement, rows)
    return len(result.all())


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
                "call_key": entry.call_key,
            },
        )
    return list(rows.values())


def _insert_ignore(dialect: str) -> Any:
    if dialect == "postgresql":
        pg_stmt = postgresql.insert(JournalEvent)
        return pg_stmt.on_conflict_do_nothing(index_elements=["key"]).returning(JournalEvent.id)
    if dialect == "sqlite":
        lite_stmt = sqlite.insert(JournalEvent)
        return lite_stmt.on_conflict_do_nothing(index_elements=["key"]).returning(JournalEvent.id)
    raise ValueError(f"insert_journal: unsupported dialect {dialect!r}")
