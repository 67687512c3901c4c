"""The engine port: what the controller needs from a PBX, whatever the engine.

One adapter package per engine implements it (``controller.asterisk`` now,
``controller.freeswitch`` next); the wiring (``clinicall.app``) picks one from the clinic
config's ``engine:`` section, and nothing else learns which.  Four parts:

- **per-call sessions** (``serve_calls``): each call the PBX hands over reaches the IVR as a
  ``CallPort`` (Asterisk: FastAGI; FreeSWITCH: the outbound event socket);
- **facts** (``subscribe``): the engine's live events as neutral facts (``controller.facts``),
  in wire order; and **reconcile** (``reconcile``): the engine's own durable record (Asterisk's
  queue_log; FreeSWITCH's call records) read from a cursor into the same facts;
- **control** (``EngineControl``): originate, queue members, status, hang-up, call data; every
  method has a deadline and raises only the errors below;
- **health** (``health``): link up/down, last event, reconnects, for ``/metrics`` and
  ``/api/live``.

Each control method's docstring names the Asterisk action and its FreeSWITCH counterpart
(docs/engines/asterisk.md, docs/engines/freeswitch.md), so a new adapter is a translation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from clinicall.controller.facts import Fact, MemberState
from clinicall.ivr.port import CallPort

# ---- errors ---------------------------------------------------------------------------------


class EngineError(Exception):
    """Root of the engine port's errors.  ``raw`` keeps the engine's own fields."""

    def __init__(self, action: str, message: str, raw: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{action}: {message}")
        self.action = action
        self.raw: Mapping[str, str] = dict(raw or {})


class EngineUnavailable(EngineError):
    """The engine link is down: the command was not sent."""


class EngineTimeout(EngineError):
    """No answer within the deadline: the command may or may not have taken effect."""


class EngineRefused(EngineError):
    """The engine answered with an error (unknown queue, member not in the queue, ...)."""


class OutcomeUnknown(EngineError):
    """The link was lost after the command was sent.  It is never re-sent; what happened is
    learned from the engine's facts about the call (its id is known beforehand)."""


class OriginateCause(StrEnum):
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    REJECTED = "rejected"  # congestion, declined
    NO_ROUTE = "no_route"  # the channel could not be created
    FAILED = "failed"
    AGENT_MISSED = "agent_missed"  # agent first: the operator did not answer; nobody dialled


class OriginateFailed(EngineError):
    """The engine tried and the call did not connect."""

    def __init__(self, action: str, cause: OriginateCause,
                 raw: Mapping[str, str] | None = None) -> None:  # fmt: skip
        super().__init__(action, f"originate failed: {cause}", raw)
        self.cause = cause


#: The call data ``outcome`` an adapter records *durably* (in the engine's own record, read
#: back by ``reconcile``) when the patient of an agent-first originate answered: a controller
#: that died meanwhile learns from it that the attempt reached the patient.
CALLBACK_ANSWERED = "callback_answered"
#: What the operator's whisper (ivr.callback_call) may add to an agent-first originate's wait
#: for the patient's outcome, beyond the patient's ring.
WHISPER_S = 30.0
#: What the patient's greeting (ivr.callback_call), once they answered, may add to it: the
#: patient's leg is not cut for ringing too long while they are being greeted.
GREETING_S = 30.0

# ---- values ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OriginateRequest:
    """A call the clinic places (a callback, a reminder).  ``key`` is the idempotency key the
    caller stores *before* dialling: the engine's id for the call is derived from it, so after
    a restart or a lost link the call is recognised, never dialled twice."""

    key: str
    number: str  # what to dial (digits, optional leading +)
    queue: str  # where the answered callee is put
    priority: int = 0
    caller_id: str = ""
    ring_timeout_s: float = 30.0
    data: Mapping[str, str] = field(default_factory=dict)  # call data set on the new call
    #: Agent first (a callback): the queue member to ring first, with a whisper from
    #: ``data``; only once they answer is ``number`` dialled and bridged to them.  Empty: the
    #: number is dialled first and the answered callee joins ``queue``.
    agent: str = ""
    #: Patient first into an IVR flow (a reminder, docs/reminders.md): once the callee answers
    #: they run this flow of the IVR (``ivr``), which may still send them to ``queue``.
    #: Empty: the answered callee joins ``queue`` at once.  Not with ``agent``.
    flow: str = ""

    def patient_outcome_s(self) -> float:
        """Agent first: how long, once the operator answered, the patient's outcome may take
        (the whisper, the patient's ring, their greeting)."""
        return WHISPER_S + self.ring_timeout_s + GREETING_S


@dataclass(frozen=True, slots=True)
class OriginateResult:
    key: str
    call_id: str
    channel_id: str
    answered: bool = True


@dataclass(frozen=True, slots=True)
class QueueMemberStatus:
    queue: str
    member: str
    member_name: str
    state: MemberState
    paused: bool
    pause_reason: str = ""
    calls_taken: int = 0


@dataclass(frozen=True, slots=True)
class QueueEntryStatus:
    """One live caller waiting in a queue: how long, at which priority."""

    channel_id: str
    wait_s: float
    priority: int = 0


@dataclass(frozen=True, slots=True)
class QueueStatus:
    queue: str
    members: tuple[QueueMemberStatus, ...]
    waiting: int
    longest_wait_s: float
    entries: tuple[QueueEntryStatus, ...] = ()  # the waiting callers, in queue order
    #: The engine's own estimate of a wait, in seconds (on Asterisk the queue's moving
    #: average of answered waits, ``Holdtime``); None before it has one.
    holdtime_s: float | None = None


@dataclass(frozen=True, slots=True)
class EngineHealth:
    """The engine link as the controller sees it."""

    engine: str
    up: bool
    since: datetime | None  # last up/down change
    last_event_at: datetime | None
    reconnects: int
    detail: str = ""
    events_received: int = 0  # engine events since start (the cost of the subscription)
    # The call connections (Asterisk: FastAGI) closed before their session, since start:
    # dropped while still sending their environment for a newer one, the budget of such
    # connections being full; those whose environment was malformed; those refused for
    # their address (not in the allow-list); and those whose environment did not come
    # within the environment timeout (docs/engines).
    call_connections_dropped: int = 0
    call_connections_malformed: int = 0
    call_connections_refused: int = 0
    call_connections_timed_out: int = 0


@dataclass(frozen=True, slots=True)
class ReconcileBatch:
    """What one read of an engine's durable record gave: its facts in record order, the cursor
    after them (JSON-able, opaque to the account, which stores it), whether more is waiting,
    and how many entries were skipped as malformed (the adapter logs them)."""

    facts: Sequence[Fact]
    cursor: Mapping[str, Any]
    more: bool = False
    skipped: int = 0


# ---- protocols ------------------------------------------------------------------------------


class EngineControl(Protocol):
    """Commands to the engine; each has a deadline and raises only ``EngineError``s."""

    async def originate(self, request: OriginateRequest) -> OriginateResult:
        """Dial ``request.number``; when answered, put the callee into ``request.queue``.

        Asterisk: AMI ``Originate`` (Async, ChannelId/OtherChannelId derived from the key),
        result from the ``OriginateResponse`` event.  FreeSWITCH: ``bgapi originate
        {origination_uuid=...}`` and its BACKGROUND_JOB (``-ERR NO_ROUTE_DESTINATION``,
        ``-ERR USER_BUSY``, ...).  Raises OriginateFailed with its cause, OutcomeUnknown if the
        link was lost while waiting."""
        ...

    async def queue_member_add(self, queue: str, member: str, *, name: str = "",
                               paused: bool = False, penalty: int = 0) -> None:  # fmt: skip
        """Log a member in (``penalty``: the operator's configured penalty in this queue).
        Asterisk: ``QueueAdd``.  FreeSWITCH: ``callcenter_config agent
        add`` + ``tier add``."""
        ...

    async def queue_member_remove(self, queue: str, member: str) -> None:
        """Log a member out.  Asterisk: ``QueueRemove``.  FreeSWITCH: ``callcenter_config tier
        del``."""
        ...

    async def queue_member_pause(self, member: str, *, paused: bool, reason: str = "",
                                 queue: str | None = None) -> None:  # fmt: skip
        """Pause or resume a member (in one queue, or all of its queues).  Asterisk:
        ``QueuePause``.  FreeSWITCH: ``callcenter_config agent set status <agent> 'On Break'``
        / ``'Available'``."""
        ...

    async def queue_status(self) -> tuple[QueueStatus, ...]:
        """Every queue's members and waiting callers now.  Asterisk: ``QueueStatus``
        (QueueParams, QueueMember, QueueEntry ... QueueStatusComplete).  FreeSWITCH:
        ``callcenter_config queue list members|agents``."""
        ...

    async def hangup(self, channel_id: str, *, cause: int = 16) -> None:
        """Hang up a channel.  Asterisk: ``Hangup``.  FreeSWITCH: ``uuid_kill``."""
        ...

    async def set_call_data(self, channel_id: str, name: str, value: str) -> None:
        """Set a piece of call data on a channel.  Asterisk: ``Setvar``.  FreeSWITCH:
        ``uuid_setvar``."""
        ...

    async def offer_callback(self, channel_id: str) -> None:
        """Take a caller waiting in a queue (``QueueEntryStatus.channel_id``) out of it into
        the in-queue callback offer, unasked: their estimated wait passed the queue's
        threshold (docs/callbacks.md, "The offer in the queue").  The caller leaves the queue
        as if they had pressed a key, so a caller who does not book goes back to their place.
        Asterisk: ``PlayDTMF`` with ``Receive`` of the queue context's unasked-offer key
        (docs/engines/asterisk.md).  FreeSWITCH: not wired (no in-queue offer there yet):
        EngineRefused."""
        ...


class DurableRecord(Protocol):
    """The part of an engine the account reads back what it may have missed from."""

    @property
    def record_name(self) -> str:
        """Names the record's cursor in the store (``ingest_state.source``)."""
        ...

    async def reconcile(self, cursor: Mapping[str, Any] | None) -> ReconcileBatch:
        """The facts after ``cursor`` (None: from the start of the record)."""
        ...


FactHandler = Callable[[Fact], None]
CallHandler = Callable[[CallPort], Awaitable[None]]


class Engine(DurableRecord, Protocol):
    """One PBX, as the controller sees it (see the module docstring)."""

    name: str

    @property
    def control(self) -> EngineControl: ...

    def health(self) -> EngineHealth: ...

    def call_id_for(self, key: str) -> str:
        """The engine's id of the call an originate with idempotency ``key`` places, known
        before dialling: the callback store keeps it with the key, and an attempt whose
        outcome was lost is settled from the account's record of this call
        (docs/callbacks.md, "Never dialled twice").  Asterisk: ``cb-`` + a hash of the key
        (the originate's ChannelId); FreeSWITCH: a UUID-shaped hash (``origination_uuid``)."""
        ...

    def subscribe(self, handler: FactHandler) -> None:
        """``handler`` gets every live fact, in wire order (sync; must not block)."""
        ...

    async def serve_calls(self, handler: CallHandler) -> None:
        """Start taking calls: each runs ``handler`` with its ``CallPort``."""
        ...

    async def wait_up(self, timeout_s: float) -> None:
        """Until the engine link is up; TimeoutError after ``timeout_s``."""
        ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...
