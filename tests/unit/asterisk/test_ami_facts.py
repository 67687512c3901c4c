"""AmiFactDecoder on AMI wire bytes: every mapping, units, malformed frames, ignored frames."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from clinicall.controller.asterisk.ami.client import status_message
from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.ami_facts import MAX_IGNORED_NAMES, OTHER, AmiFactDecoder
from clinicall.controller.facts import (
    CallDataSet,
    ChannelClosed,
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

from .ami_frames import CALLER, MEMBER, call_frame, frame

AT = datetime(2024, 11, 23, 8, 20, 0, 123456, tzinfo=UTC)  # the frames' Timestamp
MEMBER_IF = "Local/op1@clinicall-operators/n"


def one(decoder: AmiFactDecoder, message: Message) -> Fact:
    """The single fact ``message`` must give."""
    facts = decoder.decode(message)
    assert len(facts) == 1, facts
    return facts[0]


# ---- channels ------------------------------------------------------------------------------


def test_newchannel_is_channel_opened_with_cyrillic_name() -> None:
    decoder = AmiFactDecoder()
    fact = one(decoder, call_frame("Newchannel", ("ChannelState", "4")))
    assert fact == ChannelOpened(
        key=fact.key,
        at=AT,
        call_id=CALLER,
        channel_id=CALLER,
        caller_number="380501234567",
        caller_name="Олена Коваленко",
        dialled="0441234567",
    )
    assert not fact.durable
    assert fact.key.startswith("ami:")
    assert decoder.stats.decoded == 1


def test_newchannel_unknown_caller_id_is_empty() -> None:
    fact = one(
        AmiFactDecoder(),
        call_frame("Newchannel", CallerIDNum="<unknown>", CallerIDName="<unknown>"),
    )
    assert isinstance(fact, ChannelOpened)
    assert (fact.caller_number, fact.caller_name) == ("", "")


def test_second_channel_of_a_call_keeps_both_ids() -> None:
    fact = one(AmiFactDecoder(), call_frame("Newchannel", Uniqueid="1732350000.42"))
    assert isinstance(fact, ChannelOpened)
    assert (fact.call_id, fact.channel_id) == (CALLER, "1732350000.42")


def test_hangup_is_channel_closed_with_cause() -> None:
    fact = one(
        AmiFactDecoder(), call_frame("Hangup", ("Cause", "16"), ("Cause-txt", "Normal Clearing"))
    )
    assert isinstance(fact, ChannelClosed)
    assert (fact.call_id, fact.channel_id) == (CALLER, CALLER)
    assert (fact.cause, fact.cause_text) == (16, "Normal Clearing")


# ---- callers in queues ---------------------------------------------------------------------


def test_queue_caller_join() -> None:
    fact = one(
        AmiFactDecoder(),
        call_frame("QueueCallerJoin", ("Queue", "therapy"), ("Position", "2"), ("Count", "2")),
    )
    assert fact == QueueJoined(
        key=fact.key, at=AT, call_id=CALLER, channel_id=CALLER, queue="therapy", position=2,
        caller_number="380501234567",
    )  # fmt: skip


def test_queue_caller_join_without_position_keeps_the_join() -> None:
    fact = one(AmiFactDecoder(), call_frame("QueueCallerJoin", ("Queue", "therapy")))
    assert isinstance(fact, QueueJoined)
    assert fact.position is None


def test_queue_caller_leave_has_no_reason() -> None:
    fact = one(
        AmiFactDecoder(),
        call_frame("QueueCallerLeave", ("Queue", "therapy"), ("Count", "0"), ("Position", "1")),
    )
    assert fact == QueueLeft(
        key=fact.key, at=AT, call_id=CALLER, channel_id=CALLER, queue="therapy", position=1
    )
    assert fact.reason is None


def test_queue_caller_abandon_wait_in_ms() -> None:
    fact = one(
        AmiFactDecoder(),
        call_frame(
            "QueueCallerAbandon",
            ("Queue", "therapy"),
            ("Position", "2"),
            ("OriginalPosition", "3"),
            ("HoldTime", "48"),
        ),
    )
    assert isinstance(fact, QueueLeft)
    assert fact.reason is LeaveReason.ABANDON
    assert (fact.wait_ms, fact.position, fact.original_position) == (48_000, 2, 3)


# ---- members rung, answering, completing ----------------------------------------------------


def test_agent_called_is_member_rung() -> None:
    fact = one(
        AmiFactDecoder(),
        call_frame("AgentCalled", *MEMBER, ("DestUniqueid", "1732350000.43")),
    )
    assert fact == MemberRung(
        key=fact.key, at=AT, call_id=CALLER, channel_id=CALLER, queue="therapy",
        member=MEMBER_IF, member_name="Оператор 1",
    )  # fmt: skip


def test_agent_ring_no_answer_ring_time_is_already_ms() -> None:
    fact = one(AmiFactDecoder(), call_frame("AgentRingNoAnswer", *MEMBER, ("RingTime", "15023")))
    assert isinstance(fact, RingEnded)
    assert (fact.member, fact.member_name, fact.ring_ms) == (MEMBER_IF, "Оператор 1", 15023)


def test_agent_connect_seconds_become_ms() -> None:
    fact = one(
        AmiFactDecoder(),
        call_frame("AgentConnect", *MEMBER, ("RingTime", "3"), ("HoldTime", "21")),
    )
    assert fact == QueueAnswered(
        key=fact.key, at=AT, call_id=CALLER, channel_id=CALLER, queue="therapy",
        member=MEMBER_IF, member_name="Оператор 1", wait_ms=21_000, ring_ms=3_000,
    )  # fmt: skip


def test_agent_connect_without_ring_time() -> None:
    fact = one(AmiFactDecoder(), call_frame("AgentConnect", *MEMBER, ("HoldTime", "0")))
    assert isinstance(fact, QueueAnswered)
    assert (fact.wait_ms, fact.ring_ms) == (0, None)


@pytest.mark.parametrize(
    ("reason", "by"),
    [("caller", HungUpBy.CALLER), ("agent", HungUpBy.AGENT), ("transfer", HungUpBy.TRANSFER)],
)
def test_agent_complete(reason: str, by: HungUpBy) -> None:
    fact = one(
        AmiFactDecoder(),
        call_frame(
            "AgentComplete", *MEMBER, ("HoldTime", "21"), ("TalkTime", "95"), ("Reason", reason)
        ),
    )
    assert fact == QueueCompleted(
        key=fact.key, at=AT, call_id=CALLER, channel_id=CALLER, queue="therapy",
        member=MEMBER_IF, member_name="Оператор 1", wait_ms=21_000, talk_ms=95_000, hung_up_by=by,
    )  # fmt: skip


def test_agent_complete_without_channel_fields_is_ignored_not_malformed() -> None:
    """Asterisk 22 sends these when caller and operator hang up at once (queue_log names the
    call instead)."""
    decoder = AmiFactDecoder()
    bare = frame(
        "AgentComplete", ("Privilege", "agent,all"), ("Timestamp", "1795940728.746409"),
        *MEMBER, ("HoldTime", "1"), ("TalkTime", "7"), ("Reason", "agent"),
    )  # fmt: skip
    assert decoder.decode(bare) == []
    assert decoder.stats.ignored["AgentComplete"] == 1
    assert not decoder.stats.malformed
    assert decoder.stats.decoded == 0


# ---- operators -----------------------------------------------------------------------------


def member_status(event: str = "QueueMemberStatus", **values: str) -> Message:
    headers = {"Status": "1", "Paused": "0", "PausedReason": "", "InCall": "0", **values}
    return frame(event, ("Timestamp", "1732350000.5"), *MEMBER, *headers.items())


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("0", MemberState.UNKNOWN),
        ("1", MemberState.IDLE),
        ("2", MemberState.IN_CALL),
        ("3", MemberState.IN_CALL),
        ("4", MemberState.OFFLINE),
        ("5", MemberState.OFFLINE),
        ("6", MemberState.RINGING),
        ("7", MemberState.IN_CALL),
        ("8", MemberState.IN_CALL),
        ("9", MemberState.UNKNOWN),
    ],
)
def test_member_state_from_device_state(status: str, state: MemberState) -> None:
    fact = one(AmiFactDecoder(), member_status(Status=status))
    assert isinstance(fact, MemberSeen)
    assert fact.state is state


def test_in_call_flag_means_in_call_whatever_the_device_says() -> None:
    fact = one(AmiFactDecoder(), member_status(Status="1", InCall="1"))
    assert isinstance(fact, MemberSeen)
    assert fact.state is MemberState.IN_CALL


def test_member_pause_with_cyrillic_reason() -> None:
    fact = one(AmiFactDecoder(), member_status("QueueMemberPause", Paused="1", PausedReason="обід"))
    assert fact == MemberSeen(
        key=fact.key, at=datetime(2024, 11, 23, 8, 20, 0, 500000, tzinfo=UTC), queue="therapy",
        member=MEMBER_IF, member_name="Оператор 1", state=MemberState.IDLE, paused=True,
        pause_reason="обід",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("event", "kind"), [("QueueMemberAdded", MemberJoined), ("QueueMemberRemoved", MemberLeft)]
)
def test_member_added_and_removed(event: str, kind: type[Fact]) -> None:
    message = frame(event, ("Timestamp", "1732350000.5"), *MEMBER, ("Status", "1"))
    fact = one(AmiFactDecoder(), message)
    assert type(fact) is kind
    assert isinstance(fact, MemberJoined | MemberLeft)
    assert (fact.queue, fact.member, fact.member_name) == ("therapy", MEMBER_IF, "Оператор 1")


def test_member_added_then_removed_have_distinct_keys() -> None:
    decoder = AmiFactDecoder()
    added = one(decoder, frame("QueueMemberAdded", ("Timestamp", "1.0"), *MEMBER))
    removed = one(decoder, frame("QueueMemberRemoved", ("Timestamp", "1.0"), *MEMBER))
    assert added.key != removed.key


# ---- channel variables ---------------------------------------------------------------------


def var_set(name: str, value: str) -> Message:
    return call_frame("VarSet", ("Variable", name), ("Value", value))


@pytest.mark.parametrize(
    ("variable", "name", "raw", "value"),
    [
        ("CLINICALL_LANG", "language", "uk", "uk"),
        ("CLINICALL_PATH", "path", "main:8\\?", "main:8?"),  # Asterisk escapes '?'
        ("CLINICALL_ROUTE", "route", "therapy", "therapy"),
        ("CLINICALL_OUTCOME", "outcome", "queue", "queue"),
        ("CLINICALL_LANG", "language", "", ""),
    ],
)
def test_clinicall_variables_are_call_data(variable: str, name: str, raw: str, value: str) -> None:
    fact = one(AmiFactDecoder(), var_set(variable, raw))
    assert fact == CallDataSet(
        key=fact.key, at=AT, call_id=CALLER, channel_id=CALLER, name=name, value=value
    )


@pytest.mark.parametrize("variable", ["CLINICALL_NOTE", "RTPAUDIOQOS", "BRIDGEPEER"])
def test_other_variables_give_nothing(variable: str) -> None:
    decoder = AmiFactDecoder()
    assert decoder.decode(var_set(variable, "x")) == []
    assert decoder.stats.ignored["VarSet"] == 1
    assert not decoder.stats.malformed


def test_mixmonitor_filename_is_recording_started_relative_to_the_spool() -> None:
    fact = one(
        AmiFactDecoder(),
        var_set("MIXMONITOR_FILENAME", "/var/spool/asterisk/monitor/2024/11/23/1732350000.41.ogg"),
    )
    assert fact == RecordingStarted(
        key=fact.key, at=AT, call_id=CALLER, channel_id=CALLER,
        path="2024/11/23/1732350000.41.ogg", format="ogg",
    )  # fmt: skip


@pytest.mark.parametrize(
    "path", ["/tmp/other.wav", "/var/spool/asterisk/monitor/2024/13/01/1.1.wav", ""]
)
def test_recording_outside_the_layout_gives_nothing(path: str) -> None:
    decoder = AmiFactDecoder()
    assert decoder.decode(var_set("MIXMONITOR_FILENAME", path)) == []
    assert decoder.stats.ignored["VarSet"] == 1


# ---- the engine link -----------------------------------------------------------------------


def test_fully_booted_is_engine_up() -> None:
    message = frame(
        "FullyBooted", ("Privilege", "system,all"), ("Timestamp", "1732350000.123456"),
        ("Status", "Fully Booted"), ("Uptime", "12"), ("LastReload", "12"),
    )  # fmt: skip
    fact = one(AmiFactDecoder(), message)
    assert fact == EngineLink(key=fact.key, at=AT, up=True, detail="Fully Booted")


@pytest.mark.parametrize("up", [True, False])
def test_client_status_is_engine_link(up: bool) -> None:
    now = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    fact = one(AmiFactDecoder(clock=lambda: now), status_message(up, "connection refused"))
    assert fact == EngineLink(key=fact.key, at=now, up=up, detail="connection refused")


def test_client_status_notices_never_share_a_key() -> None:
    times = iter([datetime(2026, 12, 4, 3, 0, s, tzinfo=UTC) for s in range(4)])
    decoder = AmiFactDecoder(clock=lambda: next(times))
    first = one(decoder, status_message(False, "lost"))
    second = one(decoder, status_message(False, "lost"))
    assert first.key != second.key


# ---- times ---------------------------------------------------------------------------------


def test_without_timestamp_the_clock_gives_the_time() -> None:
    now = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    message = call_frame("Hangup", ("Cause", "16"), drop={"Timestamp"})
    fact = one(AmiFactDecoder(clock=lambda: now), message)
    assert fact.at == now


def test_timestamp_without_fraction() -> None:
    fact = one(AmiFactDecoder(), call_frame("Hangup", ("Cause", "16"), Timestamp="1732350000"))
    assert fact.at == datetime(2024, 11, 23, 8, 20, tzinfo=UTC)


# ---- malformed and ignored frames ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Hangup", call_frame("Hangup", ("Cause", "16"), drop={"Uniqueid"})),
        ("Hangup", call_frame("Hangup", ("Cause", "16"), drop={"Linkedid"})),
        ("Hangup", call_frame("Hangup", ("Cause", "16"), Linkedid="")),
        ("Hangup", call_frame("Hangup")),
        ("Hangup", call_frame("Hangup", ("Cause", "normal"))),
        ("Hangup", call_frame("Hangup", ("Cause", "-1"))),
        ("Hangup", call_frame("Hangup", ("Cause", "16"), Timestamp="yesterday")),
        ("Hangup", call_frame("Hangup", ("Cause", "16"), Timestamp="99999999999999.1")),
        ("Newchannel", call_frame("Newchannel", drop={"Uniqueid"})),
        ("QueueCallerJoin", call_frame("QueueCallerJoin", ("Position", "1"))),
        ("QueueCallerJoin", call_frame("QueueCallerJoin", ("Queue", "q"), ("Position", "x"))),
        (
            "QueueCallerAbandon",
            call_frame("QueueCallerAbandon", ("Queue", "q"), ("HoldTime", "4s")),
        ),
        ("AgentCalled", call_frame("AgentCalled", ("Queue", "q"))),
        ("AgentRingNoAnswer", call_frame("AgentRingNoAnswer", *MEMBER, ("RingTime", "1.5"))),
        ("AgentConnect", call_frame("AgentConnect", *MEMBER, ("RingTime", "3"))),
        ("AgentConnect", call_frame("AgentConnect", *MEMBER, ("HoldTime", "٣"))),  # Arabic 3
        ("AgentComplete", call_frame("AgentComplete", *MEMBER, ("TalkTime", "9"))),
        (
            "AgentComplete",
            call_frame("AgentComplete", *MEMBER, ("TalkTime", "9"), ("Reason", "nobody")),
        ),
        ("AgentComplete", call_frame("AgentComplete", *MEMBER, ("Reason", "caller"))),
        ("QueueMemberStatus", frame("QueueMemberStatus", *MEMBER)),
        ("QueueMemberPause", frame("QueueMemberPause", ("Interface", "PJSIP/1"), ("Status", "1"))),
        ("QueueMemberAdded", frame("QueueMemberAdded", ("Queue", "q"))),
        ("QueueMemberRemoved", frame("QueueMemberRemoved", ("Interface", "PJSIP/1"))),
        ("VarSet", call_frame("VarSet", ("Value", "uk"))),
        ("VarSet", call_frame("VarSet", ("Variable", "CLINICALL_LANG"))),
        (
            "VarSet",
            call_frame(
                "VarSet", ("Variable", "CLINICALL_LANG"), ("Value", "uk"), drop={"Linkedid"}
            ),
        ),
        ("FullyBooted", frame("FullyBooted", ("Timestamp", "1e9"), ("Status", "Fully Booted"))),
    ],
)
def test_malformed_known_event_gives_nothing_and_is_counted(name: str, message: Message) -> None:
    decoder = AmiFactDecoder()
    assert decoder.decode(message) == []
    assert decoder.stats.malformed == {name: 1}
    assert decoder.stats.decoded == 0
    assert not decoder.stats.ignored


def test_event_names_match_whatever_their_case() -> None:
    decoder = AmiFactDecoder()
    fact = one(decoder, call_frame("HANGUP", ("Cause", "16")))
    assert isinstance(fact, ChannelClosed)
    assert decoder.decode(call_frame("hangup", ("Cause", "x"))) == []
    assert decoder.stats.malformed == {"Hangup": 1}


def test_malformed_events_logged_once_per_name_without_values(
    caplog: pytest.LogCaptureFixture,
) -> None:
    decoder = AmiFactDecoder()
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            decoder.decode(call_frame("Hangup", ("Cause", "x"), CallerIDNum="380509998877"))
        decoder.decode(call_frame("AgentCalled"))
    assert decoder.stats.malformed == {"Hangup": 3, "AgentCalled": 1}
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert "Hangup" in messages[0]
    assert "Cause" in messages[0]
    assert all("380509998877" not in m for m in messages)


def test_unknown_events_and_responses_are_ignored_per_name() -> None:
    decoder = AmiFactDecoder()
    assert decoder.decode(call_frame("Newexten", ("Application", "Queue"))) == []
    assert decoder.decode(call_frame("Newexten")) == []
    assert decoder.decode(frame("RTCPSent")) == []
    assert decoder.decode(Message([("Response", "Success")])) == []
    assert decoder.stats.ignored == {"Newexten": 2, "RTCPSent": 1, "<response>": 1}
    assert decoder.stats.decoded == 0


def test_ignored_names_are_bounded() -> None:
    decoder = AmiFactDecoder()
    for index in range(MAX_IGNORED_NAMES + 50):
        decoder.decode(frame(f"Custom{index}"))
    assert len(decoder.stats.ignored) == MAX_IGNORED_NAMES + 1
    assert decoder.stats.ignored[OTHER] == 50
    assert sum(decoder.stats.ignored.values()) == MAX_IGNORED_NAMES + 50
