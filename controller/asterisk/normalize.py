"""AMI event frames → normalized call events (``controller.events``).

Only the events the controller accounts for are mapped; anything else gives None.  A mapped
event that lacks a header it needs (or has a non-number where a number belongs) raises
``MalformedEvent``; the caller logs it and skips the frame, the stream goes on.

Header names are Asterisk 22's (``core-en_US.xml``): the caller's channel snapshot
(``Channel``, ``CallerIDNum``, ``CallerIDName``, ``Context``, ``Exten``, ``Uniqueid``,
``Linkedid``) plus per event ``Queue``, ``Position``, ``OriginalPosition``, ``HoldTime``,
``TalkTime``, ``RingTime``, ``Reason``, ``Interface``, ``MemberName``, ``Status``, ``Paused``,
``PausedReason``, ``InCall``, ``Variable``, ``Value``, ``Cause``, ``Cause-txt``.
AgentRingNoAnswer's ``RingTime`` is in milliseconds, AgentConnect's in seconds.

Times come from the ``Timestamp`` header (``timestampevents=yes``), else the controller's
clock.  The idempotency ``key`` is a digest of the event name, Uniqueid, the raw Timestamp and
the fields that tell two such events apart, so a replayed frame yields the same key.  Without
``timestampevents`` the key still is stable, but two identical frames then share it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime

from clinicall.controller.asterisk.ami.client import STATUS_EVENT
from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.events import (
    AgentCalled,
    AgentCompleted,
    AgentConnected,
    AgentRingNoAnswer,
    AnyEvent,
    ChannelCreated,
    ChannelHungUp,
    EngineStatus,
    MemberStatus,
    QueueAbandoned,
    QueueJoined,
    QueueLeft,
    VariableSet,
)

#: Channel variables worth an event; everything else set by the dialplan is noise here.
WATCHED_VARIABLES = frozenset({"QUEUESTATUS", "MIXMONITOR_FILENAME"})
WATCHED_PREFIX = "CLINICALL_"


class MalformedEvent(ValueError):
    """A known AMI event without a header it must have, or with a bad number in one."""

    def __init__(self, event: str, header: str, problem: str = "missing") -> None:
        self.event, self.header = event, header
        super().__init__(f"AMI event {event}: header {header} {problem}")


class _Fields:
    """Typed, checked access to one frame's headers, for one event name."""

    __slots__ = ("event", "msg")

    def __init__(self, event: str, msg: Message) -> None:
        self.event, self.msg = event, msg

    def req(self, name: str) -> str:
        value = self.msg.get(name)
        if value is None:
            raise MalformedEvent(self.event, name)
        return value

    def opt(self, name: str) -> str:
        value = self.msg.get(name, "")
        return "" if value == "<unknown>" else value  # Asterisk's spelling of "no caller ID"

    def num(self, name: str) -> int:
        raw = self.req(name)
        try:
            return int(raw)
        except ValueError:
            raise MalformedEvent(self.event, name, "is not a number") from None

    def flag(self, name: str) -> bool:
        return self.opt(name).lower() in ("1", "yes", "true")

    def key(self, *names: str) -> str:
        parts = [self.event, self.opt("Uniqueid"), self.opt("Timestamp")]
        parts += [self.opt(n) for n in names]
        return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()

    def at(self) -> datetime:
        raw = self.msg.get("Timestamp")
        if raw:
            whole, _, frac = raw.partition(".")
            if whole.isdigit() and (not frac or frac.isdigit()):
                micros = int((frac + "000000")[:6])
                return datetime.fromtimestamp(int(whole), UTC).replace(microsecond=micros)
            raise MalformedEvent(self.event, "Timestamp", "is not an epoch time")
        return datetime.now(UTC)

    def call(self, *key_fields: str) -> dict[str, object]:
        """The CallEvent base fields, with the key over ``key_fields``."""
        return {
            "key": self.key(*key_fields),
            "at": self.at(),
            "uniqueid": self.req("Uniqueid"),
            "linkedid": self.req("Linkedid"),
        }


def _newchannel(f: _Fields) -> AnyEvent:
    return ChannelCreated(
        **f.call("Channel"),  # type: ignore[arg-type]
        channel=f.req("Channel"),
        caller_number=f.opt("CallerIDNum"),
        caller_name=f.opt("CallerIDName"),
        exten=f.opt("Exten"),
        context=f.opt("Context"),
    )


def _hangup(f: _Fields) -> AnyEvent:
    return ChannelHungUp(
        **f.call("Channel", "Cause"),  # type: ignore[arg-type]
        channel=f.req("Channel"),
        cause=f.num("Cause"),
        cause_text=f.opt("Cause-txt"),
    )


def _caller_join(f: _Fields) -> AnyEvent:
    return QueueJoined(
        **f.call("Queue", "Position"),  # type: ignore[arg-type]
        queue=f.req("Queue"),
        position=f.num("Position"),
        caller_number=f.opt("CallerIDNum"),
    )


def _caller_leave(f: _Fields) -> AnyEvent:
    return QueueLeft(
        **f.call("Queue", "Position"),  # type: ignore[arg-type]
        queue=f.req("Queue"),
        position=f.num("Position"),
    )


def _caller_abandon(f: _Fields) -> AnyEvent:
    return QueueAbandoned(
        **f.call("Queue", "Position", "HoldTime"),  # type: ignore[arg-type]
        queue=f.req("Queue"),
        position=f.num("Position"),
        original_position=f.num("OriginalPosition"),
        hold_s=f.num("HoldTime"),
    )


def _agent_called(f: _Fields) -> AnyEvent:
    return AgentCalled(
        **f.call("Queue", "Interface", "DestUniqueid"),  # type: ignore[arg-type]
        queue=f.req("Queue"),
        member=f.req("Interface"),
        member_name=f.opt("MemberName"),
    )


def _agent_ring_no_answer(f: _Fields) -> AnyEvent:
    return AgentRingNoAnswer(
        **f.call("Queue", "Interface", "DestUniqueid", "RingTime"),  # type: ignore[arg-type]
        queue=f.req("Queue"),
        member=f.req("Interface"),
        member_name=f.opt("MemberName"),
        ring_ms=f.num("RingTime"),
    )


def _agent_connect(f: _Fields) -> AnyEvent:
    return AgentConnected(
        **f.call("Queue", "Interface", "DestUniqueid"),  # type: ignore[arg-type]
        queue=f.req("Queue"),
        member=f.req("Interface"),
        member_name=f.opt("MemberName"),
        hold_s=f.num("HoldTime"),
        ring_s=f.num("RingTime"),
    )


def _agent_complete(f: _Fields) -> AnyEvent | None:
    if not f.opt("Uniqueid") and not f.opt("Linkedid"):
        # Asterisk 22 sends some AgentComplete events with no channel fields at all (both
        # channels were gone when it was built): nothing names the call.  queue_log's
        # COMPLETEAGENT/COMPLETECALLER line carries the same numbers and does name it.
        return None
    return AgentCompleted(
        **f.call("Queue", "Interface", "DestUniqueid"),  # type: ignore[arg-type]
        queue=f.req("Queue"),
        member=f.req("Interface"),
        member_name=f.opt("MemberName"),
        hold_s=f.num("HoldTime"),
        talk_s=f.num("TalkTime"),
        hung_up_by=f.req("Reason"),
    )


def _member_status(f: _Fields) -> AnyEvent:
    return MemberStatus(
        key=f.key(
            "Queue",
            "Interface",
            "Status",
            "Paused",
            "PausedReason",
            "InCall",
            "CallsTaken",
            "LastCall",
            "LastPause",
        ),
        at=f.at(),
        queue=f.req("Queue"),
        member=f.req("Interface"),
        member_name=f.opt("MemberName"),
        status=f.num("Status"),
        paused=f.flag("Paused"),
        pause_reason=f.opt("PausedReason"),
        in_call=f.flag("InCall"),
    )


def _var_set(f: _Fields) -> AnyEvent | None:
    name = f.req("Variable")
    if name not in WATCHED_VARIABLES and not name.startswith(WATCHED_PREFIX):
        return None
    return VariableSet(
        **f.call("Variable", "Value"),  # type: ignore[arg-type]
        name=name,
        value=unescape_value(f.req("Value")),
    )


_C_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def unescape_value(value: str) -> str:
    """Undo the C escaping Asterisk applies to VarSet values (``8\\?`` → ``8?``).

    Asterisk 22 sends ``Value`` through ``ast_escape_c``: ``\\``, quotes, ``?`` and control
    characters arrive backslash-escaped (seen on the real engine: an IVR path ``main:8?``
    arrives as ``main:8\\?``).
    """
    if "\\" not in value:
        return value
    out: list[str] = []
    chars = iter(value)
    for ch in chars:
        if ch != "\\":
            out.append(ch)
            continue
        nxt = next(chars, "")
        out.append(_C_ESCAPES.get(nxt, nxt))
    return "".join(out)


def _fully_booted(f: _Fields) -> AnyEvent:
    return EngineStatus(
        key=f.key("Status", "Uptime", "LastReload"),
        at=f.at(),
        up=True,
        detail=f.opt("Status"),
        extra={k: f.opt(k) for k in ("Uptime", "LastReload") if k in f.msg},
    )


def _client_status(f: _Fields) -> AnyEvent:
    """The AMI client's own up/down notice (not from Asterisk): never journaled twice."""
    return EngineStatus(
        key=f.key("Status", "Detail") + f"-{datetime.now(UTC).timestamp()}",
        at=f.at(),
        up=f.opt("Status") == "up",
        detail=f.opt("Detail"),
    )


_MAPPERS: dict[str, Callable[[_Fields], AnyEvent | None]] = {
    "newchannel": _newchannel,
    "hangup": _hangup,
    "queuecallerjoin": _caller_join,
    "queuecallerleave": _caller_leave,
    "queuecallerabandon": _caller_abandon,
    "agentcalled": _agent_called,
    "agentringnoanswer": _agent_ring_no_answer,
    "agentconnect": _agent_connect,
    "agentcomplete": _agent_complete,
    "queuememberstatus": _member_status,
    "queuememberpause": _member_status,
    "varset": _var_set,
    "fullybooted": _fully_booted,
    STATUS_EVENT.lower(): _client_status,
}


def normalize(msg: Message) -> AnyEvent | None:
    """Map one AMI event onto a normalized event; None for events the controller ignores.

    Raises MalformedEvent (a ValueError) when a known event lacks a header it needs.
    """
    event = msg.event
    mapper = _MAPPERS.get(event.lower())
    if mapper is None:
        return None
    return mapper(_Fields(event, msg))
