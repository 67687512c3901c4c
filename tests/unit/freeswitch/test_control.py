"""FreeSWITCH engine control: the commands it sends, how it reads mod_callcenter's tables and
how the Event Socket's failures become the engine port's errors (a scripted client; the same
commands against the real FreeSWITCH: tests/integration/test_freeswitch_calls.py)."""

from __future__ import annotations

import pytest

from clinicall.controller.facts import MemberState
from clinicall.controller.freeswitch.control import FreeswitchControl, call_id_for
from clinicall.controller.freeswitch.esl.errors import EslLinkLost, EslNotConnected
from clinicall.controller.port import (
    EngineRefused,
    EngineTimeout,
    EngineUnavailable,
    OriginateCause,
    OriginateFailed,
    OriginateRequest,
    OutcomeUnknown,
)

#: As FreeSWITCH 1.10.12 printed them (trimmed to the columns read, plus one more).
QUEUES = """name|strategy|max_wait_time
pediatrics@clinicall|ring-all|60
support@default|longest-idle-agent|0
+OK
"""
MEMBERS = """queue|uuid|session_uuid|cid_number|system_epoch|joined_epoch|base_score|state|score
pediatrics@clinicall|m1|s1|0501110001|990|1000|10|Waiting|100
pediatrics@clinicall|m2|s2|0501110002|1020|1030|10|Answered|70
+OK
"""
#: Three waiting callers: m3 joined last at priority 1 (its base score holds 3600 and the 40 s
#: between its call's answer and its join, ``time-base-score=system``); m5's row is torn.
WAITING = """queue|uuid|session_uuid|system_epoch|joined_epoch|base_score|state|score
pediatrics@clinicall|m1|s1|990|1000|10|Waiting|100
pediatrics@clinicall|m2|s2|1000|1010|10|Trying|90
pediatrics@clinicall|m3|s3|1020|1060|3640|Waiting|3670
therapy@clinicall|m4|s4|1000|1000|0|Waiting|90
pediatrics@clinicall|m5|s5|x|y|0|Waiting|0
+OK
"""
AGENTS = """name|status|state|calls_answered
op101|On Break|Waiting|2
op103|Available|In a queue call|5
op104|Logged Out|Waiting|0
+OK
"""


class ScriptedEsl:
    def __init__(self, outputs: dict[str, str | Exception]) -> None:
        self.outputs = outputs
        self.sent: list[tuple[str, str, float | None]] = []

    async def _answer(self, kind: str, command: str, deadline: float | None) -> str:
        self.sent.append((kind, command, deadline))
        out = self.outputs.get(command.split(" {")[0], "+OK\n")
        if isinstance(out, Exception):
            raise out
        return out

    async def api(self, command: str, *, timeout: float | None = None) -> str:  # noqa: ASYNC109
        return await self._answer("api", command, timeout)

    async def bgapi(self, command: str, *, timeout: float | None = None) -> str:  # noqa: ASYNC109
        return await self._answer("bgapi", command, timeout)


async def test_queue_status_reads_the_clinics_queues_agents_and_waiting_members() -> None:
    esl = ScriptedEsl({"callcenter_config queue list": QUEUES,
                       "callcenter_config queue list members": MEMBERS,
                       "callcenter_config queue list agents pediatrics@clinicall": AGENTS})
    (status,) = await FreeswitchControl(esl, clock=lambda: 1090.0).queue_status()
    assert (status.queue, status.waiting, status.longest_wait_s) == ("pediatrics", 1, 90.0)
    assert [(e.channel_id, e.wait_s, e.priority) for e in status.entries] == [("s1", 90.0, 0)]
    assert [(m.member, m.state, m.paused, m.calls_taken) for m in status.members] == [
        ("op101", MemberState.IDLE, True, 2), ("op103", MemberState.IN_CALL, False, 5),
        ("op104", MemberState.OFFLINE, False, 0)]  # fmt: skip


async def test_members_are_tiers_and_a_pause_is_the_agents_status() -> None:
    esl = ScriptedEsl({})
    control = FreeswitchControl(esl, deadline_s=3)
    await control.queue_member_add("therapy", "op102", paused=True)
    await control.queue_member_pause("op102", paused=False, queue="therapy", reason="lunch")
    await control.queue_member_remove("therapy", "op102")
    assert [(kind, cmd, t) for kind, cmd, t in esl.sent] == [
        ("api", "callcenter_config tier add therapy@clinicall op102 1 1", 3),
        ("api", "callcenter_config agent set status op102 'On Break'", 3),
        ("api", "callcenter_config agent set status op102 'Available'", 3),
        ("api", "callcenter_config tier del therapy@clinicall op102", 3)]  # fmt: skip


async def test_names_that_are_not_names_are_refused_unsent() -> None:
    esl = ScriptedEsl({})
    control = FreeswitchControl(esl)
    for member in ("op 1", "op1'", "", "a;b"):
        with pytest.raises(EngineRefused):
            await control.queue_member_pause(member, paused=True)
    with pytest.raises(EngineRefused):
        await control.set_call_data("uuid", "Bad-Name", "x")
    assert esl.sent == []


async def test_the_waiting_callers_are_listed_in_mod_callcenters_order_with_their_priority(
) -> None:  # fmt: skip
    """The entries are the members waiting or being offered, highest score first; the wait
    is this stay's (since ``joined_epoch``), the priority the IVR's share of the base score."""
    esl = ScriptedEsl({"callcenter_config queue list": QUEUES,
                       "callcenter_config queue list members": WAITING,
                       "callcenter_config queue list agents pediatrics@clinicall": AGENTS})
    (status,) = await FreeswitchControl(esl, clock=lambda: 1090.0).queue_status()
    assert [(e.channel_id, e.wait_s, e.priority) for e in status.entries] == [
        ("s3", 30.0, 1), ("s1", 90.0, 0), ("s2", 80.0, 0)]
    assert (status.waiting, status.longest_wait_s) == (3, 90.0)


async def test_the_threshold_offer_is_the_unasked_key_received_on_the_waiting_channel(
) -> None:  # fmt: skip
    """``A`` received on the member's channel: mod_callcenter's exit key into the offer
    (docs/engines/freeswitch.md, "The in-queue callback offer"); a caller gone meanwhile is
    the engine's refusal, and a channel id that is not a name is refused unsent."""
    esl = ScriptedEsl({"uuid_recv_dtmf gone A": "-ERR no such channel\n"})
    control = FreeswitchControl(esl, deadline_s=2)
    await control.offer_callback("5b0c05f3-da95-4b07-b51c-dc98c73eb7eb")
    with pytest.raises(EngineRefused, match="no such channel"):
        await control.offer_callback("gone")
    with pytest.raises(EngineRefused):
        await control.offer_callback("a b")
    assert esl.sent == [
        ("api", "uuid_recv_dtmf 5b0c05f3-da95-4b07-b51c-dc98c73eb7eb A", 2),
        ("api", "uuid_recv_dtmf gone A", 2)]


async def test_errors_become_the_ports_errors() -> None:
    control = FreeswitchControl(ScriptedEsl({
        "callcenter_config agent set status nobody 'On Break'": "-ERR Invalid Agent!\n",
        "uuid_kill gone 16": EslNotConnected("down"),
        "uuid_kill late 16": TimeoutError(),
        "uuid_kill lost 16": EslLinkLost("cut"),
    }))  # fmt: skip
    with pytest.raises(EngineRefused, match="Invalid Agent"):
        await control.queue_member_pause("nobody", paused=True)
    with pytest.raises(EngineUnavailable):
        await control.hangup("gone")
    with pytest.raises(EngineTimeout):
        await control.hangup("late")
    with pytest.raises(OutcomeUnknown):
        await control.hangup("lost")


async def test_originate_dials_with_an_id_from_the_key_and_reads_the_jobs_outcome() -> None:
    esl = ScriptedEsl({"originate": f"+OK {call_id_for('k1')}\n"})
    control = FreeswitchControl(esl, deadline_s=5)
    result = await control.originate(OriginateRequest(
        key="k1", number="+380501234567", queue="pediatrics", priority=2, caller_id="100",
        ring_timeout_s=20, data={"language": "uk"}))  # fmt: skip
    assert result.call_id == result.channel_id == call_id_for("k1")
    ((kind, command, timeout),) = esl.sent
    assert (kind, timeout) == ("bgapi", 25)
    block, target = command.removeprefix("originate {").split("}", 1)
    assert dict(item.split("=", 1) for item in block.split(",")) == {
        "origination_uuid": call_id_for("k1"), "CLINICALL_ORIGINATE_KEY": "k1",
        "originate_timeout": "20", "accountcode": "clinicall", "CLINICALL_OUTCOME": "queue",
        "CLINICALL_QUEUE": "pediatrics", "CLINICALL_PRIORITY": "2", "cc_base_score": "7200",
        "origination_caller_id_number": "100", "CLINICALL_LANG": "uk"}  # fmt: skip
    assert target == ("loopback/+380501234567/clinicall_originate "
                      "clinicall_after_ivr XML clinicall")


@pytest.mark.parametrize(("output", "cause"), [
    ("-ERR USER_BUSY\n", OriginateCause.BUSY), ("-ERR NO_ANSWER\n", OriginateCause.NO_ANSWER),
    ("-ERR NO_ROUTE_DESTINATION\n", OriginateCause.NO_ROUTE),
    ("-ERR CALL_REJECTED\n", OriginateCause.REJECTED),
    ("-ERR NORMAL_TEMPORARY_FAILURE\n", OriginateCause.FAILED)])  # fmt: skip
async def test_a_failed_originate_says_why(output: str, cause: OriginateCause) -> None:
    control = FreeswitchControl(ScriptedEsl({"originate": output}))
    with pytest.raises(OriginateFailed) as failed:
        await control.originate(OriginateRequest(key="k", number="0501234567", queue="q"))
    assert failed.value.cause is cause


async def test_an_originate_lost_with_the_link_is_never_dialled_again() -> None:
    esl = ScriptedEsl({"originate": EslLinkLost("cut")})
    control = FreeswitchControl(esl)
    request = OriginateRequest(key="k", number="0501234567", queue="q")
    with pytest.raises(OutcomeUnknown):
        await control.originate(request)
    with pytest.raises(EngineRefused, match="outcome is unknown"):
        await control.originate(request)
    assert len(esl.sent) == 1


async def test_originate_refuses_what_would_break_its_variable_block() -> None:
    esl = ScriptedEsl({})
    control = FreeswitchControl(esl)
    for request in (OriginateRequest(key="a,b", number="0501234567", queue="q"),
                    OriginateRequest(key="k", number="0501234567", queue="q",
                                     data={"route": "x}y"}),
                    OriginateRequest(key="k", number="05 01", queue="q")):  # fmt: skip
        with pytest.raises(EngineRefused):
            await control.originate(request)
    assert esl.sent == []
