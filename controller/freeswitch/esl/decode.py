"""Header blocks and event bodies from bytes to text, refusing ids that are not text.

Used by the parser (``protocol``) once a message is complete, so a UTF-8 character is never
split across reads.  Rules (docs/engines/freeswitch.md, "Framing"):

* a header line is ``Name: value``; the name is never URL-encoded;
* a serialized event (a plain event's body, the outbound ``connect`` reply's header block) has
  URL-encoded values: ``%XX`` is decoded (``+`` stays a plus), then read as UTF-8;
* a JSON event's values are JSON strings (an array header may be a list of strings);
* free text that is not valid UTF-8 (a caller's name from a trunk) gets replacement
  characters, but an id header (``is_id_header``) that is not valid UTF-8 makes the whole
  message malformed: a replaced id would name a channel that never existed and never ends.
"""

from __future__ import annotations

import json
from urllib.parse import unquote_to_bytes

from clinicall.controller.freeswitch.esl.message import EslEvent

#: Header names (lower case) that carry an id the account or the client keys on.
ID_HEADERS = frozenset(
    {
        "event-name",
        "event-subclass",
        "content-type",
        "channel-name",
        "cc-queue",
        "cc-agent",
        "cc-action",
        "cc-member-uuid",
    }
)
ID_SUFFIXES = ("uuid", "unique-id")


class MalformedMessage(ValueError):
    """A message that cannot be read; the text names the rule broken, never a value."""


def is_id_header(name: str) -> bool:
    """Whether header ``name`` (any case) carries an id, which must be UTF-8 text.  Only a
    plain name (ASCII letters, digits, ``-`` and ``_``) is one: a log line may quote it."""
    key = name.lower()
    plain = key.isascii() and key.replace("-", "").replace("_", "").isalnum()
    return plain and (key in ID_HEADERS or key.endswith(ID_SUFFIXES))


def decode_lines(raw: bytes) -> list[str]:
    """``raw`` split into text lines; raises MalformedMessage when an id line is not UTF-8."""
    try:
        return raw.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        pass
    lines = []
    for line in raw.split(b"\n"):  # no UTF-8 sequence spans a LF
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            name = line.partition(b":")[0].decode("ascii", "replace")
            if is_id_header(name):
                raise MalformedMessage(f"header {name[:40]} is not UTF-8 text") from None
            lines.append(line.decode("utf-8", "replace"))
    return lines


def split_header(line: str) -> tuple[str, str]:
    """``Name: value`` → (name, value); raises MalformedMessage for any other line."""
    name, sep, value = line.partition(": ")
    if not sep or ":" in name:
        name, sep, value = line.partition(":")
    if not sep or not name:
        raise MalformedMessage("a header line is not 'Name: value'")
    return name, value


def url_decode(name: str, value: str) -> str:
    """One URL-encoded header value as text (see the module docstring)."""
    if "%" not in value:
        return value
    raw = unquote_to_bytes(value)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        if is_id_header(name):
            raise MalformedMessage(f"header {name[:40]} is not UTF-8 text") from None
        return raw.decode("utf-8", "replace")


def decode_serialized_headers(lines: list[str]) -> list[tuple[str, str]]:
    """Header lines of a serialized event, values URL-decoded.  (The hot loop of event
    parsing: the common line is tried inline before ``split_header``.)"""
    headers: list[tuple[str, str]] = []
    append = headers.append
    for line in lines:
        name, sep, value = line.partition(": ")
        if not sep or not name or ":" in name:
            name, value = split_header(line)
        append((name, url_decode(name, value) if "%" in value else value))
    return headers


def plain_event(body: bytes) -> EslEvent:
    """A ``text/event-plain`` body: URL-encoded header lines, a blank line, then (when the
    last header is an inner ``Content-Length: M``) exactly M body bytes."""
    end = body.find(b"\n\n")
    if end < 0:
        raise MalformedMessage("plain event without a blank line after its headers")
    headers = decode_serialized_headers(decode_lines(body[:end]))
    rest = body[end + 2 :]
    text = ""
    if headers and headers[-1][0].lower() == "content-length":
        length = parse_length(headers.pop()[1])
        if length != len(rest):
            raise MalformedMessage("plain event body is not its inner Content-Length")
        text = rest.decode("utf-8", "replace")
    elif rest:
        raise MalformedMessage("plain event has bytes after its headers but no Content-Length")
    return EslEvent(headers, text)


def json_event(body: bytes) -> EslEvent:
    """A ``text/event-json`` body: one JSON object of strings; ``_body`` is the event's body
    and its ``Content-Length`` is framing (neither is kept as a header)."""
    try:
        data = json.loads(body.decode("utf-8", "surrogateescape"))
    except (ValueError, RecursionError):
        raise MalformedMessage("JSON event is not valid JSON") from None
    if not isinstance(data, dict):
        raise MalformedMessage("JSON event is not an object")
    headers: list[tuple[str, str]] = []
    text = ""
    for name, value in data.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if not isinstance(item, str):
                raise MalformedMessage(f"JSON event value of {name[:40]!r} is not a string")
            item = _checked_text(name, item)
            if name == "_body":
                text = item
            elif name.lower() != "content-length":
                headers.append((_checked_text("", name), item))
    return EslEvent(headers, text)


def _checked_text(name: str, value: str) -> str:
    """A JSON string that may hold stray surrogates (raw bytes that were not UTF-8, or a
    ``\\udXXX`` escape): an id is refused, free text gets replacement characters."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        if is_id_header(name):
            raise MalformedMessage(f"header {name[:40]} is not UTF-8 text") from None
        return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in value)
    return value


#: The most digits a Content-Length may have (a terabyte: far past any limit).
MAX_LENGTH_DIGITS = 12


def parse_length(value: str) -> int:
    """A ``Content-Length`` value: plain ASCII decimal digits only."""
    if not (0 < len(value) <= MAX_LENGTH_DIGITS and value.isascii() and value.isdigit()):
        raise MalformedMessage("Content-Length is not a number")
    return int(value)
