"""What is happening now, from AMI events: callers waiting and operators' state per queue.

Feeds the live view and the Prometheus gauges.  Pure: ``apply`` each normalized event, read
``snapshot(now)``.  Operators' state comes from QueueMemberStatus/QueueMemberPause (device
state numbers as Asterisk's ``ast_device_state``).  When the engine connection drops, the
waiting callers are forgotten (they are re-learned from events after the resync).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from clinicall.controller.events import (
    AnyEvent,
    EngineStatus,
    MemberStatus,
    QueueAbandoned,
    QueueJoined,
    QueueLeft,
)

NOT_INUSE, INUSE, BUSY, INVALID, UNAVAILABLE, RINGING, RINGINUSE, ONHOLD = 1, 2, 3, 4, 5, 6, 7, 8
IN_CALL_STATES = frozenset({INUSE, BUSY, RINGINUSE, ONHOLD})
OFFLINE_STATES = frozenset({INVALID, UNAVAILABLE})


@dataclass(frozen=True, slots=True)
class QueueNow:
    waiting: int
    longest_wait_s: float
    available: int  # logged in, not paused, idle
    paused: int
    in_call: int


@dataclass(frozen=True, slots=True)
class _Member:
    status: int
    paused: bool
    in_call: bool


class LiveState:
    """Callers waiting and operators per queue, kept from AMI events."""

    def __init__(self) -> None:
        self._waiting: dict[str, dict[str, datetime]] = {}  # queue → uniqueid → joined at
        self._members: dict[str, dict[str, _Member]] = {}  # queue → interface → state

    def apply(self, event: AnyEvent) -> None:
        if isinstance(event, QueueJoined):
            self._waiting.setdefault(event.queue, {})[event.uniqueid] = event.at
        elif isinstance(event, QueueLeft | QueueAbandoned):
            self._waiting.get(event.queue, {}).pop(event.uniqueid, None)
        elif isinstance(event, MemberStatus):
            member = _Member(event.status, event.paused, event.in_call)
            self._members.setdefault(event.queue, {})[event.member] = member
        elif isinstance(event, EngineStatus) and not event.up:
            self._waiting.clear()

    def forget_member(self, queue: str, member: str) -> None:
        """A member removed from the queue (QueueMemberRemoved)."""
        self._members.get(queue, {}).pop(member, None)

    def queues(self) -> list[str]:
        return sorted(set(self._waiting) | set(self._members))

    def snapshot(self, now: datetime) -> dict[str, QueueNow]:
        return {queue: self.queue_now(queue, now) for queue in self.queues()}

    def queue_now(self, queue: str, now: datetime) -> QueueNow:
        waiting = self._waiting.get(queue, {})
        longest = max(((now - t).total_seconds() for t in waiting.values()), default=0.0)
        members = [
            m for m in self._members.get(queue, {}).values() if m.status not in OFFLINE_STATES
        ]
        busy = [m for m in members if m.in_call or m.status in IN_CALL_STATES]
        return QueueNow(
            waiting=len(waiting),
            longest_wait_s=max(longest, 0.0),
            available=sum(
                1 for m in members if not m.paused and m not in busy and m.status == NOT_INUSE
            ),
            paused=sum(1 for m in members if m.paused),
            in_call=len(busy),
        )


def _idle(member: _Member) -> bool:
    return not member.paused and not member.in_call and member.status == NOT_INUSE
