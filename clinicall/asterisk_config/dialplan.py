"""``clinicall_extensions.conf``: the clinic numbers → the IVR (FastAGI) → the queue it chose.

Only ``clinicall-*`` contexts, so it is included into the administrator's ``extensions.conf``
beside their own; the clinic's trunks deliver into ``clinicall-inbound``.

The dialplan fails open: if the IVR cannot be reached or returns without a queue, the caller
still goes to the fallback route's queue (``CLINICALL_OUTCOME=fallback``); a specialty queue
that nobody can answer (or whose max wait passed) hands the caller to its overflow queue; and
only an IVR outcome that ended the call on purpose (self-served, after hours, hung up, callback
booked) hangs up.  A patient who agreed to the post-call survey (``CLINICALL_SURVEY=1``) is
queued with option ``c``: when the operator hangs up, the patient's leg continues into the
survey (a second FastAGI session, script ``survey``).
"""

from __future__ import annotations

from collections.abc import Sequence

from clinicall.agi_scripts import variables as v
from clinicall.asterisk_config.conffile import document
from clinicall.controller.asterisk.control import (
    CALLBACK_ANSWERED,
    CALLBACK_CONTEXT,
    CALLBACK_EVENT,
    FLOW_CONTEXT,
)
from clinicall.controller.asterisk.control import ORIGINATE_CONTEXT as ORIGINATE
from clinicall.controller.asterisk.control import QUEUE_ENTRY_CONTEXT as QUEUE_ENTRY
from clinicall.controller.asterisk.doctor_probe import DOCTOR_CONTEXT, DOCTOR_EVENT
from clinicall.controller.asterisk.marks import CALLBACK_EVENT as CALLBACK_MARK
from clinicall.controller.asterisk.recording_layout import dialplan_filename
from clinicall.ivr.callback_offer import OFFER_KEY
from clinicall.settings.models import ClinicConfig

INBOUND = "clinicall-inbound"
CALL = "clinicall-call"
OPERATORS = "clinicall-operators"
#: Per-queue max wait, so an overflow queue applies its own: ${CLINICALL_MAXWAIT_<queue>}
#: (channel variables set as the call starts, so nothing of ours lands in the administrator's
#: ``[globals]``).
MAXWAIT_PREFIX = "CLINICALL_MAXWAIT_"
#: The clinic number the patient dialled, E.164 (the dialled digits for an unknown number).
DIALLED = "CLINICALL_DIALLED"
#: IVR outcomes after which the call ends here ("callback": the patient asked to be called).
FINAL_OUTCOMES = (v.OUTCOME_SELFSERVED, v.OUTCOME_AFTERHOURS, v.OUTCOME_HANGUP, "callback")
OUTCOME_FALLBACK = "fallback"
#: QUEUESTATUS values after which the caller goes on to the overflow queue.
OVERFLOW_STATUSES = ("TIMEOUT", "JOINEMPTY", "LEAVEEMPTY", "JOINUNAVAIL", "LEAVEUNAVAIL")
#: QUEUESTATUS values meaning nobody could take the call (never the patient's fault).
EMPTY_STATUSES = OVERFLOW_STATUSES[1:]
QUEUE_OPTIONS = "t"  # the operator may transfer the call (to a doctor, another desk)
#: ... and ``c``: the patient's leg continues after the operator hangs up (post-call survey).
SURVEY_QUEUE_OPTIONS = QUEUE_OPTIONS + "c"
#: The options of the call's Queue() steps, chosen once from ``CLINICALL_SURVEY``.
QUEUE_OPTIONS_VAR = "CLINICALL_QUEUE_OPTIONS"


def agi_url(config: ClinicConfig) -> str:
    settings = config.asterisk_engine()
    return f"agi://{settings.agi_host}:{settings.agi_port}/{v.IVR_SCRIPT}"


def script_url(ivr_url: str, script: str) -> str:
    """A FastAGI script's URL on the IVR's server (``agi://host:port/<script>``)."""
    base = ivr_url.rsplit("/", 1)[0] if ivr_url.count("/") > 2 else ivr_url
    return f"{base}/{script}"


def survey_url(ivr_url: str) -> str:
    """The survey's FastAGI URL: the IVR's server, script ``survey``."""
    return script_url(ivr_url, v.SURVEY_SCRIPT)


def offer_url(ivr_url: str) -> str:
    """The in-queue callback offer's FastAGI URL: the IVR's server, script ``offer``."""
    return script_url(ivr_url, v.OFFER_SCRIPT)


def reminder_url(ivr_url: str) -> str:
    """The reminder flow's FastAGI URL: the IVR's server, script ``reminder``."""
    return script_url(ivr_url, v.REMINDER_SCRIPT)


def var(name: str) -> str:
    return "${" + name + "}"


def _any_of(name: str, values: tuple[str, ...]) -> str:
    return " | ".join(f'"{var(name)}" = "{value}"' for value in values)


Step = str | tuple[str, str]  # "App(args)" or ("label", "App(args)")


def _ext(exten: str, steps: Sequence[Step]) -> list[str]:
    """``exten => X,1,first`` then ``same => n,...``; a ``(label, app)`` step gets a label."""
    out = []
    for i, step in enumerate(steps):
        label, app = step if isinstance(step, tuple) else ("", step)
        prio = "1" if i == 0 else "n"
        prio += f"({label})" if label else ""
        out.append(f"exten => {exten},{prio},{app}" if i == 0 else f" same => {prio},{app}")
    return out


def _labelled(label: str, steps: list[Step]) -> list[Step]:
    """``steps`` with ``label`` on the first."""
    first = steps[0]
    return [(label, first if isinstance(first, str) else first[1]), *steps[1:]]


def _max_waits(config: ClinicConfig) -> str:
    return "MSet(" + ",".join(f"{MAXWAIT_PREFIX}{qid}={q.max_wait_s}"
                              for qid, q in config.queues.items()) + ")"


def _inbound(config: ClinicConfig) -> str:
    """Numbers keep their digits into the IVR (it reads the extension to pick the language)."""
    lines = ["; Each clinic number (E.164, and without '+'); 's' is the first number; any other",
             "; number is still answered.", f"[{INBOUND}]"]
    for n in config.numbers:
        for exten in (n.number, n.number.removeprefix("+")):
            lines += _ext(exten, [f"Set({DIALLED}={n.number})", f"Goto({CALL},{exten},1)"])
    first = config.numbers[0].number
    lines += _ext("s", [f"Set({DIALLED}={first})", f"Goto({CALL},{first},1)"])
    for pattern in ("_X.", "_+X."):
        lines += _ext(pattern, [f"Set({DIALLED}=${{EXTEN}})", f"Goto({CALL},${{EXTEN}},1)"])
    return "\n".join(lines) + "\n"


def _call(config: ClinicConfig, agi: str) -> str:
    fallback = config.routes[config.ivr.fallback_route]
    fallback_queue = config.queues[fallback.queue]
    args = ",".join((agi, *v.IVR_AGI_ARGS))
    outcome, queue, overflow = v.CLINICALL_OUTCOME, v.CLINICALL_QUEUE, v.CLINICALL_OVERFLOW
    maxwait_of_overflow = var(MAXWAIT_PREFIX + var(overflow))
    # Only a clinic with a surveying queue gets the survey's steps (the same dialplan else).
    surveys = any(q.survey != "off" for q in config.queues.values())
    options = var(QUEUE_OPTIONS_VAR) if surveys else QUEUE_OPTIONS
    surveyed: list[Step] = [
        f'GotoIf($["{var(v.CLINICALL_SURVEY)}" = "1" & "{var(v.MEMBERNAME)}" != ""]?survey)'
    ] if surveys else []
    choose_options: list[Step] = [
        f'Set({QUEUE_OPTIONS_VAR}=${{IF($["{var(v.CLINICALL_SURVEY)}" = "1"]'
        f"?{SURVEY_QUEUE_OPTIONS}:{QUEUE_OPTIONS})}})"
    ] if surveys else []
    def joins(queue_name: str) -> list[Step]:
        return _joins(config, queue_name)

    survey: list[Step] = [
        ("survey", f"AGI({','.join((survey_url(agi), *v.SURVEY_AGI_ARGS))})"), "Hangup()",
    ] if surveys else []
    steps: list[Step] = [
        "Answer()",
        _max_waits(config),
        f"AGI({args})",
        f'GotoIf($["{var("AGISTATUS")}" != "SUCCESS"]?fallback)',
        f"GotoIf($[{_any_of(outcome, FINAL_OUTCOMES)}]?done)",
        f'GotoIf($["{var(queue)}" = ""]?fallback)',
        ("queue", f"Set({v.QUEUE_PRIO}={var(v.CLINICALL_PRIORITY)})"),
        *choose_options,
        _call_facts_line(),
        *_record(config),
        *joins(var(queue)),
        f"Queue({var(queue)},{options},,,{var(v.CLINICALL_MAX_WAIT)})",
        *surveyed,
        f'GotoIf($[("{var(overflow)}" != "") & ({_any_of("QUEUESTATUS", OVERFLOW_STATUSES)})]'
        "?overflow)",
        f"GotoIf($[{_any_of('QUEUESTATUS', EMPTY_STATUSES)}]?last)",
        ("done", "Hangup()"),
        *_labelled("overflow", [*joins(var(overflow)),
                                f"Queue({var(overflow)},{options},,,{maxwait_of_overflow})"]),
        *surveyed,
        f"GotoIf($[{_any_of('QUEUESTATUS', EMPTY_STATUSES)}]?last)",
        "Hangup()",
        *_labelled("last", [*joins(fallback.queue),
                            f"Queue({fallback.queue},{options},,,{fallback_queue.max_wait_s})"]),
        *surveyed,
        "Hangup()",
        *survey,
    ]
    max_wait = fallback.overflow_after_s or fallback_queue.max_wait_s
    fail_open: list[Step] = [
        ("fallback", f"Set({outcome}={OUTCOME_FALLBACK})"),
        f"Set({v.CLINICALL_ROUTE}={config.ivr.fallback_route})",
        f"Set({queue}={fallback.queue})",
        f"Set({v.CLINICALL_PRIORITY}={fallback.priority})",
        f"Set({v.CLINICALL_MAX_WAIT}={max_wait})",
        f"Set({overflow}={fallback.overflow_to or ''})",
        "Goto(queue)",
    ]
    lines = ["; The IVR decides; then the queue it chose, its overflow, or the fallback queue.",
             f"[{CALL}]"]
    for pattern in ("_X.", "_+X."):
        lines += _ext(pattern, steps + fail_open)
    return "\n".join(lines) + "\n"


#: The queue's exit context: the offer key pressed while waiting continues here.
OFFER_CONTEXT = "clinicall-offer"
#: The instant a caller joins a queue, epoch seconds with microseconds (``STRFTIME``'s
#: ``%6q``): the place a callback booked from the queue keeps.
JOIN_INSTANT = "${STRFTIME(,UTC,%s.%6q)}"


def offers(config: ClinicConfig) -> bool:
    """Whether the queues offer callbacks (the scheduler that serves them runs)."""
    return config.callbacks.enabled


def _joins(config: ClinicConfig, queue_name: str) -> list[Step]:
    """Right before a ``Queue()``: the queue and the instant, for the offer (none without)."""
    if not offers(config):
        return []
    return [f"MSet({v.CLINICALL_IN_QUEUE}={queue_name},{v.CLINICALL_QUEUED_AT}={JOIN_INSTANT})"]


def _offer(config: ClinicConfig, agi: str) -> str:
    """The queue's exit context (``context=`` in ``clinicall_queues.conf``): the offer key
    ends ``Queue()`` here (queue_log ``EXITWITHKEY``); the offer runs as the FastAGI script
    ``offer``.  A booked patient was hung up by it; anyone else (declined, refused, the
    controller unreachable) goes back to the same queue at the position they left
    (``QUEUEPOSITION``, Queue()'s ninth argument), keeping the instant they first joined."""
    args = ",".join((offer_url(agi), *v.OFFER_AGI_ARGS))
    in_queue = var(v.CLINICALL_IN_QUEUE)
    surveys = any(q.survey != "off" for q in config.queues.values())
    options = var(QUEUE_OPTIONS_VAR) if surveys else QUEUE_OPTIONS
    max_wait = var(MAXWAIT_PREFIX + in_queue)
    lines = ["; The in-queue callback offer: the offer key pressed while waiting, or the key",
             "; the controller sends when the estimated wait passed the queue's threshold.",
             f"[{OFFER_CONTEXT}]"]
    for key in (OFFER_KEY, v.OFFER_UNASKED_KEY):
        lines += _ext(key, [f"AGI({args})",
                            f"Queue({in_queue},{options},,,{max_wait},,,,{var('QUEUEPOSITION')})",
                            "Hangup()"])  # fmt: skip
    return "\n".join(lines) + "\n"


#: The custom queue_log event that carries the call's IVR facts (controller.tracking reads it).
CALL_FACTS_EVENT = "CLINICALL"
CALL_FACTS_FIELDS = (
    "${CHANNEL(linkedid)}",
    var(v.CLINICALL_OUTCOME),
    var(v.CLINICALL_LANG),
    var(v.CLINICALL_ROUTE),
    var(v.CLINICALL_PATH),
    "${CALLERID(num)}",
    var(DIALLED),
)


def _call_facts_line() -> str:
    """``QueueLog()`` writing ``epoch|uniqueid|queue|NONE|CLINICALL|linkedid|outcome|...``.

    queue_log is written by Asterisk whether or not the controller is connected, so with this
    line it alone maps the queue caller's uniqueid to the call's linkedid and carries what the
    IVR decided (or ``fallback`` when the controller was down): the account stays complete.
    """
    info = "|".join(CALL_FACTS_FIELDS)
    return f"QueueLog({var(v.CLINICALL_QUEUE)},${{UNIQUEID}},NONE,{CALL_FACTS_EVENT},{info})"


#: MixMonitor option ``b``: record only while bridged (an unanswered call leaves an empty
#: file and no Recording row).  No post-command: caller data must never reach a shell.
RECORD_OPTIONS = "b"
#: The channel variable holding ``<day>/<linkedid>``, evaluated once for the three files.
RECORD_BASE = "CLINICALL_REC"
#: Suffixes of the two one-sided files (``r()``: heard from the patient, ``t()``: sent to the
#: patient, i.e. the operator); the importer makes them the stereo copy's left and right.
PATIENT_SIDE, OPERATOR_SIDE = "-rx", "-tx"


def _record(config: ClinicConfig) -> list[Step]:
    """The consent notice (``recordings.consent``, in the caller's language), then
    ``MixMonitor(<day>/<linkedid>.<fmt>,b...)`` before the first ``Queue()``; it stays on the
    channel through overflow and fallback queues.  The names hold the date and linkedid only
    (:mod:`recordings.layout`); with ``recordings.stereo`` each side also goes to its own file
    (``r()`` and ``t()``, docs/engines/asterisk.md)."""
    rec = config.recordings
    if not rec.enabled:
        return []
    steps: list[Step] = []
    if rec.consent:
        lang = var(v.CLINICALL_LANG)
        default = config.default_language
        steps.append(f'Playback(clinicall/${{IF($["{lang}" = ""]?{default}:{lang})}}'
                     "/recording_consent)")
    filename = dialplan_filename(rec.format, config.clinic.timezone)
    if not rec.stereo:
        return [*steps, f"MixMonitor({filename},{RECORD_OPTIONS})"]
    base = var(RECORD_BASE)
    options = (f"{RECORD_OPTIONS}r({base}{PATIENT_SIDE}.{rec.format})"
               f"t({base}{OPERATOR_SIDE}.{rec.format})")
    return [*steps, f"Set({RECORD_BASE}={filename.rpartition('.')[0]})",
            f"MixMonitor({base}.{rec.format},{options})"]


#: The number as the outbound route dials it (clinicall-originate, docs/outbound.md).
DIAL_NUMBER = "CLINICALL_DIAL_NUMBER"


def _originate(config: ClinicConfig, simulated: bool) -> str:
    """The dialling side of a call the clinic places (``Local/<+E.164>@clinicall-originate``):
    the configured outbound route, else a simulated patient (the demo, the tests), else a
    refusal.  The number is formatted for the route (``outbound.number_format``; the most
    specific pattern wins), the caller id set, and the trunk dialled; a busy or congested
    provider is told on as busy or congestion, so the originate or the callback's ``Dial()``
    reports it as such (docs/outbound.md)."""
    out = config.outbound
    lines = [f"[{ORIGINATE}]"]
    if out.configured:
        note = (f"; Calls the clinic places go out through trunk {out.trunk}."
                if out.trunk is not None else
                f"; Calls the clinic places go to the PBX's own context {out.context}.")
        for rule in out.dial_rules():
            lines += _ext(f"_{rule.match}X.", [
                f"Set({DIAL_NUMBER}={rule.prepend}${{EXTEN:{rule.strip}}})", "Goto(dial,1)"])
        caller_id = f"Set(CALLERID(num)={config.outbound_caller_id()})"
        if out.trunk is not None:
            status = var("DIALSTATUS")
            dial: list[Step] = [
                caller_id, f"Dial(PJSIP/{var(DIAL_NUMBER)}@{out.trunk})",
                f'ExecIf($["{status}" = "BUSY"]?Busy(3))',
                f'ExecIf($["{status}" = "CONGESTION" | "{status}" = "CHANUNAVAIL"]'
                "?Congestion(3))",
                "Hangup()"]  # fmt: skip
        else:
            dial = [caller_id, f"Goto({out.context},{var(DIAL_NUMBER)},1)"]
        lines += _ext("dial", dial)
        lines += _ext("_X.", ["Hangup(66)"])  # not E.164: the store holds none such
        return "\n".join([note, *lines]) + "\n"
    if simulated:
        from clinicall.asterisk_config import simulation

        steps = [f"Set({simulation.NUMBER}=${{FILTER(0-9,${{EXTEN}})}})",
                 f"Goto({simulation.PATIENT},s,1)"]
        note = "; Calls the clinic places reach a simulated patient (who answers)."
    else:
        steps = ["Hangup(66)"]
        note = "; Calls the clinic places: no outbound route is configured, so none is made."
    for pattern in ("_X.", "_+X."):
        lines += _ext(pattern, steps)
    return "\n".join([note, *lines]) + "\n"


#: The callback flow's call data (set by the originate, controller/asterisk/control.py).
CALLBACK_KEY = "CLINICALL_ORIGINATE_KEY"
RING_S = "CLINICALL_RING_S"


def _callback(agi: str, *, confirm: bool = False) -> str:
    """Agent first (docs/callbacks.md, "The callback call"): the originate rang the reserved
    operator; once they answer, this runs on their channel: the whisper (the ``callback``
    FastAGI script, ivr.callback_call), then the patient is dialled through the originate
    context.  On answer, before the two are bridged, the patient's channel tells the
    controller (``UserEvent ClinicallCallback``, Status ANSWER, and queue_log, durably:
    ``CLINICALLCB``, so a controller that was down learns it) and hears the greeting (the same
    script).  With a confirm key (``confirm``) the greeting comes first and asks for it; a
    patient who pressed none (``CLINICALL_CONFIRMED=0``) is not put through: the event says
    ``NOANSWER`` and ``GOSUB_RESULT=ABORT`` ends both legs, with no ``CLINICALLCB`` line.  A
    FastAGI server that is down costs the words, not the call: ``AGI()`` fails and
    the dialplan goes on.  A patient who does not answer ends the call with the
    ``DIALSTATUS`` in the same event; an operator who hangs up first, with ``CANCEL`` (the
    ``h`` extension)."""
    key, status = var(CALLBACK_KEY), var("DIALSTATUS")
    url, job = script_url(agi, v.CALLBACK_SCRIPT), var(v.CLINICALL_CALLBACK)
    steps: list[Step] = [
        f"NoOp(callback {job}: {var('CLINICALL_REASON')})",
        f"AGI({url},${{CHANNEL(linkedid)}},{job},operator)",
        f"Dial(Local/${{EXTEN}}@{ORIGINATE}/n,{var(RING_S)},"
        f"U({CALLBACK_ANSWERED}^{key}^{var(v.CLINICALL_QUEUE)}^{job}))",
        f"UserEvent({CALLBACK_EVENT},Key: {key},Status: {status})",
        "Hangup()",
    ]
    greeting = f"AGI({url},${{CHANNEL(linkedid)}},${{ARG3}},patient)"
    reached: list[Step] = [f"QueueLog(${{ARG2}},${{UNIQUEID}},NONE,{CALLBACK_MARK},"
                           "${CHANNEL(linkedid)}|ANSWER)",
                           f"UserEvent({CALLBACK_EVENT},Key: ${{ARG1}},Status: ANSWER)"]
    if confirm:
        unconfirmed = f'$["${{{v.CLINICALL_CONFIRMED}}}" = "0"]'
        steps_answered: list[Step] = [
            greeting, f"GotoIf({unconfirmed}?unconfirmed)", *reached, "Return()",
            ("unconfirmed", f"UserEvent({CALLBACK_EVENT},Key: ${{ARG1}},Status: NOANSWER)"),
            "Set(GOSUB_RESULT=ABORT)", "Return()"]  # fmt: skip
    else:
        steps_answered = [*reached, greeting, "Return()"]
    answered = [f"[{CALLBACK_ANSWERED}]", *_ext("s", steps_answered)]
    lines = ["; Callbacks, agent first: the operator answered; whisper, then dial the patient.",
             f"[{CALLBACK_CONTEXT}]"]
    for pattern in ("_X.", "_+X."):
        lines += _ext(pattern, steps)
    # the operator hung up first (no DIALSTATUS yet: before the dial): the controller still
    # hears how it ended; a second event after an answered call is ignored
    ended = f'${{IF($["{status}" = ""]?CANCEL:{status})}}'
    lines += _ext("h", [f"UserEvent({CALLBACK_EVENT},Key: {key},Status: {ended})"])
    return "\n".join(lines + answered) + "\n"


def _queue_entry(config: ClinicConfig) -> str:
    """An answered originated call joins the queue named by its extension, with the priority
    the originate gave (``CLINICALL_PRIORITY``), recorded like an inbound call."""
    lines = ["; Answered calls the clinic placed join the queue their extension names.",
             f"[{QUEUE_ENTRY}]"]
    for qid in config.queues:
        lines += _ext(qid, [f"Set({v.QUEUE_PRIO}={var(v.CLINICALL_PRIORITY)})",
                            f"Set({v.CLINICALL_QUEUE}={qid})", *_record(config),
                            *_joins(config, qid),
                            f"Queue({qid},{QUEUE_OPTIONS},,,{config.queues[qid].max_wait_s})",
                            "Hangup()"])  # fmt: skip
    return "\n".join(lines) + "\n"


def _flows(agi: str) -> str:
    """Patient first into an IVR flow (docs/reminders.md): the answered reminder call runs the
    ``reminder`` FastAGI script with its appointment; a patient who pressed 0 there leaves
    with ``CLINICALL_QUEUE`` set and joins that queue like any answered originated call."""
    args = ",".join((reminder_url(agi), *v.REMINDER_AGI_ARGS))
    queue = var(v.CLINICALL_QUEUE)
    lines = ["; Calls the clinic placed into an IVR flow: the appointment reminder.",
             f"[{FLOW_CONTEXT}]"]
    lines += _ext(v.REMINDER_SCRIPT, [f"AGI({args})",
                                      f'GotoIf($["{queue}" != ""]?{QUEUE_ENTRY},{queue},1)',
                                      "Hangup()"])  # fmt: skip
    return "\n".join(lines) + "\n"


#: Seconds an operator's call to a colleague rings.
RING_COLLEAGUE_S = 30


def _operators(config: ClinicConfig) -> str:
    """What operators' phones dial: a colleague by id, the IVR as a patient hears it (the
    ``sip.ivr_extension`` or a clinic number), and everything else through the clinic's own
    outside-line context (``sip.outside_context``), or nothing when there is none."""
    lines = ["; Operators' phones: colleagues, the IVR, then the clinic's outside line.",
             f"[{OPERATORS}]"]
    for op in config.operators:
        lines += _ext(op.id, [f"Dial(PJSIP/{op.id},{RING_COLLEAGUE_S})", "Hangup()"])
    first = config.numbers[0].number
    lines += _ext(config.sip.ivr_extension, [f"Goto({INBOUND},{first},1)"])
    for n in config.numbers:
        for exten in (n.number, n.number.removeprefix("+")):
            lines += _ext(exten, [f"Goto({INBOUND},{exten},1)"])
    if config.sip.outside_context:
        lines.append(f"include => {config.sip.outside_context}")
    else:
        lines += [*_ext("_X.", ["Hangup(21)"]), *_ext("_[a-z].", ["Hangup(21)"])]
    return "\n".join(lines) + "\n"


#: Seconds the doctor's probe channel may live at most, whatever the FastAGI server does.
DOCTOR_PROBE_MAX_S = 30
#: The probe's id (the extension the doctor dialled), kept for the report in ``h``.
DOCTOR_PROBE = "CLINICALL_PROBE"


def doctor_url(ivr_url: str) -> str:
    """The doctor's FastAGI URL: the IVR's server, script ``doctor``."""
    return script_url(ivr_url, v.DOCTOR_SCRIPT)


def _doctor(agi: str) -> str:
    """``clinicall doctor``'s probe (docs/engines/asterisk.md, "The doctor's FastAGI probe"):
    Asterisk connects to the FastAGI server exactly as a patient's call would, and says what
    it found in a ``UserEvent``; the doctor originates a Local channel here, which dials
    nobody.  The report is sent from ``h`` so that it also comes when the server hung the
    channel up (the dialplan after ``AGI()`` then never runs)."""
    report = (f"UserEvent({DOCTOR_EVENT},Probe: {var(DOCTOR_PROBE)},Status: {var('AGISTATUS')},"
              f"Answer: {var(v.CLINICALL_DOCTOR)})")
    lines = ["; clinicall doctor: Asterisk reaches the FastAGI server as a call would; no call.",
             f"[{DOCTOR_CONTEXT}]"]
    lines += _ext("_X.", [f"Set({DOCTOR_PROBE}=${{EXTEN}})",
                          f"Set(TIMEOUT(absolute)={DOCTOR_PROBE_MAX_S})", "Answer()",
                          f"AGI({doctor_url(agi)})", "Hangup()"])
    lines += _ext("h", [report])
    return "\n".join(lines) + "\n"


def render(config: ClinicConfig, *, agi: str | None, simulated: bool) -> str:
    from clinicall.asterisk_config import simulation

    agi = agi or agi_url(config)
    parts = [_inbound(config), _call(config, agi), _operators(config),
             _originate(config, simulated),
             _callback(agi, confirm=config.callbacks.confirm_key is not None),
             _queue_entry(config), _flows(agi)]
    if offers(config):
        parts.append(_offer(config, agi))
    if simulated:
        parts += [simulation.operators_context(), simulation.patient_context()]
    parts.append(_doctor(agi))
    return document(*parts)
