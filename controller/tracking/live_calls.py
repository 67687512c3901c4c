"""The calls in progress as an operator's screen-pop needs them: who calls, what the IVR
decided, which queue, and which operator's phone rings for them or talks with them.

Pure, folded by ``LiveState`` from the same live facts: the caller from the call's first
``ChannelOpened``, the language / route / IVR path from ``CallDataSet``, the queue and the
join time from ``QueueJoined``, the operator from ``MemberRung`` / ``QueueAnswered``.  A call
is forgotten when its first channel (the patient's) closes, and all of them when the engine
link drops.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from clinicall.controller.facts import (
    CallDataSet,
    ChannelClosed,
    ChannelOpened,
    EngineLink,
    Fact,
    MemberRung,
    QueueAnswered,
    QueueCompleted,
    QueueJoined,
    QueueLeft,
    RingEnded,
)

POPPED_DATA = ("language", "route", "path")


@dataclass(frozen=True, slots=True)
class LiveCall:
    """One call for an operator: ``phase`` is ``ringing`` or ``in_call``."""

    call_id: str
    queue: str
    phase: str
    caller_number: str
    caller_name: str
    language: str
    route: str
    path: str
    joined_at: datetime | None
    rung_at: datetime
    answered_at: datetime | None = None


@dataclass(slots=True)
class _Card:
    first_channel: str
    caller_number: str
    caller_name: str
    data: dict[str, str] = field(default_factory=dict)
    queue: str = ""
    joined_at: datetime | None = None


class LiveCalls:
    """Calls in progress and, per queue member, the call that rings them or that they talk on."""

    def __init__(self) -> None:
        self._cards: dict[str, _Card] = {}  # call id → what is known of it
        self._by_member: dict[str, LiveCall] = {}  # member → their current call

    def apply(self, fact: Fact) -> bool:
        """Fold one fact; True when an operator's call changed (a ring, an answer, an end)."""
        if isinstance(fact, ChannelOpened):
            if fact.call_id not in self._cards:
                self._cards[fact.call_id] = _Card(fact.channel_id, fact.caller_number,
                                                  fact.caller_name)
            return False
        if isinstance(fact, CallDataSet) and fact.name in POPPED_DATA:
            card = self._cards.get(fact.call_id)
            if card is not None:
                card.data[fact.name] = fact.value
            return False
        if isinstance(fact, QueueJoined):
            card = self._cards.setdefault(fact.call_id, _Card(fact.channel_id, "", ""))
            card.queue, card.joined_at = fact.queue, fact.at
            # A channel's caller id may be set after it opened (Asterisk: a Local channel).
            card.caller_number = card.caller_number or fact.caller_number
            return False
        return self._member_step(fact)

    def _member_step(self, fact: Fact) -> bool:
        if isinstance(fact, MemberRung):
            card = self._cards.get(fact.call_id)
            self._by_member[fact.member] = self._call(fact.call_id, fact.queue, card, fact.at)
            return True
        if isinstance(fact, QueueAnswered):
            was = self._by_member.get(fact.member)
            call = (was if was is not None and was.call_id == fact.call_id
                    else self._call(fact.call_id, fact.queue, self._cards.get(fact.call_id),
                                    fact.at))
            self._by_member[fact.member] = replace(call, phase="in_call", answered_at=fact.at)
            return True
        if isinstance(fact, RingEnded | QueueCompleted):
            return self._drop(fact.member, fact.call_id)
        if isinstance(fact, QueueLeft):
            return any([self._drop(member, fact.call_id) for member, call
                        in list(self._by_member.items()) if call.phase == "ringing"])
        if isinstance(fact, ChannelClosed):
            card = self._cards.get(fact.call_id)
            if card is not None and card.first_channel == fact.channel_id:
                del self._cards[fact.call_id]
                return any([self._drop(member, fact.call_id) for member in list(self._by_member)])
            return False
        if isinstance(fact, EngineLink) and not fact.up:
            self._cards.clear()
            self._by_member.clear()
            return True
        return False

    def _drop(self, member: str, call_id: str) -> bool:
        call = self._by_member.get(member)
        if call is None or call.call_id != call_id:
            return False
        del self._by_member[member]
        return True

    @staticmethod
    def _call(call_id: str, queue: str, card: _Card | None, at: datetime) -> LiveCall:
        data = card.data if card is not None else {}
        return LiveCall(call_id=call_id, queue=queue, phase="ringing",
                        caller_number=card.caller_number if card else "",
                        caller_name=card.caller_name if card else "",
                        language=data.get("language", ""), route=data.get("route", ""),
                        path=data.get("path", ""),
                        joined_at=card.joined_at if card else None, rung_at=at)

    def of_member(self, member: str) -> LiveCall | None:
        return self._by_member.get(member)
