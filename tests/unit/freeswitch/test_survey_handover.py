"""Sessions the dialplan hands over besides the IVR's.  The post-call survey: a caller who
agreed is marked when queued, the generated dialplan hands an answered one back over a second
outbound socket, and that session's channel data names the answered call.  A reminder: the
answered callee of a flow originate goes to the controller and then to the queue or the end
(the real engine: tests/integration/test_survey_freeswitch.py, test_reminders_freeswitch.py)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from clinicall.calltypes import AnsweredCall, QueueRequest
from clinicall.controller.freeswitch.call_port import FreeswitchCallPort, call_info
from clinicall.controller.freeswitch.esl.message import EslEvent
from clinicall.freeswitch_config import includes as inc
from clinicall.freeswitch_config import render_freeswitch_config
from clinicall.settings import load_config

from .test_call_port import CHANNEL, ScriptedSession

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "clinic.freeswitch.example.yaml"


async def test_a_caller_who_agreed_is_marked_for_the_survey_when_queued() -> None:
    session = ScriptedSession()
    await FreeswitchCallPort(session).enqueue(QueueRequest(
        queue="gynecology", priority=0, max_wait_s=60, overflow_queue=None, language="en",
        path="main:1/appointments:2", route="gynecology", survey=True))  # fmt: skip
    ((_, arg, _),) = session.executed
    assert arg.split("|")[-1] == "CLINICALL_SURVEY=1"


def test_an_answered_caller_who_agreed_goes_back_to_the_controller() -> None:
    text = render_freeswitch_config(load_config(EXAMPLE)).files[inc.CONTEXT]
    root = ET.fromstring(text[text.index("<include>"):])
    survey = root.find("context/extension[@name='clinicall_survey']")
    assert survey is not None
    conditions = [(c.get("field"), c.get("expression")) for c in survey.findall("condition")]
    assert conditions == [("destination_number", "^clinicall_after_queue$"),
                          ("${CLINICALL_SURVEY}", "^1$"), ("${cc_cause}", "^answered$")]
    steps = [(a.get("application"), a.get("data")) for a in survey.findall("condition/action")]
    assert steps == [("set", "CLINICALL_SURVEYING=1"),
                     ("socket", "127.0.0.1:8084 async full"), ("hangup", None)]


def test_a_reminder_session_names_its_appointment() -> None:
    assert call_info(CHANNEL).reminder is None
    reminder = EslEvent([*CHANNEL.headers, ("variable_CLINICALL_FLOW", "reminder"),
                         ("variable_CLINICALL_APPOINTMENT", "12")])  # fmt: skip
    assert call_info(reminder).reminder == "12"


def test_the_flow_extension_hands_the_callee_to_the_controller_then_queue_or_end() -> None:
    text = render_freeswitch_config(load_config(EXAMPLE)).files[inc.CONTEXT]
    root = ET.fromstring(text[text.index("<include>"):])
    flow = root.find("context/extension[@name='clinicall_flow']/condition")
    assert flow is not None
    assert [(a.get("application"), a.get("data")) for a in flow] == [
        ("set", "socket_resume=true"), ("socket", "127.0.0.1:8084 async full"),
        ("transfer", "clinicall_flow_done XML clinicall")]
    done = root.findall("context/extension[@name='clinicall_flow_done']/condition")
    assert [(c.get("field"), c.get("expression")) for c in done] == [
        ("destination_number", "^clinicall_flow_done$"), ("${CLINICALL_OUTCOME}", "^queue$")]
    assert [(a.tag, a.get("application"), a.get("data")) for a in done[1]] == [
        ("action", "transfer", "clinicall_after_ivr XML clinicall"),
        ("anti-action", "hangup", None)]


def test_the_second_session_names_the_answered_call_the_first_none() -> None:
    assert call_info(CHANNEL).answered is None
    handed_back = EslEvent([*CHANNEL.headers, ("variable_CLINICALL_SURVEYING", "1"),
                            ("variable_CLINICALL_LANG", "en"),
                            ("variable_cc_queue", "gynecology@clinicall"),
                            ("variable_cc_agent", "op102"),
                            ("variable_CLINICALL_ROUTE", "gynecology")])  # fmt: skip
    assert call_info(handed_back).answered == AnsweredCall(
        language="en", queue="gynecology", operator="op102", route="gynecology")
