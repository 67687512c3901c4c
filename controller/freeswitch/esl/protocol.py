"""Sans-IO Event Socket wire format: bytes in, ``EslMessage`` out (docs/engines/freeswitch.md).

A message is a header block of ``Name: value\\n`` lines ended by a blank line, then exactly
``Content-Length`` body bytes when that header is present.  FreeSWITCH writes the header block
and the body with two ``send()`` calls and packs many messages into one read, so nothing here
assumes a read boundary: the outcome depends on the bytes only, however they are cut (tested
at every chunking on the recorded transcripts, and by the chunking property test).

Bounds, whatever the chunking: a header block longer than ``max_header`` bytes is skipped up
to its blank line without being buffered; a body longer than ``max_body`` is skipped by
counting its bytes down.  A message that cannot be read (a line that is not ``Name: value``,
a bad ``Content-Length``, an event body that does not parse, an id that is not UTF-8) is
counted in ``malformed``, logged once with its content type only (peer text as a short
escaped excerpt: it may hold phone numbers) and skipped; when its ``Content-Length`` could
be read its body is skipped too, so parsing resumes at the next message.

Events are decoded here, once: ``text/event-plain`` (URL-decoded headers, the event's own
body after its inner ``Content-Length``), ``text/event-json`` (``_body`` as the body), and
the outbound ``connect`` reply (``command/reply`` whose header block is the channel data).
Other types (``auth/request``, ``command/reply``, ``api/response``,
``text/disconnect-notice``, ``text/rude-rejection``, and any not seen yet) are framed only.
"""

from __future__ import annotations

import logging

from clinicall.controller.freeswitch.esl import decode
from clinicall.controller.freeswitch.esl.decode import MalformedMessage
from clinicall.controller.freeswitch.esl.message import EslEvent, EslMessage
from clinicall.logbudget import excerpt

log = logging.getLogger(__name__)

#: The outbound ``connect`` reply's header block is ~6 KB of channel variables; a dialplan
#: with many variables may double that.
DEFAULT_MAX_HEADER = 64 * 1024
#: An ``api`` output (``show channels``, ``callcenter_config queue list members``) on a busy
#: clinic is tens of KB; events are 2-5 KB.
DEFAULT_MAX_BODY = 4 * 1024 * 1024

EVENT_PLAIN = "text/event-plain"
EVENT_JSON = "text/event-json"
COMMAND_REPLY = "command/reply"
API_RESPONSE = "api/response"
AUTH_REQUEST = "auth/request"
DISCONNECT_NOTICE = "text/disconnect-notice"
RUDE_REJECTION = "text/rude-rejection"


class EslParser:
    """Incremental ESL parser.  Feed it whatever the socket gave; it returns whole messages.

    ``malformed`` counts the messages skipped so far; ``buffered`` is how many bytes wait for
    the rest of their message (never more than ``max(max_header, max_body) + 1``).
    """

    def __init__(
        self, *, max_header: int = DEFAULT_MAX_HEADER, max_body: int = DEFAULT_MAX_BODY
    ) -> None:
        self.max_header = max_header
        self.max_body = max_body
        self.malformed = 0
        self._buf = bytearray()
        self._scan_from = 0  # where the search for the header block's end may resume
        self._discarding = False  # inside an oversize header block: drop up to its end
        self._head: list[tuple[str, str]] | None = None  # headers waiting for their body
        self._body_left = 0  # body bytes still awaited for ``_head``
        self._skip_left = 0  # bytes of a refused body still to drop

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[EslMessage]:
        """Add bytes from the wire; return the messages completed by them, in order."""
        buf = self._buf
        buf += data
        out: list[EslMessage] = []
        pos = 0
        size = len(buf)
        while pos < size:
            if self._skip_left:
                step = min(self._skip_left, size - pos)
                pos += step
                self._skip_left -= step
                continue
            if self._head is not None:
                if size - pos < self._body_left:
                    break
                end = pos + self._body_left
                head, self._head = self._head, None
                self._complete(head, bytes(buf[pos:end]), out)
                pos = end
                continue
            if not self._discarding:
                while pos < size and buf[pos] == 10:  # line ends between messages
                    pos += 1
                if pos == size:
                    break
            end = buf.find(b"\n\n", pos + self._scan_from)
            if end < 0:
                pending = size - pos
                # The block's end may start with the last byte: a longer remainder is
                # certainly over the limit, whatever comes next.
                if not self._discarding and pending > self.max_header + 1:
                    self._skip("header block over the limit", bytes(buf[pos : pos + 200]))
                    self._discarding = True
                if self._discarding:
                    pos = size - 1
                    pending = 1
                self._scan_from = max(0, pending - 1)
                break
            self._scan_from = 0
            block = bytes(buf[pos:end])
            pos = end + 2
            if self._discarding:
                self._discarding = False
                continue
            if len(block) > self.max_header:
                self._skip("header block over the limit", block[:200])
                continue
            self._header_block(block, out)
        del buf[:pos]
        return out

    def _header_block(self, block: bytes, out: list[EslMessage]) -> None:
        """A complete header block: read it, then wait for its body (or finish it now)."""
        headers: list[tuple[str, str]] = []
        problem: str | None = None
        length: int | None = None
        try:
            lines = decode.decode_lines(block)
        except MalformedMessage as exc:
            problem, lines = str(exc), block.decode("utf-8", "replace").split("\n")
        for line in lines:
            try:
                name, value = decode.split_header(line)
            except MalformedMessage as exc:
                problem = problem or str(exc)
                continue
            if name.lower() == "content-length" and length is None:
                try:
                    length = decode.parse_length(value)
                except MalformedMessage as exc:
                    problem = problem or str(exc)
            headers.append((name, value))
        if problem is None and length is not None and length > self.max_body:
            problem = "body over the limit"
        if problem is not None:
            self._skip(problem, block[:200])
            self._skip_left = length or 0
            return
        if length:
            self._head, self._body_left = headers, length
        else:
            self._complete(headers, b"", out)

    def _complete(self, headers: list[tuple[str, str]], body: bytes, out: list[EslMessage]) -> None:
        """A whole message: decode the event it carries, if any, and hand it out."""
        content_type = _first(headers, "content-type")
        event: EslEvent | None = None
        try:
            if content_type == EVENT_PLAIN:
                event = decode.plain_event(body)
            elif content_type == EVENT_JSON:
                event = decode.json_event(body)
            elif content_type == COMMAND_REPLY and _first(headers, "event-name") is not None:
                # The outbound ``connect`` reply: the header block is a serialized event.
                headers = [(n, decode.url_decode(n, v)) for n, v in headers]
                event = EslEvent([h for h in headers if h[0].lower() != "content-length"])
        except MalformedMessage as exc:
            self._skip(str(exc), _describe(headers))
            return
        self._emit(EslMessage(headers, body, event), out)

    def _emit(self, message: EslMessage, out: list[EslMessage]) -> None:
        """Hand a message out (a seam for tests that trace the parser)."""
        out.append(message)

    def _skip(self, reason: str, head: bytes) -> None:
        """Count and log a malformed message: its content type, never its content."""
        self.malformed += 1
        log.warning(
            "ESL: skipped malformed message (%s) type=%s",
            reason,
            excerpt(content_type_of(head), 40),
        )


def _first(headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def _describe(headers: list[tuple[str, str]]) -> bytes:
    return f"Content-Type: {_first(headers, 'content-type') or ''}".encode()


def content_type_of(head: bytes) -> str:
    """The ``Content-Type`` named in a message's first bytes, "?" when none: all a log line
    may say about a skipped message."""
    for line in head.split(b"\n"):
        if line[:13].lower() == b"content-type:":
            return line[13:].strip().decode("ascii", "replace")[:40]
    return "?"
