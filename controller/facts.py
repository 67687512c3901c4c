"""Engine-neutral call facts: what an engine adapter tells the call account, in neutral units.

Every engine adapter (``controller.asterisk``, later ``controller.freeswitch``) turns its own
frames into these small frozen values; the call account journals them (one versioned kind per
class: ``KIND`` and ``VERSION``), the live view folds them, and the projector builds calls and
queue attempts from them without knowing which engine spoke.

Conventions (docs/architecture.md, "The engine boundary"):

* ``call_id`` is the engine's id of the whole call (Asterisk linkedid, FreeSWITCH the
  originating leg's uuid), ``channel_id`` the caller's channel (Asterisk uniqueid, FreeSWITCH
  channel uuid).  A fact from a durable record that names only the channel has ``call_id``
  empty: the account resolves it through :class:`ChannelOfCall` facts.
* Durations are whole milliseconds.  Times are UTC.
* ``durable`` is True for facts read back from the engine's own durable record (Asterisk's
  queue_log, FreeSWITCH's call records): the account prefers them to the live view, which
  only fills in what the record has not told yet.  ``seq`` orders durable facts of one time.
* ``key`` is the journal's idempotency key: the same engine frame always yields the same key,
  so a replay is counted once.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar


class LeaveReason(StrEnum):
    """Why a caller left a queue without being answered (docs/kpi.md)."""

    ABANDON = "abandon"  # the caller hung up while waiting
    TIMEOUT = "timeout"  # the queue's max wait was reached
    EXIT_KEY = "exitkey"  # the caller pressed a key to leave (overflow or callback)
    EMPTY = "empty"  # no operator could take the call (none logged in, or all unavailable)


class HungUpBy(StrEnum):
    """Who ended an answered queue call."""

    CALLER = "caller"
    AGENT = "agent"
    TRANSFER = "transfer"


class MemberState(StrEnum):
    """An operator's phone as a queue sees it (paused is told apart, see ``MemberSeen``)."""

    IDLE = "idle"  # can take a call
    RINGING = "ringing"
    IN_CALL = "in_call"  # talking, on hold or busy
    OFFLINE = "offline"  # not registered / unreachable / invalid
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True, kw_only=True)
class Fact:
    """Base of every fact."""

    KIND: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1

    key: str
    at: datetime
    durable: bool = False
    #: The fact's place in the engine's durable record (Asterisk: the queue_log line's byte
    #: offset), growing along the record: it orders durable facts of equal ``at`` (queue_log
    #: times are whole seconds, so a join and a quick abandon often share one).  0 for live facts.
    seq: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class CallFact(Fact):
    """A fact about one call; ``call_id`` may be '' when only the channel is known."""

    call_id: str
    channel_id: str


# ---- calls and channels ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelOfCall(CallFact):
    """The channel belongs to the call (the account resolves channel-only facts with it)."""

    KIND: ClassVar[str] = "call.channel"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelOpened(CallFact):
    """A channel of the call was created (the first one is the patient's)."""

    KIND: ClassVar[str] = "channel.opened"

    caller_number: str
    caller_name: str
    dialled: str  # the number dialled, as the engine saw it


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelClosed(CallFact):
    """A channel of the call hung up (Q.850 cause)."""

    KIND: ClassVar[str] = "channel.closed"

    cause: int
    cause_text: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelCut(CallFact):
    """The engine itself ended the channel: it was stopping or restarting (Asterisk: a
    ``SoftHangupRequest`` with the shutdown flag), or it died with the channel up (the account
    notes that when the engine's durable record shows it started again: docs/kpi.md, "Calls
    ended by the PBX").  The call is then not the patient's doing: hang-up side "engine"."""

    KIND: ClassVar[str] = "channel.cut"


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRouted(CallFact):
    """What the IVR decided for the call, as the engine's dialplan recorded it right before
    queueing (durable: written also when the controller was down; outcome ``fallback``)."""

    KIND: ClassVar[str] = "call.routed"

    queue: str
    outcome: str  # "queue" | "fallback"
    language: str
    route: str
    path: str
    caller: str
    dialled: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CallDataSet(CallFact):
    """A named piece of call data the controller follows changed (``language``, ``route``,
    ``path``, ``outcome``, ...; names in :data:`CALL_DATA`)."""

    KIND: ClassVar[str] = "call.data"

    name: str
    value: str


#: The call data names a ``CallDataSet`` may carry (engine variables map onto these).
#: ``purpose`` marks a call clinicall placed itself (``OriginateRequest.data``: one of
#: :data:`PURPOSES`); the account keeps such a call out of the inbound KPIs (docs/kpi.md).
CALL_DATA = frozenset({"language", "route", "path", "outcome", "queue", "priority", "dialled",
                       "purpose"})
#: The purposes of the calls clinicall places: a callback job's attempt, a reminder call.
CALLBACK_PURPOSE, REMINDER_PURPOSE = "callback", "reminder"
PURPOSES = frozenset({CALLBACK_PURPOSE, REMINDER_PURPOSE})


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingStarted(CallFact):
    """The engine began recording the call into ``path`` (the engine's own file path)."""

    KIND: ClassVar[str] = "recording.started"

    path: str  # relative to the engine's recording spool
    format: str  # the file's format (extension): "wav", "ogg", "opus"


# ---- queues ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueFact(CallFact):
    queue: str


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueJoined(QueueFact):
    KIND: ClassVar[str] = "queue.joined"

    position: int | None = None
    caller_number: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberRung(QueueFact):
    """A member's phone started ringing for this caller."""

    KIND: ClassVar[str] = "queue.rung"

    member: str
    member_name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RingEnded(QueueFact):
    """A member's ringing ended unanswered (no answer, or cancelled: another took it / the
    caller left)."""

    KIND: ClassVar[str] = "queue.ring_ended"

    member: str
    member_name: str = ""
    ring_ms: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueAnswered(QueueFact):
    """A member answered: the caller's wait ends here."""

    KIND: ClassVar[str] = "queue.answered"

    member: str
    member_name: str = ""
    wait_ms: int
    ring_ms: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueCompleted(QueueFact):
    """The answered queue call ended."""

    KIND: ClassVar[str] = "queue.completed"

    member: str
    member_name: str = ""
    wait_ms: int | None = None
    talk_ms: int
    hung_up_by: HungUpBy


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueLeft(QueueFact):
    """The caller left the queue.  ``reason`` None: the engine only said "left" (answered or
    not: it is told by the facts around it).  A later fact with a reason for the same stay
    overrides an earlier one of the same durability (an engine may say "abandon" first and
    "timeout" once it knows)."""

    KIND: ClassVar[str] = "queue.left"

    reason: LeaveReason | None = None
    wait_ms: int | None = None
    position: int | None = None
    original_position: int | None = None
    exit_key: str | None = None


# ---- operators ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberSeen(Fact):
    """A queue member's state now (live only)."""

    KIND: ClassVar[str] = "member.seen"

    queue: str
    member: str
    member_name: str = ""
    state: MemberState
    paused: bool
    pause_reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberJoined(Fact):
    """A member was added to a queue (logged in)."""

    KIND: ClassVar[str] = "member.joined"

    queue: str
    member: str
    member_name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberLeft(Fact):
    """A member was removed from a queue (logged out)."""

    KIND: ClassVar[str] = "member.left"

    queue: str
    member: str
    member_name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberPaused(Fact):
    """A member paused or resumed (``queue`` '' means every queue of the member)."""

    KIND: ClassVar[str] = "member.paused"

    queue: str
    member: str
    member_name: str = ""
    paused: bool
    reason: str = ""


# ---- the link -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineLink(Fact):
    """The engine link came up (the engine is fully booted) or went down."""

    KIND: ClassVar[str] = "engine.link"

    up: bool
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineStarted(Fact):
    """The engine started (durable: Asterisk's queue_log ``QUEUESTART``).  Every call it had
    before is gone; the account ends those still open as cut by the engine."""

    KIND: ClassVar[str] = "engine.started"


AnyFact = (
    ChannelOfCall
    | ChannelOpened
    | ChannelClosed
    | ChannelCut
    | CallRouted
    | CallDataSet
    | RecordingStarted
    | QueueJoined
    | MemberRung
    | RingEnded
    | QueueAnswered
    | QueueCompleted
    | QueueLeft
    | MemberSeen
    | MemberJoined
    | MemberLeft
    | MemberPaused
    | EngineLink
    | EngineStarted
)

#: Every fact class, for the journal's codec (one versioned kind each).
FACT_TYPES: tuple[type[Fact], ...] = typing.get_args(AnyFact)
