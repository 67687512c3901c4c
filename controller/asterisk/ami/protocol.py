"""Sans-IO AMI wire format: bytes in, ``Message`` frames out; actions out as bytes.

Why not panoramisk's parser: it decodes every TCP read on its own (a UTF-8 character split
between two reads is silently dropped, which is exactly what happens to Cyrillic caller names),
strips each frame (a last header with an empty value disappears) and has no limit on a frame.

Here a frame is kept as bytes until its blank line arrives and only then decoded, with
replacement characters for invalid UTF-8 in free text.  Lines end in CRLF or bare LF.  A frame
with a line that is not ``Name: value``, larger than ``max_frame``, or with an id header
(``Uniqueid``, ``Linkedid``, ``Channel``, ``Queue``, ...) that is not UTF-8 is malformed: it
is counted, logged once without its content (it may hold phone numbers) and skipped; parsing
goes on with the next frame.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from itertools import repeat

from clinicall.controller.asterisk.ami.message import Message

log = logging.getLogger(__name__)

BANNER_PREFIX = b"Asterisk Call Manager/"
DEFAULT_MAX_FRAME = 64 * 1024
_END_COMMAND = b"--END COMMAND--"
_FOLLOWS = b"response: follows"
_FOLLOWS_TEXT = _FOLLOWS.decode()
_BLANK_LINE = b"\r\n\r\n"
_SEP = ": "
_partition = str.partition
_SEPS = repeat(_SEP)  # endless and stateless: one for every frame


#: The most of a frame's end (``\r\n\r\n`` after the last header's text) that can sit in
#: the buffer before the frame is complete.
PARTIAL_END = 3


class AMIParser:
    """Incremental AMI frame parser.  Feed it whatever the socket gave; it returns whole frames.

    ``banner`` holds the ``Asterisk Call Manager/x.y.z`` line once seen (``version`` its number).
    ``malformed`` counts the frames skipped so far.
    """

    def __init__(self, *, max_frame: int = DEFAULT_MAX_FRAME, expect_banner: bool = True) -> None:
        self.max_frame = max_frame
        self.banner: str | None = None
        self.malformed = 0
        self._buf = bytearray()
        self._scan_from = 0  # where the next search for a blank line may start
        self._banner_pending = expect_banner
        self._discarding = False  # inside an oversize frame: drop bytes until its blank line
        self._follows: bytearray | None = None  # a legacy ``Response: Follows`` still open

    @property
    def version(self) -> str | None:
        return self.banner.partition("/")[2] if self.banner else None

    def feed(self, data: bytes) -> list[Message]:
        """Add bytes from the wire; return the frames completed by them, in order."""
        buf = self._buf
        buf += data
        if self._banner_pending and not self._take_banner():
            return []
        out: list[Message] = []
        pos = 0
        if self._follows is None and not self._discarding:
            pos = self._feed_block(out)
        # A frame ends at a blank line: "\n" then "\r\n" or "\n".  Two plain finds beat a
        # regex several times over; a pattern found absent is not searched again in this call.
        # (Conditionals, not max(): max() parses its arguments, ~500 instructions a call.)
        scan_from = pos if pos > self._scan_from else self._scan_from
        crlf = buf.find(b"\n\r\n", scan_from)
        lf = buf.find(b"\n\n", scan_from)
        while crlf >= 0 or lf >= 0:
            if lf >= 0 and (crlf < 0 or lf < crlf):
                start, end = lf, lf + 2
            else:
                start, end = crlf, crlf + 3
            if start > pos and buf[start - 1] == 13:  # the "\r" of the last line's CRLF
                start -= 1
            self._frame(bytes(buf[pos:start]), buf[start:end], out)
            pos = end
            if 0 <= crlf < pos:
                crlf = buf.find(b"\n\r\n", pos)
            if 0 <= lf < pos:
                lf = buf.find(b"\n\n", pos)
        if pos:
            del buf[:pos]
        if buf and buf[0] in b"\r\n" and self._follows is None and not self._discarding:
            self._drop_leading_line_ends()
        # A frame's bytes count without its blank line, of which up to 3 bytes ("\r\n\r") may
        # be buffered while the last one is awaited: the same verdict however the bytes come.
        if len(buf) > self.max_frame + PARTIAL_END and not self._discarding:
            # An open command output is the frame refused: it is what a log line names.
            head = buf if self._follows is None else self._follows
            self._skip(f"frame over {self.max_frame} bytes", bytes(head[:200]))
            self._discarding = True
            self._follows = None
        if self._discarding and len(buf) > PARTIAL_END:
            del buf[:-PARTIAL_END]  # keep what could be the start of the blank line
        self._scan_from = len(buf) - PARTIAL_END if len(buf) > PARTIAL_END else 0
        return out

    def _feed_block(self, out: list[Message]) -> int:
        """Parse every complete frame of a CRLF-only run at the buffer's start in one go;
        return how many bytes that took (0 when the run is not that plain).

        The usual stream (every line in CRLF, UTF-8 text) is cut into frames by one decode
        and one ``split`` of all its complete frames, instead of two finds, a copy and a
        decode per frame: the per-frame framing was a quarter of the parser's cost
        (bench/README.md).  A run in which every LF follows a CR has its blank lines exactly
        at its ``"\\r\\n\\r\\n"``, found left to right as ``split`` finds them, so it gives
        the frames the frame-at-a-time loop in ``feed`` would.  Any other frame (a command
        output, a leading line end, one that may be over the limit, a line that is not
        ``Name: value``) goes to ``_frame`` as its bytes, in order, as the loop would send
        it.  A run that is not UTF-8 is left to the loop whole, and from a frame with a bare
        LF on (the loop cuts frames there), the rest of the run.
        """
        buf = self._buf
        # No blank line ends before the last scan's start (``feed``): look from there only.
        end = buf.rfind(_BLANK_LINE, self._scan_from - 1 if self._scan_from else 0)
        if end < 0:
            return 0
        end += len(_BLANK_LINE)
        try:
            text = buf[:end].decode("utf-8")
        except UnicodeDecodeError:
            return 0
        frames = text.split("\r\n\r\n")
        # After the last split: "" or, when blank lines overlap ("\r\n\r\n\r\n"), the
        # "\r\n" that only starts one; it stays in the buffer, as the loop would leave it.
        rest = frames.pop()
        # The most characters a frame may have to be surely within the limit in bytes.
        sure = self.max_frame if text.isascii() else self.max_frame // 4
        for i, frame in enumerate(frames):
            lines = frame.split("\r\n")
            if frame.count("\n") >= len(lines):  # a bare LF: the loop cuts frames there
                return len("".join(f"{f}\r\n\r\n" for f in frames[:i]).encode("utf-8"))
            if (
                self._follows is not None
                or len(frame) > sure
                or (
                    frame[:1] in "\rRr"
                    and (frame[:1] in "\r" or frame[:17].lower() == _FOLLOWS_TEXT)
                )
            ):
                self._frame(frame.encode("utf-8"), _BLANK_LINE, out)
                continue
            # Every line split in C (no Python step per line) and the columns checked in C.
            # (Triples by construction: zip's ``strict=`` would only parse a keyword a frame.)
            names, seps, values = zip(*map(_partition, lines, _SEPS))  # noqa: B905
            names_text = "\n".join(names)
            if seps.count(_SEP) != len(seps) or ":" in names_text:
                self._frame(frame.encode("utf-8"), _BLANK_LINE, out)
            else:
                out.append(Message._from_columns(names, values, names_text))
        return end - len(rest)

    def _drop_leading_line_ends(self) -> None:
        """Drop the CR and LF bytes that wait before the next frame's first byte.

        Outside a command output they can only make empty frames (ignored) and a frame's
        leading line ends are stripped anyway (``_frame``), so the frame limit counts from
        its first other byte.  Left in the buffer, they counted against the limit only while
        the frame was incomplete: the same frame was accepted whole and refused in pieces.
        """
        buf = self._buf
        lead = 0
        while lead < len(buf) and buf[lead] in b"\r\n":
            lead += 1
        if lead:
            del buf[:lead]

    def _take_banner(self) -> bool:
        """Consume the greeting line if present.  False while it cannot be decided yet.

        A banner is at most ``max_frame`` bytes before its LF: the LF is looked for in that
        window only, so a longer line is refused as a banner (and meets the frame limit) both
        when it arrives whole and when it arrives in pieces.
        """
        buf = self._buf
        head = bytes(buf[: len(BANNER_PREFIX)])
        if not BANNER_PREFIX.startswith(head) or (head and head[0] in b"\r\n"):
            self._banner_pending = False  # no banner: a plain frame stream (tests, replays)
            return True
        if len(head) < len(BANNER_PREFIX):
            return False
        nl = buf.find(b"\n", 0, self.max_frame + 1)
        if nl < 0:
            if len(buf) > self.max_frame:
                self._banner_pending = False  # not a real banner; let the frame limit handle it
                return True
            return False
        self.banner = bytes(buf[:nl]).rstrip(b"\r").decode("utf-8", "replace")
        del buf[: nl + 1]
        self._banner_pending = False
        log.debug("AMI banner: %s", self.banner)
        return True

    def _frame(self, raw: bytes, terminator: bytes | bytearray, out: list[Message]) -> None:
        if self._discarding:
            self._discarding = False  # the blank line ending the oversize frame
            return
        if self._follows is not None:
            self._follows += raw
            if _END_COMMAND not in raw:
                self._follows += terminator
                self._check_follows_size()
                return
            raw = bytes(self._follows)
            self._follows = None
        else:
            raw = raw.lstrip(b"\r\n")
            if not raw:
                return
            # The first byte first: nearly every frame is an event, and its check is cheap.
            if raw[:1] in b"Rr" and raw[:17].lower() == _FOLLOWS and _END_COMMAND not in raw:
                self._follows = bytearray(raw) + terminator
                self._check_follows_size()
                return
        if len(raw) > self.max_frame:
            self._skip(f"frame over {self.max_frame} bytes", raw[:200])
            return
        msg = self._parse(raw)
        if msg is not None:
            out.append(msg)

    def _check_follows_size(self) -> None:
        """A command output is one frame to the limit, and refused in the same words: whether
        an incomplete one is still a command output cannot be known before its end."""
        if self._follows is not None and len(self._follows) > self.max_frame:
            self._skip(f"frame over {self.max_frame} bytes", bytes(self._follows[:200]))
            self._follows = None

    def _parse(self, raw: bytes) -> Message | None:
        """Decode a complete frame (only now: a character split across reads is whole)."""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            checked = self._decode_invalid(raw)
            if checked is None:
                return None
            text = checked
        lines = text.split("\r\n") if "\r" in text else text.split("\n")
        if len(lines) != text.count("\n") + 1:  # mixed CRLF and LF in one frame
            lines = text.replace("\r\n", "\n").split("\n")
        # Every line split in one comprehension and the columns checked in C: a Python loop
        # per line was most of the parser's time (bench/README.md).
        names, seps, values = zip(*[line.partition(": ") for line in lines], strict=True)
        if "" in seps or ":" in "".join(names):
            return self._parse_per_line(text, raw, lines)
        return Message._from_columns(names, values)

    def _parse_per_line(self, text: str, raw: bytes, lines: list[str]) -> Message | None:
        """A frame with a line without ": " or with a ":" in its name: the first ":" ends
        the name, which must then not be empty."""
        headers: list[tuple[str, str]] = []
        for line in lines:
            name, sep, value = line.partition(": ")
            if not sep or ":" in name:
                name, sep, value = line.partition(":")
                if not sep or not name:
                    return self._parse_irregular(text, raw)
            headers.append((name, value))
        return Message(headers)

    def _decode_invalid(self, raw: bytes) -> str | None:
        """A frame that is not all UTF-8: free text (a caller's name from a trunk) gets
        replacement characters, but an id header (``is_id_header``) that is not UTF-8 makes
        the frame malformed: a replaced id would name a call that never existed and never
        ends.  Line by line is the same decoding: no UTF-8 sequence spans a LF."""
        lines = raw.split(b"\n")
        for line in lines:
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                name = line.partition(b":")[0].strip().decode("ascii", "replace")
                if is_id_header(name):
                    self._skip(f"header {name[:40]} is not UTF-8 text", raw[:200])
                    return None
        return raw.decode("utf-8", "replace")

    def _parse_irregular(self, text: str, raw: bytes) -> Message | None:
        """Line by line: legacy command output, or find the line that makes it malformed."""
        headers: list[tuple[str, str]] = []
        first: dict[str, str] = {}
        lines = text.replace("\r\n", "\n").split("\n")
        for i, line in enumerate(lines):
            name, sep, value = line.partition(":")
            if not sep or not name:
                if first.get("response", "").lower() == "follows":
                    return Message(headers, _command_output(lines[i:]))
                self._skip(f"line {i + 1} is not 'Name: value'", raw[:200])
                return None
            if value[:1] == " ":
                value = value[1:]
            headers.append((name, value))
            first.setdefault(name.lower(), value)
        return Message(headers)

    def _skip(self, reason: str, head: bytes) -> None:
        """Count and log a malformed frame: its event name only, never its content."""
        self.malformed += 1
        log.warning("AMI: skipped malformed frame (%s) event=%s", reason, event_name_of(head))


#: Headers that name a channel, a call, a queue or a member (``Uniqueid``, ``DestLinkedid``,
#: ``Channel``, ``Queue``, ``Interface``, ...): the ids the account keys on.
ID_HEADER_SUFFIXES = ("uniqueid", "linkedid", "channel")
ID_HEADERS = frozenset({"queue", "interface", "stateinterface", "membername"})


def is_id_header(name: str) -> bool:
    """Whether header ``name`` (any case) carries an id, which must be UTF-8 text.  Only a
    plain name (ASCII letters and digits) is one: a log line may quote it."""
    key = name.lower()
    plain = key.isascii() and key.isalnum()
    return plain and (key in ID_HEADERS or key.endswith(ID_HEADER_SUFFIXES))


def event_name_of(head: bytes) -> str:
    """The ``Event`` named in the first lines of a frame's bytes (at most 40 ASCII characters),
    "?" when none: all a log line may say about a skipped frame."""
    event = ""
    for line in head.split(b"\n", 3)[:3]:
        if line[:6].lower() == b"event:":
            event = line[6:].strip().decode("ascii", "replace")[:40]
    return event or "?"


def _command_output(lines: list[str]) -> tuple[str, ...]:
    """The raw lines of a legacy command output, without the ``--END COMMAND--`` marker."""
    out = list(lines)
    while out and not out[-1].strip():
        out.pop()
    if out and out[-1].endswith(_END_COMMAND.decode()):
        out[-1] = out[-1][: -len(_END_COMMAND)]
        if not out[-1]:
            out.pop()
    return tuple(out)


FieldValue = str | Sequence[str]


def encode_action(name: str, fields: Mapping[str, FieldValue] | None, action_id: str) -> bytes:
    """Serialize one AMI action.  A sequence value repeats the header (``Variable`` in Originate).

    Raises ValueError when a name or value contains CR or LF (it would inject headers or whole
    actions), when a header name has a colon or is empty, or when ``fields`` sets
    ``Action``/``ActionID`` itself.  The message names the header, never the value.
    """
    _check_token("action name", name)
    _check_token("ActionID", action_id)
    lines = [f"Action: {name}", f"ActionID: {action_id}"]
    for key, value in (fields or {}).items():
        _check_token("header name", key)
        if not key or ":" in key or key.lower() in ("action", "actionid"):
            raise ValueError(f"AMI action {name!r}: invalid header name {key!r}")
        for item in (value,) if isinstance(value, str) else value:
            if "\r" in item or "\n" in item:
                raise ValueError(
                    f"AMI action {name!r}: value of header {key!r} contains CR/LF "
                    "(header injection refused)"
                )
            lines.append(f"{key}: {item}")
    lines.append("\r\n")
    return "\r\n".join(lines).encode("utf-8")


def _check_token(what: str, text: str) -> None:
    if "\r" in text or "\n" in text:
        raise ValueError(f"AMI {what} {text[:40]!r} contains CR/LF (header injection refused)")
