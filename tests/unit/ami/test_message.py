"""``Message`` lookups: the first value of a name in any case, whether the parser built the
message (names and values split in one pass) or code did (``Message(headers)``), and for
names the one-string index cannot hold (non-ASCII, a "\\n" or a NUL inside)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.ami.protocol import AMIParser


def parsed(frame: bytes) -> Message:
    (msg,) = AMIParser(expect_banner=False).feed(frame + b"\r\n\r\n")
    return msg


def test_first_value_of_a_name_in_any_case() -> None:
    msg = parsed(b"Event: Newexten\r\nUNIQUEID: 1.1\r\nUniqueid: 1.2\r\nVariable: a\r\nvariable: b")
    assert msg.get("uniqueid") == "1.1"
    assert msg["Uniqueid"] == "1.1"
    assert msg.getall("VARIABLE") == ["a", "b"]
    assert msg.event == "Newexten"
    assert msg.action_id == ""
    assert "uniqueID" in msg
    assert msg.headers == [
        ("Event", "Newexten"),
        ("UNIQUEID", "1.1"),
        ("Uniqueid", "1.2"),
        ("Variable", "a"),
        ("variable", "b"),
    ]


def test_a_lookup_never_matches_across_names() -> None:
    msg = parsed(b"Event: X\r\nQueue: therapy\r\nQueueEntry: 1")
    assert msg.get("Queue") == "therapy"
    assert msg.get("Entry") is None
    assert msg.get("Queue\nQueueEntry") is None
    assert msg.get("") is None
    with pytest.raises(KeyError):
        _ = msg["Event\nQueue"]


def test_an_empty_name_and_an_empty_value() -> None:
    msg = parsed(b"Event: X\r\n: nameless\r\nCallerIDName: ")
    assert msg.get("") == "nameless"
    assert msg.get("calleridname") == ""


@pytest.mark.parametrize(
    "headers",
    [
        [("Événement", "a"), ("ÉVÉNEMENT", "b"), ("Event", "c")],
        [("A\nB", "a"), ("a\nb", "b"), ("Event", "c")],
        [("A\x00B", "a"), ("a\x00b", "b"), ("Event", "c")],
        [("ΑΣ", "a"), ("ας", "b"), ("Event", "c")],
    ],
)
def test_names_the_one_string_index_cannot_hold(headers: list[tuple[str, str]]) -> None:
    msg = Message(headers)
    first, second, _ = headers
    assert msg.get(first[0]) == "a"
    assert msg.get(second[0]) == ("a" if first[0].lower() == second[0].lower() else "b")
    assert msg.event == "c"
    assert msg.get("A") is None


def test_non_ascii_names_and_a_nul_in_a_name() -> None:
    """Names the one-string index cannot hold, from the parser: a non-ASCII name (block
    path, names kept joined) and a NUL in a name (the loop's path)."""
    msg = parsed("Событие: a\r\nСОБЫТИЕ: b\r\nEvent: c".encode())
    assert (msg.get("событие"), msg.event, msg.get("A")) == ("a", "c", None)
    assert msg.getall("СОБЫТИЕ") == ["a", "b"]
    assert list(msg) == [("Событие", "a"), ("СОБЫТИЕ", "b"), ("Event", "c")]
    nul = parsed(b"A\x00B: 1\r\nEvent: X")
    assert (nul.get("a\x00b"), nul.get("A"), nul.get("B"), nul.event) == ("1", None, None, "X")
    assert nul.headers == [("A\x00B", "1"), ("Event", "X")]


def test_built_and_parsed_messages_are_equal() -> None:
    msg = parsed(b"Event: Hangup\r\nUniqueid: 1.1")
    assert msg == Message([("Event", "Hangup"), ("Uniqueid", "1.1")])
    assert msg != Message([("Event", "Hangup"), ("Uniqueid", "1.2")])
    assert msg != Message([("Event", "Hangup"), ("UniqueID", "1.1")])
    assert parsed(b"Event: Hangup\r\nUniqueid: 1.1") == msg
    assert len(msg) == 2
    assert list(msg) == [("Event", "Hangup"), ("Uniqueid", "1.1")]


#: Characters that decide how a line splits or lowers: separators, case pairs, a final sigma.
TRICKY = st.sampled_from(["a", "B", ":", " ", ": ", "\r", "Σ", "İ", "ß", "-", "é", "0"])
TEXT = st.lists(TRICKY, max_size=6).map("".join)


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=6), st.sampled_from(["\r\n", "\n"]))
def test_the_one_pass_split_agrees_with_the_line_by_line_parse(
    pairs: list[tuple[str, str]], line_end: str
) -> None:
    """Whatever a frame's lines hold, the one-pass split gives the line-by-line parse's
    message (or hands the frame to it), and lookups find the same first values."""
    text = line_end.join(f"{name}: {value}" for name, value in pairs)
    raw = text.encode()
    lines = text.replace("\r\n", "\n").split("\n")
    parser = AMIParser(expect_banner=False)
    one_pass = parser._parse(raw)
    by_line = parser._parse_per_line(text, raw, lines)
    assert one_pass == by_line
    if one_pass is not None and by_line is not None:
        for name, _ in one_pass.headers:
            assert one_pass.get(name) == by_line.get(name) == dict(
                reversed([(n.lower(), v) for n, v in by_line.headers])
            ).get(name.lower())
