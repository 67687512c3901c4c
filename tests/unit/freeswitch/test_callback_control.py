"""Agent-first originate on FreeSWITCH (a callback): the command that rings the operator's
contact into the callback context, and how the callback dialplan's ``clinicall::callback``
event (or the operator's leg ending first) becomes the attempt's outcome.  A scripted client
delivers the events; the same call on the real FreeSWITCH:
tests/integration/test_callbacks_freeswitch.py."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from clinicall.controller.freeswitch.control import (
    CALLBACK_SUBCLASS,
    FreeswitchControl,
    call_id_for,
)
from clinicall.controller.freeswitch.esl.errors import EslLinkLost
from clinicall.controller.freeswitch.esl.message import EslEvent
from clinicall.controller.port import (
    EngineRefused,
    OriginateCause,
    OriginateFailed,
    OriginateRequest,
    OutcomeUnknown,
)

AGENTS = """name|instance_id|uuid|type|contact|status|state
op101||u|callback|loopback/cb_operator/sim|Available|Waiting
op102||u|callback|user/op102@clinic|Available|Waiting
+OK
"""
REQUEST = OriginateRequest(key="cb7-1", number="+380501230001", queue="universal",
                           caller_id="+380441234567", ring_timeout_s=20, agent="op101",
                           data={"callback": "7", "reason": "missed"})  # fmt: skip


def status(key: str, value: str) -> EslEvent:
    return EslEvent([("Event-Subclass", CALLBACK_SUBCLASS), ("Event-Name", "CUSTOM"),
                     ("Key", key), ("Status", value)])  # fmt: skip


def hangup(uuid: str) -> EslEvent:
    return EslEvent([("Event-Name", "CHANNEL_HANGUP"), ("Unique-ID", uuid)])


class CallbackEsl:
    """Answers ``agent list``; the originate's job answers ``job`` and, once it did, the
    events ``then`` makes are delivered to the control (as the inbound link would)."""

    def __init__(self, job: str | Exception = "", then: Callable[[], list[EslEvent]] = list,
                 ) -> None:  # fmt: skip
        self.job, self.then = job, then
        self.control: FreeswitchControl | None = None
        self.sent: list[tuple[str, str]] = []
        self.dialled = asyncio.Event()  # the originate was sent

    async def api(self, command: str, *, timeout: float | None = None) -> str:  # noqa: ASYNC109
        self.sent.append(("api", command))
        return AGENTS if command == "callcenter_config agent list" else "+OK\n"

    async def bgapi(self, command: str, *, timeout: float | None = None) -> str:  # noqa: ASYNC109
        self.sent.append(("bgapi", command))
        self.dialled.set()
        if isinstance(self.job, Exception):
            raise self.job
        assert self.control is not None
        loop = asyncio.get_running_loop()
        for event in self.then():
            loop.call_soon(self.control.on_event, event)
        return self.job or f"+OK {call_id_for(REQUEST.key)}\n"


def control_for(esl: CallbackEsl) -> FreeswitchControl:
    control = FreeswitchControl(esl, deadline_s=1, originate_context="sim")
    esl.control = control
    return control


async def test_the_operators_contact_is_rung_into_the_callback_context_then_the_patient(
        ) -> None:  # fmt: skip
    esl = CallbackEsl(then=lambda: [status("other", "USER_BUSY"), status(REQUEST.key, "ANSWER")])
    result = await control_for(esl).originate(REQUEST)
    assert result.call_id == call_id_for(REQUEST.key)
    assert esl.sent[0] == ("api", "callcenter_config agent list")
    kind, command = esl.sent[1]
    assert kind == "bgapi"
    block, target = command.removeprefix("originate {").split("}", 1)
    assert dict(item.split("=", 1) for item in block.split(",")) == {
        "origination_uuid": call_id_for(REQUEST.key), "CLINICALL_ORIGINATE_KEY": "cb7-1",
        "originate_timeout": "20", "accountcode": "clinicall", "CLINICALL_QUEUE": "universal",
        "CLINICALL_PRIORITY": "0", "CLINICALL_RING_S": "20", "CLINICALL_DIAL_LIMIT_S": "50",
        "CLINICALL_DIAL_CONTEXT": "sim",
        "CLINICALL_CALLER_ID": "+380441234567", "CLINICALL_CALLBACK": "7",
        "CLINICALL_REASON": "missed"}  # fmt: skip
    assert target == "loopback/cb_operator/sim +380501230001 XML clinicall_callback"


@pytest.mark.parametrize(("said", "cause"), [
    ("NO_ANSWER", OriginateCause.NO_ANSWER), ("USER_BUSY", OriginateCause.BUSY),
    ("NO_ROUTE_DESTINATION", OriginateCause.NO_ROUTE),
    ("OUTGOING_CALL_BARRED", OriginateCause.REJECTED),
    ("SOMETHING_NEW", OriginateCause.FAILED)])  # fmt: skip
async def test_the_patients_leg_ending_unanswered_says_why(said: str,
                                                           cause: OriginateCause) -> None:
    esl = CallbackEsl(then=lambda: [status(REQUEST.key, said)])
    with pytest.raises(OriginateFailed) as failed:
        await control_for(esl).originate(REQUEST)
    assert failed.value.cause is cause


async def test_an_operator_who_leaves_first_or_never_answers_is_an_agent_miss() -> None:
    gone = CallbackEsl(then=lambda: [hangup("someone-else"), hangup(call_id_for(REQUEST.key)),
                                     status(REQUEST.key, "ANSWER")])  # fmt: skip
    with pytest.raises(OriginateFailed) as failed:
        await control_for(gone).originate(REQUEST)
    assert failed.value.cause is OriginateCause.AGENT_MISSED
    unanswered = CallbackEsl(job="-ERR NO_ANSWER\n")
    with pytest.raises(OriginateFailed) as failed:
        await control_for(unanswered).originate(REQUEST)
    assert failed.value.cause is OriginateCause.AGENT_MISSED


async def test_an_agent_without_a_usable_contact_is_refused_unsent() -> None:
    esl = CallbackEsl()
    control = control_for(esl)
    for agent in ("op999", "op 1"):
        with pytest.raises(EngineRefused):
            await control.originate(OriginateRequest(key="k", number="0501234567", queue="q",
                                                     agent=agent))  # fmt: skip
    assert [kind for kind, _ in esl.sent] == ["api"]  # the one lookup; nothing dialled


async def test_a_link_lost_while_the_patient_rings_is_unknown_and_never_redialled() -> None:
    esl = CallbackEsl()
    control = control_for(esl)
    esl.then = lambda: [hangup("unrelated")]
    pending = asyncio.create_task(control.originate(REQUEST))
    await esl.dialled.wait()  # the originate is sent; its patient's leg not yet told
    control.on_link_lost("cut")
    with pytest.raises(OutcomeUnknown):
        await pending
    with pytest.raises(EngineRefused, match="outcome is unknown"):
        await control.originate(REQUEST)
    lost = CallbackEsl(job=EslLinkLost("cut"))
    with pytest.raises(OutcomeUnknown):
        await control_for(lost).originate(REQUEST)


async def test_a_reminder_dials_the_patient_first_into_the_flow_extension() -> None:
    esl = CallbackEsl()
    await control_for(esl).originate(OriginateRequest(
        key="cb9-1", number="+380501240001", queue="ultrasound", priority=1, flow="reminder",
        ring_timeout_s=10, data={"appointment": "12", "language": "en"}))  # fmt: skip
    [(kind, command)] = esl.sent
    assert kind == "bgapi"
    block, target = command.removeprefix("originate {").split("}", 1)
    assert dict(item.split("=", 1) for item in block.split(",")) == {
        "origination_uuid": call_id_for("cb9-1"), "CLINICALL_ORIGINATE_KEY": "cb9-1",
        "originate_timeout": "10", "accountcode": "clinicall", "CLINICALL_QUEUE": "ultrasound",
        "CLINICALL_PRIORITY": "1", "CLINICALL_FLOW": "reminder", "cc_base_score": "3600",
        "CLINICALL_APPOINTMENT": "12", "CLINICALL_LANG": "en"}  # fmt: skip
    assert target == "loopback/+380501240001/sim clinicall_flow XML clinicall"


async def test_a_flow_with_an_agent_or_a_bad_name_is_refused_unsent() -> None:
    esl = CallbackEsl()
    for flow, agent in (("reminder", "op101"), ("Reminder", ""), ("a b", "")):
        with pytest.raises(EngineRefused, match="flow"):
            await control_for(esl).originate(OriginateRequest(
                key="k", number="0501234567", queue="q", flow=flow, agent=agent))
    assert esl.sent == []
