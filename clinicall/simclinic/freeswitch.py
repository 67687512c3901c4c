"""A simulated clinic on a real FreeSWITCH: the generated config, prompts, operators, patients,
and what FreeSWITCH says happened.  Used by the demo and by the integration tests.

A patient is a loopback call into the ``public`` context (as a trunk's call arrives): its
``-a`` leg (uuid known beforehand) parks, its ``-b`` leg is the clinic's side of the call and
reaches the controller's outbound socket.  The patient presses a key by ``uuid_send_dtmf`` on
the ``-a`` leg, which mod_loopback queues as received DTMF on the ``-b`` leg; a key is pressed
each time the IVR starts waiting for keys there (``play_and_get_digits``), as a patient
answering each menu does.  An operator is a mod_callcenter agent whose contact is a loopback
leg into the test-only ``clinicall_sim`` context: it is bridged to a ``talk`` leg that
answers, echoes and hangs up after ``TALK_S`` seconds.  (mod_callcenter gives up on a loopback
agent whose own leg answers; the bridge makes mod_loopback replace the operator's legs by the
``talk`` leg, so the hang-up is scheduled there.)  An operator whose phone rings unanswered
(``operator_rings_unanswered``) has a contact into the ``ringing`` extension, which signals
ringing and never answers: mod_callcenter gives the offer up after the contact's
``leg_timeout`` (``bridge-agent-fail``, ``NO_ANSWER``) and offers the caller again.

Everything the tests and the demo report comes from an Event Socket link of their own
(``CallObserver``), never from what clinicall believes.  ``FreeswitchClinic.run`` starts the
whole simulated clinic (the sandbox FreeSWITCH on fresh loopback ports, the clinic's prompts,
answering operators, the observer); it does not start the controller.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clinicall.controller.freeswitch.engine import FreeswitchEngine as FreeswitchPort
from clinicall.controller.freeswitch.esl.client import EslClient
from clinicall.controller.freeswitch.esl.message import EslEvent
from clinicall.controller.port import Engine
from clinicall.freeswitch_config import render_freeswitch_config
from clinicall.freeswitch_config.includes import DEFAULT_INCLUDE_DIR, Include, include_line
from clinicall.prompt_build import build_prompts, prompt_texts
from clinicall.sandbox.freeswitch import FreeswitchSandbox
from clinicall.sandbox.ports import free_ports, free_tcp_udp_port
from clinicall.sandbox.rootfs import default_cache_dir
from clinicall.settings import ClinicConfig
from clinicall.settings.models import FreeswitchEngine
from clinicall.simclinic.freeswitch_placed import FreeswitchPlacedCall, watching

TALK_S = 3
#: How long an operator who lets the phone ring first talks: long enough for a callback's
#: whisper, the patient's answer and a word (docs/engines/freeswitch.md, "The callback call").
LONG_TALK_S = 20
#: The test-only dialplan: operators who answer and hang up after TALK_S seconds, and a
#: patient who answers a call the clinic places (and stays on until the test ends it).
SIM_CONTEXT = f"""<include>
  <context name="clinicall_sim">
    <extension name="operator">
      <condition field="destination_number" expression="^operator$">
        <action application="bridge" data="loopback/talk/clinicall_sim"/>
      </condition>
    </extension>
    <extension name="talk">
      <condition field="destination_number" expression="^talk$">
        <action application="sched_hangup" data="+{TALK_S} NORMAL_CLEARING"/>
        <action application="answer"/>
        <action application="echo"/>
      </condition>
    </extension>
    <extension name="operator_ringing_first">
      <condition field="destination_number" expression="^(op[0-9A-Za-z]+)_rings_([0-9]+)ms$">
        <action application="unset" data="accountcode"/>
        <action application="ring_ready"/>
        <action application="sleep" data="$2"/>
        <action application="bridge" data="loopback/talk_long/clinicall_sim"/>
      </condition>
    </extension>
    <extension name="talk_long">
      <condition field="destination_number" expression="^talk_long$">
        <action application="sched_hangup" data="+{LONG_TALK_S} NORMAL_CLEARING"/>
        <action application="answer"/>
        <action application="echo"/>
      </condition>
    </extension>
    <extension name="ringing">
      <condition field="destination_number" expression="^ringing$">
        <action application="ring_ready"/>
        <action application="park"/>
      </condition>
    </extension>
    <extension name="answering_patient">
      <condition field="destination_number" expression="^\\+?380[0-9]+$">
        <action application="answer"/>
        <action application="park"/>
      </condition>
    </extension>
    <extension name="busy_patient">
      <condition field="destination_number" expression="^0[0-9]+$">
        <action application="hangup" data="USER_BUSY"/>
      </condition>
    </extension>
  </context>
</include>
"""
SIM_FILES = {"sim_operator.xml": SIM_CONTEXT}
SIM_INCLUDES = [Include("dialplan/public.xml", "</context>", True,
                        include_line(DEFAULT_INCLUDE_DIR, "sim_operator.xml"), "after </context>")]
#: ``make_freeswitch(**SIM)`` in the tests: the test-only context beside the generated files.
SIM: dict[str, Any] = {"extra_files": SIM_FILES, "extra_includes": SIM_INCLUDES}
SIM_CONTEXT_NAME = "clinicall_sim"
OPERATOR_CONTACT = "loopback/operator/clinicall_sim"
#: An operator's phone that rings this long per offer, unanswered.
RING_UNANSWERED_S = 3
RINGING_CONTACT = f"[leg_timeout={RING_UNANSWERED_S}]loopback/ringing/clinicall_sim"
PROMPT = re.compile(r"clinicall/[a-z]{2}/[a-z0-9_]+")
OBSERVED = ("CHANNEL_EXECUTE", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY")


@dataclass
class CallTrace:
    """One patient's call as FreeSWITCH reported it on the test's own link."""

    patient: str  # the ``-a`` leg's uuid
    caller: str
    digits: list[str]
    clinic_leg: str = ""  # the ``-b`` leg: the one the outbound socket drives
    prompts: list[str] = field(default_factory=list)  # in the order they started
    queues_joined: list[str] = field(default_factory=list)
    agents_answered: list[str] = field(default_factory=list)
    #: (cause, cancel reason, seconds waited) of each member-queue-end
    queue_ends: list[tuple[str, str, int]] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)  # the clinic leg's, at its end
    waits_for_keys: int = 0
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    destroyed: asyncio.Event = field(default_factory=asyncio.Event)  # its CDR is written
    on_menu: Callable[[CallTrace], None] | None = None

    def variable(self, name: str) -> str | None:
        return self.variables.get(f"variable_{name}")

    @property
    def operators_connected(self) -> list[str]:
        return self.agents_answered

    @property
    def prompts_played(self) -> list[str]:
        return self.prompts

    @property
    def call_key(self) -> str:
        """The call's key in the store: the clinic's leg."""
        return self.clinic_leg

    @property
    def abandoned(self) -> list[str]:
        """The queues the patient left by hanging up (mod_callcenter's ``BREAK_OUT``)."""
        return [queue for queue, (cause, reason, _) in zip(self.queues_joined, self.queue_ends,
                                                          strict=False)
                if (cause, reason) == ("Cancel", "BREAK_OUT")]  # fmt: skip


class CallObserver:
    """The test's own Event Socket link: follows every patient's call and presses their keys."""

    def __init__(self, fs: FreeswitchSandbox) -> None:
        assert fs.esl_port is not None
        self.fs = fs
        self.esl = EslClient(fs.esl_host, fs.esl_port, fs.esl_password, events=OBSERVED,
                             subclasses=("callcenter::info",))  # fmt: skip
        self.esl.add_handler(self._on_event)
        self.calls: dict[str, CallTrace] = {}  # by caller number
        self._sends: set[asyncio.Task[str]] = set()

    async def __aenter__(self) -> CallObserver:
        await self.esl.start()
        await self.esl.wait_connected(10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._sends:
            await asyncio.wait(self._sends)
        await self.esl.close()

    async def call(self, config: ClinicConfig, caller: str, digits: str | Sequence[str] = "",
                   *, number: str | None = None) -> CallTrace:  # fmt: skip
        """A patient calls the clinic (its first number unless ``number``) and presses one of
        ``digits`` each time the IVR waits for keys (``-`` stays silent that time; ``w``,
        the Asterisk simulation's pause, is skipped: here each key waits for its menu).  A
        sequence gives each wait's keys whole: ``["0", "0671234567#"]`` types a number at the
        second wait."""
        waits = [d for d in digits if d != "w"]
        trace = CallTrace(str(uuid.uuid4()), caller, waits)
        self.calls[caller] = trace
        dialled = number or config.numbers[0].number
        out = await self.esl.bgapi(
            f"originate {{origination_uuid={trace.patient},origination_caller_id_number="
            f"{caller}}}loopback/{dialled}/public &park", timeout=20)
        assert out.startswith("+OK"), out
        return trace

    async def hang_up(self, trace: CallTrace) -> None:
        out = await self.esl.api(f"uuid_kill {trace.patient}")
        assert out.startswith("+OK"), out

    async def finished(self, trace: CallTrace, within: float = 60) -> CallTrace:
        await asyncio.wait_for(trace.ended.wait(), within)
        return trace

    def _on_event(self, event: EslEvent) -> None:
        name = event.name
        if name == "CUSTOM":
            self._on_callcenter(event)
            return
        trace = self.calls.get(event.get("Caller-Caller-ID-Number", ""))
        if trace is None:
            return
        channel = event.unique_id
        if name == "CHANNEL_EXECUTE":
            app = event.get("Application", "")
            if app == "socket" and not trace.clinic_leg:
                trace.clinic_leg = channel
            if channel != trace.clinic_leg or not trace.clinic_leg:
                return
            if app in ("playback", "play_and_get_digits", "say"):
                trace.prompts += PROMPT.findall(event.get("Application-Data", ""))
            if app == "play_and_get_digits":
                trace.waits_for_keys += 1
                if trace.on_menu is not None:
                    trace.on_menu(trace)
                if trace.digits:
                    self._press(trace, trace.digits.pop(0))
        elif name == "CHANNEL_HANGUP_COMPLETE" and channel == trace.clinic_leg:
            trace.variables = dict(event.headers)
            trace.ended.set()
        elif name == "CHANNEL_DESTROY" and channel == trace.clinic_leg:
            trace.destroyed.set()

    def _on_callcenter(self, event: EslEvent) -> None:
        member = event.get("CC-Member-Session-UUID", "")
        trace = next((t for t in self.calls.values() if t.clinic_leg == member), None)
        if trace is None:
            return
        action = event.get("CC-Action", "")
        queue = event.get("CC-Queue", "").removesuffix("@clinicall")
        if action == "member-queue-start":
            trace.queues_joined.append(queue)
        elif action == "bridge-agent-start":
            trace.agents_answered.append(event.get("CC-Agent", ""))
        elif action == "member-queue-end":
            waited = (int(event.get("CC-Member-Leaving-Time", "0"))
                      - int(event.get("CC-Member-Joined-Time", "0")))  # fmt: skip
            trace.queue_ends.append((event.get("CC-Cause", ""),
                                     event.get("CC-Cancel-Reason", ""), waited))  # fmt: skip

    def _press(self, trace: CallTrace, digit: str) -> None:
        if digit == "-":
            return
        task = asyncio.create_task(self.esl.api(f"uuid_send_dtmf {trace.patient} {digit}"))
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)


async def operators_answer(fs: FreeswitchSandbox, config: ClinicConfig,
                           only: set[str] | None = None) -> None:  # fmt: skip
    """Every operator (or those in ``only``) answers; the others are logged out."""
    for op in config.operators:
        if only is None or op.id in only:
            out = await fs.api(f"callcenter_config agent set contact {op.id} {OPERATOR_CONTACT}")
        else:
            out = await fs.api(f"callcenter_config agent set status {op.id} 'Logged Out'")
        assert out.strip().startswith("+OK"), out


async def operator_rings_unanswered(fs: FreeswitchSandbox, operator: str,
                                    unanswered: bool) -> None:  # fmt: skip
    """The operator's phone rings unanswered at every offer (``unanswered``), or answers
    again; they stay logged in and available (mod_callcenter puts an agent who missed
    ``max-no-answer`` offers On Break itself: made available again here)."""
    contact = RINGING_CONTACT if unanswered else OPERATOR_CONTACT
    for command in (f"agent set contact {operator} {contact}",
                    f"agent set status {operator} Available"):
        out = await fs.api(f"callcenter_config {command}")
        assert out.strip().startswith("+OK"), out


def with_ports(config: ClinicConfig) -> ClinicConfig:
    """The clinic config pointed at fresh loopback ports, with a random event socket
    password."""
    esl_port, outbound_port = free_ports(2)
    engine = config.engine.model_copy(update={
        "esl_host": "127.0.0.1", "esl_port": esl_port, "esl_password": secrets.token_hex(12),
        "outbound_host": "127.0.0.1", "outbound_port": outbound_port,
        "sip_port": free_tcp_udp_port()})  # fmt: skip
    if not isinstance(engine, FreeswitchEngine):
        raise TypeError("a simulated FreeSWITCH clinic needs a FreeSWITCH clinic config")
    return config.model_copy(update={"engine": engine})


def sandbox_for(prefix: Path, config: ClinicConfig, *, name: str,
                simulated: bool = True) -> FreeswitchSandbox:  # fmt: skip
    """An unstarted FreeSWITCH with the files ``clinicall freeswitch-config`` generates for
    ``config`` (its ports set by :func:`with_ports`) and, ``simulated``, the test context."""
    engine = config.engine
    assert isinstance(engine, FreeswitchEngine)
    generated = render_freeswitch_config(config)
    extra_files = SIM_FILES if simulated else {}
    extra_includes = SIM_INCLUDES if simulated else []
    return FreeswitchSandbox(
        prefix, {**generated.files, **extra_files}, [*generated.includes, *extra_includes],
        name=name, esl_port=engine.esl_port, esl_password=engine.esl_password,
        sip_port=engine.sip_port, outbound_port=engine.outbound_port)


class FreeswitchClinic:
    """A running sandbox FreeSWITCH with the clinic's config, prompts and answering
    operators, and the observer that places patients (see the module docstring)."""

    def __init__(self, config: ClinicConfig, fs: FreeswitchSandbox,
                 observer: CallObserver) -> None:  # fmt: skip
        self.config, self.fs, self.observer = config, fs, observer
        self._holds: set[asyncio.Task[None]] = set()
        #: What the demo waits for on the observer's link: (condition, set once it holds).
        self._awaited: list[tuple[Callable[[], bool], asyncio.Event]] = []
        observer.esl.add_handler(self._check_awaited)

    @classmethod
    @asynccontextmanager
    async def run(cls, config: ClinicConfig, *, prefix: Path, name: str = "clinic",
                  progress: Callable[[str], None] = lambda line: None,
                  ) -> AsyncIterator[FreeswitchClinic]:  # fmt: skip
        config = with_ports(config)
        fs = sandbox_for(prefix, config, name=name)
        async with fs:
            progress(f"FreeSWITCH up; event socket on port {fs.esl_port}")
            # the account reads this FreeSWITCH's CDR file and recordings
            engine = config.engine.model_copy(update={"cdr_dir": str(fs.log_dir / "cdr-csv"),
                                                      "recordings_dir": str(fs.recordings_dir)})
            config = config.model_copy(update={"engine": engine})
            cache = Path(os.environ.get("CLINICALL_CACHE") or default_cache_dir()) / "prompts"
            items = prompt_texts(config)
            progress(f"speaking {len(items)} clinic prompts (cached in {cache})")
            await build_prompts(items, fs.sounds_dir, cache_dir=cache)
            await operators_answer(fs, config)
            async with CallObserver(fs) as observer:
                clinic = cls(config, fs, observer)
                try:
                    yield clinic
                finally:
                    for task in clinic._holds:
                        task.cancel()
                    if clinic._holds:
                        await asyncio.wait(clinic._holds)

    async def call(self, digits: str, *, hold_s: float, number: str | None = None,
                   caller: str = "+380501112233") -> CallTrace:  # fmt: skip
        """A patient who presses ``digits`` and hangs up after ``hold_s`` s if the call has
        not ended before."""
        trace = await self.observer.call(self.config, caller, digits, number=number)
        task = asyncio.create_task(self._hold(trace, hold_s))
        self._holds.add(task)
        task.add_done_callback(self._holds.discard)
        return trace

    async def _hold(self, trace: CallTrace, hold_s: float) -> None:
        try:
            await asyncio.wait_for(trace.ended.wait(), hold_s)
        except TimeoutError:
            await self.observer.hang_up(trace)

    # ---- what the demo drives (clinicall/demo/clinic.py, ``DemoClinic``) ------------------

    @property
    def recordings_spool(self) -> Path:
        """FreeSWITCH's recordings directory (mod_callcenter's ``record-template``)."""
        return self.fs.recordings_dir

    async def operators_answer_after(self, ring_s: Mapping[str, int]) -> None:
        """Every operator answers (``operators_answer`` did so at the start); those in
        ``ring_s`` let the phone ring that long first and then talk ``LONG_TALK_S``."""
        for operator, seconds in ring_s.items():
            contact = f"loopback/{operator}_rings_{seconds * 1000}ms/{SIM_CONTEXT_NAME}"
            out = await self.fs.api(f"callcenter_config agent set contact {operator} {contact}")
            assert out.strip().startswith("+OK"), out

    async def finished(self, call: CallTrace, timeout: float = 60.0) -> CallTrace:  # noqa: ASYNC109
        return await self.observer.finished(call, timeout)

    async def hang_up_after_join(self, call: CallTrace, wait_s: float) -> None:
        """The patient hangs up ``wait_s`` seconds after joining a queue (an abandon)."""
        await self._until(lambda: bool(call.queues_joined), 60)
        await asyncio.sleep(wait_s)  # the patient's patience, not a wait for a signal
        await self.observer.hang_up(call)

    async def press_when_prompt(self, call: CallTrace, prompt: str, keys: str,
                                timeout: float) -> None:  # noqa: ASYNC109  # fmt: skip
        """``keys`` (one ``uuid_send_dtmf``) once the clinic's leg starts playing ``prompt``."""
        await self._until(lambda: prompt in call.prompts, timeout)
        out = await self.observer.esl.api(f"uuid_send_dtmf {call.patient} {keys}")
        assert out.startswith("+OK"), out

    async def hang_up_when_prompt(self, call: CallTrace, prompt: str,
                                  timeout: float) -> None:  # noqa: ASYNC109  # fmt: skip
        """The patient hangs up (``uuid_kill`` of its leg) once the clinic's leg starts playing
        ``prompt``."""
        await self._until(lambda: prompt in call.prompts, timeout)
        await self.observer.hang_up(call)

    def route_placed_calls(self, engine: Engine) -> None:
        """A placed call's patient leg dials into the test context, where patients answer
        (the generated context refuses every number until an outbound route is configured)."""
        assert isinstance(engine, FreeswitchPort)
        engine.control.originate_context = SIM_CONTEXT_NAME

    def watch_placed(self, call_id: str,
                     number: str) -> AbstractAsyncContextManager[FreeswitchPlacedCall]:  # fmt: skip
        return watching(self.fs, call_id, number)

    async def _until(self, holds: Callable[[], bool], timeout: float) -> None:  # noqa: ASYNC109
        """Until ``holds()``, checked after each event the observer has taken in."""
        if holds():
            return
        done = asyncio.Event()
        self._awaited.append((holds, done))
        try:
            await asyncio.wait_for(done.wait(), timeout)
        finally:
            self._awaited.remove((holds, done))

    def _check_awaited(self, event: EslEvent) -> None:
        for holds, done in self._awaited:
            if holds():
                done.set()
