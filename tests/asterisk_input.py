"""AMI frames and queue_log lines as Asterisk 22 writes them, decoded by the Asterisk adapter's
own decoders into neutral facts and journaled by the tracker's own entry functions into rows.

queue_log lines follow docs/engines/asterisk.md (``epoch|uniqueid|queue|agent|EVENT|data...``)
plus the dialplan's CLINICALL line; AMI frames carry the headers Asterisk 22 sends, in the
sequences docs/engines/asterisk.md lists.  Numbers are fictitious.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.ami_facts import AmiFactDecoder
from clinicall.controller.asterisk.queue_log import parse_line
from clinicall.controller.asterisk.record_facts import decode_record
from clinicall.controller.facts import Fact
from clinicall.controller.tracking.rows import JournalRow, call_key_of, fact_entries, row_of

T0 = 1763900000  # 2025-11-23T12:13:20Z
UID = "1763900000.12"
CALLER = "0501234567"
CLINIC = "+380441234567"
_ids = count(1)  # journal ids: rows keep the order they were written in


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(T0, UTC) + timedelta(seconds=seconds)


def rows_of(facts: list[Fact]) -> list[JournalRow]:
    return [row_of(e, next(_ids)) for f in facts for e in fact_entries(f, call_key_of(f))]


def ql_rows(text: str, uniqueid: str = UID) -> list[JournalRow]:
    """queue_log rows from lines written as ``+<seconds>|<queue>|<agent>|<EVENT>|<data>``."""
    facts: list[Fact] = []
    offset = 0
    for number, line in enumerate(text.strip().splitlines(), 1):
        rel, rest = line.strip().split("|", 1)
        raw = f"{T0 + int(rel)}|{uniqueid}|{rest}".encode()
        facts += decode_record(parse_line(raw, offset=offset, line_no=number))
        offset += len(raw) + 1
    return rows_of(facts)


def mark(rel: int, queue: str, outcome: str = "queue", linkedid: str = UID) -> str:
    facts = f"{linkedid}|{outcome}|uk|cardio|lang:1/main:2|{CALLER}|{CLINIC}"
    return f"+{rel}|{queue}|NONE|CLINICALL|{facts}"


class Ami:
    """AMI frames of one caller channel, as Asterisk 22 sends them (``timestampevents``)."""

    def __init__(self, uniqueid: str = UID, linkedid: str = UID, *, t0: float = T0) -> None:
        self.uniqueid, self.linkedid, self.t0 = uniqueid, linkedid, t0
        self.frames: list[Message] = []

    def add(self, event: str, seconds: float, **headers: str | int) -> Ami:
        base = [("Event", event), ("Timestamp", f"{self.t0 + seconds:.6f}"),
                ("Channel", "PJSIP/trunk-00000007"), ("CallerIDNum", CALLER),
                ("CallerIDName", "Олена Коваленко"), ("Exten", "0441234567"),
                ("Context", "clinicall-in"), ("Uniqueid", self.uniqueid),
                ("Linkedid", self.linkedid)]  # fmt: skip
        extra = [(name.replace("_", "-"), str(value)) for name, value in headers.items()]
        self.frames.append(Message(base + extra))
        return self

    def created(self, s: float) -> Ami:
        return self.add("Newchannel", s)

    def join(self, s: float, queue: str, position: int = 1) -> Ami:
        return self.add("QueueCallerJoin", s, Queue=queue, Position=position)

    def called(self, s: float, queue: str, member: str) -> Ami:
        return self.add("AgentCalled", s, Queue=queue, Interface=f"PJSIP/{member}",
                        MemberName=member)  # fmt: skip

    def no_answer(self, s: float, queue: str, member: str, ms: int) -> Ami:
        return self.add("AgentRingNoAnswer", s, Queue=queue, Interface=f"PJSIP/{member}",
                        MemberName=member, RingTime=ms)  # fmt: skip

    def leave(self, s: float, queue: str, position: int = 1) -> Ami:
        return self.add("QueueCallerLeave", s, Queue=queue, Position=position)

    def abandon(self, s: float, queue: str, hold: int) -> Ami:
        return self.add("QueueCallerAbandon", s, Queue=queue, Position=1, OriginalPosition=1,
                        HoldTime=hold)  # fmt: skip

    def connect(self, s: float, queue: str, member: str, hold: int, ring: int) -> Ami:
        return self.add("AgentConnect", s, Queue=queue, Interface=f"PJSIP/{member}",
                        MemberName=member, HoldTime=hold, RingTime=ring)  # fmt: skip

    def complete(self, s: float, queue: str, member: str, hold: int, talk: int, by: str) -> Ami:
        return self.add("AgentComplete", s, Queue=queue, Interface=f"PJSIP/{member}",
                        MemberName=member, HoldTime=hold, TalkTime=talk, Reason=by)  # fmt: skip

    def var(self, s: float, name: str, value: str) -> Ami:
        return self.add("VarSet", s, Variable=name, Value=value)

    def soft_hangup(self, s: float, flags: int) -> Ami:
        """Asterisk asks the channel to hang up; flag 4 is its own shutdown."""
        return self.add("SoftHangupRequest", s, Cause=flags)

    def hangup(self, s: float, cause: int = 16) -> Ami:
        return self.add("Hangup", s, Cause=cause, Cause_txt="Normal Clearing")

    def facts(self) -> list[Fact]:
        decoder = AmiFactDecoder()
        return [fact for frame in self.frames for fact in decoder.decode(frame)]

    def rows(self) -> list[JournalRow]:
        return rows_of(self.facts())
