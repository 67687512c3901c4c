"""The recorded events of a real FreeSWITCH 1.10.12 → the neutral facts the account keeps:
an answered mod_callcenter call, an abandoned one, a recording, a plain call (plain and JSON
events alike), and what a malformed or unknown event gives (nothing, counted)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeVar

import pytest
from esl_transcripts import server_bytes

from clinicall.controller.facts import (
    CallDataSet,
    ChannelClosed,
    ChannelCut,
    ChannelOfCall,
    ChannelOpened,
    EngineLink,
    Fact,
    HungUpBy,
    LeaveReason,
    MemberPaused,
    MemberRung,
    MemberSeen,
    MemberState,
    QueueAnswered,
    QueueCompleted,
    QueueJoined,
    QueueLeft,
    RecordingStarted,
    RingEnded,
)
from clinicall.controller.freeswitch.control import ORIGINATE_KEY, call_id_for
from clinicall.controller.freeswitch.esl import EslEvent, EslParser
from clinicall.controller.freeswitch.esl.client import status_event
from clinicall.controller.freeswitch.esl_facts import EslFactDecoder

F = TypeVar("F", bound=Fact)
CORE = "07918c3c-3bbe-45d3-a228-2adf08de9ddb"
CLOCK = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def recorded_events(name: str) -> list[EslEvent]:
    return [
        m.event
        for m in EslParser().feed(server_bytes(name))
        if m.event is not None and m.content_type != "command/reply"
    ]


def decode(name: str, decoder: EslFactDecoder | None = None) -> list[Fact]:
    decoder = decoder or EslFactDecoder(recordings_dir="/var/fs/rec", clock=lambda: CLOCK)
    return [fact for event in recorded_events(name) for fact in decoder.decode(event)]


def of(facts: list[Fact], kind: type[F]) -> list[F]:
    return [f for f in facts if isinstance(f, kind) and type(f) is kind]


def at(epoch_us: int) -> datetime:
    return datetime.fromtimestamp(epoch_us / 1_000_000, UTC)


MEMBER = "3b9ab22f-9416-4ce4-81c5-e87487ca8037"  # loopback/9990-b: the caller in the queue
AGENT = "esltest-agent@default"
QUEUE = "esltest@default"


def test_an_answered_queue_call() -> None:
    facts = decode("inbound_callcenter")
    queue_facts = [f for f in facts if isinstance(f, QueueJoined | MemberRung | QueueAnswered
                                                    | QueueCompleted | QueueLeft)]  # fmt: skip
    assert queue_facts == [
        QueueJoined(key=f"esl:{CORE}:661:queue.joined", at=at(1795432679731129),
                    call_id=MEMBER, channel_id=MEMBER, queue=QUEUE,
                    caller_number="380441234567"),
        MemberRung(key=f"esl:{CORE}:671:queue.rung", at=at(1795432679811141), call_id="",
                   channel_id=MEMBER, queue=QUEUE, member=AGENT),
        QueueAnswered(key=f"esl:{CORE}:712:queue.answered", at=at(1795432680131124),
                      call_id="", channel_id=MEMBER, queue=QUEUE, member=AGENT,
                      wait_ms=1000, ring_ms=1000),
        QueueCompleted(key=f"esl:{CORE}:753:queue.completed", at=at(1795432682231146),
                       call_id="", channel_id=MEMBER, queue=QUEUE, member=AGENT,
                       wait_ms=1000, talk_ms=2000, hung_up_by=HungUpBy.AGENT),
    ]  # fmt: skip
    # The member's call id is told by its own channel's facts (and is the same).
    links = {f.channel_id: f.call_id for f in of(facts, ChannelOfCall)}
    assert links[MEMBER] == MEMBER
    closed = {f.channel_id: (f.cause, f.cause_text) for f in of(facts, ChannelClosed)}
    assert closed[MEMBER] == (16, "NORMAL_CLEARING")
    assert len(closed) == 5


def test_the_operators_status_and_state() -> None:
    facts = decode("inbound_callcenter")
    paused = of(facts, MemberPaused)
    assert [(f.member, f.queue, f.paused) for f in paused] == [(AGENT, "", False)]
    seen = [(f.member, f.state) for f in of(facts, MemberSeen)]
    assert seen == [(AGENT, MemberState.RINGING), (AGENT, MemberState.IN_CALL),
                    (AGENT, MemberState.IDLE)]  # fmt: skip


def test_an_abandoned_queue_call() -> None:
    facts = decode("inbound_callcenter_abandoned")
    member = "edfa77e7-1125-4aa5-b1ea-db4a318e6686"
    (joined,) = of(facts, QueueJoined)
    (left,) = of(facts, QueueLeft)
    assert joined == QueueJoined(key=f"esl:{CORE}:823:queue.joined", at=at(1795432685911132),
                                 call_id=member, channel_id=member, queue=QUEUE,
                                 caller_number="380441234568")  # fmt: skip
    assert left == QueueLeft(key=f"esl:{CORE}:837:queue.left", at=at(1795432689911150),
                             call_id=member, channel_id=member, queue=QUEUE,
                             reason=LeaveReason.ABANDON, wait_ms=4000)  # fmt: skip
    assert of(facts, QueueAnswered) == []
    assert of(facts, MemberPaused) == []  # "Logged Out" is no pause


def test_a_recording_under_the_spool_is_named_relative_to_it() -> None:
    facts = decode("record_session")
    (started,) = of(facts, RecordingStarted)
    assert started.path == "esltest_record_session.wav"
    assert started.format == "wav"
    assert started.channel_id == started.call_id == "25f4db4a-ed15-4a0b-ab17-07e4749b1fc0"
    elsewhere = EslFactDecoder(recordings_dir="/var/lib/freeswitch/recordings")
    assert of(decode("record_session", elsewhere), RecordingStarted) == []
    assert elsewhere.stats.ignored["RECORD_START"] == 1
    assert elsewhere.stats.ignored["RECORD_STOP"] == 1


@pytest.mark.parametrize("name", ["inbound_events_plain", "inbound_events_json"])
def test_a_plain_call_opens_and_closes_its_channels(name: str) -> None:
    facts = decode(name)
    opened = of(facts, ChannelOpened)
    closed = of(facts, ChannelClosed)
    assert len(opened) == len(closed) == 2
    assert {f.channel_id for f in opened} == {f.channel_id for f in closed}
    dialled = sorted(f.dialled for f in opened)
    assert dialled[-1] == "9999"
    assert {f.cause for f in closed} == {16}
    keys = [f.key for f in facts]
    assert len(keys) == len(set(keys))


def test_the_same_events_give_the_same_keys() -> None:
    assert [f.key for f in decode("inbound_callcenter")] == [
        f.key for f in decode("inbound_callcenter")
    ]


def test_hung_up_by_the_caller_when_the_members_channel_went_first() -> None:
    events = recorded_events("inbound_callcenter")
    member_hangup = next(
        e for e in events if e.name == "CHANNEL_HANGUP_COMPLETE" and e.unique_id == MEMBER
    )
    agent_hangup = next(
        e for e in events if e.name == "CHANNEL_HANGUP_COMPLETE" and e.get("Channel-Name") ==
        "null/esltest-agent"
    )  # fmt: skip
    reordered = [e for e in events if e not in (member_hangup, agent_hangup)]
    end = next(i for i, e in enumerate(reordered) if e.get("CC-Action") == "bridge-agent-end")
    reordered[end:end] = [member_hangup, agent_hangup]
    decoder = EslFactDecoder()
    facts = [f for e in reordered for f in decoder.decode(e)]
    (completed,) = of(facts, QueueCompleted)
    assert completed.hung_up_by is HungUpBy.CALLER


def callcenter(action: str, **headers: str) -> EslEvent:
    base = [("Event-Subclass", "callcenter::info"), ("Event-Name", "CUSTOM"),
            ("Core-UUID", "c"), ("Event-Sequence", "9"),
            ("Event-Date-Timestamp", "1795432679731129"), ("CC-Action", action)]  # fmt: skip
    return EslEvent([*base, *headers.items()])


def test_a_failed_offer_ends_the_ring() -> None:
    event = callcenter("bridge-agent-fail", **{"CC-Queue": QUEUE, "CC-Agent": AGENT,
                       "CC-Member-Session-UUID": MEMBER, "CC-Agent-Called-Time": "100",
                       "CC-Agent-Aborted-Time": "115", "CC-Hangup-Cause": "NO_ANSWER"})  # fmt: skip
    (fact,) = EslFactDecoder().decode(event)
    assert fact == RingEnded(key="esl:c:9:queue.ring_ended", at=at(1795432679731129),
                             call_id="", channel_id=MEMBER, queue=QUEUE, member=AGENT,
                             ring_ms=15000)  # fmt: skip


@pytest.mark.parametrize(
    ("reason", "expected"),
    [("TIMEOUT", LeaveReason.TIMEOUT), ("NO_AGENT_TIMEOUT", LeaveReason.EMPTY),
     ("EXIT_WITH_KEY", LeaveReason.EXIT_KEY), ("NONE", None)],
)  # fmt: skip
def test_why_a_caller_left_unanswered(reason: str, expected: LeaveReason | None) -> None:
    event = callcenter("member-queue-end", **{"CC-Queue": QUEUE, "CC-Cause": "Cancel",
                       "CC-Cancel-Reason": reason, "CC-Member-Session-UUID": MEMBER})  # fmt: skip
    (fact,) = EslFactDecoder().decode(event)
    assert isinstance(fact, QueueLeft)
    assert fact.reason is expected
    assert fact.wait_ms is None


@pytest.mark.parametrize(("key", "expected", "kept"), [("D", LeaveReason.TIMEOUT, None),
                                                       ("1", LeaveReason.EXIT_KEY, "1"),
                                                       ("A", LeaveReason.EXIT_KEY, "A")])
def test_the_routes_wait_timer_key_is_a_timeout_an_offer_key_an_exit_by_key(
        key: str, expected: LeaveReason, kept: str | None) -> None:
    """The generated dialplan's wait timer presses D, the offer's keys are 1 and A
    (controller/freeswitch/queue_wait.py); CUSTOM events carry the channel's variables, so
    the key is known, and an offer key is kept for the account as on Asterisk."""
    event = callcenter("member-queue-end", **{"CC-Queue": QUEUE, "CC-Cause": "Cancel",
                       "CC-Cancel-Reason": "EXIT_WITH_KEY", "variable_cc_exit_key": key,
                       "CC-Member-Session-UUID": MEMBER})  # fmt: skip
    (fact,) = EslFactDecoder().decode(event)
    assert isinstance(fact, QueueLeft)
    assert (fact.reason, fact.exit_key) == (expected, kept)


def test_an_engine_shutdown_cuts_the_channel() -> None:
    event = EslEvent([("Event-Name", "CHANNEL_HANGUP_COMPLETE"), ("Core-UUID", "c"),
                      ("Event-Sequence", "5"), ("Unique-ID", "u"), ("Channel-Call-UUID", "u"),
                      ("Hangup-Cause", "SYSTEM_SHUTDOWN"),
                      ("variable_hangup_cause_q850", "41")])  # fmt: skip
    closed, cut = EslFactDecoder(clock=lambda: CLOCK).decode(event)
    assert isinstance(closed, ChannelClosed)
    assert closed.cause == 41
    assert cut == ChannelCut(key="esl:c:5:channel.cut", at=CLOCK, call_id="u", channel_id="u")


def test_the_clients_link_status_is_an_engine_link_fact() -> None:
    decoder = EslFactDecoder(clock=lambda: CLOCK)
    (down,) = decoder.decode(status_event(False, "connection closed by FreeSWITCH"))
    assert down == EngineLink(key=f"esl:link:down:{CLOCK.timestamp()}", at=CLOCK, up=False,
                              detail="connection closed by FreeSWITCH")  # fmt: skip


@pytest.mark.parametrize(
    ("event", "name"),
    [
        (EslEvent([("Event-Name", "CHANNEL_HANGUP_COMPLETE"), ("Core-UUID", "c"),
                   ("Event-Sequence", "5"), ("Unique-ID", "u")]), "CHANNEL_HANGUP_COMPLETE"),
        (callcenter("bridge-agent-start", **{"CC-Queue": QUEUE, "CC-Agent": AGENT,
                    "CC-Member-Session-UUID": MEMBER, "CC-Member-Joined-Time": "soon",
                    "CC-Agent-Called-Time": "1", "CC-Agent-Answered-Time": "2"}),
         "callcenter::info bridge-agent-start"),
        (callcenter("member-queue-start", **{"CC-Queue": QUEUE}),
         "callcenter::info member-queue-start"),
    ],
)  # fmt: skip
def test_a_malformed_followed_event_gives_nothing_and_is_counted_once(
    event: EslEvent, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    decoder = EslFactDecoder()
    assert decoder.decode(event) == []
    assert decoder.decode(event) == []
    assert decoder.stats.malformed[name] == 2
    assert caplog.text.count("skipping malformed ESL") == 1
    assert "soon" not in caplog.text


def test_unknown_events_are_counted_as_ignored() -> None:
    decoder = EslFactDecoder()
    assert decoder.decode(EslEvent([("Event-Name", "HEARTBEAT")])) == []
    other = EslEvent([("Event-Subclass", "sofia::register"), ("Event-Name", "CUSTOM")])
    assert decoder.decode(other) == []
    assert decoder.stats.ignored == {"HEARTBEAT": 1, "CUSTOM sofia::register": 1}


def channel_event(name: str, seq: int, channel: str, **variables: str) -> EslEvent:
    return EslEvent([
        ("Event-Name", name), ("Core-UUID", CORE), ("Event-Sequence", str(seq)),
        ("Event-Date-Timestamp", "1795432680000000"), ("Unique-ID", channel),
        ("Channel-Call-UUID", channel), ("Caller-Caller-ID-Number", "0501234567"),
        ("Caller-Destination-Number", "+380441234567"),
        ("Caller-Channel-Created-Time", "1795432679000000"),
        ("Hangup-Cause", "NORMAL_CLEARING"), ("variable_hangup_cause_q850", "16"),
        *((f"variable_{k}", v) for k, v in variables.items()),
    ])  # fmt: skip


def test_with_an_account_only_the_clinics_channels_give_channel_facts() -> None:
    decoder = EslFactDecoder(clock=lambda: CLOCK, account="clinicall")
    # the clinic's leg: created before the dialplan set its account code, opened at answer
    assert decoder.decode(channel_event("CHANNEL_CREATE", 1, "caller")) == []
    opened = decoder.decode(channel_event("CHANNEL_ANSWER", 2, "caller", accountcode="clinicall"))
    assert [type(f) for f in opened] == [ChannelOfCall, ChannelOpened]
    assert opened[1].at == at(1795432679000000)  # when the channel was created
    again = decoder.decode(channel_event("CHANNEL_ANSWER", 3, "caller", accountcode="clinicall"))
    assert [type(f) for f in again] == [ChannelOfCall]
    # an operator's leg mod_callcenter dials is a call of its own in FreeSWITCH: no facts
    for seq, name in enumerate(("CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP",
                                "CHANNEL_HANGUP_COMPLETE"), start=4):  # fmt: skip
        assert decoder.decode(channel_event(name, seq, "agent-leg")) == []
    closed = decoder.decode(channel_event("CHANNEL_HANGUP_COMPLETE", 9, "caller",
                                          accountcode="clinicall"))  # fmt: skip
    assert [(type(f), f.channel_id) for f in of(closed, ChannelClosed)] == [
        (ChannelClosed, "caller")]
    assert len(closed) == 1
    # a call the clinic places carries the account code from its creation
    placed = decoder.decode(channel_event("CHANNEL_CREATE", 10, "cb", accountcode="clinicall"))
    assert [type(f) for f in placed] == [ChannelOfCall, ChannelOpened]
    assert decoder.hangups.get("agent-leg") is not None  # still known for who hung up first


def test_with_a_queue_domain_queues_are_named_by_the_clinics_id() -> None:
    decoder = EslFactDecoder(recordings_dir="/var/fs/rec", clock=lambda: CLOCK,
                             queue_domain="default")  # fmt: skip
    joined = of(decode("inbound_callcenter", decoder), QueueJoined)
    assert [f.queue for f in joined] == ["esltest"]


def test_a_placed_call_tells_its_purpose_and_its_loopback_half_belongs_to_it() -> None:
    decoder = EslFactDecoder(clock=lambda: CLOCK, account="clinicall")
    call = call_id_for("cb7-1")
    placed = {"accountcode": "clinicall", ORIGINATE_KEY: "cb7-1",
              "CLINICALL_PURPOSE": "callback", "CLINICALL_CALLED": "+380501230001"}
    facts = decoder.decode(channel_event("CHANNEL_CREATE", 1, call, **placed))
    data = of(facts, CallDataSet)
    assert [(f.call_id, f.channel_id, f.name, f.value) for f in data] == [
        (call, call, "purpose", "callback"), (call, call, "dialled", "+380501230001")]
    assert len({f.key for f in facts}) == len(facts)
    # mod_loopback copied the originate's variables to the half that dials the patient:
    # a channel of the placed call, with no call data of its own
    half = decoder.decode(channel_event("CHANNEL_CREATE", 2, "half-b", **placed))
    assert [type(f) for f in half] == [ChannelOfCall, ChannelOpened]
    legs = [*of(half, ChannelOfCall), *of(half, ChannelOpened)]
    assert [(f.call_id, f.channel_id) for f in legs] == [(call, "half-b")] * 2
    closed = decoder.decode(channel_event("CHANNEL_HANGUP_COMPLETE", 3, "half-b", **placed))
    assert [(f.call_id, f.channel_id) for f in of(closed, ChannelClosed)] == [(call, "half-b")]
    # a patient's call carries no originate key: no call data, its own call
    own = decoder.decode(channel_event("CHANNEL_CREATE", 4, "caller", accountcode="clinicall",
                                       CLINICALL_PURPOSE="callback"))  # fmt: skip
    assert not of(own, CallDataSet)
    assert [f.call_id for f in of(own, ChannelOfCall)] == ["caller"]
