"""Manual legal holds: a manager or quality reviewer keeps a recording past its retention
(a lawsuit, a regulator's letter) until someone releases the hold.

A hold is a ``recording_holds`` row; releasing it sets ``released_at`` (the row stays: who held
what, when and why is part of the record).  :mod:`recordings.retention` keeps every recording
with an unreleased hold, whatever the rules.  Setting and releasing each write an audit row
(action ``hold``) in the same transaction.  One open hold per recording: a second one would
say nothing more, and releasing must be unambiguous.  docs/recordings.md, "Retention".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.db.models import Recording, RecordingAction, RecordingHold, User
from clinicall.recordings.audit import Access, AuditLog

MAX_REASON = 255


class HoldError(ValueError):
    """The hold cannot be set or released (said to the user as it is)."""


class HoldConflict(HoldError):
    """Already held, or not held: the state is not what the request assumed."""


class NoRecording(HoldError):
    """No such recording (or only its tombstone)."""


@dataclass(frozen=True, slots=True)
class HeldRecording:
    """An open hold as the reviewers' list shows it: who set it (None: the command line, which
    acts as no user) and why."""

    hold_id: int
    recording_id: int
    call_key: str
    recording_started_at: datetime
    held_at: datetime
    held_by: str | None
    reason: str


async def open_holds(session: AsyncSession) -> list[HeldRecording]:
    """Every hold not released, oldest first."""
    rows = await session.execute(
        select(RecordingHold, Recording.call_key, Recording.started_at, User.username)
        .join(Recording, Recording.id == RecordingHold.recording_id)
        .outerjoin(User, User.id == RecordingHold.user_id)
        .where(RecordingHold.released_at.is_(None))
        .order_by(RecordingHold.held_at, RecordingHold.id))
    return [HeldRecording(hold.id, hold.recording_id, call_key, started, hold.held_at, username,
                          hold.reason) for hold, call_key, started, username in rows]


async def open_hold(session: AsyncSession, recording_id: int) -> RecordingHold | None:
    return await session.scalar(select(RecordingHold).where(
        RecordingHold.recording_id == recording_id, RecordingHold.released_at.is_(None)))


async def set_hold(session: AsyncSession, audit: AuditLog, recording_id: int, *, reason: str,
                   at: datetime, user_id: int | None = None,
                   remote_addr: str | None = None) -> RecordingHold:
    """Hold the recording (inside the caller's transaction)."""
    reason = _reason(reason)
    await _recording(session, recording_id)
    held = await open_hold(session, recording_id)
    if held is not None:
        raise HoldConflict(f"recording {recording_id} is already held (since "
                        f"{held.held_at:%Y-%m-%d}: {held.reason})")
    hold = RecordingHold(recording_id=recording_id, user_id=user_id, reason=reason, held_at=at)
    session.add(hold)
    await session.flush()
    await audit.append(session, Access(recording_id, user_id, RecordingAction.HOLD, remote_addr,
                                       reason=reason, detail=f"hold {hold.id} set"), at)
    return hold


async def release_hold(session: AsyncSession, audit: AuditLog, recording_id: int, *,
                       reason: str, at: datetime, user_id: int | None = None,
                       remote_addr: str | None = None) -> RecordingHold:
    """Release the recording's open hold; retention may then take it on its next run."""
    reason = _reason(reason)
    await _recording(session, recording_id)
    hold = await open_hold(session, recording_id)
    if hold is None:
        raise HoldConflict(f"recording {recording_id} is not held")
    hold.released_at = at
    await audit.append(session, Access(recording_id, user_id, RecordingAction.HOLD, remote_addr,
                                       reason=reason, detail=f"hold {hold.id} released"), at)
    return hold


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise HoldError("a hold needs a reason (why the recording must be kept or may go)")
    if len(reason) > MAX_REASON:
        raise HoldError(f"the reason is longer than {MAX_REASON} characters")
    return reason


async def _recording(session: AsyncSession, recording_id: int) -> Recording:
    row = await session.get(Recording, recording_id)
    if row is None or row.deleted_at is not None:
        raise NoRecording(f"no recording {recording_id}")
    return row
