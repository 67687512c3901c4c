"""The block decode (every complete CRLF frame of a read split at once, line ends marked)
against the frame-at-a-time loop it shortcuts, on random streams: fed whole, in random
chunks and byte by byte, the same messages, lookups, skipped frames, log lines and buffered
bytes."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.ami.protocol import AMIParser


class FrameAtATime(AMIParser):
    """The parser without its block decode: ``feed``'s frame-at-a-time loop alone, which was
    the whole parser before the block decode (bench/README.md)."""

    def _feed_block(self, out: list[Message]) -> int:
        return 0


class BlockCounter(AMIParser):
    """The parser, counting the bytes its block decode took."""

    taken = 0

    def _feed_block(self, out: list[Message]) -> int:
        took = super()._feed_block(out)
        self.taken += took
        return took


#: Pieces that decide framing and parsing: CRLF and bare LF line ends, blank-line runs, a
#: leading CR, a CR alone, a NUL (the block decode's mark of a line end), command output,
#: UTF-8 split or invalid (in free text and in an id header), lines that are not
#: "Name: value", a value with ": " in it, an empty name, a ":" in a name, non-ASCII names.
PIECES = [
    b"Event: Newexten\r\n",
    b"Uniqueid: 1.\xd0\x9e\r\n",
    b"CallerIDName: \xd0\x9e\xd0\xbb\xd0\xb5\xd0\xbd\xd0\xb0\r\n",
    b"\r\n",
    b"\n",
    b"\r",
    b"Response: Follows\r\n",
    b"response: FOLLOWS\r\n",
    b"Response: Success\r\n",
    b"--END COMMAND--",
    b"ActionID: 5\r\n",
    b"actionid: 6\r\n",
    b"Asterisk Call Manager/9.0.0\r\n",
    b"Value: \r\n",
    b"Value:\r\n",
    b"Data: " + b"y" * 50 + b"\r\n",
    b"a:b: c\r\n",
    b": nameless\r\n",
    b"no colon\r\n",
    b"Queue: \xff\r\n",
    b"Note: \xfe\r\n",
    b"\xce\xa3\xce\xb1: x\r\n",
    b"\xd0",
    b"\r\n\r\n",
    b"\n\n",
    b"\r\n\r\n\r\n",
    b"R",
    b"Event: Hangup\r\n\r\n",
    b"\x00",
    b"Note: a\rb\r\n",
    b"AppData: x: y\r\n",
    b"x\r\ny\r\n",
]


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.getMessage()}")


@contextmanager
def recorded_logs() -> Iterator[Records]:
    logger = logging.getLogger("clinicall.controller.asterisk.ami.protocol")
    records = Records()
    level = logger.level
    logger.addHandler(records)
    logger.setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        logger.removeHandler(records)
        logger.setLevel(level)


Seen = tuple[list["Seen1"], int, str | None, bytes, list[str]]
Seen1 = tuple[list[tuple[str, str]], tuple[str, ...], tuple[str, str, str, str | None], str | None]


def outcome(parser: AMIParser, data: bytes, cuts: list[int]) -> Seen:
    """What a consumer sees: each message's headers, body and lookups, then the skipped
    count, the banner, the bytes still buffered and the log lines."""
    messages: list[Seen1] = []
    with recorded_logs() as records:
        bounds = [0, *sorted(cuts), len(data)]
        for start, stop in itertools.pairwise(bounds):
            for msg in parser.feed(data[start:stop]):
                lookups = (msg.action_id, msg.event, msg.response, msg.get("UNIQUEID"))
                messages.append((msg.headers, msg.body, lookups, msg.get("")))
    return messages, parser.malformed, parser.banner, bytes(parser._buf), records.lines


@settings(max_examples=400, derandomize=True, database=None, deadline=None)
@given(
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=30).map(b"".join),
    st.lists(st.integers(min_value=0, max_value=2000), max_size=6),
    st.sampled_from([24, 60, 120, 64 * 1024]),
    st.booleans(),
)
def test_block_decode_equals_frame_at_a_time_however_chunked(
    data: bytes, cuts: list[int], max_frame: int, banner: bool
) -> None:
    """Each feeding gives what the frame-at-a-time loop gives fed alike, and chunked gives
    what whole gives.  (Only a log line may differ between feedings, as it did before: a
    frame refused while incomplete is named from its first lines as they stood then.)"""
    cuts = [cut % (len(data) + 1) for cut in cuts]
    whole = outcome(AMIParser(max_frame=max_frame, expect_banner=banner), data, [])
    chunked = outcome(AMIParser(max_frame=max_frame, expect_banner=banner), data, cuts)
    assert whole == outcome(FrameAtATime(max_frame=max_frame, expect_banner=banner), data, [])
    assert chunked == outcome(FrameAtATime(max_frame=max_frame, expect_banner=banner), data, cuts)
    assert chunked[:4] == whole[:4]
    assert len(chunked[4]) == len(whole[4])


@settings(max_examples=60, derandomize=True, database=None, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=12).map(b"".join))
def test_byte_by_byte_equals_frame_at_a_time(data: bytes) -> None:
    by_byte = list(range(1, len(data)))
    reference = outcome(FrameAtATime(max_frame=60), data, by_byte)
    assert outcome(AMIParser(max_frame=60), data, by_byte) == reference
    assert reference[:4] == outcome(AMIParser(max_frame=60), data, [])[:4]


def test_a_plain_stream_goes_through_the_block_decode() -> None:
    """The property tests compare something: CRLF frames take the block path, whole."""
    frame = "Event: QueueCallerJoin\r\nCallerIDName: Олена\r\nQueue: therapy\r\n\r\n".encode()
    parser = BlockCounter(expect_banner=False)
    msgs = parser.feed(frame * 40 + frame[:10])
    assert len(msgs) == 40
    assert parser.taken == len(frame) * 40
    assert msgs[-1].get("calleridname") == "Олена"
    assert [m.event for m in parser.feed(frame[10:])] == ["QueueCallerJoin"]


def test_what_the_block_decode_keeps_for_itself() -> None:
    """Empty values, a CR alone, a non-ASCII name, an empty name and ": " as the last bytes
    of a value before its CRLF stay in the block path, parsed as the loop parses them."""
    data = (
        "Event: VarSet\r\nValue: \r\nNote: a\rb\r\nИмя: 1\r\n: nameless\r\nTail: z: \r\n\r\n"
    ).encode()
    parser = BlockCounter(expect_banner=False)
    (msg,) = parser.feed(data)
    assert parser.taken == len(data)
    assert msg == FrameAtATime(expect_banner=False).feed(data)[0]
    assert msg.headers == [
        ("Event", "VarSet"),
        ("Value", ""),
        ("Note", "a\rb"),
        ("Имя", "1"),
        ("", "nameless"),
        ("Tail", "z: "),
    ]
    assert (msg.get("имя"), msg.get(""), msg.event, len(msg)) == ("1", "nameless", "VarSet", 6)


@pytest.mark.parametrize(
    "frame",
    [
        b"Event: B\r\nx\r\ny",  # lines without ": ": two cells, the NUL among the values
        b"Event: B\r\nA: b\r\nc\r\nd",  # the same after a good line
        b"Event: B\r\nNote: a\x00b",  # a NUL: it would pass for a line end
    ],
)
def test_a_run_the_block_decode_cannot_vouch_for_goes_to_the_loop(frame: bytes) -> None:
    """A line without ": " can fool one frame's cell count; the line ends counted over the
    run catch it and the whole read is the loop's (nothing emitted twice or early)."""
    data = PLAIN + frame + b"\r\n\r\n" + PLAIN
    parser = BlockCounter(expect_banner=False)
    with recorded_logs() as records:
        got = parser.feed(data)
    assert parser.taken == 0
    with recorded_logs() as reference_records:
        reference = FrameAtATime(expect_banner=False).feed(data)
    assert got == reference
    assert records.lines == reference_records.lines
    assert got[0].event == got[-1].event == "A"


def test_small_reads_that_end_no_frame_wait() -> None:
    """The short cut for reads that end no frame (no LF, or no blank line) leaves the same
    messages, buffer and verdicts as the whole stream, the limit included."""
    frame = PLAIN.replace(b"\r\n\r\n", b"\r\nData: " + b"y" * 30 + b"\r\n\r\n")
    data = frame * 3 + b"Event: C\r\nData: " + b"z" * 80 + b"\r\n\r\n" + PLAIN + b"Event: D"
    for size in (1, 2, 3, 5, 16, 300):
        cuts = list(range(size, len(data), size))
        assert outcome(AMIParser(max_frame=64), data, cuts) == (
            outcome(FrameAtATime(max_frame=64), data, cuts)
        ), size
        assert outcome(AMIParser(max_frame=64), data, cuts)[:4] == (
            outcome(AMIParser(max_frame=64), data, [])[:4]
        ), size


PLAIN = b"Event: A\r\nUniqueid: 1.1\r\n\r\n"


@pytest.mark.parametrize(
    "data",
    [
        PLAIN + b"\rEvent: B\r\n\r\n" + PLAIN,  # a frame led by a CR: stripped
        PLAIN + b"\r\n\r\n\r\nEvent: B\r\n\r\n" + PLAIN,  # a run of blank lines
        PLAIN + b"Event: B\r\nX: 1\nY: 2\r\n\r\n" + PLAIN,  # a bare LF inside a frame
        PLAIN + b"Event: B\n\r\n" + PLAIN,  # a frame ended by LF then CRLF
        PLAIN
        + b"Response: Follows\r\nActionID: 1\r\nout\r\n\r\nmore\r\n--END COMMAND--\r\n\r\n"
        + PLAIN,  # a command output, blank line inside
        PLAIN + b"Event: B\r\nData: " + b"y" * 70 + b"\r\n\r\n" + PLAIN,  # over the limit
        PLAIN + b"Event: B\r\n: nameless\r\nno colon\r\n\r\n" + PLAIN,  # not Name: value
        PLAIN + b"Event: B\r\nQueue: \xff\r\n\r\n" + PLAIN,  # an id that is not UTF-8
        PLAIN + b"Event: B\r\nx\r\ny\r\n\r\n" + PLAIN,  # lines without ": ", two cells
        PLAIN + b"Event: B\r\nNote: a\x00b\r\n\r\n" + PLAIN,  # a NUL
        PLAIN + b"Event: B\r\nAppData: x: y\r\n\r\n" + PLAIN,  # ": " inside a value
        PLAIN + b"Event: B\r\nNote: a\rb\r\n\r\n" + PLAIN,  # a CR alone
    ],
)
def test_frames_the_block_decode_hands_on_at_every_cut(data: bytes) -> None:
    reference = outcome(FrameAtATime(max_frame=64, expect_banner=False), data, [])
    assert sum(headers[0] == ("Event", "A") for headers, *_ in reference[0]) == 2
    for cut in range(len(data) + 1):
        assert outcome(AMIParser(max_frame=64, expect_banner=False), data, [cut]) == (
            outcome(FrameAtATime(max_frame=64, expect_banner=False), data, [cut])
        ), cut
    assert outcome(AMIParser(max_frame=64, expect_banner=False), data, [])[:4] == reference[:4]
