"""Engine control over AMI (``AsteriskControl``) against the scripted fake AMI on port 0: the
actions and headers sent, replies mapped onto the engine port's errors, originate outcomes,
and an originate whose link drops: never sent twice, reported unknown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from clinicall.controller.asterisk.ami.client import AMIClient
from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.control import AsteriskControl, call_id_for
from clinicall.controller.asterisk.health import AmiHealth
from clinicall.controller.facts import MemberState
from clinicall.controller.port import (
    EngineRefused,
    EngineTimeout,
    EngineUnavailable,
    OriginateCause,
    OriginateFailed,
    OriginateRequest,
    OutcomeUnknown,
)

from .fake_ami import SECRET, FakeAMI, frame

FAST = {"ping_interval": 0.05, "ping_timeout": 0.2, "backoff_initial": 0.01, "backoff_max": 0.05}
REQUEST = OriginateRequest(key="callback-17", number="+380501112233", queue="therapy",
                           priority=5, caller_id="Clinic <+380441234567>", ring_timeout_s=5,
                           data={"language": "uk", "route": "therapy"})  # fmt: skip


class Wired:
    """An AMI client, the control on it and its health, wired as ``AsteriskEngine`` wires
    them (every frame to the control, link losses too)."""

    def __init__(self, server: FakeAMI, deadline_s: float = 1.0) -> None:
        self.health = AmiHealth()
        self.ami = AMIClient("127.0.0.1", server.port, "clinicall", SECRET,
                             on_status=self._status, **FAST)  # type: ignore[arg-type]
        self.control = AsteriskControl(self.ami, deadline_s=deadline_s)
        self.ami.add_handler(self._frame)
        self.statuses: asyncio.Queue[bool] = asyncio.Queue()

    def _status(self, up: bool, detail: str) -> None:
        self.statuses.put_nowait(up)
        self.health.on_status(up, detail)
        if not up:
            self.control.on_link_lost(detail)

    def _frame(self, message: Message) -> None:
        self.health.on_event()
        self.control.on_message(message)


@pytest.fixture
async def server() -> AsyncIterator[FakeAMI]:
    fake = FakeAMI()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def wired(server: FakeAMI) -> AsyncIterator[Wired]:
    parts = Wired(server)
    await parts.ami.start()
    yield parts
    await parts.ami.close()


def queued_then(response: str, reason: str) -> Callable[[Message], bytes]:
    """Originate's reply ("queued"), then its OriginateResponse naming the new channel."""

    def reply(msg: Message) -> bytes:
        aid = ("ActionID", msg.action_id)
        return frame(("Response", "Success"), aid, ("Message", "Originate successfully queued")) \
            + frame(("Event", "OriginateResponse"), aid, ("Response", response),
                    ("Channel", f"Local/{REQUEST.number}@clinicall-originate-00000001;1"),
                    ("Context", "clinicall-queue-entry"), ("Exten", "therapy"),
                    ("Reason", reason), ("Uniqueid", msg.get("ChannelId", "")))  # fmt: skip

    return reply


async def test_originate_answered_sends_one_action_with_the_key_derived_ids(
    server: FakeAMI, wired: Wired
) -> None:
    server.script["originate"] = queued_then("Success", "4")
    result = await wired.control.originate(REQUEST)
    assert (result.key, result.call_id, result.answered) == (
        "callback-17", call_id_for("callback-17"), True)  # fmt: skip
    assert call_id_for("callback-17") == call_id_for("callback-17") != call_id_for("other")
    (sent,) = [m for m in server.actions if m.get("Action") == "Originate"]
    assert sent.get("Channel") == "Local/+380501112233@clinicall-originate/n"
    assert (sent.get("Context"), sent.get("Exten"), sent.get("Async")) == (
        "clinicall-queue-entry", "therapy", "true")  # fmt: skip
    assert (sent.get("ChannelId"), sent.get("OtherChannelId")) == (
        result.call_id, f"{result.call_id}-2")  # fmt: skip
    assert sent.get("Timeout") == "5000"
    variables = [value for name, value in sent.headers if name == "Variable"]
    assert variables == ["CLINICALL_ORIGINATE_KEY=callback-17", "CLINICALL_PRIORITY=5",
                         "QUEUE_PRIO=5", "CLINICALL_LANG=uk", "CLINICALL_ROUTE=therapy"]


async def test_a_reminder_rings_the_patient_first_into_its_ivr_flow(
    server: FakeAMI, wired: Wired
) -> None:
    server.script["originate"] = queued_then("Success", "4")
    reminder = OriginateRequest(key="cb3-1", number="+380501112233", queue="ultrasound",
                                flow="reminder", data={"appointment": "7"})  # fmt: skip
    await wired.control.originate(reminder)
    (sent,) = [m for m in server.actions if m.get("Action") == "Originate"]
    assert sent.get("Channel") == "Local/+380501112233@clinicall-originate/n"
    assert (sent.get("Context"), sent.get("Exten")) == ("clinicall-flow", "reminder")
    assert "CLINICALL_APPOINTMENT=7" in [value for name, value in sent.headers
                                         if name == "Variable"]  # fmt: skip
    for bad in ({"flow": "Reminder;x"}, {"flow": "reminder", "agent": "PJSIP/op1"}):
        with pytest.raises(EngineRefused, match="flow"):
            await wired.control.originate(OriginateRequest(
                key="cb3-2", number="+380501112233", queue="ultrasound", **bad))  # type: ignore[arg-type]
    assert server.count("Originate") == 1


@pytest.mark.parametrize(("reason", "cause"), [
    ("0", OriginateCause.NO_ROUTE), ("1", OriginateCause.REJECTED),
    ("3", OriginateCause.NO_ANSWER), ("5", OriginateCause.BUSY),
    ("8", OriginateCause.REJECTED), ("99", OriginateCause.FAILED),
])  # fmt: skip
async def test_originate_failures_carry_their_cause(
    server: FakeAMI, wired: Wired, reason: str, cause: OriginateCause
) -> None:
    server.script["originate"] = queued_then("Failure", reason)
    with pytest.raises(OriginateFailed) as failed:
        await wired.control.originate(REQUEST)
    assert failed.value.cause is cause
    assert failed.value.raw["Reason"] == reason


async def test_originate_without_an_outcome_times_out(server: FakeAMI, wired: Wired) -> None:
    server.script["originate"] = lambda msg: frame(
        ("Response", "Success"), ("ActionID", msg.action_id), ("Message", "queued"))
    quick = OriginateRequest(key="k", number="0501112233", queue="therapy", ring_timeout_s=0.1)
    with pytest.raises(EngineTimeout):
        await wired.control.originate(quick)


async def test_a_link_lost_while_originating_is_unknown_and_never_redialled(
    server: FakeAMI, wired: Wired
) -> None:
    server.script["originate"] = lambda msg: frame(
        ("Response", "Success"), ("ActionID", msg.action_id), ("Message", "queued"))
    pending = asyncio.create_task(wired.control.originate(REQUEST))
    await server.wait_for_action("Originate")
    server.drop()
    with pytest.raises(OutcomeUnknown):
        await pending
    await wired.ami.wait_connected(5)  # the client is back ...
    logins = server.logins
    await wired.control.queue_member_add("therapy", "PJSIP/op1")  # ... and in use,
    assert server.logins == logins >= 2
    assert server.count("Originate") == 1  # yet the originate was never sent again
    assert wired.health.snapshot().reconnects == 1
    with pytest.raises(EngineRefused, match="outcome is unknown"):  # nor dialled by mistake
        await wired.control.originate(REQUEST)
    assert server.count("Originate") == 1


async def test_bad_numbers_are_refused_before_anything_is_sent(
    server: FakeAMI, wired: Wired
) -> None:
    for number in ("", "12a4", "1234;Dial(x)", "+" + "1" * 25, "101@evil"):
        with pytest.raises(EngineRefused):
            await wired.control.originate(OriginateRequest(key=number, number=number,
                                                           queue="therapy"))  # fmt: skip
    for data in ({"path": "a,QUEUE_PRIO=9"}, {"route": 'x"y'}, {"route": "x\\y"}):
        with pytest.raises(EngineRefused, match="comma"):
            await wired.control.originate(OriginateRequest(key="k", number="0501112233",
                                                           queue="therapy", data=data))
    with pytest.raises(EngineRefused, match="comma"):
        await wired.control.originate(OriginateRequest(key="k,X=1", number="0501112233",
                                                       queue="therapy"))
    with pytest.raises(EngineRefused, match="call data name"):
        await wired.control.set_call_data("1.1", "Bad Name", "x")
    with pytest.raises(EngineRefused, match="call data name"):
        await wired.control.originate(OriginateRequest(key="k", number="0501112233",
                                                       queue="therapy", data={"Bad Name": "x"}))
    assert server.count("Originate") == server.count("Setvar") == 0


async def test_queue_member_round_trips(server: FakeAMI, wired: Wired) -> None:
    server.script["queueremove"] = lambda msg: frame(
        ("Response", "Success"), ("ActionID", msg.action_id), ("Message", "Removed"))
    control = wired.control
    await control.queue_member_add("therapy", "PJSIP/op1", name="Olena", paused=True,
                                   penalty=2)
    await control.queue_member_remove("therapy", "PJSIP/op1")
    with pytest.raises(EngineRefused) as refused:  # the fake answers QueuePause with an error
        await control.queue_member_pause("PJSIP/op9", paused=True, reason="lunch",
                                         queue="therapy")  # fmt: skip
    assert refused.value.raw["Message"] == "Interface not found"
    add, remove, pause = (server.actions[-3], server.actions[-2], server.actions[-1])
    assert [(n, v) for n, v in add.headers if n != "ActionID"] == [
        ("Action", "QueueAdd"), ("Queue", "therapy"), ("Interface", "PJSIP/op1"),
        ("MemberName", "Olena"), ("Penalty", "2"), ("Paused", "true")]  # fmt: skip
    assert [(n, v) for n, v in remove.headers if n != "ActionID"] == [
        ("Action", "QueueRemove"), ("Queue", "therapy"), ("Interface", "PJSIP/op1")]
    assert [(n, v) for n, v in pause.headers if n != "ActionID"] == [
        ("Action", "QueuePause"), ("Interface", "PJSIP/op9"), ("Paused", "true"),
        ("Queue", "therapy"), ("Reason", "lunch")]  # fmt: skip


async def test_queue_status_is_read_from_its_event_list(server: FakeAMI, wired: Wired) -> None:
    def status(msg: Message) -> bytes:
        aid = ("ActionID", msg.action_id)
        return (frame(("Response", "Success"), aid, ("EventList", "start"))
                + frame(("Event", "QueueParams"), aid, ("Queue", "therapy"), ("Holdtime", "95"))
                + frame(("Event", "QueueMember"), aid, ("Queue", "therapy"), ("Name", "Olena"),
                        ("Location", "PJSIP/op1"), ("Status", "1"), ("Paused", "1"),
                        ("PausedReason", "lunch"), ("CallsTaken", "7"), ("InCall", "0"))
                + frame(("Event", "QueueMember"), aid, ("Queue", "therapy"), ("Name", "Ivan"),
                        ("Location", "PJSIP/op2"), ("Status", "2"), ("Paused", "0"),
                        ("CallsTaken", "3"), ("InCall", "1"))
                + frame(("Event", "QueueEntry"), aid, ("Queue", "therapy"), ("Wait", "42"))
                + frame(("Event", "QueueEntry"), aid, ("Queue", "therapy"), ("Wait", "7"))
                + frame(("Event", "QueueParams"), aid, ("Queue", "pediatrics"),
                        ("Holdtime", "0"))
                + frame(("Event", "QueueStatusComplete"), aid, ("EventList", "Complete")))

    server.script["queuestatus"] = status
    therapy, pediatrics = await wired.control.queue_status()
    assert (therapy.queue, therapy.waiting, therapy.longest_wait_s) == ("therapy", 2, 42.0)
    assert [(m.member, m.member_name, m.state, m.paused, m.pause_reason, m.calls_taken)
            for m in therapy.members] == [
        ("PJSIP/op1", "Olena", MemberState.IDLE, True, "lunch", 7),
        ("PJSIP/op2", "Ivan", MemberState.IN_CALL, False, "", 3)]  # fmt: skip
    assert (pediatrics.members, pediatrics.waiting) == ((), 0)
    # the engine's own estimate: 0 before the queue's first answered call is none
    assert (therapy.holdtime_s, pediatrics.holdtime_s) == (95.0, None)


async def test_hangup_and_call_data_name_the_channel(server: FakeAMI, wired: Wired) -> None:
    ok: Callable[[Message], bytes] = lambda msg: frame(  # noqa: E731
        ("Response", "Success"), ("ActionID", msg.action_id))
    server.script.update(hangup=ok, setvar=ok)
    await wired.control.hangup("1712345678.5", cause=17)
    await wired.control.set_call_data("1712345678.5", "language", "ru")
    hangup, setvar = server.actions[-2], server.actions[-1]
    assert (hangup.get("Channel"), hangup.get("Cause")) == ("1712345678.5", "17")
    assert (setvar.get("Channel"), setvar.get("Variable"), setvar.get("Value")) == (
        "1712345678.5", "CLINICALL_LANG", "ru")  # fmt: skip


async def test_the_threshold_offer_is_the_unasked_key_received_on_the_waiting_channel(
    server: FakeAMI, wired: Wired
) -> None:
    """docs/engines/asterisk.md, "The in-queue callback offer": ``PlayDTMF`` with ``Receive``
    (emulated as heard from the caller), key ``A`` of the queue's exit context."""
    server.script.update(playdtmf=lambda msg: frame(("Response", "Success"),
                                                    ("ActionID", msg.action_id)))
    await wired.control.offer_callback("1712345678.5")
    sent = server.actions[-1]
    assert [sent.get(k) for k in ("Action", "Channel", "Digit", "Receive")] == [
        "PlayDTMF", "1712345678.5", "A", "true"]  # fmt: skip
    server.script.update(playdtmf=lambda msg: frame(
        ("Response", "Error"), ("ActionID", msg.action_id), ("Message", "No such channel")))
    with pytest.raises(EngineRefused, match="No such channel"):
        await wired.control.offer_callback("1712345678.9")  # the caller hung up meanwhile


async def test_no_answer_within_the_deadline_is_a_timeout(server: FakeAMI, wired: Wired) -> None:
    with pytest.raises(EngineTimeout):  # the fake never answers Hangup unless scripted
        await wired.control.hangup("1.1")
    assert server.count("Hangup") == 1


async def test_a_command_while_the_link_is_down_is_not_sent(server: FakeAMI) -> None:
    parts = Wired(server)  # never started: no link
    with pytest.raises(EngineUnavailable):
        await parts.control.queue_member_pause("PJSIP/op1", paused=False)
    assert server.actions == []
    assert parts.health.snapshot().up is False


async def test_health_follows_the_link(server: FakeAMI, wired: Wired) -> None:
    health = wired.health.snapshot()
    assert (health.engine, health.up, health.reconnects) == ("asterisk", True, 0)
    assert health.last_event_at is not None  # FullyBooted came in
    assert await wired.statuses.get() is True  # the first login
    server.drop()
    async with asyncio.timeout(5):
        assert await wired.statuses.get() is False
        assert wired.health.snapshot().up is False
        assert await wired.statuses.get() is True
    health = wired.health.snapshot()
    assert (health.up, health.reconnects) == (True, 1)


AGENT_FIRST = OriginateRequest(key="cb17-1", number="+380501112233", queue="therapy",
                               ring_timeout_s=5, data={"callback": "17"},
                               agent="PJSIP/op1")  # fmt: skip


def agent_then_patient(agent: str, status: str | None) -> Callable[[Message], bytes]:
    """The operator's leg ends as ``agent`` (OriginateResponse), then the callback context
    reports the patient's leg (``ClinicallCallback`` with ``status``; None: never)."""

    def reply(msg: Message) -> bytes:
        aid = ("ActionID", msg.action_id)
        out = frame(("Response", "Success"), aid, ("Message", "Originate successfully queued"))
        out += frame(("Event", "OriginateResponse"), aid, ("Response", agent),
                     ("Channel", "PJSIP/op1-00000001"), ("Reason", "4" if agent == "Success"
                                                         else "3"),
                     ("Uniqueid", msg.get("ChannelId", "")))  # fmt: skip
        if status is not None:
            out += frame(("Event", "UserEvent"), ("UserEvent", "ClinicallCallback"),
                         ("Key", "someone-else"), ("Status", "ANSWER"))  # not this call's
            out += frame(("Event", "UserEvent"), ("UserEvent", "ClinicallCallback"),
                         ("Key", "cb17-1"), ("Status", status))  # fmt: skip
        return out

    return reply


async def test_agent_first_rings_the_operator_into_the_callback_context(
    server: FakeAMI, wired: Wired
) -> None:
    server.script["originate"] = agent_then_patient("Success", "ANSWER")
    result = await wired.control.originate(AGENT_FIRST)
    assert (result.call_id, result.answered) == (call_id_for("cb17-1"), True)
    (sent,) = [m for m in server.actions if m.get("Action") == "Originate"]
    assert (sent.get("Channel"), sent.get("Context"), sent.get("Exten")) == (
        "PJSIP/op1", "clinicall-callback", "+380501112233")  # fmt: skip
    variables = [value for name, value in sent.headers if name == "Variable"]
    assert "CLINICALL_CALLBACK=17" in variables
    assert "CLINICALL_RING_S=5" in variables


@pytest.mark.parametrize(("agent", "status", "cause"), [
    ("Failure", None, OriginateCause.AGENT_MISSED),
    ("Success", "NOANSWER", OriginateCause.NO_ANSWER),
    ("Success", "BUSY", OriginateCause.BUSY),
    ("Success", "CONGESTION", OriginateCause.REJECTED),
    ("Success", "CHANUNAVAIL", OriginateCause.NO_ROUTE),
    ("Success", "CANCEL", OriginateCause.AGENT_MISSED),
])  # fmt: skip
async def test_agent_first_outcomes_carry_the_patients_cause(
    server: FakeAMI, wired: Wired, agent: str, status: str | None, cause: OriginateCause
) -> None:
    server.script["originate"] = agent_then_patient(agent, status)
    with pytest.raises(OriginateFailed) as failed:
        await wired.control.originate(AGENT_FIRST)
    assert failed.value.cause is cause


async def test_agent_first_without_the_patients_outcome_times_out(
    server: FakeAMI, wired: Wired
) -> None:
    server.script["originate"] = agent_then_patient("Success", None)
    quick = OriginateRequest(key="cb17-1", number="+380501112233", queue="therapy",
                             ring_timeout_s=0.1, agent="PJSIP/op1")  # fmt: skip
    with pytest.raises(EngineTimeout):
        await wired.control.originate(quick)
