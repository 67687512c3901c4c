"""The callback call's FreeSWITCH side: the generated ``clinicall_callback`` context (whisper,
then the patient; the answer marked durably on the operator's leg and told live) and the
operator leg's CDR line read back as "the patient answered" (the real engine:
tests/integration/test_callbacks_freeswitch.py)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from clinicall.calltypes import CallbackLeg
from clinicall.controller.facts import CallDataSet, ChannelOfCall
from clinicall.controller.freeswitch.call_port import call_info
from clinicall.controller.freeswitch.cdr import FIELDS, decode_line, parse_line
from clinicall.controller.freeswitch.esl.message import EslEvent
from clinicall.controller.port import CALLBACK_ANSWERED
from clinicall.freeswitch_config import includes as inc
from clinicall.freeswitch_config import render_freeswitch_config
from clinicall.settings import load_config

from .test_call_port import CHANNEL

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "clinic.freeswitch.example.yaml"


def line(values: dict[str, str]) -> str:
    return ",".join(f'"{values.get(name, "")}"' for name in FIELDS)


def test_the_callback_context_whispers_then_bridges_the_patient_marking_the_answer() -> None:
    text = render_freeswitch_config(load_config(EXAMPLE)).files[inc.CONTEXT]
    root = ET.fromstring(text[text.index("<include>"):])
    [context] = [c for c in root.findall("context") if c.get("name") == "clinicall_callback"]
    condition = context.find("extension/condition")
    assert condition is not None
    assert condition.get("expression") == r"^\+?[0-9]+$"
    steps = [(a.get("application"), a.get("data")) for a in condition]
    apps = [app for app, _ in steps]
    assert apps == ["set", "set", "set", "set", "socket", "set", "set", "set", "set", "bridge",
                    "event", "hangup"]  # fmt: skip
    # the whisper: the operator's leg goes to the controller's socket, then on to the bridge
    assert ("set", "CLINICALL_CALLBACK_SIDE=operator") in steps
    assert apps.index("socket") > steps.index(("set", "socket_resume=true"))
    assert str(dict(steps)["socket"]).endswith(" async full")
    assert ("set", "continue_on_fail=true") in steps  # a failed bridge goes on to the event
    assert ("set", "bridge_pre_execute_aleg_app=set") in steps
    assert ("set", f"bridge_pre_execute_aleg_data=CLINICALL_OUTCOME={CALLBACK_ANSWERED}") \
        in steps
    assert ("set", "bridge_pre_execute_bleg_data=Event-Name=CUSTOM,Event-Subclass="
            "clinicall::callback,Key=${CLINICALL_ORIGINATE_KEY},Status=ANSWER") in steps
    bridge = dict(steps)["bridge"]
    assert bridge is not None
    assert bridge.endswith("loopback/${destination_number}/${CLINICALL_DIAL_CONTEXT}")
    # the ring is the leg's limit (cancelled by the answer), the greeting is in the whole's
    assert "originate_timeout=${CLINICALL_DIAL_LIMIT_S}" in bridge
    assert "}[leg_timeout=${CLINICALL_RING_S}]loopback/" in bridge
    # the greeting: the patient's answered leg runs the socket before the bridge, and goes
    # back to the originate (no socket_resume) whatever the controller did
    assert "CLINICALL_CALLBACK=${CLINICALL_CALLBACK},CLINICALL_CALLBACK_SIDE=patient," in bridge
    assert "group_confirm_key=exec,group_confirm_file='socket " in bridge
    assert "group_confirm_cancel_timeout=true" in bridge
    assert "socket_resume" not in bridge
    assert dict(steps)["event"] == ("Event-Name=CUSTOM,Event-Subclass=clinicall::callback,"
                                    "Key=${CLINICALL_ORIGINATE_KEY},"
                                    "Status=${originate_disposition}")


def test_an_operator_leg_whose_patient_answered_reads_back_as_callback_answered() -> None:
    fields = {"uuid": "cb-uuid", "start_epoch": "1000", "answer_epoch": "1002",
              "end_epoch": "1090", "CLINICALL_OUTCOME": CALLBACK_ANSWERED,
              "CLINICALL_QUEUE": "universal"}  # fmt: skip
    facts = decode_line(parse_line(line(fields)), 7, queue_domain="clinicall")
    assert [type(f) for f in facts] == [ChannelOfCall, CallDataSet]
    data = facts[1]
    assert isinstance(data, CallDataSet)
    assert (data.call_id, data.channel_id, data.name, data.value, data.durable, data.seq) == (
        "cb-uuid", "cb-uuid", "outcome", CALLBACK_ANSWERED, True, 7)
    unanswered = decode_line(parse_line(line({**fields, "CLINICALL_OUTCOME": ""})), 8,
                             queue_domain="clinicall")  # fmt: skip
    assert [type(f) for f in unanswered] == [ChannelOfCall]


def test_the_legs_handed_over_for_the_whisper_and_greeting_are_callback_legs() -> None:
    """The callback context's socket sessions: ``CLINICALL_CALLBACK_SIDE`` (``operator``,
    ``patient``) and the job id make a callback leg; anything else is not one."""
    whisper = [*CHANNEL.headers, ("variable_CLINICALL_CALLBACK", "12"),
               ("variable_CLINICALL_CALLBACK_SIDE", "operator")]  # fmt: skip
    assert call_info(EslEvent(whisper)).callback == CallbackLeg("12", "operator")
    assert call_info(EslEvent(whisper[:-1])).callback is None  # the leg before the whisper
    assert call_info(EslEvent([*CHANNEL.headers, ("variable_CLINICALL_CALLBACK", "x"), (
        "variable_CLINICALL_CALLBACK_SIDE", "operator")])).callback is None
    assert call_info(CHANNEL).callback is None
    greeting = [*whisper[:-1], ("variable_CLINICALL_CALLBACK_SIDE", "patient")]
    assert call_info(EslEvent(greeting)).callback == CallbackLeg("12", "patient")


def test_with_a_confirm_key_the_greeting_hangs_up_a_patient_who_pressed_none() -> None:
    """The patient's leg runs the greeting extension (the socket, then a check looked up
    after it, since a condition is read when its extension is looked up): ``CLINICALL_CONFIRMED``
    of ``0`` hangs the leg up, ``NO_USER_RESPONSE``, so the patient is not put through."""
    config = load_config(EXAMPLE)
    config = config.model_copy(update={"callbacks": config.callbacks.model_copy(
        update={"enabled": True, "confirm_key": "1"})})
    text = render_freeswitch_config(config).files[inc.CONTEXT]
    root = ET.fromstring(text[text.index("<include>"):])
    [context] = [c for c in root.findall("context") if c.get("name") == "clinicall_callback"]
    extensions = {e.get("name"): e for e in context.findall("extension")}
    bridge = next(a.get("data") for a in extensions["clinicall_callback"].iter("action")
                  if a.get("application") == "bridge")  # fmt: skip
    assert bridge is not None
    assert ("group_confirm_key=exec,group_confirm_file='execute_extension clinicall_greeting "
            "XML clinicall_callback'") in bridge
    [greeting] = extensions["clinicall_greeting"].findall("condition")
    assert greeting.get("expression") == "^clinicall_greeting$"
    steps = [(a.get("application"), a.get("data")) for a in greeting]
    assert [app for app, _ in steps] == ["socket", "execute_extension"]
    assert str(steps[0][1]).endswith(" async full")
    assert steps[1][1] == "clinicall_unconfirmed XML clinicall_callback"
    number, confirmed = extensions["clinicall_unconfirmed"].findall("condition")
    assert (number.get("field"), number.get("expression")) == ("destination_number",
                                                               "^clinicall_unconfirmed$")
    assert (confirmed.get("field"), confirmed.get("expression")) == ("${CLINICALL_CONFIRMED}",
                                                                     "^0$")
    assert [(a.get("application"), a.get("data")) for a in confirmed] == [
        ("hangup", "NO_USER_RESPONSE")]
    # without a confirm key: the socket itself, no greeting extensions
    plain = render_freeswitch_config(load_config(EXAMPLE)).files[inc.CONTEXT]
    assert "clinicall_greeting" not in plain
