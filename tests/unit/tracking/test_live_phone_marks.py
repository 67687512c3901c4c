"""Live queue state and E.164 normalization."""

from __future__ import annotations

import pytest

from clinicall.controller.facts import EngineLink, MemberLeft, MemberSeen, MemberState
from clinicall.controller.tracking.config import TrackingConfig, country_code_of
from clinicall.controller.tracking.live import LiveState, QueueNow
from clinicall.controller.tracking.phone import mask, to_e164

from .scenarios import Ami, at


def member(name: str, state: MemberState, *, paused: bool = False) -> MemberSeen:
    return MemberSeen(key=name, at=at(0), queue="cardiology", member=f"PJSIP/{name}",
                      member_name=name, state=state, paused=paused)  # fmt: skip


def test_live_state_counts_waiting_callers_and_operators() -> None:
    live = LiveState()
    for fact in (
        Ami("1.1").join(10, "cardiology").facts() + Ami("1.2").join(25, "cardiology").facts()
    ):
        live.apply(fact)
    for fact in (member("op1", MemberState.IDLE), member("op2", MemberState.IN_CALL),
                 member("op3", MemberState.IDLE, paused=True),
                 member("op4", MemberState.OFFLINE)):  # fmt: skip
        live.apply(fact)
    assert live.queue_now("cardiology", at(40)) == QueueNow(2, 30.0, 1, 1, 1)
    for fact in Ami("1.1").abandon(41, "cardiology", 31).leave(41, "cardiology").facts():
        live.apply(fact)
    assert live.queue_now("cardiology", at(45)).waiting == 1
    assert live.queue_now("cardiology", at(45)).longest_wait_s == 20.0
    live.apply(EngineLink(key="down", at=at(50), up=False))
    assert live.snapshot(at(50))["cardiology"].waiting == 0


def test_an_operator_removed_from_a_queue_is_no_longer_counted() -> None:
    live = LiveState()
    live.apply(member("op1", MemberState.IDLE))
    live.apply(member("op2", MemberState.IDLE, paused=True))
    assert live.queue_now("cardiology", at(1)) == QueueNow(0, 0.0, 1, 1, 0)
    live.apply(MemberLeft(key="out", at=at(2), queue="cardiology", member="PJSIP/op2"))
    assert live.queue_now("cardiology", at(3)) == QueueNow(0, 0.0, 1, 0, 0)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0501234567", "+380501234567"),
        ("380501234567", "+380501234567"),
        ("+380 50 123-45-67", "+380501234567"),
        ("00380501234567", "+380501234567"),
        ("101", "101"),  # an internal extension stays as given
        ("anonymous", None),
        ("", None),
    ],
)
def test_to_e164(raw: str, expected: str | None) -> None:
    assert to_e164(raw, country_code="380") == expected


def test_unknown_country_keeps_national_numbers() -> None:
    assert to_e164("0501234567", country_code="") == "0501234567"
    assert country_code_of("+380441234567") == "380"
    assert country_code_of("+74951234567") == "7"
    assert TrackingConfig().country_code == ""


def test_mask_keeps_only_the_last_digits() -> None:
    assert mask("+380501234567") == "…567"
    assert mask(None) == "-"
