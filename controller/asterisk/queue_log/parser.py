"""Sans-IO parsing of ``queue_log`` bytes into typed records.

``parse_chunk`` takes bytes read from some offset of the file and returns the records of its
complete lines, the malformed lines (with their line number, never fatal), and how many bytes
it consumed: a half-written last line is left for the next read.  LF and CRLF both end a line.
Invalid UTF-8 in free text (a caller ID, a pause reason) is replaced, not fatal (the key is
computed from the raw bytes anyway); in any other field (an id, an event name, a number) it
makes the line malformed: a replaced id would name a channel or a call that never existed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from clinicall.controller.asterisk.queue_log import records as r

MIN_FIELDS = 5  # epoch|uniqueid|queue|agent|EVENT
FIXED_FIELDS = ("time", "uniqueid", "queue", "agent", "event")
#: Data fields that are free text; invalid UTF-8 in them is replaced.
TEXT_FIELDS = frozenset({"url", "caller_id", "reason"})
MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59Z: anything later is garbage


class QueueLogError(ValueError):
    """A line that is not a queue_log record.  Carries where it was and why (not the whole
    line, which may hold a caller's number; ``raw`` is kept for diagnosis by the caller)."""

    def __init__(self, reason: str, *, line_no: int, offset: int, raw: bytes) -> None:
        super().__init__(f"queue_log line {line_no} (byte {offset}): {reason}")
        self.reason = reason
        self.line_no = line_no
        self.offset = offset
        self.raw = raw


@dataclass(slots=True)
class ParsedChunk:
    records: list[r.QueueLogRecord] = field(default_factory=list)
    errors: list[QueueLogError] = field(default_factory=list)
    consumed: int = 0  # bytes of complete lines (including their line endings)
    lines: int = 0  # complete lines consumed, blank and malformed ones included


def record_key(line: bytes, offset: int) -> str:
    """The idempotency key of the line found at ``offset`` (line ending excluded)."""
    digest = hashlib.sha256(b"%d|" % offset + line).hexdigest()
    return f"ql:{digest[:40]}"


def parse_chunk(
    data: bytes, *, offset: int = 0, line_no: int = 0, final: bool = False
) -> ParsedChunk:
    """Parse the complete lines of ``data``, which starts at byte ``offset`` of the file, after
    ``line_no`` lines.  With ``final`` a last line without its newline is parsed too (a file
    that will not grow any more, e.g. a rotated one)."""
    out = ParsedChunk()
    start = 0
    while start < len(data):
        end = data.find(b"\n", start)
        if end < 0:
            if not final:
                break
            end = len(data)
        line = data[start:end].removesuffix(b"\r")
        out.lines += 1
        if line.strip():
            _parse_into(out, line, offset + start, line_no + out.lines)
        start = min(end + 1, len(data))
    out.consumed = start
    return out


def _parse_into(out: ParsedChunk, line: bytes, offset: int, line_no: int) -> None:
    try:
        out.records.append(parse_line(line, offset=offset, line_no=line_no))
    except QueueLogError as error:
        out.errors.append(error)


def parse_line(line: bytes, *, offset: int = 0, line_no: int = 0) -> r.QueueLogRecord:
    """One line without its line ending.  Raises QueueLogError if it is not a record."""
    try:
        fields, utf8 = line.decode("utf-8").split("|"), True
    except UnicodeDecodeError:
        fields, utf8 = line.decode("utf-8", errors="replace").split("|"), False
    if len(fields) < MIN_FIELDS:
        raise QueueLogError(
            f"{len(fields)} fields, at least {MIN_FIELDS} expected",
            line_no=line_no,
            offset=offset,
            raw=line,
        )
    if not utf8 and (bad := _field_not_text(line, fields[4])) is not None:
        raise QueueLogError(
            f"field {bad + 1} ({_field_name(fields[4], len(fields), bad)}) is not UTF-8 text",
            line_no=line_no,
            offset=offset,
            raw=line,
        )
    epoch, uniqueid, queue, agent, event, *data = fields
    try:
        at = _epoch(epoch)
        cls, extra = _decode(event, data)
    except ValueError as error:
        raise QueueLogError(str(error), line_no=line_no, offset=offset, raw=line) from None
    return cls(
        key=record_key(line, offset),
        offset=offset,
        line_no=line_no,
        at=at,
        uniqueid=uniqueid,
        queue=queue,
        agent=agent,
        event=event,
        data=tuple(data),
        **extra,
    )


def _field_not_text(line: bytes, event: str) -> int | None:
    """The index of the first field of ``line`` that is not UTF-8 and not free text, if any.
    (Splitting the bytes at "|" gives the decoded fields: no UTF-8 sequence holds a "|".)"""
    raw_fields = line.split(b"|")
    for index, raw in enumerate(raw_fields):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            if _field_name(event, len(raw_fields), index) not in TEXT_FIELDS:
                return index
    return None


def _field_name(event: str, count: int, index: int) -> str:
    """What field ``index`` of a line of ``count`` fields holds, by its event's layout."""
    if index < MIN_FIELDS:
        return FIXED_FIELDS[index]
    data_index, data_count = index - MIN_FIELDS, count - MIN_FIELDS
    known = _LAYOUTS.get(event)
    if known is None:
        return f"data {data_index + 1}"
    layout = known[1]
    if event == "ENTERQUEUE" and data_count > len(layout):  # a caller ID holding "|"
        data_index = 0 if data_index == 0 else 2 if data_index == data_count - 1 else 1
    return layout[data_index][0] if data_index < len(layout) else f"data {data_index + 1}"


def _epoch(text: str) -> datetime:
    try:
        seconds = float(text)
    except ValueError:
        raise ValueError(f"time {text[:20]!r} is not a number") from None
    if not 0 <= seconds <= MAX_EPOCH:  # also rejects nan
        raise ValueError(f"time {text[:20]!r} out of range")
    return datetime.fromtimestamp(seconds, UTC)


# ---- per-event field layouts -------------------------------------------------------------

Conv = Callable[[str], Any]


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{text[:20]!r} is not an integer") from None


def _opt_int(text: str) -> int | None:
    return None if text == "" else _int(text)


def _str(text: str) -> str:
    return text


# (field name, converter, required).  Optional fields missing at the end become None / "".
Layout = tuple[tuple[str, Conv, bool], ...]
_LEFT: Layout = (
    ("position", _int, True),
    ("original_position", _int, True),
    ("wait_s", _int, True),
)
_TRANSFER: Layout = (
    ("extension", _str, True),
    ("context", _str, True),
    ("hold_s", _int, True),
    ("talk_s", _int, True),
    ("original_position", _opt_int, False),
)
_LAYOUTS: dict[str, tuple[type[r.QueueLogRecord], Layout]] = {
    "ENTERQUEUE": (
        r.EnterQueue,
        (("url", _str, False), ("caller_id", _str, False), ("position", _int, True)),
    ),
    "CONNECT": (
        r.Connect,
        (("hold_s", _int, True), ("bridged_uniqueid", _str, True), ("ring_s", _opt_int, False)),
    ),
    "COMPLETECALLER": (
        r.Complete,
        (("hold_s", _int, True), ("talk_s", _int, True), ("original_position", _opt_int, False)),
    ),
    "RINGNOANSWER": (r.RingNoAnswer, (("ring_ms", _int, True),)),
    "RINGCANCELED": (r.RingCanceled, (("ring_ms", _int, True),)),
    "ABANDON": (r.Abandon, _LEFT),
    "EXITWITHTIMEOUT": (r.ExitWithTimeout, _LEFT),
    "EXITEMPTY": (r.ExitEmpty, _LEFT),
    "EXITWITHKEY": (r.ExitWithKey, (("exit_key", _str, True), *_LEFT)),
    "ADDMEMBER": (r.MemberAdded, ()),
    "REMOVEMEMBER": (r.MemberRemoved, ()),
    "PAUSE": (r.Paused, (("reason", _str, False),)),
    "UNPAUSE": (r.Unpaused, (("reason", _str, False),)),
    "TRANSFER": (r.Transfer, _TRANSFER),
    "BLINDTRANSFER": (r.Transfer, _TRANSFER),
    "ATTENDEDTRANSFER": (
        r.AttendedTransfer,
        (
            ("method", _str, True),
            ("target", _str, True),
            ("hold_s", _int, True),
            ("talk_s", _int, True),
            ("original_position", _opt_int, False),
        ),
    ),
    "QUEUESTART": (r.QueueStart, ()),
    "CONFIGRELOAD": (r.ConfigReload, ()),
}
_LAYOUTS["COMPLETEAGENT"] = _LAYOUTS["COMPLETECALLER"]
_LAYOUTS["PAUSEALL"] = _LAYOUTS["PAUSE"]
_LAYOUTS["UNPAUSEALL"] = _LAYOUTS["UNPAUSE"]


def _decode(event: str, data: list[str]) -> tuple[type[r.QueueLogRecord], dict[str, Any]]:
    known = _LAYOUTS.get(event)
    if known is None:
        return r.QueueLogRecord, {}
    cls, layout = known
    if event == "ENTERQUEUE" and len(data) > len(layout):
        # A caller ID holding "|" (app_queue does not escape it): keep url and position.
        data = [data[0], "|".join(data[1:-1]), data[-1]]
    extra: dict[str, Any] = {}
    for index, (name, conv, required) in enumerate(layout):
        if index < len(data):
            try:
                extra[name] = conv(data[index])
            except ValueError as error:
                raise ValueError(f"{event} field {name}: {error}") from None
        elif required:
            raise ValueError(f"{event} has {len(data)} data fields, {name} missing")
        else:
            extra[name] = conv("") if conv is _str else None
    return cls, extra
