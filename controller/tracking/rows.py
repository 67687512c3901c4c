"""Journal entries in and out: what the tracker writes, and the plain rows the projector reads.

Every engine fact is journaled under its own kind (``codec``); the controller adds two kinds
of its own: ``ivr.outcome`` (the IVR's account of a call, one per call) and the channel → call
mapping rows (``call.channel``, key ``chan:<channel_id>``), which resolve facts that name only
a channel (a durable record's lines) to their call, across restarts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clinicall.calltypes import CallInfo, IvrOutcome
from clinicall.controller.facts import CallFact, ChannelOfCall, ChannelOpened, EngineLink, Fact
from clinicall.controller.tracking.codec import encode
from clinicall.db import JournalEntry
from clinicall.db.models import JournalSource

IVR_KIND = "ivr.outcome"
IVR_VERSION = 1
CHANNEL_KIND = ChannelOfCall.KIND


@dataclass(frozen=True, slots=True)
class JournalRow:
    """One journal row as the projector sees it.  ``id`` only breaks ties between equal times."""

    source: str
    kind: str
    at: datetime
    key: str
    payload: Mapping[str, Any]
    id: int = 0


def channel_key(channel_id: str) -> str:
    return f"chan:{channel_id}"


def source_of(fact: Fact) -> JournalSource:
    return JournalSource.RECORD if fact.durable else JournalSource.LIVE


def fact_entries(fact: Fact, call_key: str | None) -> list[JournalEntry]:
    """The journal entries of one fact: the fact, and a channel mapping row for a channel
    first seen with its call.  ``call_key``: the fact's call (or its channel while the call is
    unknown); None for facts about no call (operators, the link)."""
    entry = JournalEntry(key=fact.key, source=source_of(fact), at=fact.at, kind=fact.KIND,
                         payload=encode(fact), call_key=call_key)  # fmt: skip
    if isinstance(fact, ChannelOpened) and fact.call_id and fact.channel_id:
        return [entry, channel_entry(fact.channel_id, fact.call_id, fact.at, source_of(fact))]
    return [entry]


def channel_entry(
    channel_id: str, call_id: str, at: datetime, source: JournalSource
) -> JournalEntry:
    fact = ChannelOfCall(key=channel_key(channel_id), at=at, call_id=call_id,
                         channel_id=channel_id, durable=source == JournalSource.RECORD)  # fmt: skip
    return JournalEntry(key=fact.key, source=source, at=at, kind=fact.KIND, payload=encode(fact),
                        call_key=call_id)  # fmt: skip


def journaled(fact: Fact) -> bool:
    """Facts about calls and the engine link go to the journal; operators' states are the
    live view's only (the durable record keeps members' log-ins and pauses)."""
    return isinstance(fact, CallFact | EngineLink) or fact.durable


def call_key_of(fact: Fact) -> str | None:
    if isinstance(fact, CallFact):
        return fact.call_id or fact.channel_id or None
    return None


def ivr_entries(
    info: CallInfo, outcome: IvrOutcome, started_at: datetime, ended_at: datetime
) -> list[JournalEntry]:
    """The IVR's account of a call (key ``ivr:<call_id>``: one per call) and its channel row."""
    request = outcome.request
    payload = {
        "v": IVR_VERSION,
        "call_id": info.call_id,
        "channel_id": info.channel_id,
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
        source=JournalSource.IVR,
        at=started_at,
        kind=IVR_KIND,
        payload=payload,
        call_key=info.call_id,
    )
    return [entry, channel_entry(info.channel_id, info.call_id, started_at, JournalSource.IVR)]


def row_of(entry: JournalEntry, id_: int = 0) -> JournalRow:
    """The row an entry becomes once journaled (for pure tests and for the tracker's cache)."""
    return JournalRow(
        source=str(entry.source), kind=entry.kind, at=entry.at, key=entry.key,
        payload=entry.payload, id=id_,
    )  # fmt: skip
