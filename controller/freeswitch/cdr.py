"""FreeSWITCH's durable record for the account: mod_cdr_csv's ``clinicall.csv``, one line per
clinic call, written when the call ends whether or not the controller was connected
(docs/engines/freeswitch.md, "The durable record").

``decode_line`` (sans-IO) turns one line's fields into durable facts, as Asterisk's queue_log
lines become them (controller/asterisk/record_facts.py): the channel's call, what the IVR (or
the dialplan's fail-open) decided, and the caller's stay in mod_callcenter's queue; on a
callback's operator leg, that the patient answered (``CLINICALL_OUTCOME=callback_answered``,
as Asterisk's ``CLINICALLCB`` line).  The line
holds the caller's *last* queue only (mod_callcenter keeps its ``cc_*`` variables for one
queue): an earlier queue of an overflowed call is known from the live events only.
``CdrRecord`` reads the file from a cursor (byte offset and inode; a new inode or a shorter
file is read from its top) in complete lines, off the event loop.
"""

from __future__ import annotations

import asyncio
import csv
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict

from clinicall.agi_scripts import variables as v
from clinicall.controller.facts import (
    CallDataSet,
    CallRouted,
    ChannelOfCall,
    Fact,
    HungUpBy,
    LeaveReason,
    QueueAnswered,
    QueueCompleted,
    QueueJoined,
    QueueLeft,
)
from clinicall.controller.freeswitch.queue_wait import left_by_key
from clinicall.controller.port import CALLBACK_ANSWERED, ReconcileBatch

logger = logging.getLogger(__name__)

RECORD_NAME = "freeswitch_cdr"
#: The ``clinicall`` CDR template's columns, in order (clinicall/freeswitch_config writes the
#: template from this tuple, so the writer and the reader cannot drift apart).
FIELDS: tuple[str, ...] = (
    "uuid", "bleg_uuid", "caller_id_number", "destination_number", "CLINICALL_DIALLED",
    "start_epoch", "answer_epoch", "end_epoch", "hangup_cause", "sip_hangup_disposition",
    v.CLINICALL_OUTCOME, v.CLINICALL_LANG, v.CLINICALL_ROUTE, v.CLINICALL_PATH,
    v.CLINICALL_QUEUE,
    "cc_queue", "cc_member_uuid", "cc_queue_joined_epoch", "cc_queue_answered_epoch",
    "cc_queue_terminated_epoch", "cc_queue_canceled_epoch", "cc_cause", "cc_cancel_reason",
    "cc_agent", "cc_record_filename",
    "cc_exit_key",  # last: a line of the template before it had one column fewer
)  # fmt: skip
#: ``cc_cancel_reason`` of a stay that ended unanswered → why (the live events' mapping); a
#: stay left by key (``EXIT_WITH_KEY``) is told by its ``cc_exit_key``
#: (controller/freeswitch/queue_wait.py: the route's wait timer, or the callback offer).
CANCEL_REASONS = {"BREAK_OUT": LeaveReason.ABANDON, "TIMEOUT": LeaveReason.TIMEOUT,
                  "NO_AGENT_TIMEOUT": LeaveReason.EMPTY}
EXIT_WITH_KEY = "EXIT_WITH_KEY"
#: The columns of the template before ``cc_exit_key`` joined it, read as lines without one.
FIELDS_BEFORE_EXIT_KEY = FIELDS[:-1]
ROUTED_OUTCOMES = ("queue", "fallback")
MAX_READ = 1 << 20  # bytes per batch
_EPOCH = re.compile(r"[0-9]{1,12}")


class _Ids(TypedDict):
    durable: bool
    seq: int
    call_id: str
    channel_id: str


class MalformedCdrLine(ValueError):
    """A line that is not the template's (the message names the column, never a value)."""


def _epoch(fields: Mapping[str, str], name: str) -> int | None:
    value = fields.get(name, "")
    if not value or value == "0":
        return None
    if not _EPOCH.fullmatch(value):
        raise MalformedCdrLine(f"column {name} is not an epoch")
    return int(value)


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def parse_line(line: str) -> dict[str, str]:
    """One CSV line of the template as {column: value}."""
    (row,) = list(csv.reader([line])) or [[]]
    if len(row) == len(FIELDS_BEFORE_EXIT_KEY):  # written before the template had the key
        return dict(zip(FIELDS_BEFORE_EXIT_KEY, row, strict=True))
    if len(row) != len(FIELDS):
        raise MalformedCdrLine(f"{len(row)} columns, the template has {len(FIELDS)}")
    return dict(zip(FIELDS, row, strict=True))


def decode_line(fields: Mapping[str, str], offset: int, *, queue_domain: str) -> list[Fact]:
    """The durable facts of one call's line (``offset``: its place in the file)."""
    channel = fields.get("uuid", "")
    start = _epoch(fields, "start_epoch")
    if not channel or start is None:
        raise MalformedCdrLine("uuid or start_epoch is empty")
    base = _Ids(durable=True, seq=offset, call_id=channel, channel_id=channel)
    facts: list[Fact] = [ChannelOfCall(key=f"cdr:{channel}:call", at=_at(start), **base)]
    outcome = fields.get(v.CLINICALL_OUTCOME, "")
    if outcome in ROUTED_OUTCOMES and fields.get(v.CLINICALL_QUEUE):
        facts.append(CallRouted(
            key=f"cdr:{channel}:routed", at=_at(start), **base,
            queue=fields[v.CLINICALL_QUEUE], outcome=outcome,
            language=fields.get(v.CLINICALL_LANG, ""), route=fields.get(v.CLINICALL_ROUTE, ""),
            path=fields.get(v.CLINICALL_PATH, ""), caller=fields.get("caller_id_number", ""),
            dialled=fields.get("CLINICALL_DIALLED", "")))  # fmt: skip
    elif outcome == CALLBACK_ANSWERED:  # the callback's patient answered (the operator's leg)
        answered_at = _epoch(fields, "end_epoch") or start
        facts.append(CallDataSet(key=f"cdr:{channel}:callback", at=_at(answered_at), **base,
                                 name="outcome", value=CALLBACK_ANSWERED))  # fmt: skip
    joined = _epoch(fields, "cc_queue_joined_epoch")
    queue = fields.get("cc_queue", "").removesuffix(f"@{queue_domain}")
    if joined is None or not queue:
        return facts
    stay = _Ids(durable=True, seq=offset, call_id="", channel_id=channel)  # as queue_log
    facts.append(QueueJoined(key=f"cdr:{channel}:joined", at=_at(joined), **stay, queue=queue,
                             caller_number=fields.get("caller_id_number", "")))  # fmt: skip
    answered = _epoch(fields, "cc_queue_answered_epoch")
    agent = fields.get("cc_agent", "")
    if answered is not None and agent:
        ended = _epoch(fields, "cc_queue_terminated_epoch") or _epoch(fields, "end_epoch")
        wait_ms = max(0, answered - joined) * 1000
        facts.append(QueueAnswered(key=f"cdr:{channel}:answered", at=_at(answered), **stay,
                                   queue=queue, member=agent, wait_ms=wait_ms))  # fmt: skip
        if ended is not None:
            # the caller's leg hung up first when FreeSWITCH saw the caller send the BYE
            by_caller = fields.get("sip_hangup_disposition", "").startswith("recv_")
            facts.append(QueueCompleted(
                key=f"cdr:{channel}:completed", at=_at(ended), **stay, queue=queue,
                member=agent, wait_ms=wait_ms, talk_ms=max(0, ended - answered) * 1000,
                hung_up_by=HungUpBy.CALLER if by_caller else HungUpBy.AGENT))  # fmt: skip
        return facts
    left = _epoch(fields, "cc_queue_canceled_epoch") or _epoch(fields, "end_epoch")
    if left is not None:
        cancel = fields.get("cc_cancel_reason", "")
        reason, exit_key = (left_by_key(fields.get("cc_exit_key")) if cancel == EXIT_WITH_KEY
                            else (CANCEL_REASONS.get(cancel), None))  # fmt: skip
        facts.append(QueueLeft(
            key=f"cdr:{channel}:left", at=_at(left), **stay, queue=queue, reason=reason,
            wait_ms=max(0, left - joined) * 1000, exit_key=exit_key))  # fmt: skip
    return facts


@dataclass(frozen=True, slots=True)
class CdrChunk:
    lines: Sequence[tuple[int, str]]  # (offset, text) of complete lines
    offset: int  # after the last complete line
    inode: int
    more: bool


def read_lines(path: Path, offset: int, inode: int, limit: int = MAX_READ) -> CdrChunk:
    """The complete lines after ``offset`` (from the top when the file is another one or
    shorter than ``offset``).  Blocking: run it in a thread."""
    try:
        with path.open("rb") as file:
            stat = os.fstat(file.fileno())
            if stat.st_ino != inode or stat.st_size < offset:
                offset = 0
            file.seek(offset)
            data = file.read(limit)
    except FileNotFoundError:
        return CdrChunk((), 0, 0, False)
    end = data.rfind(b"\n") + 1  # a line still being written waits for its end
    lines: list[tuple[int, str]] = []
    position = offset
    for raw in data[:end].splitlines(keepends=True):
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
        if text:
            lines.append((position, text))
        position += len(raw)
    more = len(data) == limit and stat.st_size > offset + end
    return CdrChunk(lines, offset + end, stat.st_ino, more)


class CdrRecord:
    """Reads ``<cdr dir>/clinicall.csv`` for the account (``CallTracker``'s
    ``DurableRecord``)."""

    record_name = RECORD_NAME

    def __init__(self, path: str | os.PathLike[str], *, queue_domain: str) -> None:
        self.path = Path(path)
        self.queue_domain = queue_domain

    async def reconcile(self, cursor: Mapping[str, Any] | None) -> ReconcileBatch:
        offset = int((cursor or {}).get("offset", 0))
        inode = int((cursor or {}).get("inode", 0))
        chunk = await asyncio.to_thread(read_lines, self.path, offset, inode)
        facts: list[Fact] = []
        skipped = 0
        for position, text in chunk.lines:
            try:
                facts += decode_line(parse_line(text), position, queue_domain=self.queue_domain)
            except (MalformedCdrLine, csv.Error) as error:
                if not skipped:
                    logger.warning("CDR line at byte %d skipped: %s", position, error)
                skipped += 1
        return ReconcileBatch(facts, {"offset": chunk.offset, "inode": chunk.inode},
                              more=chunk.more, skipped=skipped)  # fmt: skip
