"""The calls ringing or talking to each operator (the screen-pop's source): what the IVR
decided, the number, the phases, and when a call is forgotten."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from clinicall.controller.facts import (
    CallDataSet,
    ChannelClosed,
    ChannelOpened,
    EngineLink,
    HungUpBy,
    MemberRung,
    QueueAnswered,
    QueueCompleted,
    QueueJoined,
    RingEnded,
)
from clinicall.controller.tracking.live_calls import LiveCalls

C: dict[str, Any] = {"call_id": "c1", "channel_id": "c1"}
T0 = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)


def t(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def routed_call(calls: LiveCalls) -> None:
    calls.apply(ChannelOpened(key="o", at=t(0), caller_number="", caller_name="Olena",
                              dialled="+380441234567", **C))
    for name, value in (("language", "uk"), ("route", "gynecology"),
                        ("path", "lang:1/main:1/appointments:2"), ("queue", "gynecology")):
        calls.apply(CallDataSet(key=name, at=t(5), name=name, value=value, **C))
    calls.apply(QueueJoined(key="j", at=t(10), queue="gynecology",
                            caller_number="0501112233", **C))


def test_a_ring_pops_the_call_with_what_the_ivr_decided() -> None:
    calls = LiveCalls()
    routed_call(calls)
    assert calls.apply(MemberRung(key="r", at=t(12), queue="gynecology", member="PJSIP/op102",
                                  member_name="op102", **C))
    popped = calls.of_member("PJSIP/op102")
    assert popped is not None
    assert (popped.phase, popped.caller_number, popped.caller_name) == (
        "ringing", "0501112233", "Olena")  # the number from the join: the channel had none
    assert (popped.language, popped.route, popped.path) == (
        "uk", "gynecology", "lang:1/main:1/appointments:2")
    assert (popped.joined_at, popped.rung_at) == (t(10), t(12))
    assert calls.apply(QueueAnswered(key="a", at=t(15), queue="gynecology",
                                     member="PJSIP/op102", wait_ms=5000, **C))
    answered = calls.of_member("PJSIP/op102")
    assert answered is not None
    assert (answered.phase, answered.answered_at, answered.route) == ("in_call", t(15),
                                                                      "gynecology")
    assert calls.apply(QueueCompleted(key="c", at=t(75), queue="gynecology",
                                      member="PJSIP/op102", talk_ms=60000,
                                      hung_up_by=HungUpBy.CALLER, **C))
    assert calls.of_member("PJSIP/op102") is None


def test_an_unanswered_ring_ends_only_that_operators_pop() -> None:
    calls = LiveCalls()
    routed_call(calls)
    for member in ("PJSIP/op101", "PJSIP/op102"):
        calls.apply(MemberRung(key=member, at=t(12), queue="gynecology", member=member, **C))
    calls.apply(RingEnded(key="e", at=t(27), queue="gynecology", member="PJSIP/op101", **C))
    assert calls.of_member("PJSIP/op101") is None
    assert calls.of_member("PJSIP/op102") is not None


def test_the_patient_hanging_up_or_the_link_dropping_forgets_the_calls() -> None:
    calls = LiveCalls()
    routed_call(calls)
    calls.apply(MemberRung(key="r", at=t(12), queue="gynecology", member="PJSIP/op102", **C))
    assert not calls.apply(ChannelClosed(key="x", at=t(13), call_id="c1", channel_id="c1-op",
                                         cause=16))  # another leg of the call
    assert calls.apply(ChannelClosed(key="y", at=t(14), cause=16, **C))
    assert calls.of_member("PJSIP/op102") is None
    routed_call(calls)
    calls.apply(MemberRung(key="r2", at=t(20), queue="gynecology", member="PJSIP/op102", **C))
    assert calls.apply(EngineLink(key="down", at=t(21), up=False))
    assert calls.of_member("PJSIP/op102") is None
