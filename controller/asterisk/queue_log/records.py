"""Typed records of Asterisk's ``queue_log``: one class per event that the store uses.

A line is ``epoch|uniqueid|queue|agent|EVENT|d1|d2|...``.  Every record keeps the common
fields, the raw data fields (``data``) and where it came from (``offset``, ``line_no``), plus
``key``: the journal's idempotency key, a digest of the line and its byte offset, so re-reading
the same file after a restart yields the same keys.  Events without a class here are kept as
plain ``QueueLogRecord`` (nothing is dropped).

Field layouts as written by app_queue in Asterisk 22 (docs/engines/asterisk.md): times are whole
seconds except RINGNOANSWER / RINGCANCELED, which are milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueLogRecord:
    """A queue_log line.  Used as is for events without a more specific class."""

    key: str
    offset: int  # byte offset of the line's first byte in its file
    line_no: int  # 1-based line number in its file
    at: datetime  # UTC
    uniqueid: str  # the caller's channel, "NONE" for queue/member events
    queue: str
    agent: str  # member name, "NONE" when not about a member
    event: str
    data: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class EnterQueue(QueueLogRecord):
    """ENTERQUEUE|url|callerid|position."""

    url: str
    caller_id: str
    position: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Connect(QueueLogRecord):
    """CONNECT|holdtime|bridged-uniqueid|ringtime (ringtime absent in old versions)."""

    hold_s: int
    bridged_uniqueid: str
    ring_s: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Complete(QueueLogRecord):
    """COMPLETECALLER / COMPLETEAGENT|holdtime|talktime|origposition."""

    hold_s: int
    talk_s: int
    original_position: int | None

    @property
    def hung_up_by(self) -> str:
        return "agent" if self.event == "COMPLETEAGENT" else "caller"


@dataclass(frozen=True, slots=True, kw_only=True)
class RingNoAnswer(QueueLogRecord):
    """RINGNOANSWER|ms: a member rang and did not answer."""

    ring_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RingCanceled(QueueLogRecord):
    """RINGCANCELED|ms: the ringing stopped (another member answered or the caller left).

    It has no AMI counterpart, so queue_log is the only place it is seen."""

    ring_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class LeftUnanswered(QueueLogRecord):
    """ABANDON, EXITWITHTIMEOUT, EXITEMPTY|position|origposition|waittime."""

    position: int
    original_position: int
    wait_s: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Abandon(LeftUnanswered):
    """The caller hung up while waiting."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExitWithTimeout(LeftUnanswered):
    """Max wait reached (AMI reports it as QueueCallerAbandon too; this tells them apart)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExitEmpty(LeftUnanswered):
    """No member could take the call (leavewhenempty)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExitWithKey(LeftUnanswered):
    """EXITWITHKEY|key|position|origposition|waittime: left by a key (overflow or callback)."""

    exit_key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberAdded(QueueLogRecord):
    """ADDMEMBER: an agent logged in to the queue."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberRemoved(QueueLogRecord):
    """REMOVEMEMBER: an agent logged out of the queue."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Paused(QueueLogRecord):
    """PAUSE / PAUSEALL|reason."""

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Unpaused(QueueLogRecord):
    """UNPAUSE / UNPAUSEALL|reason."""

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Transfer(QueueLogRecord):
    """TRANSFER / BLINDTRANSFER|extension|context|holdtime|talktime|origposition."""

    extension: str
    context: str
    hold_s: int
    talk_s: int
    original_position: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AttendedTransfer(QueueLogRecord):
    """ATTENDEDTRANSFER|method(BRIDGE,APP,LINK,THREEWAY)|target|holdtime|talktime|origposition."""

    method: str
    target: str
    hold_s: int
    talk_s: int
    original_position: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueStart(QueueLogRecord):
    """QUEUESTART: app_queue (re)started; members' state is unknown until the next status."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigReload(QueueLogRecord):
    """CONFIGRELOAD: queues.conf was reloaded."""
