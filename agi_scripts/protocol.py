"""The FastAGI wire format, without I/O: environment block, command lines, reply lines.

Asterisk opens a TCP connection per call, sends ``agi_name: value`` lines ended by a blank
line, then waits for one command line at a time and answers each with one reply line
(``200 result=1 (data) endpos=1234``), a multi-line usage message (``520-...`` up to
``520 End of proper usage.``), or ``510``/``511``.  When the channel hangs up it also sends an
unsolicited ``HANGUP`` line (AGISIGHUP); that line is *not* a reply: the reply to the command
in flight still follows, or the socket closes.  Everything here works on bytes so it can be
tested split at every position; :func:`raise_for_reply` is the one place where reply codes
become exceptions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import FrozenInstanceError, dataclass, field
from types import MappingProxyType

from clinicall.ivr.port import CallerHungUp, PortError
from clinicall.logbudget import excerpt

MAX_LINE_BYTES = 65536  # no real reply comes near this; a longer line means a broken peer
MAX_USAGE_BYTES = 65536  # a whole 520 usage message: res_agi's longest is a few KiB
MAX_ENVIRONMENT_BYTES = 16384  # the agi_* block; a real one is well under 2 KiB
MAX_COMMAND_BYTES = 2047  # res_agi reads commands into a 2048-byte buffer (with the newline)


class AgiError(Exception):
    """Root of everything the FastAGI layer raises about one call."""


class AgiProtocolError(AgiError, PortError):
    """The peer sent something that is not FastAGI; the call's session cannot continue."""


class AgiCommandError(AgiError, PortError):
    """Asterisk refused a command (510 unknown command, 520 bad syntax, other codes).

    ``code`` and ``text`` keep the raw reply for diagnosis.
    """

    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"{code} {excerpt(text)}")
        self.code = code
        self.text = text


class AgiCommandTimeout(AgiError, PortError):
    """No reply within the command's deadline; the session is ended (fail-open dialplan)."""


class ReplyStreamError(AgiProtocolError):
    """A bad line in the reply stream; ``parsed`` holds what came before it in the same read."""

    def __init__(self, message: str, parsed: list[AgiReply | HangupSignal]) -> None:
        super().__init__(message)
        self.parsed = parsed


class AgiChannelGone(AgiError, CallerHungUp):
    """The channel hung up: ``HANGUP`` line, ``511`` reply, ``result=-1`` or end of stream."""


class AgiEnvironment:
    """The ``agi_*`` block Asterisk sends first.  Missing fields are ''.

    A read-only view of the pairs as they came (``raw``, names without the prefix): each
    field reads its pair when asked, so a session pays for the few it reads, not for
    freezing all of them (a frozen dataclass of 18 fields was 3 to 4 µs of the 12 µs a session
    spent on its environment: bench/README.md).  Compared and hashed by its fields and
    arguments, like the dataclass it replaces; caller id fields are left out of ``repr``
    (personal data must not reach the logs).
    """

    __slots__ = ("args", "raw")
    raw: Mapping[str, str]
    args: tuple[str, ...]

    def __init__(self, raw: Mapping[str, str]) -> None:
        """``raw`` is kept, not copied: nobody may change it afterwards
        (:func:`build_environment` copies)."""
        args: list[str] = []
        for name in _ARG_NAMES:  # names made once, not formatted per call and argument
            value = raw.get(name)
            if value is None:
                break
            args.append(value)
        else:  # more arguments than _ARG_NAMES (no script of clinicall's passes that many)
            while (value := raw.get(f"arg_{len(args) + 1}")) is not None:
                args.append(value)
        # Each slot's own setter: object.__setattr__ would look the name up on the class.
        _SET_RAW(self, MappingProxyType(raw))
        _SET_ARGS(self, tuple(args))

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def get(self, name: str, default: str = "") -> str:
        """Any ``agi_*`` value by its name without the prefix (``get("linkedid")``)."""
        return self.raw.get(name, default)

    @property
    def request(self) -> str:
        return self.raw.get("request", "")

    @property
    def network_script(self) -> str:
        return self.raw.get("network_script", "")

    @property
    def channel(self) -> str:
        return self.raw.get("channel", "")

    @property
    def uniqueid(self) -> str:
        return self.raw.get("uniqueid", "")

    @property
    def language(self) -> str:
        return self.raw.get("language", "")

    @property
    def type(self) -> str:
        return self.raw.get("type", "")

    @property
    def version(self) -> str:
        return self.raw.get("version", "")

    @property
    def callerid(self) -> str:
        return self.raw.get("callerid", "")

    @property
    def calleridname(self) -> str:
        return self.raw.get("calleridname", "")

    @property
    def dnid(self) -> str:
        return self.raw.get("dnid", "")

    @property
    def rdnis(self) -> str:
        return self.raw.get("rdnis", "")

    @property
    def context(self) -> str:
        return self.raw.get("context", "")

    @property
    def extension(self) -> str:
        return self.raw.get("extension", "")

    @property
    def priority(self) -> str:
        return self.raw.get("priority", "")

    @property
    def accountcode(self) -> str:
        return self.raw.get("accountcode", "")

    @property
    def threadid(self) -> str:
        return self.raw.get("threadid", "")

    def _fields(self) -> tuple[object, ...]:
        """The named fields in order, then the arguments: what equality and hash compare."""
        get = self.raw.get
        return (*(get(name, "") for name in ENVIRONMENT_FIELDS), self.args)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, AgiEnvironment)
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        get = self.raw.get
        shown = [f"{name}={get(name, '')!r}" for name in ENVIRONMENT_FIELDS
                 if name not in PERSONAL_FIELDS]
        return f"AgiEnvironment({', '.join(shown)}, args={self.args!r})"


_SET_RAW = vars(AgiEnvironment)["raw"].__set__
_SET_ARGS = vars(AgiEnvironment)["args"].__set__
#: ``arg_1`` ... ``arg_16``: the names of an environment's first arguments.
_ARG_NAMES = tuple(f"arg_{n}" for n in range(1, 17))

#: The fields of :class:`AgiEnvironment`, in order (``agi_`` names without the prefix).
ENVIRONMENT_FIELDS = (
    "request", "network_script", "channel", "uniqueid", "language", "type", "version",
    "callerid", "calleridname", "dnid", "rdnis", "context", "extension", "priority",
    "accountcode", "threadid",
)
#: The fields ``repr`` leaves out: who called, what they dialled.
PERSONAL_FIELDS = frozenset({"callerid", "calleridname", "dnid", "rdnis", "extension"})


def build_environment(raw: Mapping[str, str]) -> AgiEnvironment:
    """Freeze parsed ``agi_*`` pairs (names without the prefix) into an environment."""
    return AgiEnvironment(dict(raw))


#: The environment's ids (the channel, the call): one that is not UTF-8 ends the session, as
#: a replaced id would name a call the engine never reported.  Other values (a caller's name)
#: keep replacement characters.
ID_VARIABLES = frozenset({"agi_uniqueid", "agi_channel", "agi_linkedid"})


#: One ``agi_name: value`` line of an ASCII block, as ``EnvironmentParser._add`` reads it: the
#: name an identifier (in ASCII, ``str.isidentifier``), one space after the colon dropped.
#: Possessive (``*+``): no class can give back what the next token needs (``:``, ``\n``), so it
#: reads what the greedy pattern reads, without keeping backtracking points.
_ENV_LINE = re.compile(r"^agi_([A-Za-z_][A-Za-z0-9_]*+): ?+([^\n]*+)\n", re.MULTILINE)
#: Whole lines that ``_ENV_LINE`` reads in a block without CR or non-ASCII bytes, on bytes:
#: what an environment arriving in several reads is checked against as its lines come.
_PLAIN_LINES = re.compile(rb"(?:agi_[A-Za-z_][A-Za-z0-9_]*+: ?+[^\n\r\x80-\xff]*+\n)*+")


def _environment(pairs: dict[str, str], lines: int) -> AgiEnvironment:
    """The environment of a whole block's ``pairs`` (``lines`` of them, counted as read).

    res_agi writes ``agi_request`` in every environment (its first line after
    ``agi_network: yes`` on FastAGI), whatever the script: a block without it, such as the
    lone blank line of a peer that sent ``\\n``, is not from Asterisk and starts no session.
    The error names the missing field and the count, none of the peer's bytes."""
    if "request" not in pairs:
        raise AgiProtocolError(
            f"not an AGI environment: no agi_request in its {lines} line(s)")
    return AgiEnvironment(pairs)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class EnvironmentParser:
    """Collects the environment block; bytes after the blank line are kept in ``rest``.

    :meth:`feed` returns the environment once the blank line arrived, ``None`` before, and
    raises :class:`AgiProtocolError` on a line that is not ``agi_name: value``, on an id
    (``ID_VARIABLES``) that is not UTF-8 text, when the block (up to and including its
    blank line) is longer than ``limit`` bytes, or at the blank line of a block without
    ``agi_request`` (an empty one included: what res_agi always sends is missing).  The
    limit is checked on byte offsets within the block, so one read and many small reads give
    the same answer for the same bytes.

    Two readings, one answer.  What Asterisk sends (plain ASCII ``agi_name: value`` lines; it
    writes them one by one, so they may come in one read or in several) is read in one pass:
    the block is kept as it comes, each read's whole lines checked by one regex (a bad line
    is refused in the read that completes it, as line by line), and the pairs taken by one
    regex at the blank line.  Any other shape (CR, non-ASCII, a bad line, a block at the
    limit) is read line by line from the block's start, which gives the environment or the
    error of the offending line.  ``one_pass=False`` reads line by line only: the reference
    the one-pass reading is tested against.
    """

    def __init__(self, limit: int = MAX_ENVIRONMENT_BYTES, *, one_pass: bool = True) -> None:
        self._limit = limit
        self._one_pass = one_pass
        self._block = bytearray()  # one pass: the block so far, once it took more than a read
        self._checked = 0  # one pass: bytes of _block known to be whole plain lines
        self._buffer = b""  # line by line: the line not finished yet
        self._pairs: dict[str, str] = {}
        self._consumed = 0  # line by line: bytes of complete lines taken from the block
        self._lines = 0  # line by line: the block's lines read before its blank line
        self.rest = b""

    def feed(self, data: bytes) -> AgiEnvironment | None:
        if not self._one_pass:
            return self._read_lines(data)
        if self._block:
            self._block += data
            return self._read_block(self._block)
        return self._read_block(data)

    def _read_block(self, block: bytes | bytearray) -> AgiEnvironment | None:
        """One pass: the environment once ``block`` holds a whole plain block, None while its
        lines so far are plain and under the limit; any other block is read line by line."""
        if block.endswith(b"\n\n"):  # what Asterisk's last write ends with
            blank = len(block) - 1  # the blank line's newline (an earlier one fails below)
        else:
            blank = block.find(b"\n\n", max(self._checked - 1, 0)) + 1  # 0: not there yet
        if blank:
            env = self._plain_block(block, blank) if blank < self._limit else None
            return env if env is not None else self._lines_from_start(block)
        if len(block) >= self._limit:
            return self._lines_from_start(block)
        whole = block.rfind(b"\n", self._checked) + 1  # after the last whole line
        if whole:
            if _PLAIN_LINES.fullmatch(block, self._checked, whole) is None:
                return self._lines_from_start(block)
            self._checked = whole
        if block is not self._block:
            self._block = bytearray(block)  # the first read of a block that takes several
        return None

    def _lines_from_start(self, block: bytes | bytearray) -> AgiEnvironment | None:
        """Not a plain block: read it line by line from its first byte, and what follows."""
        self._one_pass = False
        self._block = bytearray()
        return self._read_lines(bytes(block))

    def _read_lines(self, data: bytes) -> AgiEnvironment | None:
        buffer = self._buffer + data if self._buffer else data
        start = 0
        while (end := buffer.find(b"\n", start, start + self._limit - self._consumed)) >= 0:
            line = buffer[start:end]
            self._consumed += end + 1 - start
            start = end + 1
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                self.rest = buffer[start:]
                self._buffer = b""
                return _environment(self._pairs, self._lines)
            self._lines += 1
            self._add(line)
        self._buffer = buffer[start:]
        if self._consumed + len(self._buffer) >= self._limit:  # a newline is still due
            self._buffer = b""
            raise AgiProtocolError(f"environment larger than {self._limit} bytes")
        return None

    def _plain_block(self, block: bytes | bytearray, blank: int) -> AgiEnvironment | None:
        """The environment whose blank line's newline is at ``blank``, when every line before
        it is a plain ASCII pair (one regex match a line); None for any other block."""
        lines = block[:blank]
        if not lines.isascii() or b"\r" in lines:
            return None
        text = lines.decode("ascii")
        pairs = _ENV_LINE.findall(text)
        if len(pairs) != text.count("\n"):  # one match per line, or some line is not a pair
            return None
        self._consumed = blank + 1
        self.rest = bytes(block[blank + 1 :])
        self._block = bytearray()
        return _environment(dict(pairs), len(pairs))

    def _add(self, line: bytes) -> None:
        name, sep, value = line.decode("utf-8", "replace").partition(":")
        if not sep or not name.startswith("agi_") or not name[4:].isidentifier():
            raise AgiProtocolError(f"not an AGI environment line: {excerpt(line)}")
        if name in ID_VARIABLES and "\ufffd" in value and not _is_utf8(line):
            raise AgiProtocolError(f"{name} is not UTF-8 text")
        self._pairs[name[4:]] = value[1:] if value.startswith(" ") else value


@dataclass(frozen=True, slots=True)
class AgiReply:
    """One reply.  ``result`` stays a string: GET DATA answers with digits such as ``*12``."""

    code: int
    result: str = ""
    data: str | None = None  # the text in parentheses: "timeout", a variable's value, ...
    extras: Mapping[str, str] = field(default_factory=dict)  # endpos=1234 and the like
    text: str = ""  # everything after the code, all lines of a 520 usage message

    @property
    def result_int(self) -> int:
        """``result`` as an integer; AgiProtocolError if it is not one."""
        try:
            return int(self.result)
        except ValueError:
            raise AgiProtocolError(f"result is not a number: {self.result!r}") from None


@dataclass(frozen=True, slots=True)
class HangupSignal:
    """The unsolicited ``HANGUP`` line: the channel hung up; a reply may still follow."""


HANGUP = HangupSignal()

_LINE = re.compile(r"(\d{3})([ -])(.*)", re.DOTALL)
_RESULT = re.compile(r"result=(\S*)(?: \((.*)\))?((?: \S+)*) *", re.DOTALL)


def parse_reply_line(line: str) -> AgiReply:
    """Parse one single-line reply (no newline).  AgiProtocolError when malformed."""
    if line.startswith("200 result="):
        plain = _plain_success(line)
        if plain is not None:
            return plain
    return _parse_any_reply(line)


def _plain_success(line: str) -> AgiReply | None:
    """The replies nearly every command gets, ``200 result=1`` or ``200 result=0
    endpos=8000``, read without the two regexes (a tenth of a FastAGI session's time, the
    speed issue measured); None for any other shape, which ``_parse_any_reply`` then reads to
    the same reply."""
    value, _, tail = line[11:].partition(" ")
    if not (value.isascii() and value.isprintable()):
        return None
    if not tail:
        return AgiReply(200, value, None, {}, line[4:])
    name, equals, number = tail.partition("=")
    if (
        equals
        and name.isascii()
        and name.isalnum()
        and (not number or (number.isascii() and number.isalnum()))
    ):
        return AgiReply(200, value, None, {name: number}, line[4:])
    return None


def _parse_any_reply(line: str) -> AgiReply:
    match = _LINE.fullmatch(line)
    if match is None or match.group(2) != " ":
        raise AgiProtocolError(f"malformed AGI reply: {excerpt(line)}")
    code, text = int(match.group(1)), match.group(3)
    if code != 200:
        return AgiReply(code, text=text)
    result = _RESULT.fullmatch(text)
    if result is None:
        raise AgiProtocolError(f"200 reply without result=: {excerpt(line)}")
    extras = dict(token.partition("=")[::2] for token in result.group(3).split() if "=" in token)
    return AgiReply(200, result.group(1), result.group(2), extras, text)


#: Whole plain success lines already read, as received (newline included) → their reply.
#: A call's replies are a few lines over and over (``200 result=1``, ``200 result=0``, a
#: prompt's ``200 result=0 endpos=...``), and a reply is immutable (its ``extras`` read-only
#: here), so the same bytes give the same object instead of a second parse.  Bounded: lines
#: shorter than PLAIN_REPLY_MEMO_LINE bytes only, and emptied when PLAIN_REPLY_MEMO_SIZE are
#: kept; only the event loop's thread reads replies.
_PLAIN_REPLIES: dict[bytes, AgiReply] = {}
PLAIN_REPLY_MEMO_SIZE = 256
PLAIN_REPLY_MEMO_LINE = 64


class ReplyParser:
    """Turns the byte stream after the environment into replies and hang-up signals.

    Partial lines are buffered; CRLF and LF both end a line; empty lines are skipped.  A line
    longer than ``line_limit`` or a ``520`` usage message longer than ``usage_limit`` (lines
    and their newlines) is refused, checked on offsets so the same bytes give the same answer
    in any chunking.  A malformed line raises :class:`ReplyStreamError` carrying the items
    parsed before it in the same read, and leaves the parser unusable.
    """

    def __init__(
        self, line_limit: int = MAX_LINE_BYTES, usage_limit: int = MAX_USAGE_BYTES
    ) -> None:
        self._line_limit = line_limit
        self._usage_limit = usage_limit
        self._buffer = b""
        self._usage: list[str] | None = None  # lines of a 520 usage message in progress
        self._usage_bytes = 0

    def feed(self, data: bytes) -> list[AgiReply | HangupSignal]:
        single = self.whole_reply(data)
        if single is not None:
            return [single]
        buffer = self._buffer + data if self._buffer else data
        items: list[AgiReply | HangupSignal] = []
        start = 0
        try:
            while (end := buffer.find(b"\n", start, start + self._room() + 1)) >= 0:
                raw = buffer[start:end]
                start = end + 1
                if self._usage is None:
                    self._usage_bytes = 0  # counts from the line that may open a message
                self._usage_bytes += len(raw) + 1
                item = self._line(raw.decode("utf-8", "replace").removesuffix("\r"))
                if item is not None:
                    items.append(item)
            self._buffer = buffer[start:]
            if len(self._buffer) > self._room():
                raise AgiProtocolError(self._too_long())
        except AgiProtocolError as exc:
            self._buffer = b""
            self._usage = None
            raise ReplyStreamError(str(exc), items) from None
        return items

    def whole_reply(self, data: bytes) -> AgiReply | None:
        """``data`` read as one whole plain success line (``200 result=0 endpos=8000``), what
        nearly every read between commands is, when nothing is buffered: its reply, as
        :meth:`feed` would return it; None for anything else, which is then left unread for
        :meth:`feed` (to the same reply, if it is one)."""
        if self._buffer or self._usage is not None:
            return None
        end = len(data) - 1
        if end > self._line_limit:
            return None
        reply = _PLAIN_REPLIES.get(data)
        if reply is not None:
            return reply
        if not data.startswith(b"200 result=") or data.find(b"\n") != end:
            return None
        reply = _plain_success(data[:end].decode("utf-8", "replace").removesuffix("\r"))
        if reply is not None and end < PLAIN_REPLY_MEMO_LINE:
            if len(_PLAIN_REPLIES) >= PLAIN_REPLY_MEMO_SIZE:
                _PLAIN_REPLIES.clear()
            reply = AgiReply(200, reply.result, None, MappingProxyType(dict(reply.extras)),
                             reply.text)
            _PLAIN_REPLIES[data] = reply
        return reply

    @property
    def pending(self) -> bool:
        """True while part of a reply has been received but not completed."""
        return bool(self._buffer) or self._usage is not None

    def _room(self) -> int:
        """How many bytes the line now being read may have before its newline."""
        if self._usage is None:
            return self._line_limit
        return min(self._line_limit, self._usage_limit - self._usage_bytes - 1)

    def _too_long(self) -> str:
        if self._usage is not None and self._room() < self._line_limit:
            return f"520 usage message longer than {self._usage_limit} bytes"
        return f"reply line longer than {self._line_limit} bytes"

    def _line(self, line: str) -> AgiReply | HangupSignal | None:
        if self._usage is not None:
            return self._usage_line(line)
        if line == "HANGUP":
            return HANGUP
        if not line:
            return None
        if line.startswith("520-"):
            self._usage = [line[4:]]
            return None
        return parse_reply_line(line)

    def _usage_line(self, line: str) -> AgiReply | None:
        assert self._usage is not None
        if not line.startswith("520 "):
            self._usage.append(line)
            return None
        self._usage.append(line[4:])
        text, self._usage = "\n".join(self._usage), None
        return AgiReply(520, text=text)


def raise_for_reply(reply: AgiReply, *, minus_one_is_hangup: bool = False) -> AgiReply:
    """Return a successful reply; raise the matching exception for any other.

    ``minus_one_is_hangup``: for commands whose ``result=-1`` means the channel is gone
    (ANSWER, STREAM FILE, GET DATA, SAY NUMBER).  STREAM FILE also answers -1 for a missing
    sound file; ending the session then lets the dialplan's fail-open path take the call.
    """
    if reply.code == 200:
        if minus_one_is_hangup and reply.result == "-1":
            raise AgiChannelGone("result=-1: channel hung up (or the sound file is missing)")
        return reply
    if reply.code == 511:
        raise AgiChannelGone(f"511 {reply.text}")
    raise AgiCommandError(reply.code, reply.text)


def quote_argument(value: str) -> str:
    """One command argument in double quotes, as res_agi's argument splitter reads it."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


#: Command lines already encoded, by their words and arguments, when all are text: a call
#: sends the same few lines over and over (ANSWER, its language, each prompt's STREAM FILE
#: or GET DATA).  Only all-text keys are kept, so a hit is the very same text (a number never
#: equals a string; a str subclass is encoded by its text, as below).  Bounded: lines up to
#: ENCODED_MEMO_LINE bytes, emptied when ENCODED_MEMO_SIZE are kept; the event loop's thread
#: only.  Written by :func:`encode_command` alone; ``AgiChannel.command`` reads it first, a
#: call less per command (bench/README.md, "FastAGI").
ENCODED_LINES: dict[tuple[str | int, ...], bytes] = {}
ENCODED_MEMO_SIZE = 256
ENCODED_MEMO_LINE = 512


def encode_command(command: str, *args: str | int) -> bytes:
    """``encode_command("STREAM FILE", "clinicall/uk/menu", "0123456789*#")`` → one line.

    The command words go as they are; every argument is quoted.  ValueError for CR, LF or
    NUL anywhere (they would end or cut the line in Asterisk) and for over-long lines.
    """
    key = (command, *args)
    encoded = ENCODED_LINES.get(key)
    if encoded is not None:
        return encoded
    line = command
    for arg in args:
        value = arg if isinstance(arg, str) else str(arg)
        # concatenated, not formatted: a str subclass goes by its text, as the memo keys it
        quoted = quote_argument(value) if "\\" in value or '"' in value else '"' + value + '"'
        line += " " + quoted
    if "\n" in line or "\r" in line or "\0" in line:
        raise ValueError(f"AGI command contains CR, LF or NUL: {command!r}")
    encoded = line.encode() + b"\n"
    if len(encoded) > MAX_COMMAND_BYTES:
        raise ValueError(f"AGI command longer than {MAX_COMMAND_BYTES} bytes: {command!r}")
    if len(encoded) <= ENCODED_MEMO_LINE and all(isinstance(part, str) for part in key):
        if len(ENCODED_LINES) >= ENCODED_MEMO_SIZE:
            ENCODED_LINES.clear()
        ENCODED_LINES[key] = encoded
    return encoded
