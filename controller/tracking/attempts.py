"""Queue attempts from journal rows: from queue_log, from AMI, and the two merged.

queue_log is the durable account (Asterisk writes it whether or not the controller listens), so
its facts win; AMI fills an attempt whose queue_log lines are not read yet.  The two describe
the same attempt when they agree on channel, queue and join time (within ``MATCH_S``), so an
attempt is never counted twice.  Waits and talk times are Asterisk's own whole-second figures
(holdtime, waittime, talktime) from either source, so both give the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from clinicall.controller.tracking.rows import JournalRow
from clinicall.db.models import QueueOutcome

MATCH_S = 3.0  # AMI and queue_log join times of one attempt differ by under a second

QL_LEFT = {
    "ABANDON": QueueOutcome.ABANDONED,
    "EXITWITHTIMEOUT": QueueOutcome.TIMEOUT,
    "EXITEMPTY": QueueOutcome.EMPTY,
    "EXITWITHKEY": QueueOutcome.EXIT_KEY,
}
QL_DONE = frozenset({"COMPLETECALLER", "COMPLETEAGENT", "TRANSFER", "BLINDTRANSFER",
                     "ATTENDEDTRANSFER"})  # fmt: skip
#: QUEUESTATUS after Queue() returns: tells a timeout (which AMI also reports as
#: QueueCallerAbandon, docs/engines/asterisk.md) and an empty queue apart from an abandon.
QUEUESTATUS_OUTCOME = {
    "TIMEOUT": QueueOutcome.TIMEOUT,
    "LEAVEEMPTY": QueueOutcome.EMPTY,
    "JOINEMPTY": QueueOutcome.EMPTY,
    "LEAVEUNAVAIL": QueueOutcome.EMPTY,
    "JOINUNAVAIL": QueueOutcome.EMPTY,
}


@dataclass(frozen=True, slots=True)
class RingRecord:
    member: str
    rang_at: datetime
    ring_ms: int | None
    answered: bool


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One stay in one queue.  ``ended_at`` (complete or leave) and ``hung_up_by`` are not
    stored on the attempt; the call uses them."""

    uniqueid: str
    queue: str
    joined_at: datetime
    connected_at: datetime | None = None
    left_at: datetime | None = None
    outcome: QueueOutcome | None = None
    wait_s: float | None = None
    talk_s: float | None = None
    agent: str | None = None
    position: int | None = None
    original_position: int | None = None
    exit_key: str | None = None
    priority: int = 0
    rings: tuple[RingRecord, ...] = ()
    ended_at: datetime | None = None
    hung_up_by: str | None = None

    @property
    def closed(self) -> bool:
        return self.outcome is not None and (
            self.outcome != QueueOutcome.ANSWERED or self.ended_at is not None
        )


@dataclass(slots=True)
class _Open:
    """An attempt being built while its rows are walked."""

    values: dict[str, Any]
    rings: list[RingRecord] = field(default_factory=list)

    def freeze(self) -> AttemptRecord:
        return AttemptRecord(**self.values, rings=tuple(self.rings))


def _int(payload: Mapping[str, Any], name: str) -> int | None:
    value = payload.get(name)
    return value if isinstance(value, int) else None


# ---- queue_log -----------------------------------------------------------------------------


def from_queue_log(rows: Iterable[JournalRow]) -> list[AttemptRecord]:
    """Attempts from queue_log rows (any order; sorted by time, then file position)."""
    ordered = sorted(rows, key=lambda r: (r.at, r.payload.get("offset", 0), r.key))
    done: list[_Open] = []
    current: dict[tuple[str, str], _Open] = {}
    for row in ordered:
        p = row.payload
        where = (str(p.get("uniqueid", "")), str(p.get("queue", "")))
        if row.kind == "ENTERQUEUE":
            attempt = _Open({"uniqueid": where[0], "queue": where[1], "joined_at": row.at,
                             "original_position": _int(p, "position")})  # fmt: skip
            current[where] = attempt
            done.append(attempt)
        elif (attempt_or_none := current.get(where)) is not None:
            _apply_ql(attempt_or_none, row)
    return [a.freeze() for a in done]


def _apply_ql(attempt: _Open, row: JournalRow) -> None:
    p, v, agent = row.payload, attempt.values, str(row.payload.get("agent", ""))
    if row.kind in ("RINGNOANSWER", "RINGCANCELED"):
        ms = _int(p, "ring_ms") or 0
        attempt.rings.append(RingRecord(agent, row.at - timedelta(milliseconds=ms), ms, False))
    elif row.kind == "CONNECT":
        ring_s = _int(p, "ring_s")
        rang_at = row.at - timedelta(seconds=ring_s or 0)
        attempt.rings.append(
            RingRecord(agent, rang_at, None if ring_s is None else ring_s * 1000, True)
        )
        v.update(connected_at=row.at, left_at=row.at, outcome=QueueOutcome.ANSWERED,
                 wait_s=float(_int(p, "hold_s") or 0), agent=agent)  # fmt: skip
    elif row.kind in QL_DONE:
        v.update(talk_s=float(_int(p, "talk_s") or 0), ended_at=row.at,
                 hung_up_by="caller" if row.kind == "COMPLETECALLER" else "agent")  # fmt: skip
    elif row.kind in QL_LEFT:
        v.update(left_at=row.at, ended_at=row.at, outcome=QL_LEFT[row.kind],
                 wait_s=float(_int(p, "wait_s") or 0), position=_int(p, "position"))  # fmt: skip
        if row.kind == "EXITWITHKEY":
            v["exit_key"] = str(p.get("exit_key", ""))[:1] or None
        if v.get("original_position") is None:
            v["original_position"] = _int(p, "original_position")


# ---- AMI -----------------------------------------------------------------------------------


def from_ami(rows: Iterable[JournalRow]) -> list[AttemptRecord]:
    """Attempts from normalized AMI events (any order; sorted by time, then journal id)."""
    ordered = sorted(rows, key=lambda r: (r.at, r.id, r.key))
    done: list[_Open] = []
    current: dict[tuple[str, str], _Open] = {}
    last_left: dict[str, _Open] = {}  # per channel: the attempt QUEUESTATUS will be about
    for row in ordered:
        p = row.payload
        uniqueid = str(p.get("uniqueid", ""))
        if row.kind == "VariableSet":
            if p.get("name") == "QUEUESTATUS" and uniqueid in last_left:
                _apply_status(last_left.pop(uniqueid), str(p.get("value", "")))
            continue
        where = (uniqueid, str(p.get("queue", "")))
        if row.kind == "QueueJoined":
            attempt = _Open({"uniqueid": where[0], "queue": where[1], "joined_at": row.at,
                             "original_position": _int(p, "position")})  # fmt: skip
            current[where] = attempt
            done.append(attempt)
        elif (attempt_or_none := current.get(where)) is not None:
            _apply_ami(attempt_or_none, row)
            if row.kind == "QueueLeft":
                last_left[uniqueid] = attempt_or_none
    return [_settle(a) for a in done]


def _member(p: Mapping[str, Any]) -> str:
    return str(p.get("member_name") or p.get("member") or "")


def _apply_ami(attempt: _Open, row: JournalRow) -> None:
    p, v = row.payload, attempt.values
    if row.kind == "AgentCalled":
        attempt.rings.append(RingRecord(_member(p), row.at, None, False))
    elif row.kind == "AgentRingNoAnswer":
        _end_ring(attempt, _member(p), _int(p, "ring_ms"), answered=False, at=row.at)
    elif row.kind == "AgentConnected":
        ring_s = _int(p, "ring_s")
        _end_ring(attempt, _member(p), None if ring_s is None else ring_s * 1000, True, row.at)
        v.update(connected_at=row.at, outcome=QueueOutcome.ANSWERED,
                 wait_s=float(_int(p, "hold_s") or 0), agent=_member(p))  # fmt: skip
        v.setdefault("left_at", row.at)
    elif row.kind == "AgentCompleted":
        v.update(talk_s=float(_int(p, "talk_s") or 0), ended_at=row.at,
                 hung_up_by=str(p.get("hung_up_by") or "caller"))  # fmt: skip
    elif row.kind == "QueueAbandoned":
        v.update(abandoned=True, wait_s=float(_int(p, "hold_s") or 0),
                 position=_int(p, "position"))  # fmt: skip
    elif row.kind == "QueueLeft":  # before AgentConnect when answered (docs/engines/asterisk.md)
        v.setdefault("left_at", row.at)
        v.setdefault("position", _int(p, "position"))


def _end_ring(attempt: _Open, member: str, ms: int | None, answered: bool, at: datetime) -> None:
    for index in range(len(attempt.rings) - 1, -1, -1):
        ring = attempt.rings[index]
        if ring.member == member and ring.ring_ms is None and not ring.answered:
            attempt.rings[index] = replace(ring, ring_ms=ms, answered=answered)
            return
    start = at - timedelta(milliseconds=ms or 0)
    attempt.rings.append(RingRecord(member, start, ms, answered))


def _apply_status(attempt: _Open, status: str) -> None:
    outcome = QUEUESTATUS_OUTCOME.get(status)
    if outcome is not None and attempt.values.get("connected_at") is None:
        attempt.values["status_outcome"] = outcome


def _settle(attempt: _Open) -> AttemptRecord:
    """Decide the outcome once every row is seen: a status beats the abandon event."""
    v = attempt.values
    status, abandoned = v.pop("status_outcome", None), v.pop("abandoned", False)
    if v.get("outcome") is None:
        v["outcome"] = status or (QueueOutcome.ABANDONED if abandoned else None)
    left = v.get("left_at")
    if v["outcome"] not in (None, QueueOutcome.ANSWERED):
        v.setdefault("ended_at", left)
        if v.get("wait_s") is None and left is not None:
            v["wait_s"] = float(int((left - v["joined_at"]).total_seconds()))
    return attempt.freeze()


# ---- merge ---------------------------------------------------------------------------------


def merge(ql: list[AttemptRecord], ami: list[AttemptRecord]) -> list[AttemptRecord]:
    """One list: each queue_log attempt, completed from its AMI twin while queue_log has not
    told its end yet; AMI attempts without a twin (queue_log not read yet) as they are."""
    unused = list(ami)
    out: list[AttemptRecord] = []
    for attempt in ql:
        twin = _twin(attempt, unused)
        if twin is not None:
            unused.remove(twin)
            attempt = _complete(attempt, twin)
        out.append(attempt)
    out.extend(unused)
    return sorted(out, key=lambda a: (a.joined_at, a.uniqueid, a.queue))


def _twin(attempt: AttemptRecord, candidates: list[AttemptRecord]) -> AttemptRecord | None:
    for other in candidates:
        if (other.uniqueid, other.queue) == (attempt.uniqueid, attempt.queue) and abs(
            (other.joined_at - attempt.joined_at).total_seconds()
        ) < MATCH_S:
            return other
    return None


_MERGED = ("connected_at", "left_at", "outcome", "wait_s", "talk_s", "agent", "position",
           "original_position", "exit_key", "ended_at", "hung_up_by")  # fmt: skip


def _complete(ql: AttemptRecord, ami: AttemptRecord) -> AttemptRecord:
    if ql.closed:
        return ql
    filled = {name: getattr(ami, name) for name in _MERGED if getattr(ql, name) is None}
    rings = ql.rings if len(ql.rings) >= len(ami.rings) else ami.rings
    return replace(ql, **filled, rings=rings)
