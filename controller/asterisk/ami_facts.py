"""AMI event frames → engine-neutral facts (``controller.facts``): the live half of the adapter.

``AmiFactDecoder.decode`` maps one frame onto zero or more facts and never raises: an event the
account does not follow gives [] and is counted as ignored; a followed event that lacks a
header it needs (or has a non-number where a number belongs) gives [], is counted as malformed
per event name and logged once per name.  The stream goes on either way.

Header names and units are Asterisk 22's (``core-en_US.xml``, docs/engines/asterisk.md): the
caller's channel snapshot (``Uniqueid`` is the channel, ``Linkedid`` the call) plus each event's
own headers.  ``HoldTime``, ``TalkTime`` and AgentConnect's ``RingTime`` are seconds;
AgentRingNoAnswer's ``RingTime`` is already milliseconds.

One piece of state: ``QUEUESTATUS`` (set by ``Queue()`` when it returns) names no queue, and a
timeout is otherwise indistinguishable from an abandon (Asterisk reports both as
QueueCallerAbandon).  The decoder therefore remembers, per channel, the queue of its current
stay (from the QueueCaller* events, which name it) in a bounded map, and forgets it when the
stay is settled: answered, told by ``QUEUESTATUS``, or the channel hung up.

Keys are the journal keys of ``ami_headers`` (byte-identical to the earlier AMI journal keys);
AMI facts are live (``durable=False``): queue_log is the durable record (``record_facts``).
"""

from __future__ import annotations

import logging
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypedDict

from clinicall.controller.asterisk.ami.client import STATUS_EVENT
from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.ami_headers import (
    Clock,
    EventHeaders,
    MalformedAmiEvent,
    unescape_value,
)
from clinicall.controller.asterisk.doctor_probe import is_probe_channel
from clinicall.controller.asterisk.recording_layout import parse_recording_path
from clinicall.controller.facts import (
    CallDataSet,
    ChannelClosed,
    ChannelCut,
    ChannelOpened,
    EngineLink,
    Fact,
    HungUpBy,
    LeaveReason,
    MemberJoined,
    MemberLeft,
    MemberRung,
    MemberSeen,
    MemberState,
    QueueAnswered,
    QueueCompleted,
    QueueJoined,
    QueueLeft,
    RecordingStarted,
    RingEnded,
)

logger = logging.getLogger(__name__)

#: AST_SOFTHANGUP_SHUTDOWN, the flag Asterisk sets on every channel as it stops or restarts
#: (``SoftHangupRequest`` Cause is the flags, not a Q.850 cause: docs/engines/asterisk.md).
SOFTHANGUP_SHUTDOWN = 0x04
MAX_CHANNELS = 10_000  # channels whose current queue stay is remembered (oldest dropped)
MAX_IGNORED_NAMES = 256  # distinct ignored event names counted apart; the rest as OTHER
OTHER = "<other>"

#: QUEUESTATUS values that say why an unanswered caller left (others give no fact).
QUEUESTATUS_REASONS = {
    "TIMEOUT": LeaveReason.TIMEOUT,
    "LEAVEEMPTY": LeaveReason.EMPTY,
    "JOINEMPTY": LeaveReason.EMPTY,
    "LEAVEUNAVAIL": LeaveReason.EMPTY,
    "JOINUNAVAIL": LeaveReason.EMPTY,
}
#: The dialplan's channel variables → call data names (``controller.facts.CALL_DATA``).
CALL_VARIABLES = {
    "CLINICALL_LANG": "language",
    "CLINICALL_PATH": "path",
    "CLINICALL_ROUTE": "route",
    "CLINICALL_OUTCOME": "outcome",
    "CLINICALL_PURPOSE": "purpose",  # set by the originate of a call clinicall places ...
    "CLINICALL_CALLED": "dialled",  # ... with the number it dials
}
HUNG_UP_BY = {"caller": HungUpBy.CALLER, "agent": HungUpBy.AGENT, "transfer": HungUpBy.TRANSFER}

#: The headers that tell two member snapshots apart (in the journal key, in this order).
MEMBER_KEY_FIELDS = (
    "Queue", "Interface", "Status", "Paused", "PausedReason", "InCall",
    "CallsTaken", "LastCall", "LastPause",
)  # fmt: skip

#: Asterisk's device states (``ast_device_state``) as a queue member's phone.
DEVICE_STATES = {
    1: MemberState.IDLE,  # NOT_INUSE
    2: MemberState.IN_CALL,  # INUSE
    3: MemberState.IN_CALL,  # BUSY
    4: MemberState.OFFLINE,  # INVALID
    5: MemberState.OFFLINE,  # UNAVAILABLE
    6: MemberState.RINGING,  # RINGING
    7: MemberState.IN_CALL,  # RINGINUSE
    8: MemberState.IN_CALL,  # ONHOLD
}


@dataclass(slots=True)
class AmiDecodeStats:
    """Counters for health pages and tests: frames that gave facts, and frames that did not,
    per event name."""

    decoded: int = 0
    ignored: Counter[str] = field(default_factory=Counter)
    malformed: Counter[str] = field(default_factory=Counter)


class Ignored(Exception):
    """A followed event that still gives no fact (not an error: counted as ignored)."""


class ChannelQueues:
    """Each channel's queue of its current stay, for at most ``limit`` channels (oldest
    dropped first: a channel that never hangs up in view must not grow the map)."""

    __slots__ = ("_queues", "limit")

    def __init__(self, limit: int = MAX_CHANNELS) -> None:
        self.limit = limit
        self._queues: OrderedDict[str, str] = OrderedDict()

    def remember(self, channel: str, queue: str) -> None:
        self._queues[channel] = queue
        self._queues.move_to_end(channel)
        while len(self._queues) > self.limit:
            self._queues.popitem(last=False)

    def take(self, channel: str) -> str | None:
        """The channel's queue, forgotten at once (a stay is settled once)."""
        return self._queues.pop(channel, None)

    def forget(self, channel: str) -> None:
        self._queues.pop(channel, None)

    def __len__(self) -> int:
        return len(self._queues)

    def __contains__(self, channel: object) -> bool:
        return channel in self._queues


def utc_now() -> datetime:
    return datetime.now(UTC)


Mapper = Callable[["AmiFactDecoder", EventHeaders], list[Fact]]


class AmiFactDecoder:
    """See the module docstring.  One per AMI link; not thread-safe (one event loop)."""

    def __init__(self, *, clock: Clock = utc_now, max_channels: int = MAX_CHANNELS) -> None:
        self.clock = clock
        self.stats = AmiDecodeStats()
        self.channels = ChannelQueues(max_channels)

    def decode(self, message: Message) -> list[Fact]:
        """The facts of one AMI frame ([] for frames the account does not follow)."""
        event = message.event
        known = _MAPPERS.get(event.lower())
        if known is None:
            self._ignore(event or "<response>")
            return []
        name, mapper = known
        if is_probe_channel(message.get("Channel", "")):
            self._ignore(f"{name} (doctor's probe)")  # no patient's call: never in the account
            return []
        try:
            facts = mapper(self, EventHeaders(event, message))
        except Ignored:
            self._ignore(name)
            return []
        except MalformedAmiEvent as error:
            if not self.stats.malformed[name]:
                logger.warning("skipping malformed AMI %s events: %s", name, error)
            self.stats.malformed[name] += 1
            return []
        self.stats.decoded += 1
        return facts

    def _ignore(self, name: str) -> None:
        ignored = self.stats.ignored
        if name not in ignored and len(ignored) >= MAX_IGNORED_NAMES:
            name = OTHER
        if not ignored[name]:
            logger.debug("AMI %s events give no facts", name)
        ignored[name] += 1

    # ---- channels ------------------------------------------------------------------------

    def _newchannel(self, h: EventHeaders) -> list[Fact]:
        return [
            ChannelOpened(
                **_call(h, self.clock, "Channel"),
                caller_number=h.opt("CallerIDNum"),
                caller_name=h.opt("CallerIDName"),
                dialled=h.opt("Exten"),
            )
        ]

    def _hangup(self, h: EventHeaders) -> list[Fact]:
        fact = ChannelClosed(
            **_call(h, self.clock, "Channel", "Cause"),
            cause=h.num("Cause"),
            cause_text=h.opt("Cause-txt"),
        )
        self.channels.forget(fact.channel_id)
        return [fact]

    def _soft_hangup(self, h: EventHeaders) -> list[Fact]:
        """Asterisk asks a channel to hang up; its ``Cause`` is the reason flags, and the
        shutdown flag means Asterisk is stopping or restarting (docs/engines/asterisk.md)."""
        if not (h.opt_num("Cause") or 0) & SOFTHANGUP_SHUTDOWN:
            return []
        return [ChannelCut(**_call(h, self.clock, "Channel", "Cause"))]

    # ---- callers in queues ---------------------------------------------------------------

    def _caller_join(self, h: EventHeaders) -> list[Fact]:
        fact = QueueJoined(
            **_call(h, self.clock, "Queue", "Position"),
            queue=h.req_text("Queue"),
            position=h.opt_num("Position"),
            caller_number=h.opt("CallerIDNum"),
        )
        self.channels.remember(fact.channel_id, fact.queue)
        return [fact]

    def _caller_leave(self, h: EventHeaders) -> list[Fact]:
        fact = QueueLeft(
            **_call(h, self.clock, "Queue", "Position"),
            queue=h.req_text("Queue"),
            position=h.opt_num("Position"),
        )
        self._still_waiting(fact.channel_id, fact.queue)
        return [fact]

    def _caller_abandon(self, h: EventHeaders) -> list[Fact]:
        fact = QueueLeft(
            **_call(h, self.clock, "Queue", "Position", "HoldTime"),
            queue=h.req_text("Queue"),
            reason=LeaveReason.ABANDON,
            wait_ms=_ms(h.opt_num("HoldTime")),
            position=h.opt_num("Position"),
            original_position=h.opt_num("OriginalPosition"),
        )
        self._still_waiting(fact.channel_id, fact.queue)
        return [fact]

    def _still_waiting(self, channel: str, queue: str) -> None:
        """A leave settles nothing yet: QUEUESTATUS (or AgentConnect) follows.  Remembered
        also when the join was not seen (the link came up while the caller waited)."""
        if channel not in self.channels:
            self.channels.remember(channel, queue)

    def _queue_status(self, h: EventHeaders, value: str) -> list[Fact]:
        fields = _call(h, self.clock, "Variable", "Value")  # a malformed frame settles nothing
        queue = self.channels.take(fields["channel_id"])
        reason = QUEUESTATUS_REASONS.get(value)
        if queue is None or reason is None:
            raise Ignored
        return [QueueLeft(**fields, queue=queue, reason=reason)]

    # ---- members ringing and answering -------------------------------------------------

    def _agent_called(self, h: EventHeaders) -> list[Fact]:
        return [
            MemberRung(
                **_call(h, self.clock, "Queue", "Interface", "DestUniqueid"),
                queue=h.req_text("Queue"),
                member=h.req_text("Interface"),
                member_name=h.opt("MemberName"),
            )
        ]

    def _agent_ring_no_answer(self, h: EventHeaders) -> list[Fact]:
        return [
            RingEnded(
                **_call(h, self.clock, "Queue", "Interface", "DestUniqueid", "RingTime"),
                queue=h.req_text("Queue"),
                member=h.req_text("Interface"),
                member_name=h.opt("MemberName"),
                ring_ms=h.opt_num("RingTime"),  # already milliseconds here
            )
        ]

    def _agent_connect(self, h: EventHeaders) -> list[Fact]:
        fact = QueueAnswered(
            **_call(h, self.clock, "Queue", "Interface", "DestUniqueid"),
            queue=h.req_text("Queue"),
            member=h.req_text("Interface"),
            member_name=h.opt("MemberName"),
            wait_ms=h.num("HoldTime") * 1000,
            ring_ms=_ms(h.opt_num("RingTime")),
        )
        self.channels.forget(fact.channel_id)  # answered: no QUEUESTATUS reason applies
        return [fact]

    def _agent_complete(self, h: EventHeaders) -> list[Fact]:
        if not h.opt("Uniqueid") and not h.opt("Linkedid"):
            # Asterisk 22 sends some AgentComplete events with no channel fields at all (both
            # channels were gone when it was built): nothing names the call.  queue_log's
            # COMPLETEAGENT/COMPLETECALLER line carries the same numbers and does name it.
            raise Ignored
        reason = h.req("Reason")
        hung_up_by = HUNG_UP_BY.get(reason)
        if hung_up_by is None:
            raise MalformedAmiEvent(h.event, "Reason", "is not caller, agent or transfer")
        return [
            QueueCompleted(
                **_call(h, self.clock, "Queue", "Interface", "DestUniqueid"),
                queue=h.req_text("Queue"),
                member=h.req_text("Interface"),
                member_name=h.opt("MemberName"),
                wait_ms=_ms(h.opt_num("HoldTime")),
                talk_ms=h.num("TalkTime") * 1000,
                hung_up_by=hung_up_by,
            )
        ]

    # ---- operators -------------------------------------------------------------------------

    def _member_status(self, h: EventHeaders) -> list[Fact]:
        """QueueMemberStatus and QueueMemberPause carry the same member snapshot."""
        state = DEVICE_STATES.get(h.num("Status"), MemberState.UNKNOWN)
        return [
            MemberSeen(
                key=h.key(*MEMBER_KEY_FIELDS),
                at=h.at(self.clock),
                queue=h.req_text("Queue"),
                member=h.req_text("Interface"),
                member_name=h.opt("MemberName"),
                state=MemberState.IN_CALL if h.flag("InCall") else state,
                paused=h.flag("Paused"),
                pause_reason=h.opt("PausedReason"),
            )
        ]

    def _member_added(self, h: EventHeaders) -> list[Fact]:
        return [
            MemberJoined(
                key=h.key("Queue", "Interface", "LoginTime"),
                at=h.at(self.clock),
                queue=h.req_text("Queue"),
                member=h.req_text("Interface"),
                member_name=h.opt("MemberName"),
            )
        ]

    def _member_removed(self, h: EventHeaders) -> list[Fact]:
        return [
            MemberLeft(
                key=h.key("Queue", "Interface", "LoginTime"),
                at=h.at(self.clock),
                queue=h.req_text("Queue"),
                member=h.req_text("Interface"),
                member_name=h.opt("MemberName"),
            )
        ]

    # ---- channel variables -------------------------------------------------------------

    def _var_set(self, h: EventHeaders) -> list[Fact]:
        name = h.req("Variable")
        if name == "QUEUESTATUS":
            return self._queue_status(h, h.req("Value"))
        if name == "MIXMONITOR_FILENAME":
            recording = parse_recording_path(h.req("Value"))
            if recording is None:
                raise Ignored  # a recording outside the layout (not started by the dialplan)
            return [
                RecordingStarted(
                    **_call(h, self.clock, "Variable", "Value"),
                    path=str(recording.path),
                    format=recording.format,
                )
            ]
        data_name = CALL_VARIABLES.get(name)
        if data_name is None:
            raise Ignored
        return [
            CallDataSet(
                **_call(h, self.clock, "Variable", "Value"),
                name=data_name,
                value=unescape_value(h.req("Value")),
            )
        ]

    # ---- the engine link -------------------------------------------------------------------

    def _fully_booted(self, h: EventHeaders) -> list[Fact]:
        return [
            EngineLink(
                key=h.key("Status", "Uptime", "LastReload"),
                at=h.at(self.clock),
                up=True,
                detail=h.opt("Status"),
            )
        ]

    def _client_status(self, h: EventHeaders) -> list[Fact]:
        """The AMI client's own up/down notice (not from Asterisk): every one is new, so its
        key carries the controller's clock."""
        return [
            EngineLink(
                key=h.key("Status", "Detail") + f"-{self.clock().timestamp()}",
                at=h.at(self.clock),
                up=h.opt("Status") == "up",
                detail=h.opt("Detail"),
            )
        ]


class CallFields(TypedDict):
    """The fields every call fact shares."""

    key: str
    at: datetime
    call_id: str
    channel_id: str


def _call(h: EventHeaders, clock: Clock, *key_fields: str) -> CallFields:
    """A call fact's common fields, with the key over ``key_fields``."""
    return {
        "key": h.key(*key_fields),
        "at": h.at(clock),
        "call_id": h.req_text("Linkedid"),
        "channel_id": h.req_text("Uniqueid"),
    }


def _ms(seconds: int | None) -> int | None:
    return None if seconds is None else seconds * 1000


#: lower-case AMI event name → (the name counters use, its mapper)
_MAPPERS: dict[str, tuple[str, Mapper]] = {
    name.lower(): (name, mapper)
    for name, mapper in (
        ("Newchannel", AmiFactDecoder._newchannel),
        ("Hangup", AmiFactDecoder._hangup),
        ("SoftHangupRequest", AmiFactDecoder._soft_hangup),
        ("QueueCallerJoin", AmiFactDecoder._caller_join),
        ("QueueCallerLeave", AmiFactDecoder._caller_leave),
        ("QueueCallerAbandon", AmiFactDecoder._caller_abandon),
        ("AgentCalled", AmiFactDecoder._agent_called),
        ("AgentRingNoAnswer", AmiFactDecoder._agent_ring_no_answer),
        ("AgentConnect", AmiFactDecoder._agent_connect),
        ("AgentComplete", AmiFactDecoder._agent_complete),
        ("QueueMemberStatus", AmiFactDecoder._member_status),
        ("QueueMemberPause", AmiFactDecoder._member_status),
        ("QueueMemberAdded", AmiFactDecoder._member_added),
        ("QueueMemberRemoved", AmiFactDecoder._member_removed),
        ("VarSet", AmiFactDecoder._var_set),
        ("FullyBooted", AmiFactDecoder._fully_booted),
        (STATUS_EVENT, AmiFactDecoder._client_status),
    )
}

#: The Asterisk events this decoder turns into facts, as Asterisk names them (the AMI client's
#: own status notice is not an Asterisk event).
DECODED_EVENTS = tuple(name for name, _ in _MAPPERS.values() if name != STATUS_EVENT)
#: The channel variables whose VarSet gives a fact (every other VarSet is ignored).
DECODED_VARIABLES = ("QUEUESTATUS", "MIXMONITOR_FILENAME", *CALL_VARIABLES)
