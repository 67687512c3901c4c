"""AMI frames for the decoder tests, built as wire bytes and parsed by the real parser."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.ami.protocol import AMIParser

FIXTURE = Path(__file__).parent.parent / "ami" / "fixtures" / "queue_call.ami"

CALLER = "1732350000.41"  # the caller's channel (Uniqueid) and call (Linkedid)
TIMESTAMP = "1732350000.123456"
#: The caller's channel snapshot that Asterisk 22 puts before an event's own headers.
SNAPSHOT: tuple[tuple[str, str], ...] = (
    ("Privilege", "call,all"),
    ("Timestamp", TIMESTAMP),
    ("Channel", "PJSIP/trunk-00000007"),
    ("CallerIDNum", "380501234567"),
    ("CallerIDName", "Олена Коваленко"),
    ("ConnectedLineNum", "<unknown>"),
    ("Context", "clinicall-queue"),
    ("Exten", "0441234567"),
    ("Uniqueid", CALLER),
    ("Linkedid", CALLER),
)
MEMBER = (
    ("Queue", "therapy"),
    ("MemberName", "Оператор 1"),
    ("Interface", "Local/op1@clinicall-operators/n"),
)


def wire(event: str, *headers: tuple[str, str]) -> bytes:
    """One frame as Asterisk sends it (CRLF, blank line at the end)."""
    lines = [f"Event: {event}", *(f"{name}: {value}" for name, value in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def parse(data: bytes) -> list[Message]:
    return AMIParser(expect_banner=False).feed(data)


def frame(event: str, *headers: tuple[str, str]) -> Message:
    """The parsed frame of ``wire(event, *headers)``."""
    (message,) = parse(wire(event, *headers))
    return message


def call_frame(
    event: str, *own: tuple[str, str], drop: Collection[str] = (), **replace: str
) -> Message:
    """A call event: the caller's snapshot (headers in ``replace`` substituted, those in
    ``drop`` left out), then the event's own headers."""
    snapshot = [(n, replace.get(n, v)) for n, v in SNAPSHOT if n not in drop]
    return frame(event, *snapshot, *own)


def fixture_frames() -> list[Message]:
    return AMIParser().feed(FIXTURE.read_bytes())
