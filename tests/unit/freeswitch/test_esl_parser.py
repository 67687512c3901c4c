"""The ESL parser on the recorded transcripts of a real FreeSWITCH 1.10.12, at every chunking,
and every framing quirk their README and docs/engines/freeswitch.md name, on those bytes.

"Exactly" is checked against a second, deliberately naive decoder written here (whole stream
only, no limits, no error handling): both must agree message by message, and the recorded
reads, random cuts and single bytes must all give the same messages as the whole stream.
"""

from __future__ import annotations

import json
import random
from urllib.parse import unquote

import pytest
from esl_transcripts import NAMES, reads, server_bytes, writes

from clinicall.controller.freeswitch.esl import EslMessage, EslParser
from clinicall.controller.freeswitch.esl.commands import (
    encode_command,
    encode_sendmsg,
    subscription_command,
)

Flat = tuple[object, ...]


def flat(message: EslMessage) -> Flat:
    event = message.event
    return (
        tuple(message.headers),
        message.body,
        None if event is None else (tuple(event.headers), event.body),
    )


def parse(chunks: list[bytes]) -> tuple[list[EslMessage], EslParser]:
    parser = EslParser()
    out: list[EslMessage] = []
    for chunk in chunks:
        out += parser.feed(chunk)
    return out, parser


def naive(stream: bytes) -> list[Flat]:
    """An independent reading of a whole, well-formed stream."""
    out: list[Flat] = []
    while stream:
        head, _, stream = stream.partition(b"\n\n")
        headers = [_pair(line) for line in head.decode().split("\n")]
        fields = dict(headers)
        length = int(fields.get("Content-Length", "0"))
        body, stream = stream[:length], stream[length:]
        event: tuple[object, ...] | None = None
        kind = fields.get("Content-Type")
        if kind == "text/event-plain":
            inner, _, inner_body = body.partition(b"\n\n")
            pairs = [_pair(line) for line in inner.decode().split("\n")]
            decoded = [(k, unquote(v)) for k, v in pairs if k != "Content-Length"]
            event = (tuple(decoded), inner_body.decode())
        elif kind == "text/event-json":
            data = json.loads(body)
            text = data.pop("_body", "")
            data.pop("Content-Length", None)
            event = (tuple(data.items()), text)
        elif kind == "command/reply" and "Event-Name" in fields:
            headers = [(k, unquote(v)) for k, v in headers]
            event = (tuple(h for h in headers if h[0] != "Content-Length"), "")
        out.append((tuple(headers), body, event))
    return out


def _pair(line: str) -> tuple[str, str]:
    name, value = line.split(": ", 1)
    return name, value


def chunkings(name: str) -> dict[str, list[bytes]]:
    data = server_bytes(name)
    rng = random.Random(name)
    ways = {"whole": [data], "recorded reads": reads(name)}
    ways["byte by byte"] = [data[i : i + 1] for i in range(len(data))]
    for seed in range(3):
        cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, 40 + 60 * seed)))
        ways[f"random cuts {seed}"] = [
            data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=False)
        ]
    return ways


@pytest.mark.parametrize("name", NAMES)
def test_every_transcript_decodes_exactly_at_every_chunking(name: str) -> None:
    expected = naive(server_bytes(name))
    assert expected, "the transcript is empty"
    for how, chunks in chunkings(name).items():
        messages, parser = parse(chunks)
        assert [flat(m) for m in messages] == expected, how
        assert parser.malformed == 0, how
        assert parser.buffered == 0, how


def messages_of(name: str) -> list[EslMessage]:
    return parse([server_bytes(name)])[0]


def events_of(name: str) -> list[EslMessage]:
    return [
        m for m in messages_of(name) if m.event is not None and m.content_type != "command/reply"
    ]


# ---- framing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "index"),
    [("inbound_callcenter", 7), ("inbound_callcenter", 15), ("outbound_caller_hangup_linger3", 11),
     ("record_session", 14)],
)  # fmt: skip
def test_a_read_that_ends_between_headers_and_body_completes_with_the_next(
    name: str, index: int
) -> None:
    chunks = reads(name)
    assert chunks[index].endswith(b"\n\n")
    last_block = chunks[index][:-2].rsplit(b"\n\n", 1)[-1]
    assert b"Content-Length: " in last_block  # the read stops right after a header block
    parser = EslParser()
    for chunk in chunks[:index]:
        parser.feed(chunk)
    before = parser.feed(chunks[index])
    assert parser.buffered == 0  # nothing of the body yet: only the parsed headers wait
    after = parser.feed(chunks[index + 1])
    assert after
    assert after[0].body
    assert len(after[0].body) == int(after[0]["Content-Length"])
    assert all(m.content_type for m in before)


def test_one_read_holds_many_messages() -> None:
    biggest = max(reads("inbound_callcenter"), key=len)
    assert len(biggest) > 40_000
    assert len(EslParser().feed(biggest)) > 10


def test_header_order_is_not_fixed() -> None:
    messages = messages_of("inbound_events_plain")
    auth, event = messages[0], messages[5]
    assert auth.headers[0] == ("Content-Type", "auth/request")
    assert [n for n, _ in event.headers] == ["Content-Length", "Content-Type"]
    connect = messages_of("outbound_ivr")[0]
    assert connect.headers[0] == ("Event-Name", "CHANNEL_DATA")
    assert connect.content_type == "command/reply"


# ---- command/reply and api/response ------------------------------------------------------


def test_command_replies_carry_their_result_in_reply_text_and_have_no_body() -> None:
    messages = messages_of("inbound_auth_api")
    replies = [m for m in messages if m.content_type == "command/reply"]
    assert [m.reply_text for m in replies] == [
        "+OK accepted",
        "+OK event listener enabled plain",
        f"+OK Job-UUID: {replies[2]['Job-UUID']}",
        "-ERR command not found",
        "+OK bye",
    ]
    assert all(m.body == b"" for m in replies)


def test_api_responses_keep_their_body_exactly() -> None:
    bodies = [m.body for m in messages_of("inbound_auth_api") if m.content_type == "api/response"]
    assert b"FreeSWITCH (Version 1.10.12-release  64bit) is ready\n" in bodies[0]
    assert len(bodies[0]) == 337
    assert json.loads(bodies[1])["row_count"] == 2  # no trailing newline
    assert bodies[2:] == [b"-ERR No such channel!\n", b"true",
                          b"-ERR no_such_command Command not found!\n"]  # fmt: skip


def test_a_background_job_carries_its_output_as_the_events_own_body() -> None:
    messages = messages_of("inbound_auth_api")
    reply = next(m for m in messages if m.reply_text.startswith("+OK Job-UUID"))
    job = next(m.event for m in messages if m.event and m.event.name == "BACKGROUND_JOB")
    assert job["Job-UUID"] == reply["Job-UUID"]
    assert job["Job-Command"] == "status"
    assert "Content-Length" not in job  # framing, not a header
    assert job.body.startswith("UP 0 years")
    assert job.body.endswith("\n")


def test_originate_failures_come_back_in_background_jobs_out_of_order() -> None:
    messages = messages_of("inbound_originate_fail")
    sent = [m["Job-UUID"] for m in messages if m.reply_text.startswith("+OK Job-UUID")]
    jobs = [m.event for m in messages if m.event and m.event.name == "BACKGROUND_JOB"]
    done = [j["Job-UUID"] for j in jobs if j is not None]
    assert sorted(done) == sorted(sent)
    assert done != sent
    by_arg = {j["Job-Command-Arg"]: j.body for j in jobs if j is not None}
    assert by_arg["loopback/nonexistent-ext/nonexistent-context &park"] == (
        "-ERR NO_ROUTE_DESTINATION\n"
    )
    assert by_arg["sofia/internal/9@127.0.0.1:1 &park"] == "-ERR NORMAL_TEMPORARY_FAILURE\n"
    assert by_arg["user/nobody@default &park"] == "-ERR SUBSCRIBER_ABSENT\n"
    assert by_arg["loopback/nonexistent-ext/default &park"].startswith("+OK ")
    api = [m.body for m in messages if m.content_type == "api/response"]
    assert api[0] == b"-ERR USER_BUSY\n"


# ---- plain and json events -------------------------------------------------------------


def test_plain_event_values_are_url_decoded_and_names_are_not() -> None:
    events = [m.event for m in events_of("inbound_events_plain")]
    create = events[0]
    assert create is not None
    assert create.name == "CHANNEL_CREATE"
    assert create["FreeSWITCH-IPv6"] == "fd00::2"
    assert create["Event-Date-GMT"].startswith("Mon, 23 Nov 2026 11:")
    played = [e for e in events if e and e.get("Application") == "playback"]
    assert played[0]["Application-Data"] == "tone_stream://%(1000,0,440)"
    failed = [m.event for m in events_of("inbound_originate_fail")]
    sdp = [
        e["variable_rtp_local_sdp_str"] for e in failed if e and "variable_rtp_local_sdp_str" in e
    ]
    assert sdp
    assert sdp[0].startswith("v=0\r\n")


def test_dtmf_from_send_dtmf_has_source_unknown() -> None:
    dtmf = [
        m.event for m in events_of("inbound_events_plain") if m.event and m.event.name == "DTMF"
    ]
    assert [e["DTMF-Digit"] for e in dtmf if e] == ["1", "2", "3", "#"]
    assert {e["DTMF-Source"] for e in dtmf if e} == {"UNKNOWN"}


def test_custom_events_put_the_subclass_first_and_it_is_decoded() -> None:
    custom = [m for m in events_of("inbound_callcenter") if m.event and m.event.name == "CUSTOM"]
    first = custom[0].event
    assert first is not None
    assert first.headers[0] == ("Event-Subclass", "callcenter::info")
    assert first.subclass == "callcenter::info"
    actions = [m.event["CC-Action"] for m in custom if m.event]
    assert actions[:3] == ["agent-add", "agent-contact-change", "agent-status-change"]
    assert actions[-3:] == ["bridge-agent-end", "member-queue-end", "agent-state-change"]


def test_json_events_are_the_same_events_with_values_as_sent() -> None:
    plain = [m.event for m in events_of("inbound_events_plain")]
    as_json = [m.event for m in events_of("inbound_events_json")]
    assert [e.name for e in as_json if e] == [e.name for e in plain if e]
    create = as_json[0]
    assert create is not None
    assert create["FreeSWITCH-IPv6"] == "fd00::2"
    job = next(e for e in as_json if e and e.name == "BACKGROUND_JOB")
    assert job.body.startswith("+OK ")
    assert job.body.endswith("\n")
    assert "Content-Length" not in job
    assert "_body" not in job


def test_record_events_carry_the_file_and_the_completion_cause() -> None:
    events = [m.event for m in events_of("record_session")]
    start = next(e for e in events if e and e.name == "RECORD_START")
    stop = next(e for e in events if e and e.name == "RECORD_STOP")
    assert start["Record-File-Path"] == "/var/fs/rec/esltest_record_session.wav"
    assert stop["Record-Completion-Cause"] == "success-maxtime"
    assert stop["variable_record_ms"] == "2100"


# ---- outbound ----------------------------------------------------------------------------


def test_the_connect_reply_is_the_channel_data_without_content_length() -> None:
    connect = messages_of("outbound_ivr")[0]
    assert "Content-Length" not in connect
    assert connect.body == b""
    assert connect.reply_text == "+OK"  # sent URL-encoded: %2BOK%0A
    assert connect["Socket-Mode"] == "async"
    assert connect["Control"] == "full"
    channel = connect.event
    assert channel is not None
    assert channel.name == "CHANNEL_DATA"
    assert channel["Channel-Caller-ID-Number"] == "380441234567"
    assert channel.unique_id == connect["Unique-ID"]


def test_an_execute_completes_with_the_event_uuid_it_was_sent_with() -> None:
    sent = [w for w in writes("outbound_ivr") if w.startswith(b"sendmsg")]
    uuids = [w.split(b"Event-UUID: ")[1].split(b"\n")[0].decode() for w in sent]
    completes = {
        m.event["Application-UUID"]: m.event
        for m in events_of("outbound_ivr")
        if m.event and m.event.name == "CHANNEL_EXECUTE_COMPLETE" and "Application-UUID" in m.event
    }
    assert set(uuids) <= set(completes)
    digits = completes[uuids[2]]
    assert digits["Application"] == "play_and_get_digits"
    assert digits["variable_choice"] == "2"
    assert digits["variable_read_result"] == "success"
    assert digits["Application-Response"] == "_none_"


def test_a_caller_hang_up_mid_prompt_completes_the_prompt_as_failed() -> None:
    events = [m.event for m in events_of("outbound_caller_hangup") if m.event]
    names = [e.name for e in events]
    hangup = names.index("CHANNEL_HANGUP")
    complete = events[hangup + 1]
    assert complete.name == "CHANNEL_EXECUTE_COMPLETE"
    assert complete["Application"] == "play_and_get_digits"
    assert complete["variable_read_result"] == "failure"
    assert "variable_choice" not in complete
    assert events[hangup]["Hangup-Cause"] == "NORMAL_CLEARING"


@pytest.mark.parametrize(
    ("name", "linger"), [("outbound_ivr", "-1"), ("outbound_caller_hangup_linger3", "3")]
)
def test_the_linger_notice_then_the_final_disconnect(name: str, linger: str) -> None:
    notices = [m for m in messages_of(name) if m.content_type == "text/disconnect-notice"]
    first, last = notices
    assert first["Content-Disposition"] == "linger"
    assert first["Linger-Time"] == linger
    assert first.body == b""
    assert first["Content-Length"] == "0"
    assert last["Content-Disposition"] == "disconnect"
    assert last["Controlled-Session-UUID"] == first["Controlled-Session-UUID"]
    assert last.body.startswith(b"Disconnected, goodbye.")
    assert messages_of(name)[-1] is not None


def test_a_failed_auth_is_a_reply_then_a_disconnect_notice_in_one_read() -> None:
    (request, rest) = reads("inbound_auth_fail")
    assert EslParser().feed(request)[0].content_type == "auth/request"
    reply, notice = EslParser().feed(rest)
    assert reply.reply_text == "-ERR invalid"
    assert notice.content_type == "text/disconnect-notice"
    assert len(notice.body) == 67


def test_a_rude_rejection_is_framed_with_its_body() -> None:
    data = b"Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\n"
    (message,) = EslParser().feed(data)
    assert message.content_type == "text/rude-rejection"
    assert message.text == "Access Denied, go away.\n"


# ---- what the client writes ------------------------------------------------------------


def test_the_encoders_write_what_the_recording_clients_wrote() -> None:
    written = writes("inbound_events_plain")
    assert encode_command("auth ClueCon") == written[0]
    names = ["CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE",
             "DTMF", "CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE", "BACKGROUND_JOB"]  # fmt: skip
    command = subscription_command(names, ["callcenter::info"])
    assert encode_command(command) == written[1]
    assert (
        encode_command(subscription_command(names, ["callcenter::info"], format="json"))
        == (writes("inbound_events_json")[1])
    )
    answer = writes("outbound_ivr")[3]
    uuid = answer.split(b"Event-UUID: ")[1].split(b"\n")[0].decode()
    assert encode_sendmsg("answer", event_uuid=uuid) == answer


def test_custom_is_always_last_in_a_subscription() -> None:
    assert subscription_command(["BACKGROUND_JOB"], ["callcenter::info"]) == (
        "event plain BACKGROUND_JOB CUSTOM callcenter::info"
    )
    with pytest.raises(ValueError, match="CUSTOM must come last"):
        subscription_command(["CUSTOM", "BACKGROUND_JOB"])


@pytest.mark.parametrize("bad", ["api status\n\napi shutdown", "auth x\r"])
def test_a_command_with_a_line_end_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="CR/LF"):
        encode_command(bad)
    with pytest.raises(ValueError, match="CR/LF"):
        encode_sendmsg("playback", bad, event_uuid="u")
