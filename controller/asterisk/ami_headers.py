"""Checked access to one AMI event's headers, and the event's journal key and time.

The decoders in ``ami_facts`` read every header through ``EventHeaders`` so that a known event
lacking a header it needs, or holding a non-number where a number belongs, raises one error
type (``MalformedAmiEvent``) that the decoder counts and skips.

The journal key is a digest of the event name, ``Uniqueid``, the raw ``Timestamp`` and the
fields that tell two such events apart, prefixed ``ami:``.  It must stay byte-identical to the
key the account journaled AMI events under before the engine-neutral facts (the same digest,
the same fields per event), so that a journal written by either version still de-duplicates a
replayed frame.  Without ``timestampevents=yes`` the key still is stable, but two identical
frames then share it (docs/engines/asterisk.md).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime

from clinicall.controller.asterisk.ami.message import Message

KEY_PREFIX = "ami:"
UNKNOWN = "<unknown>"  # Asterisk's spelling of "no caller ID" (and of other absent strings)
MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59Z: a later Timestamp is garbage
_NUMBER = re.compile(r"[0-9]{1,18}")  # Asterisk writes plain decimal counts and durations
_EPOCH = re.compile(r"([0-9]{1,12})(?:\.([0-9]*))?")
_TRUE = frozenset({"1", "yes", "true"})

Clock = Callable[[], datetime]


_C_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def unescape_value(value: str) -> str:
    """Undo the C escaping Asterisk applies to VarSet values (``8\\?`` → ``8?``).

    Asterisk 22 sends ``Value`` through ``ast_escape_c``: ``\\``, quotes, ``?`` and control
    characters arrive backslash-escaped (seen on the real engine: an IVR path ``main:8?``
    arrives as ``main:8\\?``).
    """
    if "\\" not in value:
        return value
    out: list[str] = []
    chars = iter(value)
    for ch in chars:
        if ch != "\\":
            out.append(ch)
            continue
        nxt = next(chars, "")
        out.append(_C_ESCAPES.get(nxt, nxt))
    return "".join(out)


class MalformedAmiEvent(ValueError):
    """A known AMI event without a header it must have, or with a bad value in one.  The
    message names the event and the header, never the value (it may hold a phone number)."""

    def __init__(self, event: str, header: str, problem: str = "missing") -> None:
        self.event, self.header = event, header
        super().__init__(f"AMI event {event}: header {header} {problem}")


class EventHeaders:
    """Typed, checked reading of one frame's headers, on behalf of one event name."""

    __slots__ = ("event", "msg")

    def __init__(self, event: str, msg: Message) -> None:
        self.event, self.msg = event, msg

    def req(self, name: str) -> str:
        """The header's value; raises if the header is absent (an empty value is a value)."""
        value = self.msg.get(name)
        if value is None:
            raise MalformedAmiEvent(self.event, name)
        return value

    def req_text(self, name: str) -> str:
        """A header that must name something: absent, empty or ``<unknown>`` raises."""
        value = self.opt(name)
        if not value:
            raise MalformedAmiEvent(self.event, name, "missing or empty")
        return value

    def opt(self, name: str) -> str:
        """The header's value, "" when absent or ``<unknown>``."""
        value = self.msg.get(name, "")
        return "" if value == UNKNOWN else value

    def num(self, name: str) -> int:
        """A required whole number."""
        raw = self.req(name)
        if not _NUMBER.fullmatch(raw):
            raise MalformedAmiEvent(self.event, name, "is not a number")
        return int(raw)

    def opt_num(self, name: str) -> int | None:
        """A whole number that may be absent (or empty): None then; a non-number raises."""
        if not self.opt(name):
            return None
        return self.num(name)

    def flag(self, name: str) -> bool:
        return self.opt(name).lower() in _TRUE

    def key(self, *names: str) -> str:
        """The journal key over the event name, Uniqueid, Timestamp and ``names``."""
        parts = [self.event, self.opt("Uniqueid"), self.opt("Timestamp")]
        parts += [self.opt(n) for n in names]
        digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()
        return KEY_PREFIX + digest

    def at(self, clock: Clock) -> datetime:
        """The event's time from ``Timestamp`` (epoch seconds, UTC), else ``clock()``."""
        raw = self.msg.get("Timestamp")
        if not raw:
            return clock()
        match = _EPOCH.fullmatch(raw)
        if match is None or int(match[1]) > MAX_EPOCH:
            raise MalformedAmiEvent(self.event, "Timestamp", "is not an epoch time")
        micros = int(((match[2] or "") + "000000")[:6])
        return datetime.fromtimestamp(int(match[1]), UTC).replace(microsecond=micros)
