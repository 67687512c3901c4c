"""queue_log parsing on bytes: every event layout, malformed lines, splits, CRLF, garbage."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from clinicall.controller.asterisk.queue_log import (
    Abandon,
    AttendedTransfer,
    Complete,
    ConfigReload,
    Connect,
    EnterQueue,
    ExitEmpty,
    ExitWithKey,
    ExitWithTimeout,
    MemberAdded,
    MemberRemoved,
    Paused,
    QueueLogError,
    QueueLogRecord,
    QueueStart,
    RingCanceled,
    RingNoAnswer,
    Transfer,
    Unpaused,
    parse_chunk,
    parse_line,
    record_key,
)

ANSWERED_CALL = (
    b"1700000000|NONE|NONE|NONE|QUEUESTART|\n"
    b"1700000001|NONE|cardiology|PJSIP/op1|ADDMEMBER|\n"
    b"1700000010|1700000005.12|cardiology|NONE|ENTERQUEUE||380441234567|1\n"
    b"1700000025|1700000005.12|cardiology|PJSIP/op2|RINGNOANSWER|15000\n"
    b"1700000029|1700000005.12|cardiology|PJSIP/op3|RINGCANCELED|2100\n"
    b"1700000030|1700000005.12|cardiology|PJSIP/op1|CONNECT|20|1700000030.15|3\n"
    b"1700000090|1700000005.12|cardiology|PJSIP/op1|COMPLETECALLER|20|60|1\n"
)


@pytest.mark.parametrize(
    ("line", "cls", "fields"),
    [
        (b"ENTERQUEUE||+380441234567|2", EnterQueue, {"caller_id": "+380441234567", "position": 2}),
        (
            b"CONNECT|20|1700000030.15|3",
            Connect,
            {"hold_s": 20, "bridged_uniqueid": "1700000030.15", "ring_s": 3},
        ),
        (b"CONNECT|20|1700000030.15", Connect, {"hold_s": 20, "ring_s": None}),
        (
            b"COMPLETECALLER|20|60|1",
            Complete,
            {"hold_s": 20, "talk_s": 60, "original_position": 1, "hung_up_by": "caller"},
        ),
        (b"COMPLETEAGENT|5|61|2", Complete, {"talk_s": 61, "hung_up_by": "agent"}),
        (b"RINGNOANSWER|15000", RingNoAnswer, {"ring_ms": 15000}),
        (b"RINGCANCELED|2100", RingCanceled, {"ring_ms": 2100}),
        (b"ABANDON|1|2|3", Abandon, {"position": 1, "original_position": 2, "wait_s": 3}),
        (b"EXITWITHTIMEOUT|1|1|300", ExitWithTimeout, {"wait_s": 300}),
        (b"EXITEMPTY|1|1|0", ExitEmpty, {"wait_s": 0}),
        (
            b"EXITWITHKEY|5|2|3|42",
            ExitWithKey,
            {"exit_key": "5", "position": 2, "original_position": 3, "wait_s": 42},
        ),
        (b"ADDMEMBER|", MemberAdded, {}),
        (b"REMOVEMEMBER|", MemberRemoved, {}),
        (b"PAUSE|lunch", Paused, {"reason": "lunch"}),
        (b"PAUSEALL|", Paused, {"reason": ""}),
        (b"UNPAUSE", Unpaused, {"reason": ""}),
        (
            b"TRANSFER|200|internal|10|30|1",
            Transfer,
            {"extension": "200", "context": "internal", "talk_s": 30},
        ),
        (b"BLINDTRANSFER|200|internal|10|30|1", Transfer, {"hold_s": 10, "original_position": 1}),
        (
            b"ATTENDEDTRANSFER|BRIDGE|1700000040.20|10|30|1",
            AttendedTransfer,
            {"method": "BRIDGE", "target": "1700000040.20", "talk_s": 30},
        ),
        (b"QUEUESTART|", QueueStart, {}),
        (b"CONFIGRELOAD|", ConfigReload, {}),
    ],
)
def test_each_event_layout(
    line: bytes, cls: type[QueueLogRecord], fields: dict[str, object]
) -> None:
    record = parse_line(
        b"1700000010|1700000005.12|cardiology|PJSIP/op1|" + line, offset=7, line_no=3
    )
    assert type(record) is cls
    assert {name: getattr(record, name) for name in fields} == fields
    assert record.at == datetime(2023, 11, 14, 22, 13, 30, tzinfo=UTC)
    assert (record.uniqueid, record.queue, record.agent) == (
        "1700000005.12",
        "cardiology",
        "PJSIP/op1",
    )
    assert (record.offset, record.line_no) == (7, 3)
    assert record.event == line.split(b"|")[0].decode()


def test_unknown_event_is_kept_raw() -> None:
    record = parse_line(b"1700000010|1700000005.12|cardiology|NONE|DID|+380442000000")
    assert type(record) is QueueLogRecord
    assert (record.event, record.data) == ("DID", ("+380442000000",))


def test_caller_id_with_a_pipe_keeps_the_position() -> None:
    record = parse_line(b"1700000010|u|q|NONE|ENTERQUEUE||a|b|4")
    assert isinstance(record, EnterQueue)
    assert (record.caller_id, record.position) == ("a|b", 4)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"1700000010|u|q|NONE", "4 fields"),
        (b"garbage", "1 fields"),
        (b"yesterday|u|q|NONE|ABANDON|1|1|3", "not a number"),
        (b"nan|u|q|NONE|ABANDON|1|1|3", "out of range"),
        (b"-5|u|q|NONE|ABANDON|1|1|3", "out of range"),
        (b"1700000010|u|q|NONE|ABANDON|1|one|3", "original_position"),
        (b"1700000010|u|q|NONE|CONNECT|20", "bridged_uniqueid missing"),
        (b"1700000010|u|q|NONE|RINGNOANSWER|", "ring_ms"),
    ],
)
def test_malformed_line_raises_with_its_place(line: bytes, reason: str) -> None:
    with pytest.raises(QueueLogError, match=reason) as caught:
        parse_line(line, offset=100, line_no=9)
    assert (caught.value.line_no, caught.value.offset, caught.value.raw) == (9, 100, line)
    assert "line 9" in str(caught.value)


def test_chunk_reports_malformed_lines_and_goes_on() -> None:
    data = ANSWERED_CALL.replace(b"|RINGNOANSWER|15000", b"|RINGNOANSWER|soon") + b"\xff\xfe\x00\n"
    parsed = parse_chunk(data)
    assert [e.line_no for e in parsed.errors] == [4, 8]
    assert [r.event for r in parsed.records] == [
        "QUEUESTART", "ADDMEMBER", "ENTERQUEUE", "RINGCANCELED", "CONNECT", "COMPLETECALLER",
    ]  # fmt: skip
    assert (parsed.consumed, parsed.lines) == (len(data), 8)


def test_half_written_last_line_is_left_unconsumed() -> None:
    partial = b"1700000100|1700000005.12|cardiology|NONE|ABAN"
    parsed = parse_chunk(ANSWERED_CALL + partial)
    assert parsed.consumed == len(ANSWERED_CALL)
    assert (len(parsed.records), parsed.lines) == (7, 7)
    assert parse_chunk(partial).consumed == 0
    final = parse_chunk(partial + b"DON|1|1|3", final=True)
    assert [type(r) for r in final.records] == [Abandon]
    assert final.consumed == len(partial) + 9


def test_crlf_and_lf_give_the_same_records() -> None:
    lf = parse_chunk(ANSWERED_CALL)
    crlf = parse_chunk(ANSWERED_CALL.replace(b"\n", b"\r\n"))
    assert len(crlf.records) == 7
    # Offsets differ (one more byte a line), so keys differ; content must not.
    assert [(type(r), r.event, r.data, r.at) for r in crlf.records] == [
        (type(r), r.event, r.data, r.at) for r in lf.records
    ]
    assert crlf.consumed == len(ANSWERED_CALL) + 7


def test_blank_lines_are_counted_not_reported() -> None:
    parsed = parse_chunk(b"\n\r\n" + ANSWERED_CALL[:39], line_no=10)
    assert parsed.errors == []
    assert [(r.event, r.line_no, r.offset) for r in parsed.records] == [("QUEUESTART", 13, 3)]


def test_split_at_every_position_gives_the_same_records() -> None:
    whole = parse_chunk(ANSWERED_CALL).records
    for cut in range(len(ANSWERED_CALL) + 1):
        first = parse_chunk(ANSWERED_CALL[:cut])
        rest = ANSWERED_CALL[first.consumed :]
        second = parse_chunk(rest, offset=first.consumed, line_no=first.lines)
        assert first.records + second.records == whole, cut
        assert first.consumed + second.consumed == len(ANSWERED_CALL)


def test_keys_follow_line_and_offset() -> None:
    line = b"1700000010|u|q|NONE|ABANDON|1|1|3"
    assert parse_line(line, offset=5).key == parse_line(line, offset=5).key == record_key(line, 5)
    assert parse_line(line, offset=5).key != parse_line(line, offset=6).key
    assert parse_line(line, offset=5).key != parse_line(line.replace(b"|3", b"|4"), offset=5).key
    assert len({r.key for r in parse_chunk(ANSWERED_CALL * 2).records}) == 14


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    record = parse_line(b"1700000010|u|q|NONE|PAUSE|\xd0\xbf\xd0")
    assert isinstance(record, Paused)
    assert record.reason == "п\ufffd"


def test_random_garbage_never_escapes_as_another_error() -> None:
    rng = random.Random(20261123)
    alphabet = b"0123456789|\n\r ABCDEFGHIJKLMNOPQRSTUVWXYZ.\xff\x00"
    for _ in range(2000):
        blob = bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 120)))
        parsed = parse_chunk(blob, final=True)
        assert parsed.consumed == len(blob)
        assert len(parsed.records) + len(parsed.errors) <= parsed.lines
