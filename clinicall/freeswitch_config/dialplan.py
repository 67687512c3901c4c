"""The dialplan: each clinic number → answer → the controller's outbound socket → (if the
controller is not there, or lets go of the call without ending it) the fallback queue.

Two files.  ``public_numbers.xml`` goes inside the stock ``public`` context (where calls from
trunks arrive) and only moves the clinic's numbers into clinicall's own context;
``dialplan_context.xml`` is that context.  The call is answered, marked for the account
(``accountcode`` picks the CDR template, docs/engines/freeswitch.md) and handed to
``socket HOST:PORT async full`` with ``socket_resume=true``.  When the socket cannot
connect, or the controller goes away mid-call (mod_event_socket would otherwise hang up a
call whose socket closed), the dialplan goes on: a transfer re-reads the variables the
controller set, and unless the
IVR ended the call on purpose (self-served, after hours, hung up, callback booked) the caller
joins the fallback route's queue with ``CLINICALL_OUTCOME=fallback``, as on Asterisk
(clinicall/asterisk_config/dialplan.py): the clinic keeps answering when the controller is down.
"""

from __future__ import annotations

import re

from clinicall.agi_scripts import variables as v
from clinicall.controller.freeswitch.call_port import OFFER_HANDOVER, SURVEY_HANDOVER
from clinicall.controller.freeswitch.queue_wait import OFFER_KEYS, WAIT_OVER_KEY, timer_group
from clinicall.freeswitch_config.accounting import ACCOUNT
from clinicall.freeswitch_config.callback import callback_context
from clinicall.freeswitch_config.callcenter import QUEUE_DOMAIN, queue_name
from clinicall.freeswitch_config.xmlfile import fragment, raw, value
from clinicall.settings.models import ClinicConfig, FreeswitchEngine

CONTEXT = "clinicall"
#: The extension the call is transferred to after the IVR session, in CONTEXT.
AFTER_IVR = "clinicall_after_ivr"
#: Where a caller goes when their queue stay ended: on to the overflow queue after the
#: queue's timeout, else the call ends.
AFTER_QUEUE = "clinicall_after_queue"
#: The context the dialling leg of a call the clinic places runs in (the engine port's
#: originate, controller/freeswitch/control.py): the outbound route (``_originate``).
ORIGINATE_CONTEXT = "clinicall_originate"
#: mod_callcenter's ``cc_cancel_reason`` when the queue gave the caller up for time.
TIMED_OUT = ("TIMEOUT", "NO_AGENT_TIMEOUT")
#: ``${cc_cancel_reason}/${cc_exit_key}`` of a stay the queue or the route's wait ended
#: (controller/freeswitch/queue_wait.py): the caller goes on to the overflow queue.
WAIT_OVER = "^(" + "|".join(TIMED_OUT) + ")/|^EXIT_WITH_KEY/" + WAIT_OVER_KEY + "$"
#: ``${cc_cancel_reason}/${cc_exit_key}`` of a stay the caller left by an offer key (theirs,
#: or the one the threshold offer sends): on to the controller's offer flow.
OFFER_EXIT = "^EXIT_WITH_KEY/[" + OFFER_KEYS + "]$"
#: The caller's wait timer's sched_api group (the caller's uuid, expanded when set).
TIMER = timer_group("${uuid}")
#: The clinic number the patient dialled, E.164 (the same name as on Asterisk).
DIALLED = "CLINICALL_DIALLED"
OUTCOME_FALLBACK = "fallback"
#: The sofia profile the trunks' calls come in on and a trunk without a gateway is dialled
#: through (clinicall/freeswitch_config/trunks.py).
PROFILE = "internal"
FINAL_OUTCOMES = (v.OUTCOME_SELFSERVED, v.OUTCOME_AFTERHOURS, v.OUTCOME_HANGUP, "callback")


def socket_target(engine: FreeswitchEngine) -> str:
    """``socket``'s argument: the controller's outbound listener, one connection per call."""
    return f"{engine.outbound_host}:{engine.outbound_port} async full"


def _action(app: str, data: str | None = None, *, anti: bool = False, quoted: bool = False,
            indent: int = 8) -> str:
    tag = "anti-action" if anti else "action"
    attrs = f"application={raw(app)}"
    if data is not None:
        attrs += f" data={raw(data) if quoted else value(data)}"
    return " " * indent + f"<{tag} {attrs}/>"


def public_numbers(config: ClinicConfig) -> str:
    lines: list[str] = []
    for n in config.numbers:
        digits = n.number.removeprefix("+")
        expression = r"^\+?" + re.escape(digits) + "$"
        lines += [
            f"  <extension name={value('clinicall_' + digits)}>",
            f"    <condition field=\"destination_number\" "
            f"expression={value(expression)}>",
            _action("set", f"{DIALLED}={n.number}", indent=6),
            _action("transfer", f"{n.number} XML {CONTEXT}", indent=6),
            "    </condition>",
            "  </extension>",
        ]
    return fragment(lines, note="the clinic's numbers, into clinicall's context")


def _offer_keys(config: ClinicConfig, after_ivr: str) -> list[str]:
    """With callbacks on, the offer's keys end a queue stay (``cc_exit_keys``; the wait
    timer's extension below adds its own key to them)."""
    if not config.callbacks.enabled:
        return []
    return [
        "    <!-- The in-queue callback offer: its keys end the stay (docs/callbacks.md). -->",
        "    <extension name=\"clinicall_offer_keys\" continue=\"true\">",
        f"      <condition field=\"destination_number\" expression={value(after_ivr)}/>",
        f"      <condition field={raw('${' + v.CLINICALL_OUTCOME + '}')} "
        f"expression={value('^' + v.OUTCOME_QUEUE + '$')}>",
        _action("set", f"cc_exit_keys={OFFER_KEYS}"),
        "      </condition>",
        "    </extension>",
    ]


def _offer(config: ClinicConfig, engine: FreeswitchEngine, after_queue: str) -> list[str]:
    """A stay left by an offer key: the caller is handed to the controller's offer flow
    (``CLINICALL_OFFERING=1``, read by controller/freeswitch/call_port.py).  A booked caller
    was hung up by the flow; anyone else (declined, refused, the controller unreachable) goes
    back through ``clinicall_after_ivr`` to the queue they left (``CLINICALL_QUEUE``, the
    overflow queue's once moved there), with the offer's keys and the route's wait timer
    armed again, as Asterisk's ``Queue()`` gets the route's wait again; there
    ``time-base-score=system`` gives them the place their call's answer earned.
    mod_callcenter leaves ``cc_cancel_reason`` and ``cc_exit_key`` of the earlier stay on the
    channel: cleared first, so the end of the next stay is its own."""
    if not config.callbacks.enabled:
        return []
    return [
        "    <!-- Left the queue by an offer key: the offer, then back to the queue. -->",
        "    <extension name=\"clinicall_offer\">",
        f"      <condition field=\"destination_number\" expression={value(after_queue)}/>",
        "      <condition field=\"${cc_cancel_reason}/${cc_exit_key}\" "
        f"expression={value(OFFER_EXIT)}>",
        _action("set", f"{OFFER_HANDOVER}=1"),
        _action("socket", socket_target(engine)),
        _action("set", f"{OFFER_HANDOVER}="),
        _action("unset", "cc_cancel_reason"),
        _action("unset", "cc_exit_key"),
        _action("transfer", f"{AFTER_IVR} XML {CONTEXT}"),
        "      </condition>",
        "    </extension>",
    ]


#: What the callback's patient leg carries for its greeting (freeswitch_config/callback.py).
CONFIRM_VARIABLES = ("group_confirm_key", "group_confirm_file", "group_confirm_cancel_timeout")
#: The trunks' codec names (Asterisk's, as ``trunks[].codecs`` has them) in FreeSWITCH's.
FREESWITCH_CODECS = {"alaw": "PCMA", "ulaw": "PCMU", "g722": "G722", "opus": "OPUS",
                     "gsm": "GSM", "g729": "G729", "ilbc": "iLBC", "speex": "SPEEX"}


def codec_string(codecs: list[str]) -> str:
    return ",".join(FREESWITCH_CODECS.get(c, c.upper()) for c in codecs)


def _originate(config: ClinicConfig) -> list[str]:
    """The ``clinicall_originate`` context, where the dialling leg of a call the clinic places
    (``loopback/<+E.164>/clinicall_originate``) runs: the number formatted for the outbound
    route (``outbound.number_format``; the rules in order, the most specific first), the
    caller id set, and the trunk bridged (a gateway when the trunk has credentials, else the
    profile straight to its host) or the PBX's own context; a failed bridge hangs the leg up
    with its cause, which the loopback hands to the originate (busy stays busy).  No route
    configured: every number is refused, as on Asterisk (docs/outbound.md)."""
    out = config.outbound
    lines = [f"  <context name={value(ORIGINATE_CONTEXT)}>"]
    if not out.configured:
        return [*lines,
                "    <!-- Calls the clinic places: no outbound route is configured. -->",
                "    <extension name=\"clinicall_no_route\">",
                "      <condition field=\"destination_number\" expression=\"^\\+?[0-9]+$\">",
                _action("hangup", "OUTGOING_CALL_BARRED"),
                "      </condition>",
                "    </extension>",
                "  </context>"]
    trunk = next((t for t in config.trunks if t.id == out.trunk), None)
    for i, rule in enumerate(out.dial_rules()):
        stripped, kept = rule.match[:rule.strip], rule.match[rule.strip:]
        expression = "^" + re.escape(stripped) + "(" + re.escape(kept) + r"[0-9]+)$"
        number = rule.prepend + "$1"
        if trunk is None:
            route = _action("transfer", f"{number} XML {out.context}")
        else:
            # the trunk's codecs, not the loopback leg's (L16, which no provider takes); a
            # gateway's From carries its account, so the caller id goes in P-Asserted-Identity
            leg = f"absolute_codec_string='{codec_string(trunk.codecs)}'"
            if trunk.username:
                leg, target = f"{leg},sip_cid_type=pid", f"sofia/gateway/{trunk.id}/{number}"
            else:
                target = f"sofia/{PROFILE}/{number}@{trunk.host}"
            route = _action("bridge", f"[{leg}]{target}")
        lines += [
            f"    <extension name={value(f'clinicall_dial_{i}')}>",
            f"      <condition field=\"destination_number\" expression={value(expression)}>",
            # the callback's greeting belongs to this leg's originate, not to the bridge out:
            # an originate copies its caller's group_confirm_* (switch_ivr_originate.c), and
            # mod_loopback gave this half the other's
            *(_action("unset", name) for name in CONFIRM_VARIABLES),
            _action("set", f"effective_caller_id_number={config.outbound_caller_id()}"),
            route,
            "      </condition>",
            "    </extension>"]
    return [*lines, "  </context>"]


def context(config: ClinicConfig) -> str:
    engine = config.engine
    if not isinstance(engine, FreeswitchEngine):
        raise TypeError("the FreeSWITCH dialplan needs a FreeSWITCH engine config")
    fallback = config.routes[config.ivr.fallback_route]
    final = "|".join(FINAL_OUTCOMES)
    after_ivr = f"^{AFTER_IVR}$"
    queue = "${" + v.CLINICALL_QUEUE + "}@" + QUEUE_DOMAIN
    after_queue = f"^{AFTER_QUEUE}$"
    max_wait = "${" + v.CLINICALL_MAX_WAIT + "}"
    exit_keys = WAIT_OVER_KEY + (OFFER_KEYS if config.callbacks.enabled else "")
    lines = [
        f"  <context name={value(CONTEXT)}>",
        *_offer_keys(config, after_ivr),
        "    <!-- The route's wait before overflow: a timer that presses the exit key. -->",
        "    <extension name=\"clinicall_queue_timer\" continue=\"true\">",
        f"      <condition field=\"destination_number\" expression={value(after_ivr)}/>",
        f"      <condition field={raw('${' + v.CLINICALL_OUTCOME + '}')} "
        f"expression={value('^' + v.OUTCOME_QUEUE + '$')}/>",
        f"      <condition field={raw(max_wait)} expression=\"^[1-9][0-9]{{0,4}}$\">",
        _action("set", f"cc_exit_keys={exit_keys}"),
        _action("set", f"api_on_answer=sched_del {TIMER}", quoted=True),
        _action("set", "cc_export_vars=api_on_answer"),
        _action("set", f"clinicall_wait_timer=${{sched_api(+{max_wait} {TIMER} "
                f"uuid_recv_dtmf ${{uuid}} {WAIT_OVER_KEY})}}", quoted=True),
        "      </condition>",
        "    </extension>",
        "    <!-- After the IVR: the queue it chose (CLINICALL_QUEUE), then its overflow. -->",
        "    <extension name=\"clinicall_queue\">",
        f"      <condition field=\"destination_number\" expression={value(after_ivr)}/>",
        f"      <condition field={raw('${' + v.CLINICALL_OUTCOME + '}')} "
        f"expression={value('^' + v.OUTCOME_QUEUE + '$')}>",
        _action("callcenter", queue, quoted=True),
        _action("set", f"clinicall_wait_timer=${{sched_del({TIMER})}}", quoted=True),
        _action("transfer", f"{AFTER_QUEUE} XML {CONTEXT}"),
        "      </condition>",
        "    </extension>",
        *_offer(config, engine, after_queue),
        "    <extension name=\"clinicall_overflow\">",
        f"      <condition field=\"destination_number\" expression={value(after_queue)}/>",
        "      <condition field=\"${cc_cancel_reason}/${cc_exit_key}\" "
        f"expression={value(WAIT_OVER)}/>",
        f"      <condition field={raw('${' + v.CLINICALL_OVERFLOW + '}')} expression=\"^.+$\">",
        _action("set", f"{v.CLINICALL_QUEUE}=${{{v.CLINICALL_OVERFLOW}}}", quoted=True),
        _action("set", f"{v.CLINICALL_OVERFLOW}="),
        _action("set", f"{v.CLINICALL_MAX_WAIT}="),  # the overflow queue's own max wait
        _action("transfer", f"{AFTER_IVR} XML {CONTEXT}"),
        "      </condition>",
        "    </extension>",
        "    <!-- Answered and agreed to the survey: back to the controller for it. -->",
        "    <extension name=\"clinicall_survey\">",
        f"      <condition field=\"destination_number\" expression={value(after_queue)}/>",
        f"      <condition field={raw('${' + v.CLINICALL_SURVEY + '}')} expression=\"^1$\"/>",
        "      <condition field=\"${cc_cause}\" expression=\"^answered$\">",
        _action("set", f"{SURVEY_HANDOVER}=1"),
        _action("socket", socket_target(engine)),
        _action("hangup"),
        "      </condition>",
        "    </extension>",
        "    <extension name=\"clinicall_queue_done\">",
        f"      <condition field=\"destination_number\" expression={value(after_queue)}>",
        _action("hangup"),
        "      </condition>",
        "    </extension>",
        "    <!-- After the IVR: end the call if the IVR ended it, else the fallback queue. -->",
        f"    <extension name={value(AFTER_IVR)}>",
        f"      <condition field=\"destination_number\" expression={value(after_ivr)}/>",
        f"      <condition field={raw('${' + v.CLINICALL_OUTCOME + '}')} "
        f"expression={value('^(' + final + ')$')}>",
        _action("hangup"),
        _action("set", f"{v.CLINICALL_OUTCOME}={OUTCOME_FALLBACK}", anti=True),
        _action("set", f"{v.CLINICALL_ROUTE}={config.ivr.fallback_route}", anti=True),
        _action("set", f"{v.CLINICALL_QUEUE}={fallback.queue}", anti=True),
        _action("callcenter", queue_name(fallback.queue), anti=True),
        _action("hangup", anti=True),
        "      </condition>",
        "    </extension>",
        "    <!-- A call the clinic placed into an IVR flow (a reminder), answered: the flow, -->",
        "    <!-- then the queue when the flow queued the callee (key 0), else the end. -->",
        "    <extension name=\"clinicall_flow\">",
        "      <condition field=\"destination_number\" expression=\"^clinicall_flow$\">",
        _action("set", "socket_resume=true"),
        _action("socket", socket_target(engine)),
        _action("transfer", "clinicall_flow_done XML " + CONTEXT),  # re-read the outcome
        "      </condition>",
        "    </extension>",
        "    <extension name=\"clinicall_flow_done\">",
        "      <condition field=\"destination_number\" expression=\"^clinicall_flow_done$\"/>",
        f"      <condition field={raw('${' + v.CLINICALL_OUTCOME + '}')} "
        f"expression={value('^' + v.OUTCOME_QUEUE + '$')}>",
        _action("transfer", f"{AFTER_IVR} XML {CONTEXT}"),
        _action("hangup", anti=True),
        "      </condition>",
        "    </extension>",
        "    <!-- A clinic number: answer, then the controller's IVR over the outbound socket. -->",
        "    <extension name=\"clinicall_call\">",
        "      <condition field=\"destination_number\" expression=\"^\\+?[0-9]+$\">",
        _action("set", f"accountcode={ACCOUNT}"),
        _action("set", "RECORD_STEREO=true"),
        _action("set", "socket_resume=true"),  # the controller gone: on to the fallback
        _action("answer"),
        _action("socket", socket_target(engine)),
        _action("transfer", f"{AFTER_IVR} XML {CONTEXT}"),
        "      </condition>",
        "    </extension>",
        "  </context>",
        *_originate(config),
        *callback_context(socket_target(engine),
                          confirm=config.callbacks.confirm_key is not None),
    ]
    return fragment(lines, note="clinicall's contexts: the IVR, its queues and the fallback "
                    "queue; calls the clinic places; the callback call, agent first")
