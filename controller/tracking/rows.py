"""Journal entries in and out: what the tracker writes, and the plain rows the projector reads.

Payloads are JSON objects (times as ISO 8601 text) so that the journal stays readable and the
projector is a pure function of ``JournalRow`` values, testable without a database.

Kinds: an AMI event's class name (``QueueJoined``...), a queue_log event name (``ENTERQUEUE``,
``CLINICALL``...), ``ivr`` for an IVR outcome, ``channel`` for a channel → call mapping row
(key ``chan:<uniqueid>``, used to resolve queue_log lines of a channel to their call).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from clinicall.controller.asterisk.marks import ClinicallMark
from clinicall.controller.asterisk.queue_log import QueueLogRecord
from clinicall.controller.events import AnyEvent, CallEvent, ChannelCreated
from clinicall.db import JournalEntry
from clinicall.db.models import JournalSource
from clinicall.ivr.outcome import IvrOutcome
from clinicall.ivr.port import CallInfo

IVR_KIND = "ivr"
CHANNEL_KIND = "channel"


@dataclass(frozen=True, slots=True)
class JournalRow:
    """One journal row as the projector sees it.  ``id`` only breaks ties between equal times."""

    source: str
    kind: str
    at: datetime
    key: str
    payload: Mapping[str, Any]
    id: int = 0


def channel_key(uniqueid: str) -> str:
    return f"chan:{uniqueid}"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _fields(obj: Any, *skip: str) -> dict[str, Any]:
    return {
        f.name: _jsonable(getattr(obj, f.name))
        for f in dataclasses.fields(obj)
        if f.name not in skip
    }


def ami_entries(event: AnyEvent) -> list[JournalEntry]:
    """The journal entries of one normalized AMI event (a channel mapping row for a new one)."""
    call_key = event.linkedid if isinstance(event, CallEvent) else None
    entry = JournalEntry(
        key=f"ami:{event.key}",
        source=JournalSource.AMI,
        at=event.at,
        kind=type(event).__name__,
        payload=_fields(event, "key", "at"),
        call_key=call_key,
    )
    if not isinstance(event, ChannelCreated):
        return [entry]
    return [entry, channel_entry(event.uniqueid, event.linkedid, event.at, JournalSource.AMI)]


def channel_entry(
    uniqueid: str, linkedid: str, at: datetime, source: JournalSource
) -> JournalEntry:
    return JournalEntry(
        key=channel_key(uniqueid),
        source=source,
        at=at,
        kind=CHANNEL_KIND,
        payload={"uniqueid": uniqueid, "linkedid": linkedid},
        call_key=linkedid,
    )


def queue_log_entry(record: QueueLogRecord, call_key: str | None) -> JournalEntry:
    """``call_key``: the record's call (linkedid) if known, else its channel; None when the
    record is not about a call (member and queue events, uniqueid NONE)."""
    return JournalEntry(
        key=record.key,
        source=JournalSource.QUEUE_LOG,
        at=record.at,
        kind=record.event[:64],
        payload=_fields(record, "key", "at"),
        call_key=call_key,
    )


def mark_channel_entry(mark: ClinicallMark) -> JournalEntry:
    return channel_entry(mark.uniqueid, mark.linkedid, mark.at, JournalSource.QUEUE_LOG)


def ivr_entries(
    info: CallInfo, outcome: IvrOutcome, started_at: datetime, ended_at: datetime
) -> list[JournalEntry]:
    """The IVR's account of a call (key ``ivr:<linkedid>``: one per call) and its channel row."""
    request = outcome.request
    payload = {
        "linkedid": info.call_id,
        "uniqueid": info.channel_id,
        "caller": info.caller_number,
        "caller_name": info.caller_name,
        "dialled": info.dialled_number,
        "engine": info.engine,
        "started_at": started_at.isoformat(),
        "ended_at": ended_at.isoformat(),
        "outcome": outcome.outcome,
        "language": outcome.language,
        "path": outcome.path,
        "route": outcome.route,
        "queue": request.queue if request else None,
        "priority": request.priority if request else 0,
    }
    entry = JournalEntry(
        key=f"ivr:{info.call_id}",
        source=JournalSource.AGI,
        at=started_at,
        kind=IVR_KIND,
        payload=payload,
        call_key=info.call_id,
    )
    return [entry, channel_entry(info.channel_id, info.call_id, started_at, JournalSource.AGI)]


def row_of(entry: JournalEntry, id_: int = 0) -> JournalRow:
    """The row an entry becomes once journaled (for pure tests and for the tracker's cache)."""
    return JournalRow(
        source=str(entry.source), kind=entry.kind, at=entry.at, key=entry.key,
        payload=entry.payload, id=id_,
    )  # fmt: skip
