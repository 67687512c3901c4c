"""normalize() on realistic Asterisk 22 frames (fixtures/queue_call.ami)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest

from clinicall.controller import events as ev
from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.ami.protocol import AMIParser
from clinicall.controller.asterisk.normalize import MalformedEvent, normalize, unescape_value

FIXTURE = Path(__file__).parent / "fixtures" / "queue_call.ami"


def frames() -> list[Message]:
    return AMIParser().feed(FIXTURE.read_bytes())


def normalized() -> list[ev.AnyEvent]:
    return [e for e in map(normalize, frames()) if e is not None]


def test_types_in_order_and_ignored_events() -> None:
    assert [type(e).__name__ for e in normalized()] == [
        "EngineStatus",
        "ChannelCreated",
        "VariableSet",
        "VariableSet",
        "QueueJoined",
        "AgentCalled",
        "AgentRingNoAnswer",
        "AgentCalled",
        "QueueLeft",
        "AgentConnected",
        "MemberStatus",
        "VariableSet",
        "AgentCompleted",
        "MemberStatus",
        "ChannelHungUp",
        "QueueAbandoned",
        "VariableSet",
    ]  # RTPAUDIOQOS VarSet and Newexten map to None


T = TypeVar("T")


def by_type(kind: type[T]) -> list[T]:
    return [e for e in normalized() if isinstance(e, kind)]


def test_channel_created_keeps_cyrillic_name_and_ids() -> None:
    (created,) = by_type(ev.ChannelCreated)
    assert created.caller_name == "Олена Коваленко"
    assert created.caller_number == "380501234567"
    assert (created.uniqueid, created.linkedid) == ("1732350000.41", "1732350000.41")
    assert (created.context, created.exten) == ("clinicall-in", "0441234567")
    assert created.at == datetime(2024, 11, 23, 8, 20, 0, 123457, tzinfo=UTC)


def test_queue_and_agent_fields_and_units() -> None:
    (joined,) = by_type(ev.QueueJoined)
    assert (joined.queue, joined.position, joined.caller_number) == ("therapy", 1, "380501234567")
    (no_answer,) = by_type(ev.AgentRingNoAnswer)
    assert no_answer.ring_ms == 15023
    assert no_answer.member == "Local/op1@clinicall-operators/n"
    assert no_answer.member_name == "Оператор 1"
    (connected,) = by_type(ev.AgentConnected)
    assert (connected.hold_s, connected.ring_s) == (21, 3)
    (completed,) = by_type(ev.AgentCompleted)
    assert (completed.hold_s, completed.talk_s, completed.hung_up_by) == (21, 95, "caller")
    (abandoned,) = by_type(ev.QueueAbandoned)
    assert (abandoned.position, abandoned.original_position, abandoned.hold_s) == (2, 3, 48)
    (hung_up,) = by_type(ev.ChannelHungUp)
    assert (hung_up.cause, hung_up.cause_text) == (16, "Normal Clearing")


def test_member_status_and_pause() -> None:
    busy, paused = by_type(ev.MemberStatus)
    assert (busy.status, busy.paused, busy.in_call, busy.pause_reason) == (2, False, True, "")
    assert (paused.status, paused.paused, paused.pause_reason) == (1, True, "обід")


def test_only_watched_variables_with_empty_values_kept() -> None:
    assert [(v.name, v.value) for v in by_type(ev.VariableSet)] == [
        ("CLINICALL_LANG", "uk"),
        ("CLINICALL_NOTE", ""),
        ("MIXMONITOR_FILENAME", "/var/spool/asterisk/monitor/2024/11/23/1732350000.41.ogg"),
        ("QUEUESTATUS", "TIMEOUT"),
    ]


def test_fully_booted_is_engine_up() -> None:
    (status,) = by_type(ev.EngineStatus)
    assert status.up
    assert status.detail == "Fully Booted"
    assert status.extra == {"Uptime": "12", "LastReload": "12"}


def test_keys_stable_on_replay_and_distinct_between_events() -> None:
    first, again = normalized(), normalized()
    assert [e.key for e in first] == [e.key for e in again]
    assert len({e.key for e in first}) == len(first)


def test_key_tells_two_ring_attempts_apart_without_timestamp() -> None:
    base = [("Event", "AgentCalled"), ("Uniqueid", "1.1"), ("Linkedid", "1.1"), ("Queue", "q")]
    one = normalize(Message([*base, ("Interface", "PJSIP/op1"), ("DestUniqueid", "1.2")]))
    two = normalize(Message([*base, ("Interface", "PJSIP/op2"), ("DestUniqueid", "1.3")]))
    assert one is not None
    assert two is not None
    assert one.key != two.key


def test_no_timestamp_uses_now_utc() -> None:
    before = datetime.now(UTC)
    event = normalize(
        Message(
            [
                ("Event", "Hangup"),
                ("Uniqueid", "1.1"),
                ("Linkedid", "1.1"),
                ("Channel", "PJSIP/x-1"),
                ("Cause", "16"),
            ]
        )
    )
    assert event is not None
    assert event.at >= before
    assert event.at.tzinfo is UTC


def test_agent_complete_without_channel_fields_is_ignored_not_malformed() -> None:
    """Seen from Asterisk 22.10 when the caller and the operator hung up at once: the event
    names no channel, so it cannot be tied to a call (queue_log's COMPLETEAGENT can)."""
    bare = Message([("Event", "AgentComplete"), ("Privilege", "agent,all"),
                    ("Timestamp", "1795940728.746409"), ("Queue", "universal"),
                    ("Interface", "Local/op104@clinicall-sim-operators/n"),
                    ("MemberName", "op104"), ("HoldTime", "1"), ("TalkTime", "7"),
                    ("Reason", "agent")])
    assert normalize(bare) is None


def test_unknown_event_is_none() -> None:
    assert normalize(Message([("Event", "RTCPSent"), ("Uniqueid", "1.1")])) is None
    assert normalize(Message([("Response", "Success")])) is None


@pytest.mark.parametrize(
    ("event", "drop", "problem"),
    [
        ("AgentRingNoAnswer", "RingTime", "missing"),
        ("QueueCallerJoin", "Uniqueid", "missing"),
        ("VarSet", "Value", "missing"),
        ("QueueCallerAbandon", "HoldTime", "not a number"),
    ],
)
def test_missing_or_bad_header_raises_malformed(event: str, drop: str, problem: str) -> None:
    msg = next(m for m in frames() if m.event == event)
    headers = [(n, v) for n, v in msg.headers if n != drop]
    if problem != "missing":
        headers.append((drop, "forty"))
    with pytest.raises(MalformedEvent, match=f"{event}.*{drop}") as info:
        normalize(Message(headers))
    assert isinstance(info.value, ValueError)
    assert (info.value.event, info.value.header) == (event, drop)


@pytest.mark.parametrize(
    ("wire", "value"),
    [
        ("lang:1/main:8\\?/main:8\\?", "lang:1/main:8?/main:8?"),  # seen on Asterisk 22
        ("say \\\"hi\\\"", 'say "hi"'),
        ("a\\\\b", "a\\b"),
        ("line\\nbreak", "line\nbreak"),
        ("plain", "plain"),
    ],
)
def test_varset_values_are_unescaped(wire: str, value: str) -> None:
    assert unescape_value(wire) == value
