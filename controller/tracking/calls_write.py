"""Writing a batch of projected calls set-wise: a fixed number of statements per batch.

Every flush re-projects the calls it touched (``store.project_calls``).  Written one call at a
time through ORM objects (select the call, select its attempts, flush, delete, insert an
object per attempt and ring, flush), a call cost about 4 ms, which held the account's ingest to
a third of a plain batched insert of the same stream (issue 16; bench/README.md, "Ingest").
Here a batch of any size is a few Core statements: one select of the calls it replaces, one
delete of their old rings and one of their old attempts (which returns the attempts' joins),
one delete of the calls superseded, one executemany update of the calls that exist and one
insert of the new ones, one insert of the attempts and one of the rings, and the recordings by
path.

The rows written are those the one-call-at-a-time writer wrote: the ``calls`` row keeps its id
(recordings, callbacks, complaints and surveys point at it), its queue and ring attempts are
replaced.  The ``StoreWriter`` is told every old and new value, so the call links and the
reports' hourly sums are refreshed once for the batch, as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.controller.tracking.project import CallRecord
from clinicall.db.models import Call, Direction, QueueAttempt, Recording, RingAttempt
from clinicall.db.writer import StoreWriter

CHUNK = 500  # keys per IN (...) list

_CALLS = cast(Table, Call.__table__)
_ATTEMPTS = cast(Table, QueueAttempt.__table__)
_RINGS = cast(Table, RingAttempt.__table__)
_RECORDINGS = cast(Table, Recording.__table__)

#: The ``calls`` columns a projection sets (the links, dispositions and id are not its own).
CALL_FIELDS = ("direction", "caller", "dialled", "started_at", "answered_at", "ended_at",
               "language", "ivr_path", "route", "ivr_outcome", "hangup_side", "missed",
               "miss_cause", "caller_name", "purpose")  # fmt: skip

_UPDATE_CALL = update(_CALLS).where(_CALLS.c.id == bindparam("old_id"))
_INSERT_CALL = insert(_CALLS).returning(_CALLS.c.id, _CALLS.c.call_key)
#: The new attempts' ids come back with their unique key (channel, queue, join), not in the
#: parameters' order: asking for that order makes SQLite insert one row per statement.
_INSERT_ATTEMPT = insert(_ATTEMPTS).returning(
    _ATTEMPTS.c.id, _ATTEMPTS.c.channel_id, _ATTEMPTS.c.queue, _ATTEMPTS.c.joined_at
)
_UPDATE_RECORDING = update(_RECORDINGS).where(_RECORDINGS.c.id == bindparam("old_id"))


@dataclass(frozen=True, slots=True)
class Projected:
    """A call as projected, and the call keys it supersedes: calls projected earlier from
    rows journaled under one of its channels before the channel → call mapping was known."""

    record: CallRecord
    superseded: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class _Stored:
    """What the store holds of a call before the batch (the values its links and hours
    depend on)."""

    id: int
    direction: Direction | str
    caller: str | None
    dialled: str | None
    started_at: datetime


def _chunks(keys: Sequence[Any]) -> Iterable[Sequence[Any]]:
    return (keys[start : start + CHUNK] for start in range(0, len(keys), CHUNK))


async def write_calls(writer: StoreWriter, batch: Sequence[Projected]) -> dict[str, int]:
    """Insert or update each call of ``batch``, replace its queue and ring attempts and its
    recording's reference, and delete the calls it supersedes.  A call that another of the
    batch supersedes is deleted, not written: its rows are the other call's.  Returns the
    written calls' ids by call key."""
    session = writer.session
    stale = set[str]().union(*(p.superseded - {p.record.call_key} for p in batch))
    records = {p.record.call_key: p.record for p in batch if p.record.call_key not in stale}
    stored = await _stored(session, sorted({*records, *stale}))
    joins = await _delete_attempts(session, sorted(s.id for s in stored.values()))
    for old in stored.values():
        writer.call_changed(old.direction, old.caller, old.dialled, old.started_at,
                            joins.get(old.id, ()))  # fmt: skip
    for chunk in _chunks(sorted(stale & stored.keys())):
        await session.execute(delete(_CALLS).where(_CALLS.c.call_key.in_(chunk)))
    ids = {key: stored[key].id for key in records if key in stored}
    if ids:
        await session.execute(_UPDATE_CALL, [
            {"old_id": ids[key], **_call_values(records[key])} for key in ids
        ])  # fmt: skip
    new = [records[key] for key in records if key not in ids]
    if new:
        result = await session.execute(_INSERT_CALL, [
            {"call_key": r.call_key, **_call_values(r)} for r in new
        ])  # fmt: skip
        ids.update((key, id_) for id_, key in result)
    await _insert_attempts(session, records, ids)
    await _write_recordings(session, records, ids)
    for record in records.values():
        writer.call_changed(record.direction, record.caller, record.dialled, record.started_at,
                            (a.joined_at for a in record.attempts))  # fmt: skip
    return ids


def _call_values(record: CallRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in CALL_FIELDS}


async def _stored(session: AsyncSession, keys: Sequence[str]) -> dict[str, _Stored]:
    found: dict[str, _Stored] = {}
    c = _CALLS.c
    for chunk in _chunks(keys):
        result = await session.execute(
            select(c.call_key, c.id, c.direction, c.caller, c.dialled, c.started_at)
            .where(c.call_key.in_(chunk))
        )  # fmt: skip
        for key, *values in result:
            found[key] = _Stored(*values)
    return found


async def _delete_attempts(
    session: AsyncSession, call_ids: Sequence[int]
) -> dict[int, list[datetime]]:
    """Delete the calls' queue and ring attempts; returns the joins of the attempts deleted,
    by call (the hours they leave must be summed again)."""
    joins: dict[int, list[datetime]] = {}
    c = _ATTEMPTS.c
    for chunk in _chunks(call_ids):
        attempts = select(c.id).where(c.call_id.in_(chunk))
        await session.execute(delete(_RINGS).where(_RINGS.c.queue_attempt_id.in_(attempts)))
        result = await session.execute(
            delete(_ATTEMPTS).where(c.call_id.in_(chunk)).returning(c.call_id, c.joined_at)
        )
        for call_id, joined_at in result:
            joins.setdefault(call_id, []).append(joined_at)
    return joins


async def _insert_attempts(
    session: AsyncSession, records: Mapping[str, CallRecord], ids: Mapping[str, int]
) -> None:
    attempts = [(ids[key], a) for key, record in records.items() for a in record.attempts]
    if not attempts:
        return
    result = await session.execute(_INSERT_ATTEMPT, [
        {"call_id": call_id, "channel_id": a.channel_id, "queue": a.queue,
         "joined_at": a.joined_at, "connected_at": a.connected_at, "left_at": a.left_at,
         "outcome": a.outcome, "wait_s": a.wait_s, "talk_s": a.talk_s, "agent": a.agent,
         "position": a.position, "original_position": a.original_position,
         "exit_key": a.exit_key, "priority": a.priority}
        for call_id, a in attempts
    ])  # fmt: skip
    attempt_ids = {(channel, queue, joined): id_ for id_, channel, queue, joined in result}
    rings = [
        {"queue_attempt_id": attempt_ids[a.channel_id, a.queue, a.joined_at],
         "member": r.member[:128], "rang_at": r.rang_at, "ring_ms": r.ring_ms,
         "answered": r.answered}
        for _, a in attempts
        for r in a.rings
    ]  # fmt: skip
    if rings:
        await session.execute(insert(_RINGS), rings)


async def _write_recordings(
    session: AsyncSession, records: Mapping[str, CallRecord], ids: Mapping[str, int]
) -> None:
    """Each answered call's ``recordings`` row, by its path.  Until the import step fills
    them in, ``size_bytes`` 0 and ``sha256`` '' mark a file not imported yet (the engine may
    still be writing it), and ``imported_at`` is the time recording began."""
    wanted: dict[str, dict[str, Any]] = {}
    for key, record in records.items():
        ref, started = record.recording, record.answered_at
        if ref is not None and started is not None:
            wanted[ref.path] = {"call_id": ids[key], "call_key": key, "format": ref.format,
                                "started_at": started}  # fmt: skip
    existing: dict[str, int] = {}
    for chunk in _chunks(sorted(wanted)):
        result = await session.execute(
            select(_RECORDINGS.c.path, _RECORDINGS.c.id).where(_RECORDINGS.c.path.in_(chunk))
        )
        existing.update((path, id_) for path, id_ in result)
    if existing:
        await session.execute(_UPDATE_RECORDING, [
            {"old_id": id_, **wanted[path]} for path, id_ in existing.items()
        ])  # fmt: skip
    new = [
        {"path": path, "size_bytes": 0, "sha256": "", "imported_at": values["started_at"],
         **values}
        for path, values in wanted.items() if path not in existing
    ]  # fmt: skip
    if new:
        await session.execute(insert(_RECORDINGS), new)
