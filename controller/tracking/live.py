"""What is happening now, from the engine's live facts: callers waiting and operators per queue.

Feeds the live view and the Prometheus gauges.  Pure: ``apply`` each fact, read
``snapshot(now)``.  Operators' state comes from ``MemberSeen`` (neutral member states); an
operator removed from a queue (``MemberLeft``) is no longer counted.  When the engine link
drops, the waiting callers are forgotten (they are re-learned from facts after the resync).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from clinicall.controller.facts import (
    EngineLink,
    Fact,
    MemberLeft,
    MemberSeen,
    MemberState,
    QueueJoined,
    QueueLeft,
)


@dataclass(frozen=True, slots=True)
class QueueNow:
    waiting: int
    longest_wait_s: float
    available: int  # logged in, not paused, idle
    paused: int
    in_call: int


@dataclass(frozen=True, slots=True)
class _Member:
    state: MemberState
    paused: bool


class LiveState:
    """Callers waiting and operators per queue, kept from live facts."""

    def __init__(self) -> None:
        self._waiting: dict[str, dict[str, datetime]] = {}  # queue → channel id → joined at
        self._members: dict[str, dict[str, _Member]] = {}  # queue → member → state

    def apply(self, fact: Fact) -> None:
        if isinstance(fact, QueueJoined):
            self._waiting.setdefault(fact.queue, {})[fact.channel_id] = fact.at
        elif isinstance(fact, QueueLeft):
            self._waiting.get(fact.queue, {}).pop(fact.channel_id, None)
        elif isinstance(fact, MemberSeen):
            self._members.setdefault(fact.queue, {})[fact.member] = _Member(fact.state,
                                                                             fact.paused)
        elif isinstance(fact, MemberLeft):
            self._members.get(fact.queue, {}).pop(fact.member, None)
        elif isinstance(fact, EngineLink) and not fact.up:
            self._waiting.clear()

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
