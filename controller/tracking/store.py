"""The thin database layer of call tracking: read a call's journal rows, write its projection.

A call's rows are those whose ``call_key`` is its linkedid, plus any journaled under one of its
channels' uniqueids before the channel → call mapping was known.  The mapping itself is kept
in the journal as ``chan:<uniqueid>`` rows (from AMI Newchannel, the CLINICALL queue_log line
and the IVR), so it survives restarts and is found by its unique key.

``write_call`` keeps the ``calls`` row (and its id, which recordings, callbacks, complaints and
surveys point at) and replaces the call's queue and ring attempts, all in the caller's
transaction: re-projecting is idempotent.  The links between the calls of the same number
(the caller's next call, the return of a missed call: ``clinicall.db.call_links``) are
refreshed with it (once per batch of calls, see ``Footprint``), and the hours it touched are
marked for the reports' hourly sums (``clinicall.db.changes``).  An answered call's recording
reference becomes one ``recordings`` row, found again by its path (unique).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.controller.asterisk.queue_log import TailState
from clinicall.controller.tracking.config import TrackingConfig
from clinicall.controller.tracking.project import CallRecord, project_call
from clinicall.controller.tracking.rows import JournalRow, channel_key
from clinicall.db import call_links
from clinicall.db.changes import mark_changed
from clinicall.db.models import (
    Call,
    Direction,
    IngestState,
    JournalEvent,
    QueueAttempt,
    Recording,
    RingAttempt,
)

CHUNK = 500  # keys per IN (...) list


def _row(event: JournalEvent) -> JournalRow:
    return JournalRow(
        source=str(event.source), kind=event.kind, at=event.at, key=event.key,
        payload=event.payload, id=event.id,
    )  # fmt: skip


async def call_rows(session: AsyncSession, linkedid: str) -> list[JournalRow]:
    """Every journal row of the call ``linkedid`` (see module docstring)."""
    rows = [_row(e) for e in await _journal_where(session, [linkedid])]
    channels = {str(r.payload.get("uniqueid") or "") for r in rows} - {"", linkedid}
    if channels:
        rows += [_row(e) for e in await _journal_where(session, sorted(channels))]
    return rows


async def _journal_where(session: AsyncSession, call_keys: Sequence[str]) -> list[JournalEvent]:
    found: list[JournalEvent] = []
    for start in range(0, len(call_keys), CHUNK):
        chunk = call_keys[start : start + CHUNK]
        result = await session.scalars(select(JournalEvent).where(JournalEvent.call_key.in_(chunk)))
        found.extend(result)
    return found


async def linkedids_of(session: AsyncSession, uniqueids: Iterable[str]) -> dict[str, str]:
    """The calls of those channels whose mapping is journaled (``chan:`` rows)."""
    wanted = sorted(set(uniqueids))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), CHUNK):
        keys = [channel_key(u) for u in wanted[start : start + CHUNK]]
        rows = await session.execute(select(JournalEvent.payload).where(JournalEvent.key.in_(keys)))
        for (payload,) in rows:
            found[str(payload["uniqueid"])] = str(payload["linkedid"])
    return found


async def project_calls(
    session: AsyncSession, call_keys: Iterable[str], config: TrackingConfig
) -> int:
    """Re-project the calls behind ``call_keys`` (linkedids, or uniqueids of their channels)
    from their journal rows; returns how many calls were written."""
    keys = set(call_keys)
    mapped = await linkedids_of(session, keys)
    written = 0
    footprint = Footprint()
    for linkedid in sorted({mapped.get(k, k) for k in keys}):
        rows = await call_rows(session, linkedid)
        record = project_call(linkedid, rows, config)
        if record is not None:
            channels = {str(r.payload.get("uniqueid") or "") for r in rows} - {"", linkedid}
            await write_call(session, record, superseded=channels, footprint=footprint)
            written += 1
    await footprint.apply(session)
    return written


@dataclass
class Footprint:
    """What written calls occupied before and after the write: the numbers whose calls'
    links to recompute, and the instants (starts, queue joins) whose hourly sums to re-sum."""

    touched: list[call_links.Touched] = field(default_factory=list)
    changed: list[datetime] = field(default_factory=list)

    def add_call(
        self,
        direction: Direction | str,
        caller: str | None,
        dialled: str | None,
        started_at: datetime,
        joins: Iterable[datetime],
    ) -> None:
        touched = call_links.touched_by(direction, caller, dialled, started_at)
        if touched is not None:
            self.touched.append(touched)
        self.changed += [started_at, *joins]

    async def apply(self, session: AsyncSession) -> None:
        await mark_changed(session, self.changed)
        await call_links.refresh(session, self.touched)
        self.touched, self.changed = [], []


async def write_call(
    session: AsyncSession,
    record: CallRecord,
    *,
    superseded: Iterable[str] = (),
    footprint: Footprint | None = None,
) -> Call:
    """Insert or update the call and replace its attempts.  ``superseded``: linkedids of calls
    projected earlier from rows that turned out to belong to this one (deleted).  The links
    and hourly sums the write affects are refreshed at once, or added to ``footprint`` for
    its caller to apply once for many writes."""
    stale = sorted(set(superseded) - {record.linkedid})
    pending = footprint if footprint is not None else Footprint()
    before = {
        c.linkedid: c
        for c in await session.scalars(
            select(Call).where(Call.linkedid.in_([*stale, record.linkedid]))
        )
    }
    joined: dict[int, list[datetime]] = {}
    if before:
        ids = [c.id for c in before.values()]
        joins = await session.execute(
            select(QueueAttempt.call_id, QueueAttempt.joined_at).where(
                QueueAttempt.call_id.in_(ids)
            )
        )
        for call_id, joined_at in joins:
            joined.setdefault(call_id, []).append(joined_at)
    for old in before.values():
        pending.add_call(
            old.direction, old.caller, old.dialled, old.started_at, joined.get(old.id, [])
        )
    if stale:
        await session.execute(delete(Call).where(Call.linkedid.in_(stale)))
    call = before.get(record.linkedid)
    if call is None:
        call = Call(
            linkedid=record.linkedid, direction=record.direction, started_at=record.started_at
        )
        session.add(call)
    for name in _CALL_FIELDS:
        setattr(call, name, getattr(record, name))
    await session.flush()
    attempt_ids = select(QueueAttempt.id).where(QueueAttempt.call_id == call.id)
    await session.execute(delete(RingAttempt).where(RingAttempt.queue_attempt_id.in_(attempt_ids)))
    await session.execute(delete(QueueAttempt).where(QueueAttempt.call_id == call.id))
    for a in record.attempts:
        rings = [RingAttempt(member=r.member[:128], rang_at=r.rang_at, ring_ms=r.ring_ms,
                             answered=r.answered) for r in a.rings]  # fmt: skip
        session.add(QueueAttempt(
            call_id=call.id, uniqueid=a.uniqueid, queue=a.queue, joined_at=a.joined_at,
            connected_at=a.connected_at, left_at=a.left_at, outcome=a.outcome, wait_s=a.wait_s,
            talk_s=a.talk_s, agent=a.agent, position=a.position,
            original_position=a.original_position, exit_key=a.exit_key, priority=a.priority,
            rings=rings,
        ))  # fmt: skip
    await session.flush()
    pending.add_call(
        record.direction,
        record.caller,
        record.dialled,
        record.started_at,
        (a.joined_at for a in record.attempts),
    )
    if footprint is None:
        await pending.apply(session)
    await _write_recording(session, record, call.id)
    return call


async def _write_recording(session: AsyncSession, record: CallRecord, call_id: int) -> None:
    """The call's ``recordings`` row, by its path.  Until the import step fills them in,
    ``size_bytes`` 0 and ``sha256`` '' mark a file not imported yet (Asterisk may still be
    writing it), and ``imported_at`` is the time recording began."""
    name, started = record.recording, record.answered_at
    if name is None or started is None:
        return
    path = str(name.path)
    row = await session.scalar(select(Recording).where(Recording.path == path))
    if row is None:
        row = Recording(path=path, size_bytes=0, sha256="", imported_at=started)
        session.add(row)
    row.call_id, row.linkedid, row.format, row.started_at = (
        call_id, name.linkedid, name.format, started,
    )  # fmt: skip
    await session.flush()


_CALL_FIELDS = ("direction", "caller", "dialled", "started_at", "answered_at", "ended_at",
                "language", "ivr_path", "route", "ivr_outcome", "hangup_side", "missed",
                "miss_cause")  # fmt: skip


async def journal_call_keys(session: AsyncSession) -> list[str]:
    """Every call key in the journal (for a full rebuild)."""
    result = await session.scalars(
        select(JournalEvent.call_key).where(JournalEvent.call_key.is_not(None)).distinct()
    )
    return sorted(k for k in result if k)


async def load_tail_state(session: AsyncSession, source: str) -> TailState:
    state = await session.get(IngestState, source)
    if state is None:
        return TailState()
    return TailState(state.position, state.inode, state.line_no, state.fingerprint)


async def save_tail_state(
    session: AsyncSession, source: str, tail: TailState, now: datetime
) -> None:
    state = await session.get(IngestState, source)
    if state is None:
        state = IngestState(source=source)
        session.add(state)
    state.position, state.inode, state.line_no = tail.offset, tail.inode, tail.line_no
    state.fingerprint, state.updated_at = tail.fingerprint, now
