"""Feed the four byte parsers (AMI, FastAGI, queue_log, FreeSWITCH's Event Socket) the same
bytes in any chunking and record everything each one reports, so that two feedings can be
compared whole.

Shared by the property test (``tests/unit/parsers``) and the fuzz benchmark
(``bench/fuzz_parsers.py``).  An *outcome* is a list of plain tuples: every message, reply,
record and environment, and every error or skipped frame, in the order the parser reported
them, plus the state left at the end of the stream.  The rule under test: the outcome depends
on the bytes only, never on how they were cut.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import astuple
from pathlib import Path

from clinicall.agi_scripts.protocol import (
    AgiProtocolError,
    AgiReply,
    EnvironmentParser,
    HangupSignal,
    ReplyParser,
    ReplyStreamError,
)
from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.ami.protocol import AMIParser, event_name_of
from clinicall.controller.asterisk.queue_log import QueueLogTail
from clinicall.controller.freeswitch.esl.message import EslMessage
from clinicall.controller.freeswitch.esl.protocol import EslParser, content_type_of

Outcome = list[tuple[object, ...]]
#: How one input is fed: the list of chunks it is cut into.
Chunks = Sequence[bytes]


def cut(data: bytes, cuts: Iterable[int]) -> list[bytes]:
    """``data`` cut at the given positions (any order, duplicates and out-of-range ignored)."""
    points = sorted({c for c in cuts if 0 < c < len(data)})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


def byte_by_byte(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def random_chunks(data: bytes, rng: random.Random) -> list[bytes]:
    """Cuts as TCP or a growing file would make them: a few, or many small ones."""
    if len(data) < 2:
        return [data]
    count = rng.randint(1, min(len(data) - 1, rng.choice((3, 12, 64))))
    return cut(data, rng.sample(range(1, len(data)), count))


# ---- AMI ---------------------------------------------------------------------------------


class TracingAMIParser(AMIParser):
    """The real parser, with each frame it returns and each frame it skips noted in wire
    order.  A skip is placed after the frames parsed before it: the parser's own ``out``
    list is seen through the two places that fill it (its block decode and ``_frame``)."""

    def __init__(self, *, max_frame: int) -> None:
        super().__init__(max_frame=max_frame)
        self.trace: Outcome = []
        self._out: list[Message] = []  # the list the running feed() fills
        self._skips: list[tuple[int, tuple[object, ...]]] = []  # (frames before it, skip)

    def feed(self, data: bytes) -> list[Message]:
        self._out, self._skips = [], []
        returned = super().feed(data)
        if self._out and self._out is not returned:
            raise AssertionError("feed() returned other frames than it parsed")
        done = 0
        for before, skip in self._skips:
            self.trace += [("message", tuple(m.headers), m.body) for m in returned[done:before]]
            self.trace.append(skip)
            done = before
        self.trace += [("message", tuple(m.headers), m.body) for m in returned[done:]]
        return returned

    def _feed_block(self, out: list[Message]) -> int:
        self._out = out
        return super()._feed_block(out)

    def _frame(self, raw: bytes, terminator: bytes | bytearray, out: list[Message]) -> None:
        self._out = out
        super()._frame(raw, terminator, out)

    def _skip(self, reason: str, head: bytes) -> None:
        super()._skip(reason, head)
        self._skips.append((len(self._out), ("skipped", reason, event_name_of(head))))


def ami_outcome(chunks: Chunks, *, max_frame: int) -> Outcome:
    """Every frame and skip, the banner, and what is still buffered at the end."""
    parser = TracingAMIParser(max_frame=max_frame)
    for chunk in chunks:
        parser.feed(chunk)
    return [*parser.trace, ("end", parser.banner, parser.malformed)]


# ---- Event Socket ------------------------------------------------------------------------


class TracingEslParser(EslParser):
    """The real parser, with each message and each skipped message noted in wire order."""

    def __init__(self, *, max_header: int, max_body: int) -> None:
        super().__init__(max_header=max_header, max_body=max_body)
        self.trace: Outcome = []

    def _emit(self, message: EslMessage, out: list[EslMessage]) -> None:
        super()._emit(message, out)
        self.trace.append(esl_item(message))

    def _skip(self, reason: str, head: bytes) -> None:
        super()._skip(reason, head)
        self.trace.append(("skipped", reason, content_type_of(head)))


def esl_item(message: EslMessage) -> tuple[object, ...]:
    event = message.event
    decoded = None if event is None else (tuple(event.headers), event.body)
    return ("message", tuple(message.headers), message.body, decoded)


def esl_outcome(chunks: Chunks, *, max_header: int, max_body: int) -> Outcome:
    """Every message and skip, the count of skips, and how many bytes wait at the end."""
    parser = TracingEslParser(max_header=max_header, max_body=max_body)
    returned: list[EslMessage] = []
    for chunk in chunks:
        returned += parser.feed(chunk)
        if parser.buffered > max(max_header, max_body) + 1:
            raise AssertionError(f"{parser.buffered} bytes buffered: over the limits")
    traced = [t for t in parser.trace if t[0] == "message"]
    if traced != [esl_item(m) for m in returned]:
        raise AssertionError("feed() returned other messages than it parsed")
    return [*parser.trace, ("end", parser.malformed, parser.buffered)]


# ---- FastAGI -----------------------------------------------------------------------------


def _agi_item(item: AgiReply | HangupSignal) -> tuple[object, ...]:
    if isinstance(item, HangupSignal):
        return ("hangup",)
    return ("reply", item.code, item.result, item.data, tuple(item.extras.items()), item.text)


def agi_outcome(chunks: Chunks, *, env_limit: int, line_limit: int, usage_limit: int) -> Outcome:
    """One FastAGI connection as the server reads it: the environment block, then replies
    (the bytes after the blank line go to the reply parser), up to the first error."""
    env_parser = EnvironmentParser(env_limit)
    replies: ReplyParser | None = None
    out: Outcome = []
    for chunk in chunks:
        data = chunk
        if replies is None:
            try:
                env = env_parser.feed(chunk)
            except AgiProtocolError as exc:
                return [*out, ("error", str(exc))]
            if env is None:
                continue
            out.append(("environment", tuple(env.raw.items())))
            replies = ReplyParser(line_limit, usage_limit)
            data = env_parser.rest
        try:
            items = replies.feed(data)
        except ReplyStreamError as exc:
            return [*out, *map(_agi_item, exc.parsed), ("error", str(exc))]
        out += map(_agi_item, items)
    return [*out, ("end", None if replies is None else replies.pending)]


# ---- queue_log ---------------------------------------------------------------------------


def scratch_directory() -> tempfile.TemporaryDirectory[str]:
    """A temporary directory, on tmpfs when there is one (the benchmark writes millions of
    small appends)."""
    shm = Path("/dev/shm")
    base = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
    return tempfile.TemporaryDirectory(prefix="clinicall-qlog-", dir=base)


class QueueLogFeeder:
    """A real ``QueueLogTail`` on a file that grows chunk by chunk, read after every append
    (until a read says there is no more), as the recorder polls it.  The file lives in
    ``directory`` (which the caller removes), or in a scratch directory of its own."""

    def __init__(self, directory: Path | None = None) -> None:
        self._own: tempfile.TemporaryDirectory[str] | None = None
        if directory is None:
            self._own = scratch_directory()
            directory = Path(self._own.name)
        self.path = directory / "queue_log"

    def close(self) -> None:
        if self._own is not None:
            self._own.cleanup()

    def outcome(self, chunks: Chunks, *, max_bytes: int) -> Outcome:
        """Every record, then every error, each in the order the reads returned them (a batch
        keeps the two apart: their line numbers place them), restarts, and the end state."""
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            tail = QueueLogTail(self.path, max_bytes=max_bytes)
            records: Outcome = []
            errors: Outcome = []
            restarts: Outcome = []
            for chunk in chunks:
                os.write(fd, chunk)
                more = True
                while more:
                    batch = tail.read()
                    if batch.restarted is not None:
                        restarts.append(("restarted", batch.restarted))
                    records += [("record", type(r).__name__, astuple(r)) for r in batch.records]
                    errors += [("error", e.reason, e.line_no, e.offset) for e in batch.errors]
                    more = batch.more
        finally:
            os.close(fd)
        state = tail.state
        end = ("end", state.offset, state.line_no, state.fingerprint)
        return [*records, *errors, *restarts, end]


#: The four parsers by name, each as a function of the chunks (limits bound by the caller).
Feed = Callable[[Chunks], Outcome]
