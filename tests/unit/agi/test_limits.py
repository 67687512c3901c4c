"""The FastAGI parsers' limits on bytes: the same answer for the same bytes in any chunking.

Each limit is tested at, below and above its bound, split at every position (small limits
keep that cheap), plus the floods a hostile peer sends and a seeded mutation run.
"""

from __future__ import annotations

import random

import pytest

from clinicall.agi_scripts.protocol import (
    HANGUP,
    MAX_ENVIRONMENT_BYTES,
    AgiCommandError,
    AgiEnvironment,
    AgiProtocolError,
    AgiReply,
    EnvironmentParser,
    HangupSignal,
    ReplyParser,
    ReplyStreamError,
)
from clinicall.logbudget import excerpt

Outcome = tuple[object, str | None]


def env_outcome(data: bytes, cuts: list[int], limit: int) -> Outcome:
    """Feed ``data`` cut at ``cuts``; the environment (or None) and the error, if any."""
    parser = EnvironmentParser(limit)
    pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    try:
        for piece in pieces:
            env = parser.feed(piece)
            if env is not None:
                return env, None
    except AgiProtocolError as exc:
        return None, str(exc)
    return None, None


def reply_outcome(
    data: bytes, cuts: list[int], line_limit: int, usage_limit: int
) -> tuple[list[AgiReply | HangupSignal], str | None]:
    """Feed ``data`` cut at ``cuts``; every item delivered and the error, if any."""
    parser = ReplyParser(line_limit, usage_limit)
    items: list[AgiReply | HangupSignal] = []
    pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    try:
        for piece in pieces:
            items += parser.feed(piece)
    except ReplyStreamError as exc:
        return [*items, *exc.parsed], str(exc)
    return items, None


def env_block(size: int) -> bytes:
    """An environment block of exactly ``size`` bytes, its blank line included."""
    head = b"agi_request: a\nagi_x: "
    return head + b"v" * (size - len(head) - 2) + b"\n\n"


@pytest.mark.parametrize("size", [63, 64, 65, 80])
def test_environment_limit_same_at_every_split(size: int) -> None:
    data = env_block(size) + b"200 result=1\n"
    whole = env_outcome(data, [], 64)
    assert (whole[1] is None) == (size <= 64), whole
    for at in range(len(data) + 1):
        assert env_outcome(data, [at], 64) == whole, at
    assert env_outcome(data, list(range(1, len(data))), 64) == whole


def test_environment_of_20_kb_refused_in_one_read_and_in_small_reads() -> None:
    data = env_block(20_000)
    one_read = env_outcome(data, [], MAX_ENVIRONMENT_BYTES)
    small_reads = env_outcome(data, list(range(1500, len(data), 1500)), MAX_ENVIRONMENT_BYTES)
    assert (
        one_read == small_reads == (None, f"environment larger than {MAX_ENVIRONMENT_BYTES} bytes")
    )


def test_environment_endless_line_cut_at_the_limit() -> None:
    parser = EnvironmentParser(64)
    with pytest.raises(AgiProtocolError, match="larger"):
        parser.feed(b"agi_x: " + b"y" * 100_000)


def test_environment_bad_line_message_is_bounded_and_escaped() -> None:
    with pytest.raises(AgiProtocolError) as info:
        EnvironmentParser(1 << 20).feed(b"forged\rERROR root: pwned" + b"z" * 5000 + b"\n")
    message = str(info.value)
    assert "\r" not in message
    assert "\n" not in message
    assert len(message) < 200


@pytest.mark.parametrize("length", [31, 32, 33, 40])
def test_reply_line_limit_same_at_every_split(length: int) -> None:
    line = b"200 result=1 (" + b"d" * (length - 15) + b")"
    assert len(line) == length
    data = b"HANGUP\n" + line + b"\n200 result=0\n"
    whole = reply_outcome(data, [], 32, 1000)
    assert (whole[1] is None) == (length <= 32), whole
    assert whole[0][0] == HANGUP  # the item before the long line survives either way
    for at in range(len(data) + 1):
        assert reply_outcome(data, [at], 32, 1000) == whole, at


def usage_message(size: int) -> bytes:
    """A 520 usage message of exactly ``size`` bytes, newlines included."""
    head, tail = b"520-Invalid command syntax.\n", b"520 End of proper usage.\n"
    body = b" Usage: x\n" * ((size - len(head) - len(tail)) // 10)
    body += b"u" * (size - len(head) - len(tail) - len(body) - 1) + b"\n"
    data = head + body + tail
    assert len(data) == size
    return data


@pytest.mark.parametrize("size", [118, 119, 120, 121, 200])
def test_usage_limit_same_at_every_split(size: int) -> None:
    data = b"200 result=0\n" + usage_message(size) + b"200 result=1\n"
    whole = reply_outcome(data, [], 64, 120)
    assert (whole[1] is None) == (size <= 120), whole
    assert whole[0][0] == AgiReply(200, "0", None, {}, "result=0")
    for at in range(len(data) + 1):
        assert reply_outcome(data, [at], 64, 120) == whole, at
    assert reply_outcome(data, list(range(1, len(data))), 64, 120) == whole


def test_endless_usage_message_is_cut_at_its_bound() -> None:
    parser = ReplyParser()
    parser.feed(b"520-x\n")
    chunk = b" Usage: never ends\n" * 1000
    fed, error = 6, None
    while error is None and fed < 100_000_000:
        try:
            parser.feed(chunk)
        except ReplyStreamError as exc:
            error = str(exc)
        fed += len(chunk)
    assert error == "520 usage message longer than 65536 bytes"
    assert fed <= 65536 + len(chunk)
    assert not parser.pending  # nothing of the flood is held


def test_replies_before_a_bad_line_in_the_same_read_are_kept() -> None:
    with pytest.raises(ReplyStreamError) as info:
        ReplyParser().feed(b"200 result=1\nHANGUP\ngarbage\n200 result=0\n")
    assert info.value.parsed == [AgiReply(200, "1", None, {}, "result=1"), HANGUP]


def test_command_error_message_quotes_a_bounded_excerpt() -> None:
    error = AgiCommandError(520, "x\n" * 1_000_000)
    assert len(str(error)) < 200
    assert "\n" not in str(error)
    assert excerpt("ab\ncd", 3) == "'ab\\n'... (5 in all)"


def test_mutated_inputs_raise_only_protocol_errors() -> None:
    """Seeded mutations of real streams: every outcome is a result or AgiProtocolError."""
    rng = random.Random(9)
    env = env_block(200)
    stream = b"200 result=0 endpos=8000\nHANGUP\n" + usage_message(150) + b"511 dead\n"
    for _ in range(3000):
        for seed, parse in ((env, "env"), (stream, "reply")):
            data = bytearray(seed)
            for _ in range(rng.randint(1, 8)):
                at = rng.randrange(len(data))
                op = rng.randrange(3)
                if op == 0:
                    data[at] = rng.randrange(256)
                elif op == 1:
                    del data[at]
                else:
                    data[at:at] = bytes([rng.choice(b"\n\r-: 520")]) * rng.randint(1, 300)
            cuts = sorted(rng.sample(range(len(data) + 1), 2))
            if parse == "env":
                result = env_outcome(bytes(data), cuts, 256)
                assert result == env_outcome(bytes(data), [], 256)
                assert result[0] is None or isinstance(result[0], AgiEnvironment)
            else:
                result = reply_outcome(bytes(data), cuts, 128, 256)
                assert result == reply_outcome(bytes(data), [], 128, 256)
