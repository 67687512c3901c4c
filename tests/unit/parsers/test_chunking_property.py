"""Issue 9, item 2 (issue 12 for the Event Socket): each byte parser gives the same outcome
for the same bytes however they are cut: fed whole, in random chunks and byte by byte.

The outcome is everything the parser reports (``tests/parser_feeds.py``): messages, replies,
records, and the frames it skipped or the error it raised, in order, and its state at the end.
Inputs are random bytes, and valid frames / lines (``tests/parser_corpus.py``) mixed with
pieces sized limit-2 .. limit+2 and stray CR, LF, NUL and 0xFF.  Hypothesis runs derandomized
(the same examples in every run) and with few examples so the three stay within seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from parser_corpus import (
    AGI_CORPUS,
    AGI_ENV_LIMIT,
    AGI_LINE_LIMIT,
    AGI_USAGE_LIMIT,
    AMI_CORPUS,
    AMI_MAX_FRAME,
    ESL_CORPUS,
    ESL_MAX_BODY,
    ESL_MAX_HEADER,
    QUEUE_LOG_CORPUS,
    QUEUE_LOG_MAX_BYTES,
    agi_limit_pieces,
    ami_limit_pieces,
    ami_sized,
    esl_limit_pieces,
    queue_log_limit_pieces,
)
from parser_feeds import (
    Chunks,
    Outcome,
    QueueLogFeeder,
    agi_outcome,
    ami_outcome,
    byte_by_byte,
    cut,
    esl_outcome,
)

PROPERTY = settings(
    max_examples=300,
    derandomize=True,
    database=None,  # no saved examples: every run (and CI) tries exactly the same ones
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
#: Bytes that end lines and frames, or that decoders have choked on.
STRAYS = (b"\r", b"\n", b"\r\n", b"\r" * 5, b"\r\n\r\n", b"\n\n", b"\x00", b"\xff", b":", b"|")


def wire(corpus: tuple[bytes, ...], sized: tuple[bytes, ...]) -> st.SearchStrategy[bytes]:
    """Random bytes, or a run of valid pieces, limit-sized pieces, strays and random bytes,
    some of them cut short."""
    piece = st.one_of(
        st.sampled_from(corpus),
        st.sampled_from(sized),
        st.sampled_from(STRAYS),
        st.binary(max_size=24),
    )
    truncated = st.tuples(piece, st.integers(0, 64)).map(lambda p: p[0][: -p[1] or None])
    run = st.lists(st.one_of(piece, truncated), max_size=8).map(b"".join)
    return st.one_of(st.binary(max_size=300), run)


def feedings(source: st.DataObject, data: bytes) -> Iterator[tuple[str, Chunks]]:
    yield "whole", [data]
    cuts = source.draw(st.lists(st.integers(0, len(data)), max_size=24))
    yield f"cut at {sorted(set(cuts))}", cut(data, cuts)
    yield "byte by byte", byte_by_byte(data)


def check_same_outcome(
    source: st.DataObject, data: bytes, feed: Callable[[Chunks], Outcome]
) -> None:
    whole: Outcome | None = None
    for how, chunks in feedings(source, data):
        outcome = feed(chunks)
        if whole is None:
            whole = outcome
        assert outcome == whole, f"{how} disagrees with whole for {data!r}"


@PROPERTY
@given(st.data(), wire(AMI_CORPUS, ami_limit_pieces()))
def test_ami_outcome_is_the_same_in_any_chunking(data: st.DataObject, stream: bytes) -> None:
    check_same_outcome(data, stream, lambda c: ami_outcome(c, max_frame=AMI_MAX_FRAME))


@PROPERTY
@given(st.data(), wire(AGI_CORPUS, agi_limit_pieces()))
def test_fastagi_outcome_is_the_same_in_any_chunking(data: st.DataObject, stream: bytes) -> None:
    def feed(chunks: Chunks) -> Outcome:
        return agi_outcome(
            chunks,
            env_limit=AGI_ENV_LIMIT,
            line_limit=AGI_LINE_LIMIT,
            usage_limit=AGI_USAGE_LIMIT,
        )

    check_same_outcome(data, stream, feed)


@PROPERTY
@given(st.data(), wire(ESL_CORPUS, esl_limit_pieces()))
def test_esl_outcome_is_the_same_in_any_chunking(data: st.DataObject, stream: bytes) -> None:
    check_same_outcome(
        data, stream, lambda c: esl_outcome(c, max_header=ESL_MAX_HEADER, max_body=ESL_MAX_BODY)
    )


@pytest.fixture(scope="module")
def queue_log() -> Iterator[QueueLogFeeder]:
    feeder = QueueLogFeeder()
    yield feeder
    feeder.close()


@PROPERTY
@given(data=st.data(), stream=wire(QUEUE_LOG_CORPUS, queue_log_limit_pieces()))
def test_queue_log_outcome_is_the_same_in_any_chunking(
    queue_log: QueueLogFeeder, data: st.DataObject, stream: bytes
) -> None:
    check_same_outcome(data, stream, lambda c: queue_log.outcome(c, max_bytes=QUEUE_LOG_MAX_BYTES))


#: Inputs on which a parser once disagreed with itself (found by the property above).
AMI_FOUND = {
    "banner longer than the frame limit": b"Asterisk Call Manager/" + b"9" * 492 + b"\r\n",
    "line ends before a frame at the limit": b"\r\n\r\n\r\n" + ami_sized(512),
    "carriage returns before a frame near the limit": b"\r" * 10 + ami_sized(510),
    "command output opening an oversize frame": b"response: follows" + ami_sized(510),
    "oversize frame inside an open command output": (
        b"Response: Follows\r\nActionID: 7\r\nline one\r\n\r\n" + ami_sized(520)
    ),
}


@pytest.mark.parametrize("stream", AMI_FOUND.values(), ids=AMI_FOUND.keys())
def test_ami_inputs_that_once_disagreed(stream: bytes) -> None:
    whole = ami_outcome([stream], max_frame=AMI_MAX_FRAME)
    assert ami_outcome(byte_by_byte(stream), max_frame=AMI_MAX_FRAME) == whole
    assert [t[0] for t in whole].count("skipped") == whole[-1][2]
