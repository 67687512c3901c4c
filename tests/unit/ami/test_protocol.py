"""AMIParser and encode_action on raw bytes: every split position, CRLF and LF, garbage."""

from __future__ import annotations

import itertools
import logging

import pytest

from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.ami.protocol import AMIParser, encode_action

BANNER = b"Asterisk Call Manager/9.0.0\r\n"
CYRILLIC_EVENT = (
    "Event: QueueCallerJoin\r\n"
    "Privilege: agent,all\r\n"
    "Channel: PJSIP/trunk-00000001\r\n"
    "CallerIDNum: 380501234567\r\n"
    "CallerIDName: Олександра Петренко\r\n"
    "Uniqueid: 1700000000.1\r\n"
    "Queue: therapy\r\n"
    "Position: 1\r\n"
    "\r\n"
).encode()
EMPTY_LAST = (
    b"Event: VarSet\r\nUniqueid: 1700000000.1\r\nVariable: CLINICALL_LANG\r\nValue: \r\n\r\n"
)
EMPTY_NO_SPACE = b"Event: VarSet\r\nVariable: X\r\nValue:\r\n\r\n"
REPEATED = b"Event: Newexten\r\nChanVariable: A=1\r\nChanVariable: B=2\r\n\r\n"
STREAM = BANNER + CYRILLIC_EVENT + EMPTY_LAST + EMPTY_NO_SPACE + REPEATED


def feed_split(data: bytes, *cuts: int) -> tuple[AMIParser, list[Message]]:
    parser = AMIParser()
    out: list[Message] = []
    bounds = [0, *cuts, len(data)]
    for a, b in itertools.pairwise(bounds):
        out.extend(parser.feed(data[a:b]))
    return parser, out


def check_stream(msgs: list[Message]) -> None:
    assert [m.event for m in msgs] == ["QueueCallerJoin", "VarSet", "VarSet", "Newexten"]
    assert msgs[0].get("calleridname") == "Олександра Петренко"
    assert msgs[0]["Position"] == "1"
    assert msgs[1].get("Value") == ""
    assert msgs[1].headers[-1] == ("Value", "")
    assert msgs[2].get("value") == ""
    assert msgs[3].getall("ChanVariable") == ["A=1", "B=2"]
    assert msgs[3].get("chanvariable") == "A=1"


def test_whole_stream_with_banner() -> None:
    parser, msgs = feed_split(STREAM)
    check_stream(msgs)
    assert parser.banner == "Asterisk Call Manager/9.0.0"
    assert parser.version == "9.0.0"


@pytest.mark.parametrize("lf_only", [False, True])
def test_every_single_split_position(lf_only: bool) -> None:
    data = STREAM.replace(b"\r\n", b"\n") if lf_only else STREAM
    for cut in range(len(data) + 1):
        parser, msgs = feed_split(data, cut)
        check_stream(msgs)
        assert parser.malformed == 0, cut
        assert parser.version == "9.0.0", cut


def test_every_pair_of_split_positions_in_cyrillic_frame() -> None:
    data = CYRILLIC_EVENT
    for a in range(len(data) + 1):
        for b in range(a, len(data) + 1):
            _, msgs = feed_split(data, a, b)
            assert len(msgs) == 1, (a, b)
            assert msgs[0].get("CallerIDName") == "Олександра Петренко", (a, b)


def test_byte_by_byte() -> None:
    parser = AMIParser()
    msgs = [m for i in range(len(STREAM)) for m in parser.feed(STREAM[i : i + 1])]
    check_stream(msgs)


def test_mixed_line_endings_and_blank_line_runs() -> None:
    data = b"Event: A\r\nX: 1\n\n\r\n\r\nEvent: B\nY: 2\r\n\nEvent: C\n\r\n"
    _, msgs = feed_split(data)
    assert [(m.event, m.headers[1:]) for m in msgs] == [
        ("A", [("X", "1")]),
        ("B", [("Y", "2")]),
        ("C", []),
    ]


def test_invalid_utf8_is_replaced_not_dropped() -> None:
    _, msgs = feed_split(b"Event: Newchannel\r\nCallerIDName: ab\xff\xfecd\r\n\r\n")
    assert msgs[0].get("CallerIDName") == "ab\ufffd\ufffdcd"


def test_many_frames_in_one_chunk() -> None:
    frame = b"Event: Ping\r\nN: %d\r\n\r\n"
    data = b"".join(frame % i for i in range(5000))
    _, msgs = feed_split(data)
    assert [m["N"] for m in msgs] == [str(i) for i in range(5000)]


def test_garbage_line_skips_only_that_frame(caplog: pytest.LogCaptureFixture) -> None:
    data = (
        b"Event: A\r\n\r\n"
        b"Event: Hangup\r\nCallerIDNum: 380501234567\r\nthis line has no colon\r\n\r\n"
        b"Event: B\r\n\r\n"
    )
    for cut in range(len(data) + 1):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            parser, msgs = feed_split(data, cut)
        assert [m.event for m in msgs] == ["A", "B"]
        assert parser.malformed == 1
        assert len(caplog.records) == 1
        assert "Hangup" in caplog.text
        assert "380501234567" not in caplog.text
        assert "no colon" not in caplog.text


def test_oversize_frame_skipped_and_parser_recovers() -> None:
    big = b"Event: Huge\r\n" + b"".join(b"Variable: %06d=xxxxxxxxxx\r\n" % i for i in range(4000))
    data = b"Event: A\r\n\r\n" + big + b"\r\nEvent: B\r\n\r\n"
    for chunk in (1 << 20, 4096, 1000, 7):
        parser = AMIParser(max_frame=64 * 1024)
        msgs = [m for i in range(0, len(data), chunk) for m in parser.feed(data[i : i + chunk])]
        assert [m.event for m in msgs] == ["A", "B"], chunk
        assert parser.malformed == 1, chunk


def test_response_follows_legacy_command_output() -> None:
    data = (
        b"Response: Follows\r\nPrivilege: Command\r\nActionID: 7\r\n"
        b"Name/username    Host\r\n\r\nop1/op1   127.0.0.1\r\n--END COMMAND--\r\n\r\n"
        b"Event: After\r\n\r\n"
    )
    for cut in range(len(data) + 1):
        _, msgs = feed_split(data, cut)
        assert [m.response or m.event for m in msgs] == ["Follows", "After"], cut
        assert msgs[0].action_id == "7"
        assert msgs[0].body == ("Name/username    Host", "", "op1/op1   127.0.0.1")


def test_stream_without_banner() -> None:
    parser, msgs = feed_split(STREAM[len(BANNER) :], 3)
    check_stream(msgs)
    assert parser.banner is None


def test_encode_action_wire_format() -> None:
    data = encode_action(
        "Originate", {"Channel": "Local/s@x/n", "Variable": ["A=1", "B=Ім'я"]}, "9"
    )
    assert (
        data
        == (
            "Action: Originate\r\nActionID: 9\r\nChannel: Local/s@x/n\r\n"
            "Variable: A=1\r\nVariable: B=Ім'я\r\n\r\n"
        ).encode()
    )
    _, msgs = feed_split(data)
    assert msgs[0].getall("variable") == ["A=1", "B=Ім'я"]


@pytest.mark.parametrize(
    ("fields", "action_id"),
    [
        ({"CallerID": "x\r\nAction: Originate"}, "1"),
        ({"CallerID": "x\nAction: Originate"}, "1"),
        ({"Variable": ["ok", "bad\r"]}, "1"),
        ({"Bad\r\nHeader": "v"}, "1"),
        ({"Bad: Header": "v"}, "1"),
        ({"ActionID": "other"}, "1"),
        ({}, "1\r\nAction: Hangup"),
    ],
)
def test_encode_action_refuses_header_injection(
    fields: dict[str, str | list[str]], action_id: str
) -> None:
    with pytest.raises(ValueError, match="AMI"):
        encode_action("Originate", fields, action_id)


def test_injection_error_does_not_echo_value() -> None:
    with pytest.raises(ValueError, match="header injection refused") as info:
        encode_action("Originate", {"CallerID": "380501234567\r\n"}, "1")
    assert "380501234567" not in str(info.value)


def test_the_frame_limit_gives_the_same_verdict_whatever_the_chunking() -> None:
    """A frame at, just under and just over the limit: accepted or refused alike whole, split
    at every position, and byte by byte."""
    limit = 64
    for size in range(limit - 4, limit + 5):
        header = "Event: X\r\nData: "
        frame = (header + "y" * (size - len(header))).encode()
        assert len(frame) == size
        stream = frame + b"\r\n\r\n" + b"Event: After\r\n\r\n"
        whole = [m.headers for m in AMIParser(max_frame=limit, expect_banner=False).feed(stream)]
        assert [h[0] for h in whole][-1] == ("Event", "After")
        assert (len(whole) == 2) == (size <= limit), size
        for cut in range(1, len(stream)):
            parser = AMIParser(max_frame=limit, expect_banner=False)
            split = [m.headers for m in [*parser.feed(stream[:cut]), *parser.feed(stream[cut:])]]
            assert split == whole, (size, cut)
        parser = AMIParser(max_frame=limit, expect_banner=False)
        by_byte = [m.headers for i in range(len(stream)) for m in parser.feed(stream[i : i + 1])]
        assert by_byte == whole, size
