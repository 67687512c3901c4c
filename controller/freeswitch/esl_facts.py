"""Event Socket events → engine-neutral facts (``controller.facts``): the live half of the
FreeSWITCH adapter, as ``controller/asterisk/ami_facts.py`` is Asterisk's.

``EslFactDecoder.decode`` maps one event onto zero or more facts and never raises: an event
the account does not follow gives [] and is counted as ignored; a followed event that lacks a
header it needs (or has a non-number where a number belongs) gives [], is counted as malformed
per event name and logged once per name.  The stream goes on either way.

Ids (docs/engines/freeswitch.md, "Events the account follows"): ``channel_id`` is the
channel's ``Unique-ID``; ``call_id`` is ``Channel-Call-UUID`` (the uuid of the call's
originating leg).  mod_callcenter's events name the caller by ``CC-Member-Session-UUID``; they
carry channel headers of *that* channel only for member-queue-start/-end (for
bridge-agent-start/-end the channel headers are the agent's), so elsewhere ``call_id`` is ""
and the account resolves it through the ``ChannelOfCall`` fact every channel gets on
CHANNEL_CREATE and CHANNEL_ANSWER.

Times: ``at`` is ``Event-Date-Timestamp`` (microseconds since the epoch, UTC).
mod_callcenter's ``CC-*-Time`` headers are whole seconds, so waits, rings and talk times are
whole seconds too.  Keys: ``esl:<Core-UUID>:<Event-Sequence>:<kind>``: the sequence is unique
within one FreeSWITCH run and the Core-UUID changes with every run, so a replayed event
yields the same key and two events never share one.

What cannot be derived from these events, and why:

* a caller's position in the queue (``QueueJoined.position``): mod_callcenter orders members
  by score and announces no position;
* who hung up an answered queue call is not in bridge-agent-end (``CC-Hangup-Cause`` is the
  bridge's result, ``SUCCESS``): it is taken from which of the two channels (the member's, the
  agent's ``CC-Agent-UUID``) hung up first, as CHANNEL_HANGUP / CHANNEL_HANGUP_COMPLETE told;
  with neither seen the caller is assumed;
* per-queue operator log-in and log-out (``MemberJoined``/``MemberLeft``): mod_callcenter
  announces tier changes with no event, and an agent's status (``Logged Out``, ``Available``,
  ``On Break``) is per agent; so status gives ``MemberPaused`` for all queues (``queue`` "")
  and agent state gives ``MemberSeen`` with ``queue`` "";
* DTMF and RECORD_STOP give no fact: no neutral fact describes a key press (the IVR reads keys
  through its ``CallPort``) or a recording's end;
* an answered queue stay's end (member-queue-end ``CC-Cause: Terminated``) gives no
  ``QueueLeft``: the stay ended when the agent answered, which QueueAnswered already says.

A call clinicall places (the engine port's originate) carries ``CLINICALL_ORIGINATE_KEY`` and
its uuid is derived from that key (``control.call_id_for``).  Its leg gives the call data
the originate set, ``purpose`` and ``dialled`` (``CALL_VARIABLES``), as Asterisk's VarSet
events do, so the account counts it as outbound, never as an inbound call.  mod_loopback
copies the originate's variables to the other half of a loopback leg (the half that dials the
patient, or a loopback operator contact): such a half is a channel *of the placed call*
(``call_id`` is the placed call's uuid), not a call of its own, as a Local channel shares
the linkedid on Asterisk.
"""

from __future__ import annotations

import logging
import re
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import TypedDict

from clinicall.controller.facts import (
    CallDataSet,
    ChannelClosed,
    ChannelCut,
    ChannelOfCall,
    ChannelOpened,
    EngineLink,
    Fact,
    HungUpBy,
    LeaveReason,
    MemberPaused,
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
from clinicall.controller.freeswitch.control import ORIGINATE_KEY, call_id_for
from clinicall.controller.freeswitch.esl.client import STATUS_EVENT
from clinicall.controller.freeswitch.esl.message import EslEvent
from clinicall.controller.freeswitch.queue_wait import left_by_key

logger = logging.getLogger(__name__)

CALLCENTER = "callcenter::info"
MAX_CHANNELS = 10_000  # channels whose first hang-up is remembered (oldest dropped)
MAX_IGNORED_NAMES = 256
OTHER = "<other>"
_NUMBER = re.compile(r"[0-9]{1,18}")

#: Hang-up causes that mean FreeSWITCH itself ended the channel (it was stopping).
ENGINE_CAUSES = frozenset({"SYSTEM_SHUTDOWN", "MANAGER_REQUEST"})
#: member-queue-end ``CC-Cancel-Reason`` (with ``CC-Cause: Cancel``) → why the caller left.
CANCEL_REASONS = {
    "BREAK_OUT": LeaveReason.ABANDON,  # the member's channel left the queue: hung up
    "TIMEOUT": LeaveReason.TIMEOUT,  # the queue's max-wait-time
    "NO_AGENT_TIMEOUT": LeaveReason.EMPTY,  # max-wait-time-with-no-agent
    "EXIT_WITH_KEY": LeaveReason.EXIT_KEY,  # the offer's keys; the wait timer's: TIMEOUT
}
#: The originate's channel variables (controller/freeswitch/control.py) → call data names
#: (``controller.facts.CALL_DATA``), the same as Asterisk's.
CALL_VARIABLES = {"CLINICALL_PURPOSE": "purpose", "CLINICALL_CALLED": "dialled"}
#: mod_callcenter agent states → a member's state.
AGENT_STATES = {
    "Waiting": MemberState.IDLE,
    "Receiving": MemberState.RINGING,
    "In a queue call": MemberState.IN_CALL,
    "Reserved": MemberState.RINGING,
    "Idle": MemberState.UNKNOWN,
}
#: mod_callcenter agent statuses → paused or not (``Logged Out`` is neither: see above).
AGENT_PAUSED = {
    "Available": False,
    "Available (On Demand)": False,
    "On Break": True,
}

Clock = Callable[[], datetime]


class MalformedEslEvent(ValueError):
    """A followed event without a header it needs, or with a bad value; the message names the
    event and the header, never the value (it may hold a phone number)."""

    def __init__(self, event: str, header: str, problem: str = "is missing") -> None:
        super().__init__(f"{event}: header {header} {problem}")


class Ignored(Exception):
    """A followed event that still gives no fact (not an error: counted as ignored)."""


@dataclass(slots=True)
class EslDecodeStats:
    decoded: int = 0
    ignored: Counter[str] = field(default_factory=Counter)
    malformed: Counter[str] = field(default_factory=Counter)


def utc_now() -> datetime:
    return datetime.now(UTC)


class FirstHangups:
    """The order in which channels first hung up (wire order: two hang-ups often share a
    timestamp), for at most ``limit`` channels (oldest dropped)."""

    __slots__ = ("_next", "_order", "limit")

    def __init__(self, limit: int = MAX_CHANNELS) -> None:
        self.limit = limit
        self._order: OrderedDict[str, int] = OrderedDict()
        self._next = 0

    def note(self, channel: str) -> None:
        if channel in self._order:
            return
        self._order[channel] = self._next
        self._next += 1
        while len(self._order) > self.limit:
            self._order.popitem(last=False)

    def get(self, channel: str) -> int | None:
        return self._order.get(channel)

    def __len__(self) -> int:
        return len(self._order)


class CallFields(TypedDict):
    key: str
    at: datetime
    call_id: str
    channel_id: str


Mapper = Callable[["EslFactDecoder", EslEvent], list[Fact]]


class EslFactDecoder:
    """See the module docstring.  One per Event Socket link; one event loop.

    ``recordings_dir`` is FreeSWITCH's recording spool: a RECORD_START of a file under it
    gives ``RecordingStarted`` with the path relative to it; a file elsewhere was not started
    by clinicall's dialplan and gives no fact.

    ``account``: when given, only channels whose ``accountcode`` is it are the clinic's and
    give channel facts (the generated dialplan sets it on a clinic call before answering, the
    engine's originate on a call the clinic places).  Every other channel of the FreeSWITCH
    (an operator's leg mod_callcenter dials, which is a call of its own there, unlike on
    Asterisk where it shares the caller's linkedid; other PBX traffic) gives none.  Since the
    dialplan sets the account code after CHANNEL_CREATE, such a channel is told as opened at
    its CHANNEL_ANSWER, at its creation time (``Caller-Channel-Created-Time``).
    ``queue_domain``: mod_callcenter's queue names ``<id>@<domain>`` become the clinic's
    queue ids.
    """

    def __init__(
        self,
        *,
        recordings_dir: str = "/var/lib/freeswitch/recordings",
        clock: Clock = utc_now,
        max_channels: int = MAX_CHANNELS,
        account: str | None = None,
        queue_domain: str | None = None,
    ) -> None:
        self.recordings_dir = PurePosixPath(recordings_dir)
        self.clock = clock
        self.stats = EslDecodeStats()
        self.hangups = FirstHangups(max_channels)
        self.account = account
        self.queue_domain = queue_domain
        self.opened = FirstHangups(max_channels)  # channels already told as opened

    def decode(self, event: EslEvent) -> list[Fact]:
        """The facts of one event ([] for events the account does not follow)."""
        name = event.name
        if name == "CUSTOM":
            if event.subclass != CALLCENTER:
                self._ignore(f"CUSTOM {event.subclass}"[:80])
                return []
            name = f"{CALLCENTER} {event.get('CC-Action', '')}"[:80]
            mapper = _CALLCENTER.get(event.get("CC-Action", ""))
        else:
            mapper = _MAPPERS.get(name)
        if mapper is None:
            self._ignore(name or "<no name>")
            return []
        try:
            facts = mapper(self, event)
        except Ignored:
            self._ignore(name)
            return []
        except MalformedEslEvent as error:
            if not self.stats.malformed[name]:
                logger.warning("skipping malformed ESL %s events: %s", name, error)
            self.stats.malformed[name] += 1
            return []
        self.stats.decoded += 1
        return facts

    def _ignore(self, name: str) -> None:
        ignored = self.stats.ignored
        if name not in ignored and len(ignored) >= MAX_IGNORED_NAMES:
            name = OTHER
        if not ignored[name]:
            logger.debug("ESL %s events give no facts", name)
        ignored[name] += 1

    # ---- channels ------------------------------------------------------------------------

    def _clinics(self, e: EslEvent) -> bool:
        return self.account is None or e.get("variable_accountcode") == self.account

    def _channel_create(self, e: EslEvent) -> list[Fact]:
        if not self._clinics(e):
            raise Ignored
        return self._opened(e, _at(e, self.clock))

    def _opened(self, e: EslEvent, at: datetime) -> list[Fact]:
        fields = _channel(e, self.clock, ChannelOfCall.KIND)
        own = _channel(e, self.clock, ChannelOpened.KIND)
        own["at"] = at
        opened = ChannelOpened(
            **own,
            caller_number=e.get("Caller-Caller-ID-Number", ""),
            caller_name=e.get("Caller-Caller-ID-Name", ""),
            dialled=e.get("Caller-Destination-Number", ""),
        )
        self.opened.note(fields["channel_id"])
        return [ChannelOfCall(**fields), opened, *_placed_data(e, self.clock)]

    def _channel_answer(self, e: EslEvent) -> list[Fact]:
        """No neutral fact says "answered" (the account learns answers from queue facts);
        the channel's link to its call is told again, for a link that came up mid-call.  A
        clinic channel whose account code came after its creation is opened here."""
        if not self._clinics(e):
            raise Ignored
        if self.account is not None and self.opened.get(_req(e, "Unique-ID")) is None:
            created = _opt_num(e, "Caller-Channel-Created-Time")
            at = _at(e, self.clock) if created is None else _micros(created)
            return self._opened(e, at)
        return [ChannelOfCall(**_channel(e, self.clock, ChannelOfCall.KIND))]

    def _channel_hangup(self, e: EslEvent) -> list[Fact]:
        """CHANNEL_HANGUP: only noted (who hung up first); the fact comes with COMPLETE."""
        self.hangups.note(_req(e, "Unique-ID"))
        raise Ignored

    def _channel_hangup_complete(self, e: EslEvent) -> list[Fact]:
        fields = _channel(e, self.clock, ChannelClosed.KIND)
        self.hangups.note(fields["channel_id"])
        if not self._clinics(e):
            raise Ignored
        cause_text = e.get("Hangup-Cause", "")
        facts: list[Fact] = [
            ChannelClosed(
                **fields, cause=_num(e, "variable_hangup_cause_q850"), cause_text=cause_text
            )
        ]
        if cause_text in ENGINE_CAUSES:
            facts.append(ChannelCut(**_channel(e, self.clock, ChannelCut.KIND)))
        return facts

    # ---- recordings ----------------------------------------------------------------------

    def _record_start(self, e: EslEvent) -> list[Fact]:
        path = PurePosixPath(_req(e, "Record-File-Path"))
        if not path.is_relative_to(self.recordings_dir):
            raise Ignored
        relative = path.relative_to(self.recordings_dir)
        return [
            RecordingStarted(
                **_channel(e, self.clock, RecordingStarted.KIND),
                path=str(relative),
                format=relative.suffix.lstrip(".").lower(),
            )
        ]

    # ---- mod_callcenter: callers ---------------------------------------------------------

    def _queue(self, e: EslEvent) -> str:
        name = _req(e, "CC-Queue")
        if self.queue_domain is None:
            return name
        return name.removesuffix(f"@{self.queue_domain}")

    def _member_queue_start(self, e: EslEvent) -> list[Fact]:
        return [
            QueueJoined(
                **_member(e, QueueJoined.KIND, self.clock),
                queue=self._queue(e),
                caller_number=e.get("CC-Member-CID-Number", ""),
            )
        ]

    def _member_queue_end(self, e: EslEvent) -> list[Fact]:
        cause = _req(e, "CC-Cause")
        if cause != "Cancel":
            raise Ignored  # Terminated: answered, told by QueueAnswered / QueueCompleted
        reason = CANCEL_REASONS.get(e.get("CC-Cancel-Reason", ""))
        exit_key = None
        if reason is LeaveReason.EXIT_KEY:  # the offer's key, or the route's wait ran out
            reason, exit_key = left_by_key(e.get("variable_cc_exit_key", ""))
        joined, left = _opt_num(e, "CC-Member-Joined-Time"), _opt_num(e, "CC-Member-Leaving-Time")
        wait = None if joined is None or left is None else max(0, left - joined) * 1000
        return [
            QueueLeft(
                **_member(e, QueueLeft.KIND, self.clock),
                queue=self._queue(e),
                reason=reason,
                wait_ms=wait,
                exit_key=exit_key,
            )
        ]

    # ---- mod_callcenter: agents ringing and answering ------------------------------------

    def _agent_offering(self, e: EslEvent) -> list[Fact]:
        return [
            MemberRung(
                **_member(e, MemberRung.KIND, self.clock),
                queue=self._queue(e),
                member=_req(e, "CC-Agent"),
            )
        ]

    def _bridge_agent_fail(self, e: EslEvent) -> list[Fact]:
        """The offer failed (no answer, busy, the caller left): the ring ended."""
        called, aborted = _opt_num(e, "CC-Agent-Called-Time"), _opt_num(e, "CC-Agent-Aborted-Time")
        ring = None if called is None or aborted is None else max(0, aborted - called) * 1000
        return [
            RingEnded(
                **_member(e, RingEnded.KIND, self.clock),
                queue=self._queue(e),
                member=_req(e, "CC-Agent"),
                ring_ms=ring,
            )
        ]

    def _bridge_agent_start(self, e: EslEvent) -> list[Fact]:
        joined, called = _num(e, "CC-Member-Joined-Time"), _num(e, "CC-Agent-Called-Time")
        answered = _num(e, "CC-Agent-Answered-Time")
        return [
            QueueAnswered(
                **_member(e, QueueAnswered.KIND, self.clock),
                queue=self._queue(e),
                member=_req(e, "CC-Agent"),
                wait_ms=max(0, answered - joined) * 1000,
                ring_ms=max(0, answered - called) * 1000,
            )
        ]

    def _bridge_agent_end(self, e: EslEvent) -> list[Fact]:
        joined, answered = _num(e, "CC-Member-Joined-Time"), _num(e, "CC-Agent-Answered-Time")
        ended = _num(e, "CC-Bridge-Terminated-Time")
        fields = _member(e, QueueCompleted.KIND, self.clock)
        agent_channel = e.get("CC-Agent-UUID", "")
        by_agent = self.hangups.get(agent_channel)
        by_caller = self.hangups.get(fields["channel_id"])
        agent_first = by_agent is not None and (by_caller is None or by_agent < by_caller)
        return [
            QueueCompleted(
                **fields,
                queue=self._queue(e),
                member=_req(e, "CC-Agent"),
                wait_ms=max(0, answered - joined) * 1000,
                talk_ms=max(0, ended - answered) * 1000,
                hung_up_by=HungUpBy.AGENT if agent_first else HungUpBy.CALLER,
            )
        ]

    # ---- mod_callcenter: operators -------------------------------------------------------

    def _agent_status_change(self, e: EslEvent) -> list[Fact]:
        paused = AGENT_PAUSED.get(_req(e, "CC-Agent-Status"))
        if paused is None:
            raise Ignored  # Logged Out: see the module docstring
        return [
            MemberPaused(
                key=_key(e, MemberPaused.KIND),
                at=_at(e, self.clock),
                queue="",
                member=_req(e, "CC-Agent"),
                paused=paused,
                reason=e.get("CC-Agent-Status", "") if paused else "",
            )
        ]

    def _agent_state_change(self, e: EslEvent) -> list[Fact]:
        state = AGENT_STATES.get(_req(e, "CC-Agent-State"), MemberState.UNKNOWN)
        return [
            MemberSeen(
                key=_key(e, MemberSeen.KIND),
                at=_at(e, self.clock),
                queue="",
                member=_req(e, "CC-Agent"),
                state=state,
                paused=False,
            )
        ]

    # ---- the link ------------------------------------------------------------------------

    def _client_status(self, e: EslEvent) -> list[Fact]:
        """The client's own up/down notice (not from FreeSWITCH): every one is new, so its key
        carries the controller's clock."""
        now = self.clock()
        return [
            EngineLink(
                key=f"esl:link:{e.get('Status', '')}:{now.timestamp()}",
                at=now,
                up=e.get("Status") == "up",
                detail=e.get("Detail", ""),
            )
        ]


def _req(e: EslEvent, name: str) -> str:
    value = e.get(name, "")
    if not value:
        raise MalformedEslEvent(e.name, name)
    return value


def _num(e: EslEvent, name: str) -> int:
    value = _req(e, name)
    if not _NUMBER.fullmatch(value):
        raise MalformedEslEvent(e.name, name, "is not a number")
    return int(value)


def _opt_num(e: EslEvent, name: str) -> int | None:
    return _num(e, name) if e.get(name) else None


def _at(e: EslEvent, clock: Clock) -> datetime:
    """``Event-Date-Timestamp`` (µs since the epoch); the clock when it is absent."""
    raw = e.get("Event-Date-Timestamp", "")
    if not raw:
        return clock()
    if not _NUMBER.fullmatch(raw):
        raise MalformedEslEvent(e.name, "Event-Date-Timestamp", "is not a number")
    return _micros(int(raw))


def _micros(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1_000_000, UTC)


def _key(e: EslEvent, kind: str) -> str:
    return f"esl:{_req(e, 'Core-UUID')}:{_num(e, 'Event-Sequence')}:{kind}"


def _channel(e: EslEvent, clock: Clock, kind: str) -> CallFields:
    """A channel event's common fields: the channel and the call it belongs to (a leg of a
    call clinicall placed belongs to that call: see the module docstring)."""
    key = e.get(f"variable_{ORIGINATE_KEY}", "")
    return {
        "key": _key(e, kind),
        "at": _at(e, clock),
        "call_id": call_id_for(key) if key else _req(e, "Channel-Call-UUID"),
        "channel_id": _req(e, "Unique-ID"),
    }


def _placed_data(e: EslEvent, clock: Clock) -> list[Fact]:
    """The call data the originate set, on the placed call's own leg only (a loopback half
    carries copies of the same variables)."""
    key = e.get(f"variable_{ORIGINATE_KEY}", "")
    if not key or e.get("Unique-ID") != call_id_for(key):
        return []
    return [
        CallDataSet(**_channel(e, clock, f"{CallDataSet.KIND}:{name}"), name=name, value=value)
        for variable, name in CALL_VARIABLES.items()
        if (value := e.get(f"variable_{variable}", ""))
    ]


def _member(e: EslEvent, kind: str, clock: Clock) -> CallFields:
    """A mod_callcenter event's fields: the member's channel, and its call when the event
    carries that channel's own headers (see the module docstring)."""
    channel = _req(e, "CC-Member-Session-UUID")
    own = e.get("Unique-ID") == channel
    return {
        "key": _key(e, kind),
        "at": _at(e, clock),
        "call_id": e.get("Channel-Call-UUID", "") if own else "",
        "channel_id": channel,
    }


_MAPPERS: dict[str, Mapper] = {
    "CHANNEL_CREATE": EslFactDecoder._channel_create,
    "CHANNEL_ANSWER": EslFactDecoder._channel_answer,
    "CHANNEL_HANGUP": EslFactDecoder._channel_hangup,
    "CHANNEL_HANGUP_COMPLETE": EslFactDecoder._channel_hangup_complete,
    "RECORD_START": EslFactDecoder._record_start,
    STATUS_EVENT: EslFactDecoder._client_status,
}
#: callcenter::info ``CC-Action`` → its mapper.
_CALLCENTER: dict[str, Mapper] = {
    "member-queue-start": EslFactDecoder._member_queue_start,
    "member-queue-end": EslFactDecoder._member_queue_end,
    "agent-offering": EslFactDecoder._agent_offering,
    "bridge-agent-fail": EslFactDecoder._bridge_agent_fail,
    "bridge-agent-start": EslFactDecoder._bridge_agent_start,
    "bridge-agent-end": EslFactDecoder._bridge_agent_end,
    "agent-status-change": EslFactDecoder._agent_status_change,
    "agent-state-change": EslFactDecoder._agent_state_change,
}
