"""``CallPort`` over a FreeSWITCH outbound Event Socket session: the IVR's verbs as dialplan
applications run by ``sendmsg execute`` (docs/engines/freeswitch.md, "The IVR over the
outbound socket").

FreeSWITCH does the audio, as Asterisk does under FastAGI:

- prompts are files at ``${sounds_dir}/<prompt>.wav`` (``clinicall prompts`` builds them
  there); several prompts play as one ``file_string://a!b`` so a key stops the whole sequence;
- barge-in is ``playback`` (and ``say``) with the channel's ``playback_terminators`` set to the
  keys that may stop it (Asterisk's escape digits; ``none`` for no barge-in): the key that did
  is ``playback_terminator_used`` in the application's ``CHANNEL_EXECUTE_COMPLETE``;
- digit collection is ``play_and_get_digits``: any key stops its prompts and counts as the
  first digit (so typing ahead works across the whole menu), the digits land in a channel
  variable of its ``CHANNEL_EXECUTE_COMPLETE``;
- a voice message is the ``record`` application into ``${recordings_dir}``;
- the queue is entered by the dialplan after the ``socket`` application returns, from the
  CLINICALL_* variables :meth:`FreeswitchCallPort.enqueue` sets (the same names as on
  Asterisk): ``clinicall_after_ivr`` runs ``callcenter`` with them and, when the stay ends by
  the queue's timeout, the overflow queue; a caller who agreed to the survey
  (``CLINICALL_SURVEY=1``) is handed back over a second ``socket`` once the operator hung up,
  with ``CLINICALL_SURVEYING=1`` (:func:`answered_call`); a caller who left the queue by
  an offer key is handed over with ``CLINICALL_OFFERING=1`` (:func:`queued_call`) for the
  in-queue callback offer, and goes back to the queue when the session ends without a hang-up.

One call, one scope: the ``OutboundSession`` owns the call's tasks (``start_task``) and ends
them when the caller hangs up; every command has a deadline.  ``EslHungUp`` becomes
``CallerHungUp``, a refused or timed-out command ``PortError``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any, Protocol

from clinicall.agi_scripts import variables as v
from clinicall.calltypes import AnsweredCall, CallbackLeg, CallInfo, QueuedCall, QueueRequest
from clinicall.controller.freeswitch.control import FLOW, SCORE_PER_PRIORITY
from clinicall.controller.freeswitch.esl.errors import EslCommandError, EslHungUp
from clinicall.controller.freeswitch.esl.message import EslEvent
from clinicall.ivr.port import CallerHungUp, PortError, Recorded

#: The channel variable ``play_and_get_digits`` leaves the digits in.
DIGITS_VARIABLE = "clinicall_digits"
#: Deadlines (as on Asterisk, agi_scripts/asterisk_port.py): a prompt's length is not known
#: here, so one bound covers the longest prompt; a digit wait adds its own timeout.
PROMPT_DEADLINE_S = 120.0
DEADLINE_MARGIN_S = 5.0
#: Keys a caller can press; what the IVR does with a key it did not offer is its business.
ANY_KEYS = "^[0-9*#]+$"
#: A millisecond of silence: the prompt of a wait for keys with nothing to say, and
#: ``play_and_get_digits``'s "invalid input" sound (the IVR says that itself).
SILENCE = "silence_stream://1"
#: Characters FreeSWITCH would read as syntax in an application argument: refused in values
#: the adapter puts there (the variables' delimiter ``|``, expansions, line breaks).
ARG_UNSAFE = frozenset("|$\r\n")
#: The ``say`` module per IVR language (FreeSWITCH has no Ukrainian module: Russian numbers
#: are closest; the build holds no say sound files, see docs/engines/freeswitch.md).
SAY_MODULES = {"en": "en", "ru": "ru", "uk": "ru"}
#: A voice message (``record``): the beep before it, the energy below which audio counts as
#: silence (mod_dptools' usual level; the caller's line noise stays below it), the sample
#: rate when FreeSWITCH gives samples only, and the names and formats it may write.
BEEP = "tone_stream://%(250,0,1000)"
SILENCE_THRESHOLD = 200
RECORD_RATE = 8000
RECORDING_NAME = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")
FORMAT = re.compile(r"[a-z0-9]{2,5}")


class CallSession(Protocol):
    """What the port needs of an outbound session (``esl.outbound.OutboundSession``)."""

    channel: EslEvent

    @property
    def hung_up(self) -> bool: ...

    async def execute(self, app: str, arg: str = "", *,
                      timeout: float | None = None) -> EslEvent: ...  # noqa: ASYNC109  # fmt: skip

    async def hangup(self, cause: str = "NORMAL_CLEARING") -> None: ...

    def start_task(self, coro: Coroutine[Any, Any, Any], name: str = "") -> Any: ...


def _presented(value: str) -> str:
    return "" if value in ("", "unknown", "0000000000") else value


def sound_file(prompt: str) -> str:
    """``clinicall/uk/menu_main`` → ``${sounds_dir}/clinicall/uk/menu_main.wav``."""
    if not prompt or any(c in prompt for c in "!$\r\n ") or ".." in prompt.split("/"):
        raise PortError(f"prompt name {prompt[:60]!r} is not a sound file name")
    return "${sounds_dir}/" + prompt + ".wav"


def sound_sequence(prompts: list[str]) -> str:
    """One file argument for several prompts: ``file_string://a.wav!b.wav``."""
    files = [sound_file(p) for p in prompts]
    if not files:
        return SILENCE
    return files[0] if len(files) == 1 else "file_string://" + "!".join(files)


#: Set by the generated dialplan when it hands an answered caller back for the post-call survey
#: (clinicall/freeswitch_config/dialplan.py).
SURVEY_HANDOVER = "CLINICALL_SURVEYING"


def answered_call(channel: EslEvent) -> AnsweredCall | None:
    """The answered call a survey session is about, from the channel's variables when the
    dialplan handed the caller back after the operator hung up (``CLINICALL_SURVEYING``):
    the language and route the IVR set, mod_callcenter's ``cc_queue`` and ``cc_agent``; None
    for the call's first session."""
    if channel.get(f"variable_{SURVEY_HANDOVER}") != "1":
        return None
    queue = channel.get("variable_cc_queue", "").partition("@")[0]
    return AnsweredCall(language=channel.get(f"variable_{v.CLINICALL_LANG}", ""),
                        queue=queue or channel.get(f"variable_{v.CLINICALL_QUEUE}", ""),
                        operator=channel.get("variable_cc_agent", ""),
                        route=channel.get(f"variable_{v.CLINICALL_ROUTE}", ""))  # fmt: skip


#: Set by the generated dialplan when it hands a caller who left the queue by an offer key
#: to the controller for the in-queue callback offer (clinicall/freeswitch_config/dialplan.py).
OFFER_HANDOVER = "CLINICALL_OFFERING"


def queued_call(channel: EslEvent) -> QueuedCall | None:
    """The queue place an offer session is about, when the dialplan handed the caller over
    after they left the queue by an offer key (``CLINICALL_OFFERING``): mod_callcenter's
    ``cc_queue`` and ``cc_queue_joined_epoch`` (the instant this stay began, whole seconds,
    the same clock as ``queue list members``' ``joined_epoch``), the IVR's priority and
    language; None for every other session.  A join instant that is not a number is None:
    the controller then makes no offer and the caller goes back to the queue."""
    if channel.get(f"variable_{OFFER_HANDOVER}") != "1" or answered_call(channel) is not None:
        return None
    queue = channel.get("variable_cc_queue", "").partition("@")[0]
    priority = channel.get(f"variable_{v.CLINICALL_PRIORITY}", "")
    joined = channel.get("variable_cc_queue_joined_epoch", "")
    queued_at = (datetime.fromtimestamp(int(joined), UTC)
                 if joined.isdigit() and 0 < int(joined) < 1 << 40 else None)  # fmt: skip
    return QueuedCall(language=channel.get(f"variable_{v.CLINICALL_LANG}", ""),
                      queue=queue or channel.get(f"variable_{v.CLINICALL_QUEUE}", ""),
                      priority=int(priority) if priority.isdigit() else 0,
                      queued_at=queued_at)  # fmt: skip


def reminder_of(channel: EslEvent) -> str | None:
    """The appointment a reminder call is about (the originate's ``CLINICALL_FLOW=reminder``
    and ``CLINICALL_APPOINTMENT``); None for every other call."""
    if channel.get(f"variable_{FLOW}") != v.REMINDER_SCRIPT:
        return None
    return channel.get(f"variable_{v.CLINICALL_APPOINTMENT}") or None


def callback_of(channel: EslEvent) -> CallbackLeg | None:
    """A leg of a callback call handed over by the callback context: the operator's for the
    whisper, the patient's for the greeting (``CLINICALL_CALLBACK_SIDE`` and the job's
    ``CLINICALL_CALLBACK``); None for every other call."""
    return CallbackLeg.named(channel.get(f"variable_{v.CLINICALL_CALLBACK}", ""),
                             channel.get(f"variable_{v.CLINICALL_CALLBACK_SIDE}", ""))


def call_info(channel: EslEvent) -> CallInfo:
    """The call as the ``connect`` reply's channel data describes it.  ``call_id`` is
    ``Channel-Call-UUID``, as the live facts have it (controller/freeswitch/esl_facts.py)."""
    channel_id = channel.unique_id
    return CallInfo(
        answered=answered_call(channel), reminder=reminder_of(channel),
        queued=queued_call(channel), callback=callback_of(channel),
        call_id=channel.get("Channel-Call-UUID") or channel_id,
        channel_id=channel_id,
        caller_number=_presented(channel.get("Caller-Caller-ID-Number", "")),
        caller_name=_presented(channel.get("Caller-Caller-ID-Name", "")),
        dialled_number=channel.get("variable_CLINICALL_DIALLED")
        or channel.get("Caller-Destination-Number", ""),
        engine="freeswitch",
    )


class FreeswitchCallPort:
    """Implements ``ivr.port.CallPort`` for one outbound session (see the module docstring).
    Build it with ``await FreeswitchCallPort.open(session)`` once the session is connected."""

    def __init__(
        self, session: CallSession, *, prompt_deadline_s: float = PROMPT_DEADLINE_S
    ) -> None:
        self._session = session
        self._prompt_deadline_s = prompt_deadline_s
        self._info = call_info(session.channel)
        self._language = "en"
        self._terminators = ""  # unknown until first set

    @classmethod
    async def open(cls, session: CallSession) -> FreeswitchCallPort:
        return cls(session)

    @property
    def info(self) -> CallInfo:
        return self._info

    def start_task(self, coro: Coroutine[Any, Any, Any], name: str = "") -> None:
        """Run ``coro`` beside the call's commands: cancelled when the caller hangs up."""
        self._session.start_task(coro, name)

    async def answer(self) -> None:
        await self._execute("answer")

    async def set_language(self, language: str) -> None:
        self._language = language
        await self.set_variable("default_language", language)

    async def play(self, prompts: list[str], *, digits: str = "") -> str:
        if not prompts:
            return ""
        return await self._played("playback", sound_sequence(prompts), digits)

    async def collect(
        self, prompts: list[str], *, digits: str, max_digits: int, timeout_s: float
    ) -> str:
        """The prompts, then up to ``timeout_s`` for the first key and between keys; ``#``
        ends the input (as GET DATA does on Asterisk)."""
        return await self._play_and_get(prompts, max_digits=max_digits,
                                        timeout_s=timeout_s)  # fmt: skip

    async def say_number(self, number: int, *, digits: str = "") -> str:
        module = SAY_MODULES.get(self._language, "en")
        return await self._played("say", f"{module} NUMBER PRONOUNCED {int(number)}", digits)

    async def set_variable(self, name: str, value: str) -> None:
        await self._set({name: value})

    async def enqueue(self, request: QueueRequest) -> None:
        """Set the CLINICALL_* variables (and mod_callcenter's ``cc_base_score`` for the
        priority); the dialplan after ``socket`` enters the queue with them."""
        await self._set({
            v.CLINICALL_QUEUE: request.queue,
            v.CLINICALL_PRIORITY: str(request.priority),
            "cc_base_score": str(request.priority * SCORE_PER_PRIORITY),
            v.CLINICALL_MAX_WAIT: str(request.max_wait_s),
            v.CLINICALL_OVERFLOW: request.overflow_queue or "",
            v.CLINICALL_LANG: request.language,
            v.CLINICALL_PATH: request.path,
            v.CLINICALL_ROUTE: request.route,
            v.CLINICALL_OUTCOME: v.OUTCOME_QUEUE,
            v.CLINICALL_SURVEY: "1" if request.survey else "",
        })  # fmt: skip

    async def record(self, name: str, *, fmt: str, max_s: float, silence_s: float,
                     finish_keys: str, beep: bool = True) -> Recorded:
        """A beep (a tone), then ``record ${recordings_dir}/<name>.<fmt> <max s - 1>
        <energy threshold> <silence s>``: it ends at the time limit, after ``silence_s`` of
        audio below the threshold, or at one of ``finish_keys`` (the channel's
        ``playback_terminators``, as for a prompt); its completion carries the key
        (``playback_terminator_used``) and the length written (``record_ms``).  The file is
        overwritten by a re-recording.  FreeSWITCH's ``record`` hangs the channel up when it
        cannot open the file, so a write failure ends the call (docs/engines/freeswitch.md,
        "Voice messages")."""
        if not RECORDING_NAME.fullmatch(name) or ".." in name.split("/"):
            raise PortError(f"not a recording name: {name[:60]!r}")
        if not FORMAT.fullmatch(fmt):
            raise PortError(f"not a recording format: {fmt[:10]!r}")
        if beep:
            await self._played("playback", BEEP, "")
        keys = "".join(d for d in dict.fromkeys(finish_keys) if d in "0123456789*#") or "none"
        if keys != self._terminators:
            await self._set({"playback_terminators": keys})
            self._terminators = keys
        # ``record`` compares whole seconds of the clock and stops once more than the limit
        # passed: a limit L records (L, L + 1] s, so max_s - 1 keeps the message within max_s
        limit_s = max(1, math.ceil(max_s) - 1)
        arg = (f"${{recordings_dir}}/{name}.{fmt} {limit_s} {SILENCE_THRESHOLD} "
               f"{max(1, round(silence_s))}")  # fmt: skip
        done = await self._execute("record", arg, max_s + DEADLINE_MARGIN_S)
        key = done.get("variable_playback_terminator_used", "")
        ms = done.get("variable_record_ms", "")
        samples = done.get("variable_record_samples", "")
        if ms.isdigit():
            seconds = int(ms) / 1000
        else:  # no rate known to FreeSWITCH: its sample count at telephone rate
            seconds = int(samples) / RECORD_RATE if samples.isdigit() else 0.0
        return Recorded(key if key in finish_keys else "", seconds)

    async def hangup(self) -> None:
        if self._session.hung_up:
            return
        try:
            await self._session.hangup()
        except EslCommandError as exc:
            raise PortError(str(exc)) from None
        except TimeoutError as exc:
            raise PortError(str(exc)) from None

    # ---- helpers -------------------------------------------------------------------------

    async def _set(self, variables: dict[str, str]) -> None:
        """Channel variables in one application (``multiset`` with ``|`` between them)."""
        for name, value in variables.items():
            if not name.replace("_", "").isalnum() or any(c in ARG_UNSAFE for c in value):
                raise PortError(f"channel variable {name[:40]!r}: a name or value FreeSWITCH "
                                "would read as syntax")  # fmt: skip
        await self._execute("multiset", "^^|" + "|".join(f"{k}={x}" for k, x in variables.items()))

    async def _played(self, app: str, arg: str, digits: str) -> str:
        """``app`` stopped by one of ``digits`` (none: not stoppable); the key that did."""
        terminators = "".join(d for d in dict.fromkeys(digits) if d in "0123456789*#") or "none"
        if terminators != self._terminators:
            await self._set({"playback_terminators": terminators})
            self._terminators = terminators
        done = await self._execute(app, arg, self._prompt_deadline_s)
        return done.get("variable_playback_terminator_used", "") if digits else ""

    async def _play_and_get(self, prompts: list[str], *, max_digits: int, timeout_s: float) -> str:
        timeout_ms = max(1, round(timeout_s * 1000))
        arg = " ".join([
            "1", str(max(1, max_digits)), "1", str(timeout_ms), "#",
            sound_sequence(prompts), SILENCE, DIGITS_VARIABLE, ANY_KEYS,
            str(timeout_ms),
        ])  # fmt: skip
        deadline = self._prompt_deadline_s + timeout_s + DEADLINE_MARGIN_S
        done = await self._execute("play_and_get_digits", arg, deadline)
        # cleared by the application when it starts, so a silent caller leaves it unset
        return done.get(f"variable_{DIGITS_VARIABLE}", "").rstrip("#")

    async def _execute(self, app: str, arg: str = "", timeout_s: float | None = None) -> EslEvent:
        """Run ``app``; CallerHungUp once the caller is gone (also when the application
        completed because of the hang-up), PortError when refused or late."""
        try:
            done = await self._session.execute(app, arg, timeout=timeout_s)
        except EslHungUp:
            raise CallerHungUp from None
        except EslCommandError as exc:
            raise PortError(str(exc)) from None
        except TimeoutError as exc:
            raise PortError(str(exc)) from None
        if self._session.hung_up:
            raise CallerHungUp
        return done
