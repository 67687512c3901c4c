"""AmiFactDecoder over whole calls: the QUEUESTATUS channel memory, the Asterisk 22 event
sequences of an answered, an abandoned and a timed-out caller, and the recorded fixture."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.ami_facts import AmiFactDecoder, ChannelQueues
from clinicall.controller.facts import (
    CallDataSet,
    ChannelClosed,
    ChannelOpened,
    EngineLink,
    Fact,
    HungUpBy,
    LeaveReason,
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

from .ami_frames import CALLER, MEMBER, call_frame, fixture_frames


def decode_all(decoder: AmiFactDecoder, messages: list[Message]) -> list[Fact]:
    return [fact for message in messages for fact in decoder.decode(message)]


def join(queue: str = "therapy", channel: str = CALLER) -> Message:
    return call_frame("QueueCallerJoin", ("Queue", queue), ("Position", "1"), Uniqueid=channel)


def leave(queue: str = "therapy", channel: str = CALLER) -> Message:
    return call_frame("QueueCallerLeave", ("Queue", queue), ("Position", "1"), Uniqueid=channel)


def abandon(queue: str = "therapy", channel: str = CALLER, hold: str = "30") -> Message:
    return call_frame(
        "QueueCallerAbandon", ("Queue", queue), ("Position", "1"), ("OriginalPosition", "1"),
        ("HoldTime", hold), Uniqueid=channel,
    )  # fmt: skip


def status(value: str, channel: str = CALLER) -> Message:
    return call_frame("VarSet", ("Variable", "QUEUESTATUS"), ("Value", value), Uniqueid=channel)


def hangup(channel: str = CALLER) -> Message:
    return call_frame("Hangup", ("Cause", "16"), Uniqueid=channel)


# ---- QUEUESTATUS and the channel memory ----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("TIMEOUT", LeaveReason.TIMEOUT),
        ("LEAVEEMPTY", LeaveReason.EMPTY),
        ("JOINEMPTY", LeaveReason.EMPTY),
        ("LEAVEUNAVAIL", LeaveReason.EMPTY),
        ("JOINUNAVAIL", LeaveReason.EMPTY),
    ],
)
def test_queuestatus_after_join_names_the_queue(value: str, reason: LeaveReason) -> None:
    decoder = AmiFactDecoder()
    decoder.decode(join("surgery"))
    (fact,) = decoder.decode(status(value))
    assert isinstance(fact, QueueLeft)
    assert (fact.queue, fact.reason, fact.call_id, fact.channel_id) == (
        "surgery", reason, CALLER, CALLER,
    )  # fmt: skip
    assert (fact.wait_ms, fact.position) == (None, None)


@pytest.mark.parametrize("value", ["FULL", "CONTINUE", "WITHDRAW", ""])
def test_other_queuestatus_values_give_nothing(value: str) -> None:
    decoder = AmiFactDecoder()
    decoder.decode(join())
    assert decoder.decode(status(value)) == []
    assert decoder.stats.ignored["VarSet"] == 1


def test_queuestatus_of_an_unknown_channel_gives_nothing() -> None:
    decoder = AmiFactDecoder()
    decoder.decode(join(channel="1732350000.99"))
    assert decoder.decode(status("TIMEOUT")) == []
    assert decoder.stats.ignored["VarSet"] == 1
    assert not decoder.stats.malformed


def test_channel_forgotten_on_hangup() -> None:
    decoder = AmiFactDecoder()
    decoder.decode(join())
    decoder.decode(hangup())
    assert CALLER not in decoder.channels
    assert decoder.decode(status("TIMEOUT")) == []


def test_hangup_of_another_channel_keeps_the_caller() -> None:
    decoder = AmiFactDecoder()
    decoder.decode(join())
    decoder.decode(hangup("1732350000.43"))  # the operator's leg
    assert len(decoder.decode(status("TIMEOUT"))) == 1


def test_answered_stay_takes_no_queuestatus_reason() -> None:
    """A status after an answered stay (e.g. a later Queue() that could not join) must not
    turn the answered stay into a timeout or an empty-queue leave."""
    decoder = AmiFactDecoder()
    decoder.decode(join())
    decoder.decode(leave())
    decoder.decode(call_frame("AgentConnect", *MEMBER, ("HoldTime", "5"), ("RingTime", "2")))
    assert decoder.decode(status("JOINEMPTY")) == []


def test_a_stay_is_settled_once() -> None:
    decoder = AmiFactDecoder()
    decoder.decode(join("first"))
    assert len(decoder.decode(status("TIMEOUT"))) == 1
    assert decoder.decode(status("JOINEMPTY")) == []  # the next Queue() did not join


def test_overflow_second_queue_is_the_one_remembered() -> None:
    decoder = AmiFactDecoder()
    decoder.decode(join("first"))
    (first,) = decoder.decode(status("TIMEOUT"))
    decoder.decode(join("second"))
    (second,) = decoder.decode(status("LEAVEEMPTY"))
    assert isinstance(first, QueueLeft)
    assert isinstance(second, QueueLeft)
    assert (first.queue, first.reason) == ("first", LeaveReason.TIMEOUT)
    assert (second.queue, second.reason) == ("second", LeaveReason.EMPTY)


def test_queue_learned_from_abandon_when_the_join_was_missed() -> None:
    """The link came up while the caller waited: the abandon names the queue too."""
    decoder = AmiFactDecoder()
    decoder.decode(abandon("surgery"))
    (fact,) = decoder.decode(status("TIMEOUT"))
    assert isinstance(fact, QueueLeft)
    assert fact.queue == "surgery"


def test_memory_bound_holds_and_drops_the_oldest() -> None:
    decoder = AmiFactDecoder(max_channels=3)
    for n in range(5):
        decoder.decode(join(channel=f"1.{n}"))
    assert len(decoder.channels) == 3
    assert decoder.decode(status("TIMEOUT", "1.0")) == []
    assert decoder.decode(status("TIMEOUT", "1.1")) == []
    assert [len(decoder.decode(status("TIMEOUT", f"1.{n}"))) for n in (2, 3, 4)] == [1, 1, 1]
    assert len(decoder.channels) == 0


def test_rejoining_makes_a_channel_the_newest() -> None:
    memory = ChannelQueues(limit=2)
    memory.remember("a", "q1")
    memory.remember("b", "q1")
    memory.remember("a", "q2")
    memory.remember("c", "q1")  # drops b, the oldest now
    assert "b" not in memory
    assert (memory.take("a"), memory.take("c")) == ("q2", "q1")


def test_default_bound_is_ten_thousand() -> None:
    decoder = AmiFactDecoder()
    for n in range(10_050):
        decoder.channels.remember(f"1.{n}", "q")
    assert len(decoder.channels) == 10_000
    assert "1.49" not in decoder.channels
    assert "1.50" in decoder.channels


# ---- the sequences Asterisk 22 sends (docs/engines/asterisk.md) ----------------------------


def test_answered_sequence() -> None:
    decoder = AmiFactDecoder()
    facts = decode_all(
        decoder,
        [
            join(),
            call_frame("AgentCalled", *MEMBER),
            leave(),
            call_frame("AgentConnect", *MEMBER, ("HoldTime", "21"), ("RingTime", "3")),
            call_frame(
                "AgentComplete",
                *MEMBER,
                ("HoldTime", "21"),
                ("TalkTime", "95"),
                ("Reason", "agent"),
            ),
            hangup(),
        ],
    )
    assert [type(f) for f in facts] == [
        QueueJoined, MemberRung, QueueLeft, QueueAnswered, QueueCompleted, ChannelClosed,
    ]  # fmt: skip
    left, answered, completed = facts[2], facts[3], facts[4]
    assert isinstance(left, QueueLeft)
    assert left.reason is None
    assert isinstance(answered, QueueAnswered)
    assert (answered.wait_ms, answered.ring_ms) == (21_000, 3_000)
    assert isinstance(completed, QueueCompleted)
    assert (completed.talk_ms, completed.hung_up_by) == (95_000, HungUpBy.AGENT)
    assert len({f.key for f in facts}) == len(facts)
    assert len(decoder.channels) == 0


def test_abandoned_sequence() -> None:
    decoder = AmiFactDecoder()
    facts = decode_all(
        decoder,
        [
            join(),
            call_frame("AgentCalled", *MEMBER),
            call_frame("AgentRingNoAnswer", *MEMBER, ("RingTime", "15023")),
            abandon(hold="18"),
            leave(),
            hangup(),
        ],
    )
    assert [type(f) for f in facts] == [
        QueueJoined, MemberRung, RingEnded, QueueLeft, QueueLeft, ChannelClosed,
    ]  # fmt: skip
    ring, abandoned, left = facts[2], facts[3], facts[4]
    assert isinstance(ring, RingEnded)
    assert ring.ring_ms == 15023
    assert isinstance(abandoned, QueueLeft)
    assert (abandoned.reason, abandoned.wait_ms) == (LeaveReason.ABANDON, 18_000)
    assert isinstance(left, QueueLeft)
    assert left.reason is None
    assert len(decoder.channels) == 0


def test_timeout_sequence_is_abandon_then_timeout() -> None:
    """A queue timeout is reported as QueueCallerAbandon too; QUEUESTATUS tells it apart,
    as a later fact with a reason for the same stay."""
    decoder = AmiFactDecoder()
    facts = decode_all(
        decoder,
        [join(), abandon(hold="60"), leave(), status("TIMEOUT"), hangup()],
    )
    assert [type(f) for f in facts] == [
        QueueJoined, QueueLeft, QueueLeft, QueueLeft, ChannelClosed,
    ]  # fmt: skip
    reasons = [f.reason for f in facts if isinstance(f, QueueLeft)]
    assert reasons == [LeaveReason.ABANDON, None, LeaveReason.TIMEOUT]
    timeout = facts[3]
    assert isinstance(timeout, QueueLeft)
    assert timeout.queue == "therapy"
    assert facts[1].at <= timeout.at


# ---- the recorded fixture, end to end ------------------------------------------------------


def test_fixture_end_to_end() -> None:
    decoder = AmiFactDecoder()
    facts = decode_all(decoder, fixture_frames())
    summary = [
        (type(f).__name__, getattr(f, "channel_id", ""), getattr(f, "queue", "")) for f in facts
    ]
    answered, timed_out = "1732350000.41", "1732350200.50"
    assert summary == [
        ("EngineLink", "", ""),
        ("ChannelOpened", answered, ""),
        ("CallDataSet", answered, ""),
        ("QueueJoined", answered, "therapy"),
        ("MemberRung", answered, "therapy"),
        ("RingEnded", answered, "therapy"),
        ("MemberRung", answered, "therapy"),
        ("QueueLeft", answered, "therapy"),
        ("QueueAnswered", answered, "therapy"),
        ("MemberSeen", "", "therapy"),
        ("RecordingStarted", answered, ""),
        ("QueueCompleted", answered, "therapy"),
        ("MemberSeen", "", "therapy"),
        ("ChannelClosed", answered, ""),
        ("QueueLeft", timed_out, "therapy"),
        ("QueueLeft", timed_out, "therapy"),
    ]
    # CLINICALL_NOTE, RTPAUDIOQOS and Newexten give nothing
    assert decoder.stats.ignored == {"VarSet": 2, "Newexten": 1}
    assert not decoder.stats.malformed
    assert decoder.stats.decoded == len(facts)
    assert len({f.key for f in facts}) == len(facts)
    assert all(not f.durable for f in facts)

    by_type = {type(f): f for f in facts}
    booted = by_type[EngineLink]
    assert isinstance(booted, EngineLink)
    assert (booted.up, booted.detail) == (True, "Fully Booted")
    assert booted.at == datetime(2024, 11, 23, 8, 20, 0, 123456, tzinfo=UTC)
    opened = by_type[ChannelOpened]
    assert isinstance(opened, ChannelOpened)
    assert (opened.caller_name, opened.caller_number, opened.dialled) == (
        "Олена Коваленко", "380501234567", "0441234567",
    )  # fmt: skip
    data = by_type[CallDataSet]
    assert isinstance(data, CallDataSet)
    assert (data.name, data.value) == ("language", "uk")
    recording = by_type[RecordingStarted]
    assert isinstance(recording, RecordingStarted)
    assert (recording.path, recording.format) == ("2024/11/23/1732350000.41.ogg", "ogg")
    completed = by_type[QueueCompleted]
    assert isinstance(completed, QueueCompleted)
    assert (completed.member_name, completed.wait_ms, completed.talk_ms, completed.hung_up_by) == (
        "Оператор 1", 21_000, 95_000, HungUpBy.CALLER,
    )  # fmt: skip
    seen = [f for f in facts if isinstance(f, MemberSeen)]
    assert [(s.state, s.paused, s.pause_reason) for s in seen] == [
        (MemberState.IN_CALL, False, ""),
        (MemberState.IDLE, True, "обід"),
    ]
    abandon_fact, timeout_fact = facts[-2:]
    assert isinstance(abandon_fact, QueueLeft)
    assert isinstance(timeout_fact, QueueLeft)
    assert (abandon_fact.reason, abandon_fact.wait_ms, abandon_fact.original_position) == (
        LeaveReason.ABANDON, 48_000, 3,
    )  # fmt: skip
    assert timeout_fact.reason is LeaveReason.TIMEOUT


def test_fixture_replayed_gives_the_same_facts() -> None:
    """A replay after a reconnect yields the same keys, so the journal counts it once."""
    first = decode_all(AmiFactDecoder(), fixture_frames())
    again = decode_all(AmiFactDecoder(), fixture_frames())
    assert first == again


def test_malformed_queuestatus_keeps_the_stay_open() -> None:
    decoder = AmiFactDecoder()
    decoder.decode(join())
    broken = call_frame(
        "VarSet", ("Variable", "QUEUESTATUS"), ("Value", "TIMEOUT"), Timestamp="garbage"
    )
    assert decoder.decode(broken) == []
    assert decoder.stats.malformed == {"VarSet": 1}
    assert len(decoder.decode(status("TIMEOUT"))) == 1
