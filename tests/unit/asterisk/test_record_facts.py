"""decode_record on queue_log lines (bytes parsed by the real parser): every mapping, the
CLINICALL mark, units, keys and the events that give no fact."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clinicall.controller.asterisk.queue_log import parse_chunk, parse_line
from clinicall.controller.asterisk.record_facts import decode_record
from clinicall.controller.facts import (
    CallDataSet,
    CallRouted,
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
from clinicall.controller.port import CALLBACK_ANSWERED

CHANNEL = "1732350000.41"
AT = datetime(2024, 11, 23, 8, 20, 21, tzinfo=UTC)
OFFSET = 4096


def line(event: str, *data: str, agent: str = "Оператор 1", uniqueid: str = CHANNEL) -> bytes:
    return "|".join(["1732350021", uniqueid, "therapy", agent, event, *data]).encode()


def decode(raw: bytes) -> list[Fact]:
    return decode_record(parse_line(raw, offset=OFFSET, line_no=7))


def one(raw: bytes) -> Fact:
    facts = decode(raw)
    assert len(facts) == 1, facts
    (fact,) = facts
    assert fact.key == parse_line(raw, offset=OFFSET).key  # the record's own key, as journaled
    assert fact.key.startswith("ql:")
    assert fact.at == AT
    assert fact.durable
    assert fact.seq == OFFSET  # the line's byte offset orders facts of one second
    return fact


def test_enterqueue_is_queue_joined_naming_only_the_channel() -> None:
    fact = one(line("ENTERQUEUE", "", "380501234567", "2", agent="NONE"))
    assert fact == QueueJoined(
        key=fact.key, at=AT, durable=True, seq=OFFSET, call_id="", channel_id=CHANNEL,
        queue="therapy",
        position=2, caller_number="380501234567",
    )  # fmt: skip


def test_enterqueue_caller_id_with_a_bar() -> None:
    fact = one(line("ENTERQUEUE", "", "380|50", "1", agent="NONE"))
    assert isinstance(fact, QueueJoined)
    assert (fact.caller_number, fact.position) == ("380|50", 1)


def test_connect_seconds_become_ms() -> None:
    fact = one(line("CONNECT", "21", "1732350000.43", "3"))
    assert fact == QueueAnswered(
        key=fact.key, at=AT, durable=True, seq=OFFSET, call_id="", channel_id=CHANNEL,
        queue="therapy",
        member="Оператор 1", member_name="Оператор 1", wait_ms=21_000, ring_ms=3_000,
    )  # fmt: skip


def test_connect_without_ring_time() -> None:
    fact = one(line("CONNECT", "21", "1732350000.43"))
    assert isinstance(fact, QueueAnswered)
    assert fact.ring_ms is None


@pytest.mark.parametrize(
    ("event", "by"), [("COMPLETECALLER", HungUpBy.CALLER), ("COMPLETEAGENT", HungUpBy.AGENT)]
)
def test_complete(event: str, by: HungUpBy) -> None:
    fact = one(line(event, "21", "95", "1"))
    assert fact == QueueCompleted(
        key=fact.key, at=AT, durable=True, seq=OFFSET, call_id="", channel_id=CHANNEL,
        queue="therapy",
        member="Оператор 1", member_name="Оператор 1", wait_ms=21_000, talk_ms=95_000,
        hung_up_by=by,
    )  # fmt: skip


@pytest.mark.parametrize(
    "raw",
    [
        line("TRANSFER", "2001", "clinicall-operators", "21", "95", "1"),
        line("BLINDTRANSFER", "2001", "clinicall-operators", "21", "95", "1"),
        line("ATTENDEDTRANSFER", "BRIDGE", "PJSIP/op2-0001", "21", "95", "1"),
    ],
)
def test_transfers_complete_the_call(raw: bytes) -> None:
    fact = one(raw)
    assert isinstance(fact, QueueCompleted)
    assert (fact.hung_up_by, fact.wait_ms, fact.talk_ms) == (HungUpBy.TRANSFER, 21_000, 95_000)


@pytest.mark.parametrize("event", ["RINGNOANSWER", "RINGCANCELED"])
def test_ring_ended_ms_as_written(event: str) -> None:
    fact = one(line(event, "15023"))
    assert fact == RingEnded(
        key=fact.key, at=AT, durable=True, seq=OFFSET, call_id="", channel_id=CHANNEL,
        queue="therapy",
        member="Оператор 1", member_name="Оператор 1", ring_ms=15023,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ("ABANDON", LeaveReason.ABANDON),
        ("EXITWITHTIMEOUT", LeaveReason.TIMEOUT),
        ("EXITEMPTY", LeaveReason.EMPTY),
    ],
)
def test_left_unanswered(event: str, reason: LeaveReason) -> None:
    fact = one(line(event, "2", "3", "48", agent="NONE"))
    assert fact == QueueLeft(
        key=fact.key, at=AT, durable=True, seq=OFFSET, call_id="", channel_id=CHANNEL,
        queue="therapy",
        reason=reason, wait_ms=48_000, position=2, original_position=3,
    )  # fmt: skip
    assert isinstance(fact, QueueLeft)
    assert fact.exit_key is None


@pytest.mark.parametrize(("written", "key"), [("5", "5"), ("#1", "#"), ("", None)])
def test_exit_with_key(written: str, key: str | None) -> None:
    fact = one(line("EXITWITHKEY", written, "1", "1", "7", agent="NONE"))
    assert isinstance(fact, QueueLeft)
    assert (fact.reason, fact.exit_key, fact.wait_ms) == (LeaveReason.EXIT_KEY, key, 7_000)


@pytest.mark.parametrize(
    ("event", "kind"), [("ADDMEMBER", MemberJoined), ("REMOVEMEMBER", MemberLeft)]
)
@pytest.mark.parametrize("uniqueid", ["NONE", ""])
def test_member_added_and_removed(
    event: str, kind: type[MemberJoined | MemberLeft], uniqueid: str
) -> None:
    fact = one(line(event, "", uniqueid=uniqueid))
    assert fact == kind(
        key=fact.key, at=AT, durable=True, seq=OFFSET, queue="therapy", member="Оператор 1",
        member_name="Оператор 1",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("event", "queue", "paused"),
    [
        ("PAUSE", "therapy", True),
        ("PAUSEALL", "", True),
        ("UNPAUSE", "therapy", False),
        ("UNPAUSEALL", "", False),
    ],
)
def test_pause_and_unpause(event: str, queue: str, paused: bool) -> None:
    fact = one(line(event, "обід", uniqueid="NONE"))
    assert fact == MemberPaused(
        key=fact.key, at=AT, durable=True, seq=OFFSET, queue=queue, member="Оператор 1",
        member_name="Оператор 1", paused=paused, reason="обід",
    )  # fmt: skip


def test_pause_without_reason() -> None:
    fact = one(line("PAUSE", uniqueid="NONE"))
    assert isinstance(fact, MemberPaused)
    assert fact.reason == ""


MARK = line(
    "CLINICALL", "1732350000.40", "queue", "uk", "therapy", "main:1", "380501234567", "0441234567",
    agent="NONE",
)  # fmt: skip


def test_clinicall_mark_routes_the_call_and_maps_the_channel() -> None:
    record = parse_line(MARK, offset=OFFSET)
    routed, channel = decode_record(record)
    assert routed == CallRouted(
        key=record.key, at=AT, durable=True, seq=OFFSET, call_id="1732350000.40",
        channel_id=CHANNEL, queue="therapy", outcome="queue", language="uk", route="therapy",
        path="main:1", caller="380501234567", dialled="0441234567",
    )  # fmt: skip
    assert channel == ChannelOfCall(
        key=f"chan:{CHANNEL}", at=AT, durable=True, seq=OFFSET, call_id="1732350000.40",
        channel_id=CHANNEL,
    )  # fmt: skip


def test_clinicall_mark_caller_with_bars_only_widens_the_caller() -> None:
    raw = line("CLINICALL", "1.1", "fallback", "", "", "", "38|05|0", "0441234567", agent="NONE")
    routed, _ = decode(raw)
    assert isinstance(routed, CallRouted)
    assert (routed.outcome, routed.caller, routed.dialled) == ("fallback", "38|05|0", "0441234567")


@pytest.mark.parametrize(
    "raw",
    [
        line("CLINICALL", "1.1", "queue", "uk", agent="NONE"),  # short
        line("CLINICALL", "", "queue", "uk", "r", "p", "c", "d", agent="NONE"),  # no linkedid
        line("CONFIGRELOAD", uniqueid="NONE", agent="NONE"),
        line("SYSCOMPAT", "1", "2"),
        line("AGENTLOGIN", "PJSIP/op1"),
    ],
)
def test_other_records_give_nothing(raw: bytes) -> None:
    assert decode(raw) == []


def test_queuestart_says_the_engine_started() -> None:
    (started,) = decode(line("QUEUESTART", uniqueid="NONE", agent="NONE"))
    assert started == EngineStarted(key=started.key, at=AT, durable=True, seq=OFFSET)
    assert started.key.startswith("ql:")


def test_a_whole_answered_call_from_queue_log() -> None:
    text = "\n".join(
        [
            MARK.decode(),
            "1732350000|1732350000.41|therapy|NONE|ENTERQUEUE||380501234567|1",
            "1732350015|1732350000.41|therapy|Оператор 2|RINGNOANSWER|15000",
            "1732350021|1732350000.41|therapy|Оператор 1|CONNECT|21|1732350000.43|3",
            "1732350116|1732350000.41|therapy|Оператор 1|COMPLETECALLER|21|95|1",
            "",
        ]
    )
    chunk = parse_chunk(text.encode())
    assert not chunk.errors
    facts = [fact for record in chunk.records for fact in decode_record(record)]
    assert [type(f) for f in facts] == [
        CallRouted, ChannelOfCall, QueueJoined, RingEnded, QueueAnswered, QueueCompleted,
    ]  # fmt: skip
    assert all(f.durable for f in facts)
    assert len({f.key for f in facts}) == len(facts)
    assert {f.channel_id for f in facts if isinstance(f, QueueJoined | QueueCompleted)} == {CHANNEL}


def test_facts_of_one_second_keep_the_file_order() -> None:
    """A caller who hangs up at once: join and abandon share a second; ``seq`` orders them
    (the keys, being digests, would not)."""
    lines = [
        b"1732350000|1.9|therapy|NONE|ENTERQUEUE||380501234567|1",
        b"1732350000|1.9|therapy|NONE|ABANDON|1|1|0",
    ]
    chunk = parse_chunk(b"\n".join(lines) + b"\n", offset=10_000)
    facts = [fact for record in chunk.records for fact in decode_record(record)]
    joined, left = facts
    assert joined.at == left.at
    assert (joined.seq, left.seq) == (10_000, 10_000 + len(lines[0]) + 1)
    assert sorted(reversed(facts), key=lambda f: (f.at, f.seq)) == facts


def test_the_callback_mark_says_the_patient_answered_the_call() -> None:
    raw = line("CLINICALLCB", "cb-0a1b2c", "ANSWER", agent="NONE", uniqueid="1732350000.77")
    [answered] = decode(raw)
    assert isinstance(answered, CallDataSet)
    assert (answered.call_id, answered.channel_id, answered.name, answered.value) == (
        "cb-0a1b2c", "1732350000.77", "outcome", CALLBACK_ANSWERED)  # fmt: skip
    assert (answered.durable, answered.at, answered.seq) == (True, AT, OFFSET)


@pytest.mark.parametrize("data", [("cb-0a1b2c",), ("", "ANSWER"), ("cb-0a1b2c", "NOANSWER")])
def test_a_callback_mark_that_is_short_empty_or_not_an_answer_gives_nothing(
    data: tuple[str, ...],
) -> None:
    assert decode(line("CLINICALLCB", *data, agent="NONE")) == []
