"""Live queue state, E.164 normalization and the CLINICALL queue_log line."""

from __future__ import annotations

import pytest

from clinicall.controller.asterisk.marks import decode_mark
from clinicall.controller.asterisk.queue_log import parse_line
from clinicall.controller.events import EngineStatus, MemberStatus
from clinicall.controller.tracking.config import TrackingConfig, country_code_of
from clinicall.controller.tracking.live import LiveState, QueueNow
from clinicall.controller.tracking.phone import mask, to_e164

from .scenarios import Ami, at


def member(name: str, status: int, *, paused: bool = False, in_call: bool = False) -> MemberStatus:
    return MemberStatus(
        key=name,
        at=at(0),
        queue="cardiology",
        member=f"PJSIP/{name}",
        member_name=name,
        status=status,
        paused=paused,
        in_call=in_call,
    )


def test_live_state_counts_waiting_callers_and_operators() -> None:
    live = LiveState()
    for event in (
        Ami("1.1").join(10, "cardiology").events + Ami("1.2").join(25, "cardiology").events
    ):
        live.apply(event)
    for event in (member("op1", 1), member("op2", 2, in_call=True), member("op3", 1, paused=True),
                  member("op4", 5)):  # fmt: skip
        live.apply(event)
    assert live.queue_now("cardiology", at(40)) == QueueNow(2, 30.0, 1, 1, 1)
    for event in Ami("1.1").abandon(41, "cardiology", 31).leave(41, "cardiology").events:
        live.apply(event)
    assert live.queue_now("cardiology", at(45)).waiting == 1
    assert live.queue_now("cardiology", at(45)).longest_wait_s == 20.0
    live.apply(EngineStatus(key="down", at=at(50), up=False))
    assert live.snapshot(at(50))["cardiology"].waiting == 0


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


def test_clinicall_line_is_kept_with_named_fields() -> None:
    line = (b"1763900010|1763900000.13|general|NONE|CLINICALL|1763900000.12|fallback|uk|"
            b"general|lang:1/main:-|050|123|+380441234567")  # fmt: skip
    found = decode_mark(parse_line(line))
    assert found is not None
    assert (found.uniqueid, found.linkedid, found.outcome, found.queue) == (
        "1763900000.13", "1763900000.12", "fallback", "general",
    )  # fmt: skip
    assert (found.caller, found.dialled, found.path) == (
        "050|123",
        "+380441234567",
        "lang:1/main:-",
    )
    assert decode_mark(parse_line(b"1763900010|1763900000.13|general|NONE|CLINICALL|x|y")) is None
    assert (
        decode_mark(parse_line(b"1763900010|1763900000.13|general|NONE|ENTERQUEUE||050|1")) is None
    )
