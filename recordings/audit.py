"""The access audit of recordings: append-only and hash-chained (HIPAA 164.312(b)).

Every play (one row per listening session, however many Range requests it makes), download,
note and hold writes one ``recording_access`` row.  Each row's ``row_hash`` is the SHA-256 of
its fields and of ``prev_hash``, the previous row's ``row_hash``; so :func:`verify` finds a row
edited in the database (its hash no longer matches) or deleted (the next row's ``prev_hash``
no longer matches).  Appends are serialised (an asyncio lock in the process, an advisory lock
on PostgreSQL) so the chain never forks.  The application has no path that updates or deletes
a row: the guard in :mod:`clinicall.db.models.recordings` refuses it.

What the chain does not prove: that the newest rows were not cut off (compare the count with
an export), nor that someone with write access did not rebuild the whole chain.  docs/recordings.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import RecordingAccess, RecordingAction

GENESIS = "0" * 64
#: PostgreSQL advisory lock key of the chain's tail (any constant unique in the store).
_CHAIN_LOCK = 0x636C6963616C6C  # "clicall"
_PAGE = 1000


def row_hash(row: RecordingAccess) -> str:
    """The hash of a row's fields and its ``prev_hash`` (canonical JSON, sorted keys)."""
    fields = {
        "recording_id": row.recording_id,
        "user_id": row.user_id,
        "at": row.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "action": str(row.action),
        "remote_addr": row.remote_addr,
        "reason": row.reason,
        "listen_key": row.listen_key,
        "detail": row.detail,
        "prev_hash": row.prev_hash,
    }
    blob = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Access:
    """One access to record."""

    recording_id: int
    user_id: int | None
    action: RecordingAction
    remote_addr: str | None = None
    reason: str | None = None
    listen_key: str | None = None
    detail: str | None = None


class AuditLog:
    """Appends to the chain.  One per process (its lock keeps the chain linear)."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()

    async def append(self, session: AsyncSession, access: Access, at: datetime) -> RecordingAccess:
        """Add the row inside the caller's transaction (commit it with the caller's work)."""
        async with self._lock:
            if session.get_bind().dialect.name == "postgresql":
                await session.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                                      {"k": _CHAIN_LOCK})
            prev = await session.scalar(
                select(RecordingAccess.row_hash).order_by(RecordingAccess.id.desc()).limit(1))
            row = RecordingAccess(
                recording_id=access.recording_id, user_id=access.user_id, at=at,
                action=access.action, remote_addr=access.remote_addr, reason=access.reason,
                listen_key=access.listen_key, detail=access.detail, prev_hash=prev or GENESIS,
            )  # fmt: skip
            row.row_hash = row_hash(row)
            session.add(row)
            await session.flush()
            return row


@dataclass(frozen=True, slots=True)
class Broken:
    """Where the chain breaks: the row, and what is wrong with it."""

    row_id: int
    problem: str


@dataclass(frozen=True, slots=True)
class Verdict:
    rows: int
    broken: list[Broken]

    @property
    def intact(self) -> bool:
        return not self.broken


async def verify(sessions: async_sessionmaker[AsyncSession]) -> Verdict:
    """Walk the chain in id order: every row's hash, and its link to the row before."""
    broken: list[Broken] = []
    count = 0
    expected_prev = GENESIS
    async for row in _rows(sessions):
        count += 1
        if row.prev_hash != expected_prev:
            broken.append(Broken(row.id, "the row before it was deleted or edited"))
        if row_hash(row) != row.row_hash:
            broken.append(Broken(row.id, "its fields were edited"))
        expected_prev = row.row_hash
    return Verdict(count, broken)


async def _rows(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[RecordingAccess]:
    after = 0
    while True:
        async with sessions() as session:
            page = list(await session.scalars(
                select(RecordingAccess).where(RecordingAccess.id > after)
                .order_by(RecordingAccess.id).limit(_PAGE)))  # fmt: skip
        if not page:
            return
        for row in page:
            yield row
        after = page[-1].id
