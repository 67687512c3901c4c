"""queue_log records → engine-neutral facts (``controller.facts``): the durable half of the adapter.

Asterisk writes queue_log whether or not the controller listens, so these facts are durable
(``durable=True``) and the account prefers them to the live AMI ones.  A queue_log line names
only the caller's channel (``uniqueid``), so its call facts carry ``call_id`` "": the account
resolves the call through ``ChannelOfCall``, which the dialplan's own CLINICALL line
(``marks.py``) provides, together with what the IVR decided.

The agent field of a queue_log line is the member's name (``MemberName``), not its interface,
so member facts from here carry that name as both ``member`` and ``member_name``.  Member and
queue lines have the uniqueid "NONE" (or ""): they are not about a call.  Times are whole
seconds except RINGNOANSWER / RINGCANCELED, which are milliseconds (docs/engines/asterisk.md).

Every fact's ``seq`` is its line's byte offset, so facts of one second keep the file's order.
Keys are the records' own keys (a digest of the line and its byte offset), exactly as the
account journaled them before the engine-neutral facts.  A record of any other event gives [];
the caller counts it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from clinicall.controller.asterisk.marks import decode_callback_mark, decode_mark
from clinicall.controller.asterisk.queue_log import records as r
from clinicall.controller.facts import (
    ChannelOfCall,
    EngineStarted,
    Fact,
    HungUpBy,
    LeaveReason,
    MemberJoined,
    MemberLeft,
    MemberPaused,
    QueueAnswered,
    QueueCompleted,
    QueueJoined,
    QueueLeft,
    RingEnded,
)

CHANNEL_KEY_PREFIX = "chan:"  # the journal key of a channel → call mapping
ALL_QUEUES = ""  # MemberPaused.queue for PAUSEALL / UNPAUSEALL

LEAVE_REASONS: dict[type[r.LeftUnanswered], LeaveReason] = {
    r.Abandon: LeaveReason.ABANDON,
    r.ExitWithTimeout: LeaveReason.TIMEOUT,
    r.ExitEmpty: LeaveReason.EMPTY,
    r.ExitWithKey: LeaveReason.EXIT_KEY,
}


def channel_key(uniqueid: str) -> str:
    """The journal key of the fact that maps the channel ``uniqueid`` to its call."""
    return CHANNEL_KEY_PREFIX + uniqueid


def decode_record(record: r.QueueLogRecord) -> list[Fact]:
    """The facts of one queue_log record ([] for events the account does not follow)."""
    if isinstance(record, r.EnterQueue):
        return [
            QueueJoined(
                **_call(record),
                position=record.position,
                caller_number=record.caller_id,
            )
        ]
    if isinstance(record, r.Connect):
        return [
            QueueAnswered(
                **_call(record),
                member=record.agent,
                member_name=record.agent,
                wait_ms=record.hold_s * 1000,
                ring_ms=None if record.ring_s is None else record.ring_s * 1000,
            )
        ]
    if isinstance(record, r.Complete | r.Transfer | r.AttendedTransfer):
        return [_completed(record)]
    if isinstance(record, r.RingNoAnswer | r.RingCanceled):
        return [
            RingEnded(
                **_call(record),
                member=record.agent,
                member_name=record.agent,
                ring_ms=record.ring_ms,
            )
        ]
    if isinstance(record, r.LeftUnanswered):
        return [_left(record)]
    if isinstance(record, r.QueueStart):  # app_queue loads once per Asterisk start
        return [EngineStarted(key=record.key, at=record.at, durable=True, seq=record.offset)]
    return _member_fact(record) or _mark_facts(record)


class QueueCallFields(TypedDict):
    """The fields every queue fact from a queue_log line shares."""

    key: str
    at: datetime
    durable: bool
    seq: int
    call_id: str
    channel_id: str
    queue: str


def _call(record: r.QueueLogRecord) -> QueueCallFields:
    return QueueCallFields(
        key=record.key,
        at=record.at,
        durable=True,
        seq=record.offset,
        call_id="",  # the line names only the channel
        channel_id=record.uniqueid,
        queue=record.queue,
    )


def _completed(record: r.Complete | r.Transfer | r.AttendedTransfer) -> QueueCompleted:
    if isinstance(record, r.Complete):
        hung_up_by = HungUpBy.AGENT if record.event == "COMPLETEAGENT" else HungUpBy.CALLER
    else:
        hung_up_by = HungUpBy.TRANSFER
    return QueueCompleted(
        **_call(record),
        member=record.agent,
        member_name=record.agent,
        wait_ms=record.hold_s * 1000,
        talk_ms=record.talk_s * 1000,
        hung_up_by=hung_up_by,
    )


def _left(record: r.LeftUnanswered) -> QueueLeft:
    exit_key = None
    if isinstance(record, r.ExitWithKey):
        exit_key = record.exit_key[:1] or None  # the key pressed (one DTMF digit)
    return QueueLeft(
        **_call(record),
        reason=LEAVE_REASONS.get(type(record)),
        wait_ms=record.wait_s * 1000,
        position=record.position,
        original_position=record.original_position,
        exit_key=exit_key,
    )


def _member_fact(record: r.QueueLogRecord) -> list[Fact]:
    """ADDMEMBER, REMOVEMEMBER, PAUSE(ALL), UNPAUSE(ALL): about a member, not a call."""
    key, at, seq, name = record.key, record.at, record.offset, record.agent
    if isinstance(record, r.MemberAdded | r.MemberRemoved):
        kind = MemberJoined if isinstance(record, r.MemberAdded) else MemberLeft
        return [kind(key=key, at=at, durable=True, seq=seq, queue=record.queue, member=name,
                     member_name=name)]
    if isinstance(record, r.Paused | r.Unpaused):
        return [
            MemberPaused(
                key=key,
                at=at,
                durable=True,
                seq=seq,
                queue=ALL_QUEUES if record.event.endswith("ALL") else record.queue,
                member=name,
                member_name=name,
                paused=isinstance(record, r.Paused),
                reason=record.reason,
            )
        ]
    return []


def _mark_facts(record: r.QueueLogRecord) -> list[Fact]:
    """The dialplan's CLINICALL line: what the IVR decided, and the channel's call; or its
    CLINICALLCB line: a patient answered a callback."""
    routed = decode_mark(record)
    if routed is None:
        answered = decode_callback_mark(record)
        return [answered] if answered is not None else []
    mapping = ChannelOfCall(key=channel_key(routed.channel_id), at=routed.at, durable=True,
                            seq=routed.seq, call_id=routed.call_id,
                            channel_id=routed.channel_id)  # fmt: skip
    return [routed, mapping]
