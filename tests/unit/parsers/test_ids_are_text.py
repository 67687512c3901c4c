"""Ids that are not UTF-8 text never reach a fact: the parsers refuse them, tested on bytes.

A replaced id (``\\ufffd``) once named a call that never existed and never ended.  Free text
(a caller's name from a trunk, a pause reason) keeps its replacement characters: refusing
the whole frame would lose a real caller's hang-up.
"""

from __future__ import annotations

import re

import pytest

from clinicall.agi_scripts.protocol import AgiProtocolError, EnvironmentParser
from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.ami.protocol import AMIParser
from clinicall.controller.asterisk.ami_facts import AmiFactDecoder
from clinicall.controller.asterisk.queue_log import QueueLogError, parse_chunk, parse_line

HANGUP = (
    b"Event: Hangup\r\nPrivilege: call,all\r\nChannel: PJSIP/trunk-00000007\r\n"
    b"CallerIDName: Olena\r\nUniqueid: 1732350000.41\r\nLinkedid: 1732350000.41\r\n"
    b"Cause: 16\r\nCause-txt: Normal Clearing\r\n\r\n"
)


def parse(data: bytes) -> tuple[AMIParser, list[Message]]:
    parser = AMIParser(expect_banner=False)
    return parser, list(parser.feed(data))


@pytest.mark.parametrize(
    ("header", "bad"),
    [
        (b"Uniqueid: 1732350000.41", b"Uniqueid: 17323\xff0000.41"),
        (b"Linkedid: 1732350000.41", b"Linkedid: \xc3"),
        (b"Channel: PJSIP/trunk-00000007", b"Channel: PJSIP/\xfe\xfe"),
        (b"Privilege: call,all", b"DestLinkedid: \xed\xa0\x80"),  # a UTF-16 surrogate
        (b"Privilege: call,all", b"queue: th\xe9rapy"),
    ],
)
def test_an_id_header_that_is_not_utf8_makes_the_frame_malformed(
    header: bytes, bad: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    frame = HANGUP.replace(header, bad)
    parser, messages = parse(frame + HANGUP)
    assert len(messages) == 1  # the next, valid frame still comes through
    assert parser.malformed == 1
    name = bad.partition(b":")[0].decode()
    assert f"header {name} is not UTF-8 text" in caplog.text
    assert "\ufffd" not in caplog.text  # the value itself is not logged
    assert "\\x" not in caplog.text


def test_free_text_that_is_not_utf8_is_replaced_and_the_frame_kept() -> None:
    frame = HANGUP.replace(b"CallerIDName: Olena", b"CallerIDName: Ol\xe9na")
    parser, (message,) = parse(frame)
    assert parser.malformed == 0
    assert message["CallerIDName"] == "Ol\ufffdna"
    assert message["Uniqueid"] == "1732350000.41"


def test_a_junk_frame_with_invalid_ids_gives_no_fact() -> None:
    junk = b"Event: Newchannel\r\nUniqueid: \xff\xfe\r\nLinkedid: \xff\r\nChannel: x\r\n\r\n"
    parser = AMIParser(expect_banner=False)
    decoder = AmiFactDecoder()
    facts = [fact for msg in parser.feed(junk + HANGUP) for fact in decoder.decode(msg)]
    assert parser.malformed == 1
    ids = {getattr(fact, "call_id", "") for fact in facts}
    assert ids == {"1732350000.41"}


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"1700000010|1700000005.\xff|therapy|NONE|ABANDON|1|1|3", "field 2 (uniqueid)"),
        (b"1700000010|u|ther\xe1py|NONE|ABANDON|1|1|3", "field 3 (queue)"),
        (b"1700000010|u|q|PJSIP/op\xff|CONNECT|20|1.2|3", "field 4 (agent)"),
        (b"1700000010|u|q|NONE|ABAND\xd0N|1|1|3", "field 5 (event)"),
        (b"1700000010|u|q|op1|CONNECT|20|17000000\xff.15|3", "field 7 (bridged_uniqueid)"),
        (b"1700000009|u|q|NONE|CLINICALL|\xff|queued|uk|main|1|3805|0800", "field 6 (data 1)"),
        (b"1700000010|u|q|NONE|ENTERQUEUE||38044|\xff", "field 8 (position)"),
    ],
)
def test_a_queue_log_id_that_is_not_utf8_makes_the_line_malformed(
    line: bytes, reason: str
) -> None:
    with pytest.raises(QueueLogError, match=re.escape(f"{reason} is not UTF-8 text")):
        parse_line(line, line_no=3)
    parsed = parse_chunk(line + b"\n1700000011|u|q|NONE|ABANDON|1|1|3\n")
    assert [e.line_no for e in parsed.errors] == [1]
    assert [r.event for r in parsed.records] == ["ABANDON"]


@pytest.mark.parametrize(
    "line",
    [
        b"1700000010|u|q|NONE|PAUSE|\xd0\xbf\xd0",
        b"1700000010|u|q|NONE|ENTERQUEUE||+38044\xff|2",
        b"1700000010|u|q|NONE|ENTERQUEUE|\xff|a|\xfeb|4",
    ],
)
def test_queue_log_free_text_that_is_not_utf8_is_replaced(line: bytes) -> None:
    record = parse_line(line)
    assert "\ufffd" in "|".join(record.data)
    assert "\ufffd" not in record.uniqueid + record.queue + record.agent + record.event


ENVIRONMENT = (
    b"agi_network: yes\nagi_request: agi://127.0.0.1:4573/ivr\n"
    b"agi_channel: PJSIP/trunk-00000001\nagi_uniqueid: 1712345678.1\n"
    b"agi_calleridname: Olena\nagi_arg_1: uk\n\n"
)


@pytest.mark.parametrize(
    ("good", "bad"),
    [
        (b"agi_uniqueid: 1712345678.1", b"agi_uniqueid: 1712345678.\xff"),
        (b"agi_channel: PJSIP/trunk-00000001", b"agi_channel: PJSIP/\xc3"),
        (b"agi_network: yes", b"agi_linkedid: \xed\xa0\x80"),
    ],
)
def test_a_fastagi_id_that_is_not_utf8_ends_the_session(good: bytes, bad: bytes) -> None:
    name = bad.partition(b":")[0].decode()
    with pytest.raises(AgiProtocolError, match=f"^{name} is not UTF-8 text$"):
        EnvironmentParser().feed(ENVIRONMENT.replace(good, bad))


def test_a_fastagi_caller_name_that_is_not_utf8_is_replaced() -> None:
    env = EnvironmentParser().feed(ENVIRONMENT.replace(b"Olena", b"Ol\xe9na"))
    assert env is not None
    assert (env.calleridname, env.uniqueid) == ("Ol\ufffdna", "1712345678.1")
    valid = EnvironmentParser().feed(ENVIRONMENT.replace(b"1712345678.1", "1712\ufffd".encode()))
    assert valid is not None  # a U+FFFD sent as valid UTF-8 is text, not a decoding error
    assert valid.uniqueid == "1712\ufffd"


def test_only_a_plain_header_name_is_an_id_so_a_log_line_never_quotes_another(
    caplog: pytest.LogCaptureFixture,
) -> None:
    forged = HANGUP.replace(b"CallerIDName: Olena", b"X\rforged line Uniqueid: \xff")
    parser, (message,) = parse(forged)
    assert parser.malformed == 0  # not an id header: free text, replaced
    assert message["Uniqueid"] == "1732350000.41"
    assert "forged" not in caplog.text
