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
import re
from collections.abc import Mapping, Sequence
from typing import cast

from clinicall.controller.asterisk.ami.message import Message

log = logging.getLogger(__name__)

BANNER_PREFIX = b"Asterisk Call Manager/"
DEFAULT_MAX_FRAME = 64 * 1024
_END_COMMAND = b"--END COMMAND--"
_FOLLOWS = b"response: follows"
_BLANK_LINE = b"\r\n\r\n"
_SEP = ": "
#: What the block decode turns each CRLF into: the name-value separator, then a NUL that
#: marks where a line ended (``AMIParser._feed_block``).
_LINE_END = b": \0"
_MARKED_BLANK_LINE = _LINE_END * 2
#: A frame's first byte when it may be one the frame-at-a-time path must see (``_special``).
_SPECIAL_HEADS = frozenset((b"", b"\r", b"R", b"r", b":"))
#: A frame ends at a blank line: a LF, maybe a CR, a LF.
_FRAME_END = re.compile(rb"\n\r?\n")
#: Reads shorter than this are first searched for a frame end (``feed``): in a frame's worth
#: of small reads most end none, and the search costs less than the whole path.
_SMALL_READ = 256
_new = object.__new__


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
        # Buffered bytes up to which a read that ends no frame needs no other look: the frame
        # limit's, or -1 while the banner is awaited or an oversize frame is being dropped.
        self._idle_limit = -1

    @property
    def version(self) -> str | None:
        return self.banner.partition("/")[2] if self.banner else None

    def feed(self, data: bytes) -> list[Message]:
        """Add bytes from the wire; return the frames completed by them, in order."""
        buf = self._buf
        buf += data
        # Most small reads end no frame: with no limit or banner to mind, and no CR or LF
        # leading the buffer (dropped below), they return here.  A frame ends at a LF; a
        # short read that has one is first searched for a frame end: one regex search for
        # both forms, which costs less than the loop's two finds when it finds nothing.
        if 0 < len(buf) <= self._idle_limit and buf[0] > 13:
            if 10 not in data:
                return []
            if len(data) < _SMALL_READ and _FRAME_END.search(buf, self._scan_from) is None:
                self._scan_from = len(buf) - PARTIAL_END if len(buf) > PARTIAL_END else 0
                return []
        return self._feed_all(buf)

    def _feed_all(self, buf: bytearray) -> list[Message]:
        """``feed`` past its short cuts (a function of its own: ``feed``'s frame stays small)."""
        if self._banner_pending and not self._take_banner():
            return []
        out: list[Message] = []
        pos = 0
        if self._follows is None and not self._discarding:
            pos = self._feed_block(out)
        # A frame ends at a blank line: "\n" then "\r\n" or "\n".  To walk the frame ends,
        # two plain finds beat a regex several times over; a pattern found absent is not
        # searched again in this call.  But after the block decode the rest seldom holds a
        # frame end, and one regex search says so for less than the two finds.
        # (Conditionals, not max(): max() parses its arguments, ~500 instructions a call.)
        scan_from = pos if pos > self._scan_from else self._scan_from
        crlf = lf = -1
        if not pos or _FRAME_END.search(buf, scan_from) is not None:
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
        self._idle_limit = -1 if self._discarding else self.max_frame + PARTIAL_END
        return out

    def _feed_block(self, out: list[Message]) -> int:
        """Parse every complete frame at the buffer's start in one go when the run is plain;
        return how many bytes that took (0: the run is left to the frame-at-a-time loop in
        ``feed``, which gives the same frames).

        Plain: every LF follows a CR and there is no NUL byte.  Each CRLF becomes ": " and a
        NUL (``_LINE_END``), so that one ``split(": ")`` of a frame cuts it at its line ends
        and at the first ": " of each line: names at the even places, values at the odd
        ones, every name after the first led by the NUL, and the names joined are the
        lookup index ``Message`` keeps (NUL-separated) without a separator to add.  Frames
        are cut at the marked blank lines in bytes and decoded one by one, so an ASCII frame
        stays ASCII text.  Per frame: a decode, a split, a join and a count of the NULs in
        the names, all in C, no Python step per line (bench/README.md has the figures).

        The places are right when each line has exactly one ": ".  A frame whose split is
        not two cells a line (by the NULs among the names) or has a ":" in a name is the
        loop's: ``_frame`` gets its bytes.  A line without ": " may hide behind a line with
        two, NULs landing among the values: the NULs counted among the names, added over the
        run, must then be all of its line ends, else the run goes to the loop whole.  Nothing
        reaches ``out`` or ``_frame`` before that check.  A frame that may be over the limit,
        is empty, led by a line end, or a command output (``_special``), or not UTF-8 is
        also the loop's, in order; so are the frames after one that opens a command output.
        """
        buf = self._buf
        # No blank line ends before the last scan's start (``feed``): look from there only.
        end = buf.rfind(_BLANK_LINE, self._scan_from - 1 if self._scan_from else 0)
        if end < 0:
            return 0
        end += len(_BLANK_LINE)
        block = bytes(buf[:end])
        if 0 in block:  # a NUL would pass for a line end's mark
            return 0
        marked = block.replace(b"\r\n", _LINE_END)
        if 10 in marked:  # a bare LF: the loop cuts frames and lines there
            return 0
        line_ends = len(marked) - end  # each CRLF grew by one byte
        frames = marked.split(_MARKED_BLANK_LINE)
        # After the last split: b"" or, when blank lines overlap ("\r\n\r\n\r\n"), the
        # CRLF that only starts one; it stays in the buffer, as the loop would leave it.
        if frames.pop():
            end -= 2
            line_ends -= 1
        line_ends -= 2 * len(frames)  # now those inside the frames
        max_frame = self.max_frame  # a frame's marked bytes are at least its own
        parsed: list[Message | None] = []  # None: the loop's
        append = parsed.append
        new = _new
        loops = 0
        for frame in frames:
            if len(frame) <= max_frame and (
                frame[:1] not in _SPECIAL_HEADS or not _special(frame)
            ):
                try:
                    cells = frame.decode().split(_SEP)
                except UnicodeDecodeError:
                    cells = []
                names = "".join(cells[::2])
                breaks = names.count("\0")
                if len(cells) == 2 * breaks + 2 and ":" not in names:
                    line_ends -= breaks
                    # ``Message`` built in place: a call a frame costs ~1,000 instructions.
                    msg = new(Message)
                    msg._names = None  # split from ``_names_text`` when asked for
                    msg._names_text = names
                    msg._values = tuple(cells[1::2])
                    msg._index = None
                    msg.body = ()
                    append(msg)
                    continue
            line_ends -= frame.count(0)
            loops += 1
            append(None)
        if line_ends:  # a frame above took a line without ": " for half of another's
            return 0
        if not loops:
            out += cast("list[Message]", parsed)
            return end
        for frame, done in zip(frames, parsed, strict=True):
            if done is None or self._follows is not None:
                self._frame(frame.replace(_LINE_END, b"\r\n"), _BLANK_LINE, out)
            else:
                out.append(done)
        return end

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


def _special(frame: bytes) -> bool:
    """Whether a marked frame led by a byte of ``_SPECIAL_HEADS`` is one the frame-at-a-time
    path must see: a command output (``Response: Follows``), or empty, or led by a line end
    (which ``_frame`` strips)."""
    head = frame[:1]
    if head == b"R" or head == b"r":
        return frame[:17].lower() == _FOLLOWS
    if head == b":":
        return frame.startswith(_LINE_END)
    return True


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
