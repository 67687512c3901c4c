"""Queue attempts from queue facts: one builder for every stream, and the two streams merged.

:func:`build` turns the queue facts of one stream (the engine's live view, or its durable
record) into attempts; it knows nothing of engines.  The durable record wins (the engine writes
it whether or not the controller listens); the live view fills an attempt whose record is not
read yet.  A live attempt and a durable one are the same stay when they agree on channel and
queue and joined within ``MATCH_S`` of each other (the two streams time the same join a
fraction of a second apart), so an attempt is never counted twice.  Waits and talk times are
the engine's own figures, so both streams give the same numbers.

Within one stream, a leave that gives no reason marks when the caller left; a leave with a
reason says why, and a later reason overrides an earlier one unless the caller was answered
(an engine may first report an abandon and then, once it knows, a timeout:
docs/engines/asterisk.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from clinicall.controller.facts import (
    LeaveReason,
    MemberRung,
    QueueAnswered,
    QueueCompleted,
    QueueFact,
    QueueJoined,
    QueueLeft,
    RingEnded,
)
from clinicall.db.models import QueueOutcome

MATCH_S = 3.0  # live and durable join times of one attempt differ by under a second

OUTCOME_OF = {
    LeaveReason.ABANDON: QueueOutcome.ABANDONED,
    LeaveReason.TIMEOUT: QueueOutcome.TIMEOUT,
    LeaveReason.EXIT_KEY: QueueOutcome.EXIT_KEY,
    LeaveReason.EMPTY: QueueOutcome.EMPTY,
}
QUEUE_FACTS = (QueueJoined, MemberRung, RingEnded, QueueAnswered, QueueCompleted, QueueLeft)


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

    channel_id: str
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
    """An attempt being built while its facts are walked."""

    values: dict[str, Any]
    rings: list[RingRecord] = field(default_factory=list)
    reason: LeaveReason | None = None
    plain_left: datetime | None = None  # first leave that gave no reason
    reason_left: datetime | None = None  # first leave that gave one

    def freeze(self) -> AttemptRecord:
        return AttemptRecord(**self.values, rings=tuple(self.rings))


def _seconds(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000


def _member(fact: MemberRung | RingEnded | QueueAnswered | QueueCompleted) -> str:
    return fact.member_name or fact.member


def build(facts: Iterable[tuple[QueueFact, int]]) -> list[AttemptRecord]:
    """The attempts of one stream's queue facts, given with their journal ids (any order:
    sorted by time, then journal id, which follows the engine's own order)."""
    ordered = sorted(facts, key=lambda pair: (pair[0].at, pair[0].seq, pair[1], pair[0].key))
    done: list[_Open] = []
    current: dict[tuple[str, str], _Open] = {}
    for fact, _ in ordered:
        where = (fact.channel_id, fact.queue)
        if isinstance(fact, QueueJoined):
            attempt = _Open({"channel_id": fact.channel_id, "queue": fact.queue,
                             "joined_at": fact.at, "original_position": fact.position})  # fmt: skip
            current[where] = attempt
            done.append(attempt)
        elif (open_attempt := current.get(where)) is not None:
            _apply(open_attempt, fact)
    return [_settle(a) for a in done]


def _apply(attempt: _Open, fact: QueueFact) -> None:
    v = attempt.values
    if isinstance(fact, MemberRung):
        attempt.rings.append(RingRecord(_member(fact), fact.at, None, False))
    elif isinstance(fact, RingEnded):
        _end_ring(attempt, _member(fact), fact.ring_ms, answered=False, at=fact.at)
    elif isinstance(fact, QueueAnswered):
        _end_ring(attempt, _member(fact), fact.ring_ms, answered=True, at=fact.at)
        v.update(connected_at=fact.at, outcome=QueueOutcome.ANSWERED,
                 wait_s=_seconds(fact.wait_ms), agent=_member(fact))  # fmt: skip
        attempt.reason_left = attempt.reason_left or fact.at
    elif isinstance(fact, QueueCompleted):
        v.update(talk_s=_seconds(fact.talk_ms), ended_at=fact.at,
                 hung_up_by=str(fact.hung_up_by))  # fmt: skip
    elif isinstance(fact, QueueLeft):
        _leave(attempt, fact)


def _leave(attempt: _Open, fact: QueueLeft) -> None:
    v = attempt.values
    if fact.reason is None:
        attempt.plain_left = attempt.plain_left or fact.at
        v.setdefault("position", fact.position)
        return
    if v.get("connected_at") is not None:
        return  # answered: whatever the engine says later, this stay was answered
    attempt.reason = fact.reason
    attempt.reason_left = attempt.reason_left or fact.at
    if fact.wait_ms is not None:
        v["wait_s"] = _seconds(fact.wait_ms)
    if fact.position is not None:
        v["position"] = fact.position
    if fact.exit_key:
        v["exit_key"] = fact.exit_key[:1]
    if v.get("original_position") is None:
        v["original_position"] = fact.original_position


def _end_ring(attempt: _Open, member: str, ms: int | None, answered: bool, at: datetime) -> None:
    """Close the member's open ring; a stream that never told the ring's start (a durable
    record) gets a ring that started ``ms`` before ``at``."""
    for index in range(len(attempt.rings) - 1, -1, -1):
        ring = attempt.rings[index]
        if ring.member == member and ring.ring_ms is None and not ring.answered:
            attempt.rings[index] = replace(ring, ring_ms=ms, answered=answered)
            return
    start = at - timedelta(milliseconds=ms or 0)
    attempt.rings.append(RingRecord(member, start, ms, answered))


def _settle(attempt: _Open) -> AttemptRecord:
    """Decide what the walk leaves open: when the caller left, and why."""
    v = attempt.values
    left = attempt.plain_left or attempt.reason_left
    if left is not None:
        v["left_at"] = left
    if v.get("outcome") is None and attempt.reason is not None:
        v["outcome"] = OUTCOME_OF[attempt.reason]
    if v.get("outcome") not in (None, QueueOutcome.ANSWERED):
        v.setdefault("ended_at", left)
        if v.get("wait_s") is None and left is not None:
            v["wait_s"] = float(int((left - v["joined_at"]).total_seconds()))
    return attempt.freeze()


# ---- merge ---------------------------------------------------------------------------------


def merge(durable: list[AttemptRecord], live: list[AttemptRecord]) -> list[AttemptRecord]:
    """One list: each durable attempt, completed from its live twin while the record has not
    told its end yet; live attempts without a twin (record not read yet) as they are."""
    unused = list(live)
    out: list[AttemptRecord] = []
    for attempt in durable:
        twin = _twin(attempt, unused)
        if twin is not None:
            unused.remove(twin)
            attempt = _complete(attempt, twin)
        out.append(attempt)
    out.extend(unused)
    return sorted(out, key=lambda a: (a.joined_at, a.channel_id, a.queue))


def _twin(attempt: AttemptRecord, candidates: list[AttemptRecord]) -> AttemptRecord | None:
    for other in candidates:
        if (other.channel_id, other.queue) == (attempt.channel_id, attempt.queue) and abs(
            (other.joined_at - attempt.joined_at).total_seconds()
        ) < MATCH_S:
            return other
    return None


_MERGED = ("connected_at", "left_at", "outcome", "wait_s", "talk_s", "agent", "position",
           "original_position", "exit_key", "ended_at", "hung_up_by")  # fmt: skip


def _complete(durable: AttemptRecord, live: AttemptRecord) -> AttemptRecord:
    """The durable attempt, with what only the live twin knows: its fields while the record
    has not told the end; the members rung whenever the live twin saw more of them (a record
    may keep no rings at all: FreeSWITCH's CDR, docs/engines/freeswitch.md)."""
    rings = durable.rings if len(durable.rings) >= len(live.rings) else live.rings
    if durable.closed:
        return durable if rings is durable.rings else replace(durable, rings=rings)
    filled = {name: getattr(live, name) for name in _MERGED if getattr(durable, name) is None}
    return replace(durable, **filled, rings=rings)
