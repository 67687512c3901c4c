"""What is happening now, from the engine's live facts: callers waiting and operators per queue.

Feeds the live view, the Prometheus gauges and the wallboard's push (docs/console.md).  Pure:
``apply`` each fact, read ``snapshot(now)`` and ``members()``; ``watch`` listeners are called
after every fact that changed something.  Operators' state comes from ``MemberSeen`` (neutral
member states) and from the queue call's steps (rung, answered, completed); an operator
removed from a queue (``MemberLeft``) is no longer counted.  When the engine link
drops, the waiting callers are forgotten (they are re-learned from facts after the resync).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from clinicall.controller.facts import (
    EngineLink,
    Fact,
    MemberJoined,
    MemberLeft,
    MemberRung,
    MemberSeen,
    MemberState,
    QueueAnswered,
    QueueCompleted,
    QueueJoined,
    QueueLeft,
    RingEnded,
)
from clinicall.controller.tracking.live_calls import LiveCalls


@dataclass(frozen=True, slots=True)
class QueueNow:
    waiting: int
    longest_wait_s: float
    available: int  # logged in, not paused, idle
    paused: int
    in_call: int


@dataclass(frozen=True, slots=True)
class MemberNow:
    """One operator in one queue, for the wallboard's grid: ``since`` is when the state (or the
    pause) last changed; ``call_ended_at`` when their last call in this queue ended (wrap-up)."""

    queue: str
    member: str
    name: str
    state: MemberState
    paused: bool
    pause_reason: str
    since: datetime
    call_ended_at: datetime | None


@dataclass(frozen=True, slots=True)
class _Member:
    state: MemberState
    paused: bool
    name: str
    reason: str
    since: datetime
    call_ended_at: datetime | None


ChangeListener = Callable[[], None]


class LiveState:
    """Callers waiting and operators per queue, kept from live facts."""

    def __init__(self) -> None:
        self._waiting: dict[str, dict[str, datetime]] = {}  # queue → channel id → joined at
        self._members: dict[str, dict[str, _Member]] = {}  # queue → member → state
        self._listeners: list[ChangeListener] = []
        self.calls = LiveCalls()  # the calls ringing or talking to each member (screen-pop)

    def watch(self, listener: ChangeListener) -> None:
        """Call ``listener`` (sync, must not block) after every fact that changed the state:
        the web console's push (web/wallboard_push.py) wakes on it instead of polling."""
        self._listeners.append(listener)

    def apply(self, fact: Fact) -> None:
        if self.calls.apply(fact) | self._fold(fact):
            for listener in self._listeners:
                listener()

    def _fold(self, fact: Fact) -> bool:
        if isinstance(fact, QueueJoined):
            self._waiting.setdefault(fact.queue, {})[fact.channel_id] = fact.at
        elif isinstance(fact, QueueLeft):
            self._waiting.get(fact.queue, {}).pop(fact.channel_id, None)
        elif isinstance(fact, MemberSeen):
            self._seen(fact)
        elif isinstance(fact, MemberRung | RingEnded | QueueAnswered | QueueCompleted):
            self._call_step(fact)
        elif isinstance(fact, MemberJoined):
            if fact.member in self._members.get(fact.queue, {}):
                return False
            self._seen(MemberSeen(key=fact.key, at=fact.at, queue=fact.queue, member=fact.member,
                                  member_name=fact.member_name, state=MemberState.IDLE,
                                  paused=False))
        elif isinstance(fact, MemberLeft):
            self._members.get(fact.queue, {}).pop(fact.member, None)
        elif isinstance(fact, EngineLink) and not fact.up:
            self._waiting.clear()
        else:
            return False
        return True

    def _seen(self, fact: MemberSeen) -> None:
        members = self._members.setdefault(fact.queue, {})
        was = members.get(fact.member)
        changed = was is None or (was.state, was.paused) != (fact.state, fact.paused)
        since = fact.at if changed or was is None else was.since
        ended = was.call_ended_at if was is not None else None
        if was is not None and was.state == MemberState.IN_CALL != fact.state:
            ended = fact.at
        members[fact.member] = _Member(fact.state, fact.paused, fact.member_name,
                                       fact.pause_reason, since, ended)

    def _call_step(self, fact: MemberRung | RingEnded | QueueAnswered | QueueCompleted) -> None:
        """A queue call's steps say what the operator's phone does even when the engine sends
        no device state for it (Asterisk: a Local channel member): rung, answered, done."""
        members = self._members.setdefault(fact.queue, {})
        was = members.get(fact.member)
        if isinstance(fact, RingEnded) and (was is None or was.state != MemberState.RINGING):
            return  # another operator's ring ended, or this one already answered
        state = {MemberRung: MemberState.RINGING, QueueAnswered: MemberState.IN_CALL}.get(
            type(fact), MemberState.IDLE)
        self._seen(MemberSeen(key=fact.key, at=fact.at, queue=fact.queue, member=fact.member,
                              member_name=fact.member_name or (was.name if was else ""),
                              state=state, paused=was.paused if was else False,
                              pause_reason=was.reason if was else ""))

    def members(self) -> list[MemberNow]:
        """Every operator seen in a queue (offline ones too: the grid shows them greyed)."""
        return [
            MemberNow(queue, member, m.name, m.state, m.paused, m.reason,
                      m.since, m.call_ended_at)
            for queue in sorted(self._members)
            for member, m in sorted(self._members[queue].items())
        ]

    def queues(self) -> list[str]:
        return sorted(set(self._waiting) | set(self._members))

    def snapshot(self, now: datetime) -> dict[str, QueueNow]:
        return {queue: self.queue_now(queue, now) for queue in self.queues()}

    def queue_now(self, queue: str, now: datetime) -> QueueNow:
        waiting = self._waiting.get(queue, {})
        longest = max(((now - t).total_seconds() for t in waiting.values()), default=0.0)
        members = [m for m in self._members.get(queue, {}).values()
                   if m.state != MemberState.OFFLINE]  # fmt: skip
        return QueueNow(
            waiting=len(waiting),
            longest_wait_s=max(longest, 0.0),
            available=sum(1 for m in members if not m.paused and m.state == MemberState.IDLE),
            paused=sum(1 for m in members if m.paused),
            in_call=sum(1 for m in members if m.state == MemberState.IN_CALL),
        )
