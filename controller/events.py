"""Normalized call events: what the controller knows about a call, whatever the engine.

The AMI adapter (and later the Event Socket adapter) turns engine frames into these small,
frozen values; call tracking, the live view and the reports consume only these.  Each event
carries the engine's own identifiers (``uniqueid`` is the channel, ``linkedid`` the whole call)
so that the FastAGI session, the queue events and ``queue_log`` lines can be joined on them.

Times are UTC, taken from the engine where it gives one (AMI ``Timestamp`` with
``timestampevents=yes``) and from the controller's clock otherwise.

``key`` is the idempotency key for the event journal: replaying the same engine frame twice
yields the same key, so it is counted once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class LeaveReason(StrEnum):
    """Why a caller left a queue without being answered (docs/kpi.md, KPI definitions)."""

    ABANDON = "abandon"  # the caller hung up while waiting
    TIMEOUT = "timeout"  # max wait reached
    EXIT_KEY = "exitkey"  # the caller pressed a key to leave (overflow or callback)
    EMPTY = "empty"  # joinempty / leavewhenempty: no operator could take the call


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEvent:
    """Base of every normalized event."""

    key: str
    at: datetime
    uniqueid: str
    linkedid: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelCreated(CallEvent):
    channel: str
    caller_number: str
    caller_name: str
    exten: str
    context: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelHungUp(CallEvent):
    channel: str
    cause: int
    cause_text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueJoined(CallEvent):
    queue: str
    position: int
    caller_number: str


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueLeft(CallEvent):
    """QueueCallerLeave: emitted for every leave, answered or not; the reason comes apart."""

    queue: str
    position: int


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueAbandoned(CallEvent):
    """QueueCallerAbandon.  Asterisk also emits it on a timeout; ``reason`` tells them apart."""

    queue: str
    position: int
    original_position: int
    hold_s: int
    reason: LeaveReason = LeaveReason.ABANDON


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentCalled(CallEvent):
    queue: str
    member: str  # interface, e.g. PJSIP/op1 or Local/op1@clinicall-operators/n
    member_name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentRingNoAnswer(CallEvent):
    queue: str
    member: str
    member_name: str
    ring_ms: int  # AMI gives milliseconds here (docs/engines/asterisk.md)


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentConnected(CallEvent):
    queue: str
    member: str
    member_name: str
    hold_s: int
    ring_s: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentCompleted(CallEvent):
    queue: str
    member: str
    member_name: str
    hold_s: int
    talk_s: int
    hung_up_by: str  # "caller" | "agent" | "transfer"


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberStatus:
    """QueueMemberStatus / QueueMemberPause: operator state, not tied to a call."""

    key: str
    at: datetime
    queue: str
    member: str
    member_name: str
    status: int  # Asterisk device state number (1 not in use, 2 in use, 5 unavailable, ...)
    paused: bool
    pause_reason: str = ""
    in_call: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class VariableSet(CallEvent):
    """A channel variable the controller follows: QUEUESTATUS, MIXMONITOR_FILENAME, CLINICALL_*."""

    name: str
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineStatus:
    """The engine connection came up (after FullyBooted / login) or went down."""

    key: str
    at: datetime
    up: bool
    detail: str = ""
    extra: dict[str, str] = field(default_factory=dict)


AnyEvent = (
    ChannelCreated
    | ChannelHungUp
    | QueueJoined
    | QueueLeft
    | QueueAbandoned
    | AgentCalled
    | AgentRingNoAnswer
    | AgentConnected
    | AgentCompleted
    | MemberStatus
    | VariableSet
    | EngineStatus
)
