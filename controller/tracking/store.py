"""The thin database layer of call tracking: read a call's journal rows, write its projection.

A call's rows are those whose ``call_key`` is its call id, plus any journaled under one of its
channels' ids before the channel → call mapping was known.  The mapping itself is kept in the
journal as ``chan:<channel_id>`` rows (``call.channel``: from the engine's channel facts, its
durable record's routing mark and the IVR), so it survives restarts and is found by its key.

``project_calls`` reads a batch's rows, projects each call once and writes them all set-wise
(``calls_write``): the ``calls`` row is kept (and its id, which recordings, callbacks,
complaints and surveys point at) and the call's queue and ring attempts are replaced, all in
the caller's transaction and through a ``StoreWriter`` (``clinicall.db.writer``), which
refreshes the call links and the reports' hourly marks for the whole batch: re-projecting is
idempotent.  An answered call's recording reference becomes one ``recordings`` row, found by
its path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.controller.tracking.calls_write import Projected, write_calls
from clinicall.controller.tracking.config import TrackingConfig
from clinicall.controller.tracking.project import CallRecord, project_call
from clinicall.controller.tracking.rows import JournalRow, channel_key
from clinicall.db.models import (
    Call,
    IngestState,
    JournalEvent,
)
from clinicall.db.writer import StoreWriter

CHUNK = 500  # keys per IN (...) list


#: The columns a ``JournalRow`` is made of, in its fields' order.
_ROW_COLUMNS = (JournalEvent.source, JournalEvent.kind, JournalEvent.at, JournalEvent.key,
                JournalEvent.payload, JournalEvent.id)  # fmt: skip


def _channels_named(rows: Iterable[JournalRow], call_key: str) -> set[str]:
    return {str(r.payload.get("channel_id") or "") for r in rows} - {"", call_key}


async def _journal_where(
    session: AsyncSession, call_keys: Sequence[str]
) -> list[tuple[str, JournalRow]]:
    """The journal rows under ``call_keys``, each with its call key.  Read as columns, not ORM
    objects: every flush re-reads each touched call's rows, and an ORM instance per row
    (identity map, attribute state) cost more than the query."""
    found: list[tuple[str, JournalRow]] = []
    for start in range(0, len(call_keys), CHUNK):
        chunk = call_keys[start : start + CHUNK]
        result = await session.execute(
            select(JournalEvent.call_key, *_ROW_COLUMNS).where(JournalEvent.call_key.in_(chunk))
        )
        found.extend(
            (call_key, JournalRow(source=str(source), kind=kind, at=at, key=key,
                                  payload=payload, id=id_))
            for call_key, source, kind, at, key, payload, id_ in result
        )  # fmt: skip
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
    their journal rows; returns how many calls were written.

    Set-wise (issue 16): the calls' rows are read in one query (two when rows were journaled
    under a channel's id), each call is projected once, and the batch is written in a fixed
    number of statements (``calls_write``)."""
    keys = set(call_keys)
    mapped = await calls_of_channels(session, keys)
    calls = sorted({mapped.get(k, k) for k in keys})
    rows = _by_call(await _journal_where(session, calls))
    named = {key: _channels_named(rows.get(key, ()), key) for key in calls}
    channels = sorted(set[str]().union(*named.values()) - set(calls))
    rows.update(_by_call(await _journal_where(session, channels)))
    batch: list[Projected] = []
    for key in calls:
        own = [*rows.get(key, ()), *(r for c in sorted(named[key]) for r in rows.get(c, ()))]
        record = project_call(key, own, config)
        if record is not None:
            batch.append(Projected(record, frozenset(_channels_named(own, key))))
    async with StoreWriter(session) as writer:
        written = await write_calls(writer, batch)
    return len(written)


def _by_call(rows: Iterable[tuple[str, JournalRow]]) -> dict[str, list[JournalRow]]:
    found: dict[str, list[JournalRow]] = {}
    for call_key, row in rows:
        found.setdefault(call_key, []).append(row)
    return found


async def write_call(
    writer: StoreWriter, record: CallRecord, *, superseded: Iterable[str] = ()
) -> int:
    """Insert or update one call and replace its attempts (``calls_write.write_calls`` for a
    batch of one); returns the call's id.  ``superseded``: call keys of calls projected
    earlier from rows that turned out to belong to this one (deleted)."""
    ids = await write_calls(writer, [Projected(record, frozenset(superseded))])
    return ids[record.call_key]


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
