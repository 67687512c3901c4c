"""The facts' journal keys equal the keys AMI events were journaled under before the facts, for
every event kind: a journal written by either version still de-duplicates a replayed frame;
and values are un-escaped as before.

The earlier keys (``"ami:" + normalize(...).key``) and un-escaped values were computed by the
previous decoder, before it was removed, for exactly these frames, and frozen in
``ami_keys_before_facts.json``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from clinicall.controller.asterisk.ami.client import status_message
from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.ami_facts import AmiFactDecoder
from clinicall.controller.asterisk.ami_headers import unescape_value

from .ami_frames import MEMBER, call_frame, fixture_frames, frame

OWN_HEADERS = {
    "Newchannel": (("ChannelState", "4"),),
    "Hangup": (("Cause", "16"), ("Cause-txt", "Normal Clearing")),
    "QueueCallerJoin": (("Queue", "therapy"), ("Position", "2"), ("Count", "2")),
    "QueueCallerLeave": (("Queue", "therapy"), ("Position", "1"), ("Count", "0")),
    "QueueCallerAbandon": (
        ("Queue", "therapy"), ("Position", "2"), ("OriginalPosition", "3"), ("HoldTime", "48"),
    ),
    "AgentCalled": (*MEMBER, ("DestUniqueid", "1732350000.43")),
    "AgentRingNoAnswer": (*MEMBER, ("DestUniqueid", "1732350000.43"), ("RingTime", "15023")),
    "AgentConnect": (*MEMBER, ("DestUniqueid", "1732350000.43"), ("RingTime", "3"),
                     ("HoldTime", "21")),
    "AgentComplete": (*MEMBER, ("DestUniqueid", "1732350000.43"), ("HoldTime", "21"),
                      ("TalkTime", "95"), ("Reason", "caller")),
}  # fmt: skip

MEMBER_SNAPSHOT = (
    ("Timestamp", "1732350000.123467"), *MEMBER, ("StateInterface", "PJSIP/op1"),
    ("CallsTaken", "1"), ("LastCall", "1732350024"), ("LastPause", "0"), ("InCall", "1"),
    ("Status", "2"), ("Paused", "0"), ("PausedReason", "обід"),
)  # fmt: skip


BEFORE = json.loads((Path(__file__).parent / "ami_keys_before_facts.json").read_text())


def new_key(message: Message, decoder: AmiFactDecoder | None = None) -> str:
    (fact,) = (decoder or AmiFactDecoder()).decode(message)
    return fact.key


@pytest.mark.parametrize("event", sorted(OWN_HEADERS))
def test_call_event_keys_unchanged(event: str) -> None:
    message = call_frame(event, *OWN_HEADERS[event])
    assert new_key(message) == BEFORE[f"call:{event}"]


@pytest.mark.parametrize("event", sorted(OWN_HEADERS))
def test_call_event_keys_unchanged_without_timestamp_or_caller_id(event: str) -> None:
    message = call_frame(event, *OWN_HEADERS[event], drop={"Timestamp"}, CallerIDNum="<unknown>")
    assert new_key(message) == BEFORE[f"bare:{event}"]


@pytest.mark.parametrize("event", ["QueueMemberStatus", "QueueMemberPause"])
def test_member_snapshot_keys_unchanged(event: str) -> None:
    message = frame(event, *MEMBER_SNAPSHOT)
    assert new_key(message) == BEFORE[f"member:{event}"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CLINICALL_LANG", "uk"),
        ("CLINICALL_PATH", "main:8\\?"),  # the key is over the raw (escaped) value
        ("CLINICALL_ROUTE", "therapy"),
        ("CLINICALL_OUTCOME", "fallback"),
        ("MIXMONITOR_FILENAME", "/var/spool/asterisk/monitor/2024/11/23/1732350000.41.ogg"),
    ],
)
def test_variable_keys_unchanged(variable: str, value: str) -> None:
    message = call_frame("VarSet", ("Variable", variable), ("Value", value))
    assert new_key(message) == BEFORE[f"var:{variable}"]


def test_queuestatus_key_unchanged() -> None:
    decoder = AmiFactDecoder()
    decoder.decode(call_frame("QueueCallerJoin", *OWN_HEADERS["QueueCallerJoin"]))
    message = call_frame("VarSet", ("Variable", "QUEUESTATUS"), ("Value", "TIMEOUT"))
    assert new_key(message, decoder) == BEFORE["var:QUEUESTATUS"]


def test_fully_booted_key_unchanged() -> None:
    message = frame(
        "FullyBooted", ("Timestamp", "1732350000.1"), ("Status", "Fully Booted"),
        ("Uptime", "12"), ("LastReload", "3"),
    )  # fmt: skip
    assert new_key(message) == BEFORE["FullyBooted"]


def test_client_status_key_has_the_same_digest_and_a_clock_suffix() -> None:
    """The client's own notices were journaled with the clock in the key (each is new)."""
    now = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    message = status_message(False, "connection refused")
    new = new_key(message, AmiFactDecoder(clock=lambda: now))
    assert new == BEFORE["status_digest"] + f"-{now.timestamp()}"


def test_every_fixture_fact_has_its_old_key() -> None:
    decoder = AmiFactDecoder()
    keys = [[f.key for f in decoder.decode(message)] for message in fixture_frames()]
    assert [key for one in keys if one for key in one] == BEFORE["fixture"]
    assert len(BEFORE["fixture"]) == 16 == sum(1 for one in keys if one)


@pytest.mark.parametrize(
    "raw", ["uk", "main:8\\?", "a\\\\b", '\\"q\\"', "tab\\there", "trailing\\", "обід\\n"]
)
def test_values_unescaped_as_before(raw: str) -> None:
    assert unescape_value(raw) == BEFORE["unescape"][raw]
