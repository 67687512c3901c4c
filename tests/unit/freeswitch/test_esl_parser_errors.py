"""Malformed Event Socket input: each bad message is counted, logged without its content and
skipped, the next one still comes through, and every buffer stays bounded whatever the cuts."""

from __future__ import annotations

import pytest

from clinicall.controller.freeswitch.esl import EslMessage, EslParser

GOOD = b"Content-Type: api/response\nContent-Length: 4\n\n+OK\n"
CALLER = "380441234567"


def plain_event(body: bytes) -> bytes:
    return b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(body) + body


HANGUP = (
    b"Event-Name: CHANNEL_HANGUP\nUnique-ID: 1b2c\nCaller-Caller-ID-Number: 380441234567\n"
    b"Caller-Caller-ID-Name: Olena%20K\n\n"
)


def feed_all(data: bytes, *, byte_by_byte: bool = False, **limits: int) -> tuple[
    list[EslMessage], EslParser
]:  # fmt: skip
    parser = EslParser(**limits)
    chunks = [data[i : i + 1] for i in range(len(data))] if byte_by_byte else [data]
    out: list[EslMessage] = []
    for chunk in chunks:
        out += parser.feed(chunk)
        assert parser.buffered <= max(parser.max_header, parser.max_body) + 1
    return out, parser


BAD = {
    "a line that is not a header": b"Content-Type: api/response\nnonsense\n\n",
    "a header with no name": b"Content-Type: api/response\n: value\n\n",
    "a Content-Length that is not a number": b"Content-Type: api/response\nContent-Length: 4x\n\n",
    "a negative Content-Length": b"Content-Type: api/response\nContent-Length: -4\n\n",
    "a plain event with no blank line": plain_event(b"Event-Name: X\n"),
    "a plain event body that is not its inner length": plain_event(
        b"Event-Name: BACKGROUND_JOB\nContent-Length: 9\n\n+OK\n"
    ),
    "a plain event with bytes after its headers": plain_event(b"Event-Name: X\n\ntrailing"),
    "a plain event line that is not a header": plain_event(b"Event-Name: X\nbroken\n\n"),
    "a JSON event that is not JSON": b'Content-Length: 5\nContent-Type: text/event-json\n\n{"a":',
    "a JSON event that is a list": b"Content-Length: 2\nContent-Type: text/event-json\n\n[]",
    "a JSON event with a number value": (
        b'Content-Length: 8\nContent-Type: text/event-json\n\n{"a": 1}'
    ),
    "a plain event whose uuid is not UTF-8": plain_event(HANGUP.replace(b"1b2c", b"1b%FF")),
    "a raw id that is not UTF-8": plain_event(HANGUP.replace(b"1b2c", b"1b\xff")),
    "an outer id that is not UTF-8": b"Content-Type: command/reply\nJob-UUID: \xc3\n\n",
    "a JSON event whose uuid is a lone surrogate": (
        b'Content-Length: 28\nContent-Type: text/event-json\n\n{"Unique-ID": "\\ud800xxxxx"}'
    ),
}


@pytest.mark.parametrize("data", BAD.values(), ids=BAD.keys())
@pytest.mark.parametrize("byte_by_byte", [False, True], ids=["whole", "bytes"])
def test_a_malformed_message_is_skipped_and_the_next_one_parsed(
    data: bytes, byte_by_byte: bool, caplog: pytest.LogCaptureFixture
) -> None:
    messages, parser = feed_all(GOOD + data + GOOD, byte_by_byte=byte_by_byte)
    assert [m.body for m in messages] == [b"+OK\n", b"+OK\n"]
    assert parser.malformed == 1
    assert "skipped malformed message" in caplog.text
    assert CALLER not in caplog.text
    assert "Olena" not in caplog.text


def test_free_text_that_is_not_utf8_is_replaced_and_the_event_kept() -> None:
    body = HANGUP.replace(b"Olena%20K", b"Ol%E9na")
    (message,), parser = feed_all(plain_event(body))
    assert parser.malformed == 0
    assert message.event is not None
    assert message.event["Caller-Caller-ID-Name"] == "Ol\ufffdna"
    assert message.event.unique_id == "1b2c"


def test_a_utf8_character_split_across_reads_is_whole() -> None:
    body = HANGUP.replace(b"Olena%20K", "Олена".encode())
    messages, _ = feed_all(plain_event(body), byte_by_byte=True)
    assert messages[0].event is not None
    assert messages[0].event["Caller-Caller-ID-Name"] == "Олена"


@pytest.mark.parametrize("byte_by_byte", [False, True], ids=["whole", "bytes"])
@pytest.mark.parametrize("extra", [-1, 0, 1, 2, 50])
def test_a_header_block_over_the_limit_is_skipped_however_it_arrives(
    byte_by_byte: bool, extra: int
) -> None:
    limit = 100
    head = b"Content-Type: x\nPad: "
    block = head + b"p" * (limit + extra - len(head))
    messages, parser = feed_all(
        GOOD + block + b"\n\n" + GOOD, byte_by_byte=byte_by_byte, max_header=limit
    )
    over = extra > 0
    assert parser.malformed == int(over)
    assert len(messages) == (2 if over else 3)


@pytest.mark.parametrize("byte_by_byte", [False, True], ids=["whole", "bytes"])
def test_a_body_over_the_limit_is_counted_down_not_buffered(byte_by_byte: bool) -> None:
    big = b"Content-Type: api/response\nContent-Length: 5000\n\n" + b"\n\n" * 2500
    messages, parser = feed_all(GOOD + big + GOOD, byte_by_byte=byte_by_byte, max_body=1000)
    assert [m.body for m in messages] == [b"+OK\n", b"+OK\n"]
    assert parser.malformed == 1
    assert parser.buffered == 0


def test_line_ends_between_messages_are_ignored() -> None:
    messages, parser = feed_all(b"\n\n\n" + GOOD + b"\n" + GOOD)
    assert len(messages) == 2
    assert parser.malformed == 0


def test_an_unknown_content_type_is_framed_and_passed_on() -> None:
    data = b"Content-Type: log/data\nContent-Length: 3\nLog-Level: 7\n\nabc"
    (message,), _ = feed_all(data)
    assert message.content_type == "log/data"
    assert message.body == b"abc"
    assert message.event is None
