"""The thin database layer of call tracking: read a call's journal rows, write its projection.

A call's rows are those whose ``call_key`` is its call id, plus any journaled under one of its
channels' ids before the channel → call mapping was known.  The mapping itself is kept in the
journal as ``chan:<channel_id>`` rows (``call.channel``: from the engine's channel facts, its
durable record's routing mark and the IVR), so it survives restarts and is found by its key.

``write_call`` keeps the ``calls`` row (and its id, which recordings, callbacks, complaints and
surveys point at) and replaces the call's queue and ring attempts, all in the caller's
transaction and through the caller's ``StoreWriter`` (``clinicall.db.writer``), which refreshes
the call links and the reports' hourly marks for the whole batch: re-projecting is idempotent.
An answered call's recording reference becomes one ``recordings`` row, found by its path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.controller.tracking.config import TrackingConfig
from clinicall.controller.tracking.project import CallRecord, project_call
from clinicall.controller.tracking.rows import JournalRow, channel_key
from clinicall.db.models import (
    Call,
    IngestState,
    JournalEvent,
    QueueAttempt,
    Recording,
    RingAttempt,
)
from clinicall.db.writer import StoreWriter

CHUNK = 500  # keys per IN (...) list


#: The columns a ``JournalRow`` is made of, in its fields' order.
_ROW_COLUMNS = (JournalEvent.source, JournalEvent.kind, JournalEvent.at, JournalEvent.key,
                JournalEvent.payload, JournalEvent.id)  # fmt: skip


def _channels_named(rows: Iterable[JournalRow], call_key: str) -> set[str]:
    return {str(r.payload.get("channel_id") or "") for r in rows} - {"", call_key}


async def call_rows(session: AsyncSession, call_key: str) -> list[JournalRow]:
    """Every journal row of the call ``call_key`` (see module docstring)."""
    rows = await _journal_where(session, [call_key])
    channels = _channels_named(rows, call_key)
    if channels:
        rows += await _journal_where(session, sorted(channels))
    return rows


async def _journal_where(session: AsyncSession, call_keys: Sequence[str]) -> list[JournalRow]:
    """Read as columns, not ORM objects: every flush re-reads each touched call's rows, and
    an ORM instance per row (identity map, attribute state) cost more than the query."""
    found: list[JournalRow] = []
    for start in range(0, len(call_keys), CHUNK):
        chunk = call_keys[start : start + CHUNK]
        result = await session.execute(
            select(*_ROW_COLUMNS).where(JournalEvent.call_key.in_(chunk))
        )
        found.extend(
            JournalRow(source=str(source), kind=kind, at=at, key=key, payload=payload, id=id_)
            for source, kind, at, key, payload, id_ in result
        )
    return found


async def calls_of_channels(session: AsyncSession, channel_ids: Iterable[str]) -> dict[str, str]:
    """The calls of those channels whose mapping is journaled (``chan:`` rows)."""
    wanted = sorted(set(channel_ids))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), CHUNK):
        keys = [channel_key(c) for c in wanted[start : start + CHUNK]]
        rows = await session.execute(select(JournalEvent.payload).where(JournalEvent.key.in_(keys)))
        for (payload,) in rows:
            found[str(payload["channel_id"])] = str(payload["call_id"])
    return found


async def project_calls(
    session: AsyncSession, call_keys: Iterable[str], config: TrackingConfig
) -> int:
    """Re-project the calls behind ``call_keys`` (call ids, or ids of their channels) from
    their journal rows; returns how many calls were written."""
    keys = set(call_keys)
    mapped = await calls_of_channels(session, keys)
    written = 0
    async with StoreWriter(session) as writer:
        for call_key in sorted({mapped.get(k, k) for k in keys}):
            rows = await call_rows(session, call_key)
            record = project_call(call_key, rows, config)
            if record is not None:
                superseded = _channels_named(rows, call_key)
                await write_call(writer, record, superseded=superseded)
                written += 1
    return written


async def write_call(
    writer: StoreWriter, record: CallRecord, *, superseded: Iterable[str] = ()
) -> Call:
    """Insert or update the call and replace its attempts.  ``superseded``: call keys of calls
    projected earlier from rows that turned out to belong to this one (deleted).  The writer
    is told the old and new values, so it refreshes links and hourly sums once per batch."""
    session = writer.session
    stale = sorted(set(superseded) - {record.call_key})
    before = {c.call_key: c for c in await session.scalars(
        select(Call).where(Call.call_key.in_([*stale, record.call_key])))}
    joined: dict[int, list[datetime]] = {}
    if before:
        ids = [c.id for c in before.values()]
        joins = await session.execute(select(QueueAttempt.call_id, QueueAttempt.joined_at)
                                      .where(QueueAttempt.call_id.in_(ids)))
        for call_id, joined_at in joins:
            joined.setdefault(call_id, []).append(joined_at)
    for old in before.values():
        writer.call_changed(old.direction, old.caller, old.dialled, old.started_at,
                            joined.get(old.id, []))
    if stale:
        await session.execute(delete(Call).where(Call.call_key.in_(stale)))
    call = before.get(record.call_key)
    if call is None:
        call = Call(
            call_key=record.call_key, direction=record.direction, started_at=record.started_at
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
            call_id=call.id, channel_id=a.channel_id, queue=a.queue, joined_at=a.joined_at,
            connected_at=a.connected_at, left_at=a.left_at, outcome=a.outcome, wait_s=a.wait_s,
            talk_s=a.talk_s, agent=a.agent, position=a.position,
            original_position=a.original_position, exit_key=a.exit_key, priority=a.priority,
            rings=rings,
        ))  # fmt: skip
    await session.flush()
    writer.call_changed(record.direction, record.caller, record.dialled, record.started_at,
                        (a.joined_at for a in record.attempts))
    await _write_recording(session, record, call.id)
    return call


async def _write_recording(session: AsyncSession, record: CallRecord, call_id: int) -> None:
    """The call's ``recordings`` row, by its path.  Until the import step fills them in,
    ``size_bytes`` 0 and ``sha256`` '' mark a file not imported yet (the engine may still be
    writing it), and ``imported_at`` is the time recording began."""
    ref, started = record.recording, record.answered_at
    if ref is None or started is None:
        return
    row = await session.scalar(select(Recording).where(Recording.path == ref.path))
    if row is None:
        row = Recording(path=ref.path, size_bytes=0, sha256="", imported_at=started)
        session.add(row)
    row.call_id, row.call_key, row.format, row.started_at = (
        call_id, record.call_key, ref.format, started,
    )  # fmt: skip
    await session.flush()


_CALL_FIELDS = ("direction", "caller", "dialled", "started_at", "answered_at", "ended_at",
                "language", "ivr_path", "route", "ivr_outcome", "hangup_side", "missed",
                "miss_cause", "caller_name", "purpose")  # fmt: skip


async def known_calls(session: AsyncSession, call_keys: Sequence[str]) -> set[str]:
    """Which of ``call_keys`` are calls in the store (the engine reported them)."""
    found: set[str] = set()
    for start in range(0, len(call_keys), CHUNK):
        chunk = call_keys[start : start + CHUNK]
        found.update(await session.scalars(select(Call.call_key).where(Call.call_key.in_(chunk))))
    return found


#: No clinic call lasts longer: an older call still open is a loose end, not the restart's.
LONGEST_CALL = timedelta(hours=12)


async def calls_cut_by_restart(
    session: AsyncSession, started_at: datetime, silent_since: datetime | None
) -> list[str]:
    """The calls the engine had when it stopped, before starting at ``started_at``: begun in
    the ``LONGEST_CALL`` before, and still open (nothing ever ended them), or ended after
    ``silent_since`` (the engine's last sign of life: what ended them was its death)."""
    ended: ColumnElement[bool] = Call.ended_at.is_(None)
    if silent_since is not None:
        ended = or_(ended, Call.ended_at > silent_since)
    keys = await session.scalars(select(Call.call_key).where(
        Call.started_at < started_at, Call.started_at >= started_at - LONGEST_CALL, ended))
    return sorted(keys)


async def journal_call_keys(session: AsyncSession) -> list[str]:
    """Every call key in the journal (for a full rebuild)."""
    result = await session.scalars(
        select(JournalEvent.call_key).where(JournalEvent.call_key.is_not(None)).distinct()
    )
    return sorted(k for k in result if k)


async def load_cursor(session: AsyncSession, source: str) -> Mapping[str, Any] | None:
    """Where the engine's durable record was read up to (opaque to the account)."""
    state = await session.get(IngestState, source)
    return None if state is None else dict(state.cursor)


async def save_cursor(
    session: AsyncSession, source: str, cursor: Mapping[str, Any], now: datetime
) -> None:
    state = await session.get(IngestState, source)
    if state is None:
        state = IngestState(source=source, cursor={})
        session.add(state)
    state.cursor, state.updated_at = dict(cursor), now
