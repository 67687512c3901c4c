"""Realistic journal rows of single calls, built through the tracker's own entry functions.

queue_log lines follow docs/engines/asterisk.md (``epoch|uniqueid|queue|agent|EVENT|data...``) plus
the dialplan's CLINICALL line; AMI events are the normalized ``controller.events`` values with the
sequences docs/engines/asterisk.md lists.  Numbers are fictitious.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count

from clinicall.controller.asterisk.queue_log import parse_line
from clinicall.controller.events import (
    AgentCalled,
    AgentCompleted,
    AgentConnected,
    AgentRingNoAnswer,
    AnyEvent,
    ChannelCreated,
    ChannelHungUp,
    QueueAbandoned,
    QueueJoined,
    QueueLeft,
    VariableSet,
)
from clinicall.controller.tracking.rows import (
    JournalRow,
    ami_entries,
    ivr_entries,
    queue_log_entry,
    row_of,
)
from clinicall.ivr.outcome import IvrOutcome, Outcome
from clinicall.ivr.port import CallInfo, QueueRequest

T0 = 1763900000  # 2025-11-23T12:13:20Z
UID = "1763900000.12"
CALLER = "0501234567"
CLINIC = "+380441234567"


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(T0, UTC) + timedelta(seconds=seconds)


def ql_rows(text: str, uniqueid: str = UID) -> list[JournalRow]:
    """queue_log rows from lines written as ``+<seconds>|<queue>|<agent>|<EVENT>|<data>``."""
    rows: list[JournalRow] = []
    offset = 0
    for line in text.strip().splitlines():
        rel, rest = line.strip().split("|", 1)
        raw = f"{T0 + int(rel)}|{uniqueid}|{rest}".encode()
        record = parse_line(raw, offset=offset, line_no=len(rows) + 1)
        rows.append(row_of(queue_log_entry(record, uniqueid)))
        offset += len(raw) + 1
    return rows


def mark(rel: int, queue: str, outcome: str = "queue", linkedid: str = UID) -> str:
    facts = f"{linkedid}|{outcome}|uk|cardio|lang:1/main:2|{CALLER}|{CLINIC}"
    return f"+{rel}|{queue}|NONE|CLINICALL|{facts}"


class Ami:
    """Builds normalized AMI events of one caller channel with increasing keys."""

    def __init__(self, uniqueid: str = UID, linkedid: str = UID) -> None:
        self.uniqueid, self.linkedid = uniqueid, linkedid
        self._n: Iterator[int] = count()
        self.events: list[AnyEvent] = []

    def _base(self, seconds: float) -> dict[str, object]:
        return {"key": f"k{self.uniqueid}-{next(self._n)}", "at": at(seconds),
                "uniqueid": self.uniqueid, "linkedid": self.linkedid}  # fmt: skip

    def add(self, event: AnyEvent) -> Ami:
        self.events.append(event)
        return self

    def created(self, s: float) -> Ami:
        return self.add(ChannelCreated(**self._base(s), channel="PJSIP/trunk-00000007",  # type: ignore[arg-type]
                                       caller_number=CALLER, caller_name="Олена Коваленко",
                                       exten="0441234567", context="clinicall-in"))  # fmt: skip

    def join(self, s: float, queue: str, position: int = 1) -> Ami:
        return self.add(QueueJoined(**self._base(s), queue=queue, position=position,  # type: ignore[arg-type]
                                    caller_number=CALLER))  # fmt: skip

    def called(self, s: float, queue: str, member: str) -> Ami:
        return self.add(AgentCalled(**self._base(s), queue=queue, member=f"PJSIP/{member}",  # type: ignore[arg-type]
                                    member_name=member))  # fmt: skip

    def no_answer(self, s: float, queue: str, member: str, ms: int) -> Ami:
        return self.add(AgentRingNoAnswer(**self._base(s), queue=queue, member=f"PJSIP/{member}",  # type: ignore[arg-type]
                                          member_name=member, ring_ms=ms))  # fmt: skip

    def leave(self, s: float, queue: str, position: int = 1) -> Ami:
        return self.add(QueueLeft(**self._base(s), queue=queue, position=position))  # type: ignore[arg-type]

    def abandon(self, s: float, queue: str, hold: int) -> Ami:
        return self.add(QueueAbandoned(**self._base(s), queue=queue, position=1,  # type: ignore[arg-type]
                                       original_position=1, hold_s=hold))  # fmt: skip

    def connect(self, s: float, queue: str, member: str, hold: int, ring: int) -> Ami:
        return self.add(AgentConnected(**self._base(s), queue=queue, member=f"PJSIP/{member}",  # type: ignore[arg-type]
                                       member_name=member, hold_s=hold, ring_s=ring))  # fmt: skip

    def complete(self, s: float, queue: str, member: str, hold: int, talk: int, by: str) -> Ami:
        return self.add(AgentCompleted(**self._base(s), queue=queue, member=f"PJSIP/{member}",  # type: ignore[arg-type]
                                       member_name=member, hold_s=hold, talk_s=talk,
                                       hung_up_by=by))  # fmt: skip

    def var(self, s: float, name: str, value: str) -> Ami:
        return self.add(VariableSet(**self._base(s), name=name, value=value))  # type: ignore[arg-type]

    def hangup(self, s: float, cause: int = 16) -> Ami:
        return self.add(ChannelHungUp(**self._base(s), channel="PJSIP/trunk-00000007",  # type: ignore[arg-type]
                                      cause=cause, cause_text="Normal Clearing"))  # fmt: skip

    def rows(self) -> list[JournalRow]:
        ids = count(1)
        return [row_of(e, next(ids)) for ev in self.events for e in ami_entries(ev)]


def ivr_rows(
    outcome: Outcome,
    *,
    queue: str | None = "cardiology",
    priority: int = 2,
    started: float = 1,
    ended: float = 9,
    linkedid: str = UID,
) -> list[JournalRow]:
    info = CallInfo(
        call_id=linkedid,
        channel_id=linkedid,
        caller_number=CALLER,
        caller_name="Олена Коваленко",
        dialled_number=CLINIC,
        engine="asterisk",
    )
    request = None
    if queue is not None:
        request = QueueRequest(queue=queue, priority=priority, max_wait_s=30,
                               overflow_queue="general", language="uk",
                               path="lang:1/main:2", route="cardio")  # fmt: skip
    result = IvrOutcome(language="uk", path="lang:1/main:2", route="cardio" if queue else None,
                        request=request, outcome=outcome)  # fmt: skip
    return [row_of(e) for e in ivr_entries(info, result, at(started), at(ended))]
