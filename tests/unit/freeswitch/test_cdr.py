"""FreeSWITCH's durable record: the ``clinicall`` CDR template's lines → durable facts, and
the file read from a cursor in complete lines (the real file: test_freeswitch_calls.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from clinicall.controller.facts import (
    CallRouted,
    ChannelOfCall,
    HungUpBy,
    LeaveReason,
    QueueAnswered,
    QueueCompleted,
    QueueJoined,
    QueueLeft,
)
from clinicall.controller.freeswitch.cdr import (
    FIELDS,
    CdrRecord,
    MalformedCdrLine,
    decode_line,
    parse_line,
)

ANSWERED = {
    "uuid": "u1", "caller_id_number": "0501234567", "destination_number": "+380441234567",
    "CLINICALL_DIALLED": "+380441234567", "start_epoch": "1000", "answer_epoch": "1000",
    "end_epoch": "1060", "hangup_cause": "NORMAL_CLEARING",
    "sip_hangup_disposition": "recv_bye", "CLINICALL_OUTCOME": "queue",
    "CLINICALL_LANG": "uk", "CLINICALL_ROUTE": "ultrasound",
    "CLINICALL_PATH": "lang:1/main:1/appointments:1", "CLINICALL_QUEUE": "ultrasound",
    "cc_queue": "ultrasound@clinicall", "cc_queue_joined_epoch": "1020",
    "cc_queue_answered_epoch": "1023", "cc_queue_terminated_epoch": "1050",
    "cc_cause": "answered", "cc_agent": "op101",
}  # fmt: skip
ABANDONED = {
    "uuid": "u2", "caller_id_number": "0501234568", "start_epoch": "2000", "end_epoch": "2030",
    "hangup_cause": "NORMAL_CLEARING", "CLINICALL_OUTCOME": "fallback",
    "CLINICALL_ROUTE": "operator", "CLINICALL_QUEUE": "universal",
    "cc_queue": "universal@clinicall", "cc_queue_joined_epoch": "2005",
    "cc_queue_canceled_epoch": "2012", "cc_cause": "cancel", "cc_cancel_reason": "BREAK_OUT",
}  # fmt: skip


def line(values: dict[str, str]) -> str:
    """As mod_cdr_csv writes the template: every column quoted, unset ones empty."""
    return ",".join(f'"{values.get(name, "")}"' for name in FIELDS)


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def test_an_answered_call_is_its_call_its_routing_and_its_stay() -> None:
    facts = decode_line(parse_line(line(ANSWERED)), 42, queue_domain="clinicall")
    assert [type(f) for f in facts] == [ChannelOfCall, CallRouted, QueueJoined, QueueAnswered,
                                        QueueCompleted]  # fmt: skip
    assert all(f.durable and f.seq == 42 for f in facts)
    mapping, routed, joined, answered, completed = facts
    assert isinstance(mapping, ChannelOfCall)
    assert (mapping.call_id, mapping.channel_id) == ("u1", "u1")
    assert isinstance(routed, CallRouted)
    assert (routed.queue, routed.outcome, routed.language, routed.route, routed.path,
            routed.caller, routed.dialled) == ("ultrasound", "queue", "uk", "ultrasound",
                                               "lang:1/main:1/appointments:1", "0501234567",
                                               "+380441234567")  # fmt: skip
    assert isinstance(joined, QueueJoined)
    assert (joined.queue, joined.at, joined.channel_id) == ("ultrasound", at(1020), "u1")
    assert isinstance(answered, QueueAnswered)
    assert (answered.member, answered.wait_ms, answered.at) == ("op101", 3000, at(1023))
    assert isinstance(completed, QueueCompleted)
    assert (completed.talk_ms, completed.wait_ms, completed.hung_up_by) == (27000, 3000,
                                                                           HungUpBy.CALLER)


def test_an_abandoned_fallback_call_left_its_queue() -> None:
    facts = decode_line(parse_line(line(ABANDONED)), 0, queue_domain="clinicall")
    assert [type(f) for f in facts] == [ChannelOfCall, CallRouted, QueueJoined, QueueLeft]
    routed, left = facts[1], facts[3]
    assert isinstance(routed, CallRouted)
    assert (routed.outcome, routed.queue) == ("fallback", "universal")
    assert isinstance(left, QueueLeft)
    assert (left.reason, left.wait_ms, left.at) == (LeaveReason.ABANDON, 7000, at(2012))


@pytest.mark.parametrize(("key", "reason", "kept"), [
    ("D", LeaveReason.TIMEOUT, None),  # the route's wait timer (queue_wait.py)
    ("1", LeaveReason.EXIT_KEY, "1"),  # the patient's offer key
    ("A", LeaveReason.EXIT_KEY, "A"),  # the threshold offer's key
])  # fmt: skip
def test_a_stay_left_by_key_is_told_by_the_key(key: str, reason: LeaveReason,
                                               kept: str | None) -> None:  # fmt: skip
    left_by_key = {**ABANDONED, "cc_cancel_reason": "EXIT_WITH_KEY", "cc_exit_key": key}
    facts = decode_line(parse_line(line(left_by_key)), 0, queue_domain="clinicall")
    left = facts[-1]
    assert isinstance(left, QueueLeft)
    assert (left.reason, left.exit_key, left.wait_ms) == (reason, kept, 7000)


def test_a_line_of_the_template_before_the_exit_key_still_reads() -> None:
    """A file written before ``cc_exit_key`` joined the template (one column fewer): its
    only exit key was the route's wait timer's, so a stay left by key timed out."""
    timed_out = {**ABANDONED, "cc_cancel_reason": "EXIT_WITH_KEY"}
    older = ",".join(f'"{timed_out.get(name, "")}"' for name in FIELDS[:-1])
    assert FIELDS[-1] == "cc_exit_key"
    facts = decode_line(parse_line(older), 0, queue_domain="clinicall")
    left = facts[-1]
    assert isinstance(left, QueueLeft)
    assert (left.reason, left.exit_key, left.wait_ms) == (LeaveReason.TIMEOUT, None, 7000)
    with pytest.raises(MalformedCdrLine):
        parse_line(",".join(['""'] * (len(FIELDS) - 2)))


def test_a_call_the_ivr_ended_is_only_its_call() -> None:
    values = {"uuid": "u3", "start_epoch": "3000", "CLINICALL_OUTCOME": "selfserved"}
    facts = decode_line(parse_line(line(values)), 0, queue_domain="clinicall")
    assert [type(f) for f in facts] == [ChannelOfCall]


async def test_the_file_is_read_in_complete_lines_from_the_cursor(tmp_path: Path) -> None:
    path = tmp_path / "clinicall.csv"
    record = CdrRecord(path, queue_domain="clinicall")
    empty = await record.reconcile(None)  # no file yet: nothing, from the top next time
    assert (list(empty.facts), empty.cursor["offset"]) == ([], 0)
    first = line(ANSWERED) + "\n"
    path.write_text(first + '"not","the","template"\n' + line(ABANDONED)[:20])
    batch = await record.reconcile(empty.cursor)
    assert {f.channel_id for f in batch.facts if hasattr(f, "channel_id")} == {"u1"}
    assert batch.skipped == 1
    assert batch.cursor["offset"] == len((first + '"not","the","template"\n').encode())
    with path.open("a") as file:  # the line being written is finished
        file.write(line(ABANDONED)[20:] + "\n")
    after = await record.reconcile(batch.cursor)
    assert [type(f) for f in after.facts] == [ChannelOfCall, CallRouted, QueueJoined, QueueLeft]
    again = await record.reconcile(after.cursor)
    assert list(again.facts) == []
    path.unlink()  # rotated: a new file is read from its top
    path.write_text(line(ABANDONED) + "\n")
    rotated = await record.reconcile(after.cursor)
    assert [type(f) for f in rotated.facts] == [ChannelOfCall, CallRouted, QueueJoined,
                                                QueueLeft]
    assert rotated.cursor["offset"] == len(line(ABANDONED)) + 1
