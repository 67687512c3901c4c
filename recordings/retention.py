"""Retention: a recording goes (both files) when its purpose's days are over, unless a legal
hold keeps it.  Storage limitation (GDPR art. 5(1)(e)): nothing is kept longer than its
purpose; the catalogue row stays as a tombstone (``deleted_at``, ``deleted_by``: the rule)
and the deletion is written to the access audit.

The rules, from ``recordings:`` in the config:

* ``retention_days[<purpose>]`` days after the call started (a purpose the config does not
  name is kept, and counted: a typo must not delete anything);
* a recording linked to a complaint is kept while any of its cases is unresolved, and
  ``complaint_days_after_close`` days after the last one was resolved (whichever of this and
  the purpose's days ends later);
* a manual hold (``recording_holds`` without ``released_at``) keeps it, whatever the rules.

Files are removed before the row is marked, so a crash leaves a row the next run finishes
(its files already gone: nothing to remove, then the tombstone).  docs/recordings.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import (
    Complaint,
    ComplaintRecording,
    Recording,
    RecordingAction,
    RecordingHold,
)
from clinicall.recordings.audit import Access, AuditLog
from clinicall.recordings.storage import OutsideStorage, Storage

BATCH = 200
Progress = Callable[[int, int], None]


def _no_progress(done: int, total: int) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Policy:
    """The retention rules (``recordings.retention_days``, ``complaint_days_after_close``)."""

    days: dict[str, int]
    complaint_days_after_close: int


@dataclass(frozen=True, slots=True)
class Due:
    """A recording that goes, and the rule that says so (kept in its tombstone)."""

    recording_id: int
    rule: str


@dataclass
class Plan:
    """What a run removes and what it keeps on purpose."""

    due: list[Due] = field(default_factory=list)
    held: list[int] = field(default_factory=list)  # past their days, kept by a hold or a case
    unknown_purpose: list[int] = field(default_factory=list)


async def plan(sessions: async_sessionmaker[AsyncSession], policy: Policy,
               now: datetime) -> Plan:
    """What :func:`apply` would do now (the dry run prints this)."""
    shortest = min([*policy.days.values(), policy.complaint_days_after_close])
    out = Plan()
    async with sessions() as session:
        rows = list(await session.execute(
            select(Recording.id, Recording.purpose, Recording.started_at)
            .where(Recording.deleted_at.is_(None), Recording.sha256 != "",
                   Recording.started_at < now - timedelta(days=shortest))
            .order_by(Recording.id)))  # fmt: skip
        ids = [r[0] for r in rows]
        holds = await _held_by_hand(session, ids)
        cases = await _complaint_ends(session, ids)
    for rid, purpose, started_at in rows:
        days = policy.days.get(purpose)
        if days is None:
            out.unknown_purpose.append(rid)
            continue
        ends = [(started_at + timedelta(days=days), f"{purpose}:{days}d")]
        if rid in cases:
            resolved = cases[rid]
            if resolved is None:  # an open case holds it
                if ends[0][0] <= now:
                    out.held.append(rid)
                continue
            ends.append((resolved + timedelta(days=policy.complaint_days_after_close),
                         f"complaint+{policy.complaint_days_after_close}d"))
        end, rule = max(ends)
        if end > now:
            continue
        if rid in holds:
            out.held.append(rid)
            continue
        out.due.append(Due(rid, rule))
    return out


async def apply(sessions: async_sessionmaker[AsyncSession], storage: Storage, audit: AuditLog,
                due: Sequence[Due], now: datetime,
                progress: Progress = _no_progress) -> int:
    """Remove the files of ``due`` and write their tombstones; the number removed."""
    removed = 0
    for start in range(0, len(due), BATCH):
        batch = due[start:start + BATCH]
        async with sessions() as session, session.begin():
            rows = {r.id: r for r in await session.scalars(
                select(Recording).where(Recording.id.in_([d.recording_id for d in batch]),
                                        Recording.deleted_at.is_(None)))}  # fmt: skip
            paths = [p for r in rows.values() for p in (r.path, r.transcode_path) if p]
            await asyncio.to_thread(_remove, storage, paths)
            for item in batch:
                row = rows.get(item.recording_id)
                if row is None:
                    continue
                row.deleted_at, row.deleted_by = now, item.rule
                await audit.append(session, Access(row.id, None, RecordingAction.DELETE,
                                                   reason=f"retention {item.rule}"), now)
                removed += 1
        progress(min(start + BATCH, len(due)), len(due))
    return removed


def _remove(storage: Storage, relatives: Sequence[str]) -> None:
    for relative in relatives:
        try:
            storage.resolve(relative).unlink(missing_ok=True)
        except OutsideStorage:
            continue  # not a stored name: nothing of ours to remove (the tombstone says so)


async def _held_by_hand(session: AsyncSession, ids: Sequence[int]) -> set[int]:
    held: set[int] = set()
    for chunk in _chunks(ids):
        held |= set(await session.scalars(
            select(RecordingHold.recording_id).where(RecordingHold.recording_id.in_(chunk),
                                                     RecordingHold.released_at.is_(None))))
    return held


async def _complaint_ends(session: AsyncSession,
                          ids: Sequence[int]) -> dict[int, datetime | None]:
    """Per linked recording: None while a case is unresolved, else the last resolution."""
    ends: dict[int, datetime | None] = {}
    for chunk in _chunks(ids):
        rows = await session.execute(
            select(ComplaintRecording.recording_id, Complaint.resolved_at)
            .join(Complaint, Complaint.id == ComplaintRecording.complaint_id)
            .where(ComplaintRecording.recording_id.in_(chunk)))  # fmt: skip
        for rid, resolved in rows:
            if rid in ends and ends[rid] is None:
                continue
            previous = ends.get(rid)
            ends[rid] = None if resolved is None else max(resolved, previous or resolved)
    return ends


def _chunks(ids: Sequence[int], size: int = 500) -> list[Sequence[int]]:
    return [ids[i:i + size] for i in range(0, len(ids), size)]
