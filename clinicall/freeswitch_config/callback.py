"""The callback call, agent first (docs/callbacks.md, "The callback call";
docs/engines/freeswitch.md, "The callback call").

The engine port's originate rings the reserved operator's contact into the
``clinicall_callback`` context with the patient's number as the extension
(controller/freeswitch/control.py).  Once the operator answered, their leg runs this: the
whisper (the leg is handed to the controller's outbound socket with
``CLINICALL_CALLBACK_SIDE=operator``: ivr.callback_call; a controller that is down costs the
words, ``socket_resume`` goes on), then ``bridge`` to the
patient through ``loopback/<number>/${CLINICALL_DIAL_CONTEXT}`` (the originate context the
controller names: the generated one refuses every number until an outbound route is
configured, the tests' simulated patient answers).  The patient's answered leg first runs the
greeting (``group_confirm_key=exec``: the originate waits for that socket session), then,
before the two are bridged, FreeSWITCH runs one application on each leg (``bridge_pre_execute_*``):
on the operator's leg ``set CLINICALL_OUTCOME=callback_answered``, which the leg's CDR line
keeps (the durable record a controller that was down reads back, as Asterisk's
``CLINICALLCB`` queue_log line), and on the patient's leg the ``clinicall::callback`` event
(``Key``, ``Status: ANSWER``) the controller waits for.  A patient who does not answer, is busy
or unreachable: the bridge fails, the same event carries its ``originate_disposition``
(``NO_ANSWER``, ``USER_BUSY``, ...) and the operator's leg hangs up.
"""

from __future__ import annotations

from clinicall.agi_scripts import variables as v
from clinicall.controller.freeswitch.control import (
    CALLBACK_CONTEXT,
    CALLBACK_SUBCLASS,
    DIAL_CONTEXT,
    DIAL_LIMIT_S,
    ORIGINATE_KEY,
    PATIENT_CALLER_ID,
    RING_S,
)
from clinicall.controller.port import CALLBACK_ANSWERED
from clinicall.freeswitch_config.xmlfile import raw, value

#: The extensions of the patient's greeting with a confirm key (``_confirm_extensions``).
GREETING, UNCONFIRMED = "clinicall_greeting", "clinicall_unconfirmed"


def _var(name: str) -> str:
    return "${" + name + "}"


def _event(status: str) -> str:
    return (f"Event-Name=CUSTOM,Event-Subclass={CALLBACK_SUBCLASS},"
            f"Key={_var(ORIGINATE_KEY)},Status={status}")


def _set(assignment: str) -> str:
    return f"        <action application=\"set\" data={raw(assignment)}/>"


def callback_context(socket: str, *, confirm: bool = False) -> list[str]:
    """The ``clinicall_callback`` context (lines inside ``dialplan_context.xml``); ``socket``
    is the controller's outbound socket target; ``confirm``: the clinic asks the patient for
    a confirm key (``callbacks.confirm_key``)."""
    # the greeting: once the patient answers, before the bridge, the originate runs one
    # application on their leg and waits for it (``group_confirm_key=exec``): the socket.
    # No ``socket_resume`` there: it would send the leg to its dialplan, out of the originate.
    # With a confirm key the application is the greeting extension: the socket, then the
    # hang-up of a patient who pressed none (a condition is read when its extension is
    # looked up, so the check is an extension of its own, looked up after the socket)
    run = f"execute_extension {GREETING} XML {CALLBACK_CONTEXT}" if confirm else f"socket {socket}"
    greeting = (f"{v.CLINICALL_CALLBACK}={_var(v.CLINICALL_CALLBACK)},"
                f"{v.CLINICALL_CALLBACK_SIDE}=patient,"
                f"group_confirm_key=exec,group_confirm_file='{run}',"
                "group_confirm_cancel_timeout=true")
    # the ring is the leg's own limit, which the answer cancels; the originate's limit is
    # the ring plus the greeting (it is not cancelled: a greeting that outlasted the rest of
    # the ring was cut, and the answered patient counted unreached)
    patient = (f"{{origination_caller_id_number={_var(PATIENT_CALLER_ID)},"
               f"originate_timeout={_var(DIAL_LIMIT_S)},{greeting}}}"
               f"[leg_timeout={_var(RING_S)}]"
               f"loopback/{_var('destination_number')}/{_var(DIAL_CONTEXT)}")
    return [
        f"  <context name={value(CALLBACK_CONTEXT)}>",
        "    <!-- Callbacks, agent first: the operator answered; whisper, then the patient. -->",
        "    <extension name=\"clinicall_callback\">",
        "      <condition field=\"destination_number\" expression=\"^\\+?[0-9]+$\">",
        _set("continue_on_fail=true"),
        _set("hangup_after_bridge=true"),
        _set(f"{v.CLINICALL_CALLBACK_SIDE}=operator"),
        _set("socket_resume=true"),
        f"        <action application=\"socket\" data={raw(socket)}/>",
        _set("bridge_pre_execute_aleg_app=set"),
        _set(f"bridge_pre_execute_aleg_data=CLINICALL_OUTCOME={CALLBACK_ANSWERED}"),
        _set("bridge_pre_execute_bleg_app=event"),
        _set(f"bridge_pre_execute_bleg_data={_event('ANSWER')}"),
        f"        <action application=\"bridge\" data={raw(patient)}/>",
        f"        <action application=\"event\" "
        f"data={raw(_event(_var('originate_disposition')))}/>",
        "        <action application=\"hangup\"/>",
        "      </condition>",
        "    </extension>",
        *(_confirm_extensions(socket) if confirm else []),
        "  </context>",
    ]


def _confirm_extensions(socket: str) -> list[str]:
    """The patient's greeting with a confirm key: the socket, then ``UNCONFIRMED``'s check; a
    patient who pressed no key is hung up (``NO_USER_RESPONSE``), so the originate fails
    with that disposition and the patient is not put through."""
    unconfirmed = "${" + v.CLINICALL_CONFIRMED + "}"
    return [
        f"    <extension name={value(GREETING)}>",
        f"      <condition field=\"destination_number\" expression={value(f'^{GREETING}$')}>",
        f"        <action application=\"socket\" data={raw(socket)}/>",
        f"        <action application=\"execute_extension\" "
        f"data={raw(f'{UNCONFIRMED} XML {CALLBACK_CONTEXT}')}/>",
        "      </condition>",
        "    </extension>",
        f"    <extension name={value(UNCONFIRMED)}>",
        f"      <condition field=\"destination_number\" expression={value(f'^{UNCONFIRMED}$')}/>",
        f"      <condition field={raw(unconfirmed)} expression=\"^0$\">",
        "        <action application=\"hangup\" data=\"NO_USER_RESPONSE\"/>",
        "      </condition>",
        "    </extension>",
    ]
