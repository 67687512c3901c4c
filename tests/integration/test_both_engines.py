"""The engine-neutral suite: the same patient scenarios on both real engines (Asterisk 22 and
FreeSWITCH 1.10.12), through the same wiring (``clinicall.app.running``) and the same
assertions: what the patient heard and where the call went (from the simulated clinic's own
link to the engine, never from what clinicall believes) and the account's rows.

One engine (and one controller, one store) serves the whole module per engine; each call has
a caller number of its own, by which its rows are found.  Where the engines differ by design
the test says so (docs/engines/freeswitch.md, "Proofs on both engines, and where they differ
by design").
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from clinicall.app import Running, operator_desk, running
from clinicall.asterisk_config.queues import member_interface
from clinicall.controller.asterisk.engine import AsteriskEngine
from clinicall.controller.desk import OperatorDesk
from clinicall.controller.freeswitch.engine import FreeswitchEngine
from clinicall.controller.freeswitch.esl.message import EslEvent
from clinicall.controller.freeswitch.queue_wait import timer_group
from clinicall.db import create_engine, session_factory
from clinicall.db.models import Call, QueueAttempt, RingAttempt, Role
from clinicall.db.models.enums import HangupSide, IvrOutcome, MissCause, QueueOutcome
from clinicall.ivr.outcome import NO_INPUT
from clinicall.reports.kpi import compute
from clinicall.sandbox.freeswitch import FreeswitchSandbox
from clinicall.sandbox.ports import free_ports
from clinicall.settings import ClinicConfig, load_config
from clinicall.settings.models import Trunk
from clinicall.simclinic.clinic import SimulatedClinic
from clinicall.simclinic.freeswitch import CallTrace, FreeswitchClinic, operator_rings_unanswered
from clinicall.web import build_app
from clinicall.web.passwords import PasswordCost
from clinicall.web.users import UserExistsError, add_user

from . import sipp
from .scenario import ENGLISH_NUMBER, EXAMPLE, SUNDAY_10_KYIV, TUESDAY_10_KYIV, Clock

pytestmark = pytest.mark.asyncio(loop_scope="module")

FREESWITCH_EXAMPLE = EXAMPLE.with_name("clinic.freeswitch.example.yaml")
ASTERISK_TALK_S = 2  # the simulated operators' talk on Asterisk (FreeSWITCH's: TALK_S)
TRUNK_IP = "127.0.0.2"  # the SIP provider (SIPp), IP-matched
TRUNK = Trunk(id="provider", host=TRUNK_IP, match=[f"{TRUNK_IP}/32"])
STRANGER_IP = "127.0.0.5"  # not a trunk: sofia challenges it


class Trace(Protocol):
    """What the engine reported about one call (simclinic's CallTrace on either engine)."""

    @property
    def queues_joined(self) -> list[str]: ...

    @property
    def operators_connected(self) -> list[str]: ...

    @property
    def prompts_played(self) -> list[str]: ...

    def variable(self, name: str) -> str | None: ...


class Patients(Protocol):
    """Patients and operators of a simulated clinic on one engine."""

    async def place(self, digits: str, *, caller: str, number: str | None,
                    hold_s: int) -> object: ...  # fmt: skip

    async def finished(self, call: object) -> Trace: ...

    async def heard(self, call: object, prompt: str) -> None:
        """Until the engine starts playing ``prompt`` to the caller."""

    async def joined(self, call: object) -> None:
        """Until the caller joins a queue."""

    async def hang_up(self, call: object) -> None: ...

    async def unanswered(self, operator: str, away: bool) -> None:
        """The operator takes no call (``away``) or answers again, staying logged in."""

    async def logged_out(self, operator: str, queue: str, out: bool) -> None: ...


class AsteriskPatients:
    """Patients as AMI originates (keys by SendDTMF), operators as simulated Local members."""

    engine = "asterisk"

    def __init__(self, sim: SimulatedClinic) -> None:
        self.sim = sim

    async def place(self, digits: str, *, caller: str, number: str | None,
                    hold_s: int) -> object:  # fmt: skip
        return await self.sim.call(digits=digits, number=number, caller=caller, hold_s=hold_s)

    async def finished(self, call: object) -> Trace:
        assert isinstance(call, str)
        return await self.sim.finished(call, timeout=120)

    async def heard(self, call: object, prompt: str) -> None:
        assert isinstance(call, str)
        await self.sim.tracer.wait_for_prompt(call, prompt, timeout=60)

    async def joined(self, call: object) -> None:
        assert isinstance(call, str)
        await self.sim.tracer.wait_for(call, "QueueCallerJoin", timeout=60)

    async def hang_up(self, call: object) -> None:
        assert isinstance(call, str)
        await self.sim.hang_up(call)

    async def unanswered(self, operator: str, away: bool) -> None:
        # a paused member would make a specialty queue refuse the caller (joinempty): the
        # operator's phone rings unanswered instead
        await self.sim.set_operator(operator, "noanswer" if away else "answer")

    async def logged_out(self, operator: str, queue: str, out: bool) -> None:
        interface = member_interface(operator, simulated=True)
        if out:
            await self.sim.ami.action("QueueRemove", {"Queue": queue, "Interface": interface})
        else:
            penalty = next(o for o in self.sim.config.operators if o.id == operator).queues[queue]
            await self.sim.ami.action("QueueAdd", {"Queue": queue, "Interface": interface,
                                                   "MemberName": operator,
                                                   "Penalty": str(penalty)})  # fmt: skip


class FreeswitchPatients:
    """Patients as loopback calls into the public context (keys by uuid_send_dtmf, pressed
    when each menu waits), operators as mod_callcenter agents bridged to an echo."""

    engine = "freeswitch"

    def __init__(self, fsc: FreeswitchClinic) -> None:
        self.fsc = fsc
        self._joined: dict[str, asyncio.Event] = {}  # by caller number
        fsc.observer.esl.add_handler(self._on_event)  # after the observer's own handler

    def _on_event(self, event: EslEvent) -> None:
        if event.get("CC-Action") == "member-queue-start":
            caller = event.get("Caller-Caller-ID-Number", "")
            self._joined.setdefault(caller, asyncio.Event()).set()

    async def place(self, digits: str, *, caller: str, number: str | None,
                    hold_s: int) -> object:  # fmt: skip
        return await self.fsc.call(digits, hold_s=hold_s, number=number, caller=caller)

    async def finished(self, call: object) -> Trace:
        assert isinstance(call, CallTrace)
        await self.fsc.observer.finished(call, 120)
        await asyncio.wait_for(call.destroyed.wait(), 10)  # its CDR line is written
        return call

    async def heard(self, call: object, prompt: str) -> None:
        assert isinstance(call, CallTrace)
        started = asyncio.Event()

        def on_menu(trace: CallTrace) -> None:  # each wait for keys, its prompts recorded
            if prompt in trace.prompts:
                started.set()

        call.on_menu = on_menu
        on_menu(call)
        await asyncio.wait_for(started.wait(), 60)

    async def joined(self, call: object) -> None:
        assert isinstance(call, CallTrace)
        # member-queue-start carries the member's channel headers: its caller number
        joined = self._joined.setdefault(call.caller, asyncio.Event())
        await asyncio.wait_for(joined.wait(), 60)

    async def hang_up(self, call: object) -> None:
        assert isinstance(call, CallTrace)
        await self.fsc.observer.hang_up(call)

    async def unanswered(self, operator: str, away: bool) -> None:
        # the operator's phone rings unanswered, as on Asterisk
        await operator_rings_unanswered(self.fsc.fs, operator, away)

    async def logged_out(self, operator: str, queue: str, out: bool) -> None:
        command = (f"tier del {queue}@clinicall {operator}" if out else
                   f"tier add {queue}@clinicall {operator} 1 1")  # fmt: skip
        reply = await self.fsc.fs.api(f"callcenter_config {command}")
        assert reply.strip().startswith("+OK"), reply


@dataclass
class Clinic:
    """A simulated clinic on one engine, with the controller and the account running."""

    engine: str
    config: ClinicConfig
    parts: Running
    db_url: str
    clock: Clock
    patients: Patients
    placed: int = 0
    _callers: set[str] = field(default_factory=set)

    async def place(self, digits: str, caller: str, *, number: str | None = None,
                    hold_s: int = 30) -> object:  # fmt: skip
        assert caller not in self._callers, "one caller number per call: rows are found by it"
        self._callers.add(caller)
        self.placed += 1
        return await self.patients.place(digits, caller=caller, number=number, hold_s=hold_s)

    async def call(self, digits: str, caller: str, *, number: str | None = None,
                   hold_s: int = 30) -> Trace:  # fmt: skip
        """A patient who presses ``digits``; the call's end, every outcome written and the
        engine's durable record read."""
        trace = await self.patients.finished(
            await self.place(digits, caller, number=number, hold_s=hold_s))
        await self.settled()
        return trace

    async def settled(self) -> None:
        await asyncio.wait_for(self.parts.controller.wait_handled(self.placed), 30)
        await self.parts.controller.wait_written()
        await self.parts.tracker.reconcile()
        await self.parts.tracker.flush()


ULTRASOUND_OVERFLOW_S = 6  # the ultrasound route's wait before overflow (its queue's: 180 s)


def _config(path: Path) -> ClinicConfig:
    """The example clinic, with a short digit timeout so silence ends sooner, a short wait
    before the ultrasound route overflows (the route's own time, shorter than its queue's)
    and, on FreeSWITCH, the SIP provider's trunk that the SIP patient calls from."""
    config = load_config(path)
    ivr = config.ivr.model_copy(update={"digit_timeout_s": 2.0})
    routes = dict(config.routes)
    routes["ultrasound"] = routes["ultrasound"].model_copy(
        update={"overflow_after_s": ULTRASOUND_OVERFLOW_S})
    # op101 first choice at the front desk beside op104: Asterisk's ringall rings only the
    # lowest penalty, so both ring at once there as on mod_callcenter's ring-all
    operators = [op.model_copy(update={"queues": {**op.queues, "universal": 0}})
                 if op.id == "op101" else op for op in config.operators]
    trunks = [TRUNK] if path == FREESWITCH_EXAMPLE else []
    return config.model_copy(update={"ivr": ivr, "routes": routes, "operators": operators,
                                     "trunks": trunks})


@pytest_asyncio.fixture(scope="module", loop_scope="module",
                        params=[pytest.param("asterisk", marks=pytest.mark.asterisk),
                                pytest.param("freeswitch", marks=pytest.mark.freeswitch)])
async def clinic(request: pytest.FixtureRequest,
                 tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Clinic]:
    db_url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp(request.param) / 'clinicall.db'}"
    clock = Clock()
    if request.param == "asterisk":
        root = request.getfixturevalue("asterisk_root")
        async with SimulatedClinic.run(_config(EXAMPLE), root=root, name="both") as sim:
            for op in sim.config.operators:
                await sim.set_operator(op.id, "answer", talk_s=ASTERISK_TALK_S)
            async with running(sim.config, db_url=db_url, now=clock,
                               queue_log=sim.asterisk.queue_log_path) as parts:  # fmt: skip
                await parts.engine.wait_up(10)
                yield Clinic("asterisk", sim.config, parts, db_url, clock, AsteriskPatients(sim))
    else:
        prefix = request.getfixturevalue("freeswitch_prefix")
        async with FreeswitchClinic.run(_config(FREESWITCH_EXAMPLE), prefix=prefix,
                                        name="both") as fsc:  # fmt: skip
            patients = FreeswitchPatients(fsc)
            async with running(fsc.config, db_url=db_url, now=clock) as parts:
                await parts.engine.wait_up(10)
                yield Clinic("freeswitch", fsc.config, parts, db_url, clock, patients)


@pytest.fixture(autouse=True)
def _open_hours(clinic: Clinic) -> None:
    clinic.clock.at = TUESDAY_10_KYIV


async def rows(clinic: Clinic, caller: str) -> tuple[Call, list[QueueAttempt]]:
    """The account's call of ``caller`` (exactly one) and its queue attempts in order."""
    engine = create_engine(clinic.db_url)
    try:
        async with session_factory(engine)() as session:
            (call,) = (await session.execute(select(Call).where(Call.caller == caller))).scalars()
            attempts = list((await session.execute(
                select(QueueAttempt).where(QueueAttempt.call_id == call.id)
                .order_by(QueueAttempt.joined_at))).scalars())  # fmt: skip
            return call, attempts
    finally:
        await engine.dispose()


async def ring_rows(clinic: Clinic, attempt_id: int) -> list[RingAttempt]:
    """The members rung for one queue attempt, in order."""
    engine = create_engine(clinic.db_url)
    try:
        async with session_factory(engine)() as session:
            return list((await session.execute(
                select(RingAttempt).where(RingAttempt.queue_attempt_id == attempt_id)
                .order_by(RingAttempt.rang_at))).scalars())  # fmt: skip
    finally:
        await engine.dispose()


BRANCHES = [
    # digits, caller, language, queue, route, path: each language, each specialty queue
    ("1w1w1", "+380501120001", "uk", "ultrasound", "ultrasound", "lang:1/main:1/appointments:1"),
    ("2w1w2", "+380501120002", "ru", "gynecology", "gynecology", "lang:2/main:1/appointments:2"),
    ("3w1w3", "+380501120003", "en", "pediatrics", "pediatrics", "lang:3/main:1/appointments:3"),
    ("1w1w4", "+380501120004", "uk", "therapy", "therapy", "lang:1/main:1/appointments:4"),
    ("2w4", "+380501120005", "ru", "universal", "complaint", "lang:2/main:4"),
]


@pytest.mark.parametrize(("digits", "caller", "language", "queue", "route", "path"), BRANCHES)
async def test_a_menu_branch_reaches_its_queue_and_an_operator_answers(
        clinic: Clinic, digits: str, caller: str, language: str, queue: str, route: str,
        path: str) -> None:  # fmt: skip
    trace = await clinic.call(digits, caller)
    assert trace.queues_joined == [queue]
    members = {op.id for op in clinic.config.operators if queue in op.queues}
    (operator,) = trace.operators_connected
    assert operator in members
    assert (trace.variable("CLINICALL_LANG"), trace.variable("CLINICALL_PATH"),
            trace.variable("CLINICALL_ROUTE")) == (language, path, route)  # fmt: skip
    played = trace.prompts_played
    assert played[0] == "clinicall/uk/language_menu"
    assert played[-1] == f"clinicall/{language}/queue_{queue}"
    call, attempts = await rows(clinic, caller)
    assert (call.language, call.route, call.ivr_outcome, call.ivr_path, call.missed) == (
        language, route, IvrOutcome.QUEUE, path, False)
    assert call.hangup_side == HangupSide.AGENT  # the simulated operator ends the talk
    (attempt,) = attempts
    assert (attempt.queue, attempt.outcome, attempt.agent) == (queue, QueueOutcome.ANSWERED,
                                                               operator)  # fmt: skip
    assert attempt.talk_s is not None
    assert attempt.talk_s > 0


async def test_the_dialled_number_fixes_the_language(clinic: Clinic) -> None:
    caller = "+380501120011"
    trace = await clinic.call("1w1", caller, number=ENGLISH_NUMBER)  # appointments, ultrasound
    assert trace.queues_joined == ["ultrasound"]
    assert not any(p.endswith("/language_menu") for p in trace.prompts_played)
    assert trace.variable("CLINICALL_LANG") == "en"
    assert trace.variable("CLINICALL_PATH") == "main:1/appointments:1"
    call, attempts = await rows(clinic, caller)
    assert (call.language, call.route, call.ivr_path, call.dialled) == (
        "en", "ultrasound", "main:1/appointments:1", ENGLISH_NUMBER)
    assert [a.outcome for a in attempts] == [QueueOutcome.ANSWERED]


async def test_a_self_service_answer_ends_the_call_without_a_queue(clinic: Clinic) -> None:
    # English (3), information (2), services (3), the pelvic ultrasound (1); then silence
    # after the answer: goodbye, and the IVR hangs up
    caller = "+380501120021"
    trace = await clinic.call("3w2w3w1", caller, hold_s=60)
    assert trace.queues_joined == []
    assert "clinicall/en/service_pelvic_ultrasound" in trace.prompts_played
    assert trace.prompts_played[-1] == "clinicall/en/goodbye"
    call, attempts = await rows(clinic, caller)
    assert (call.language, call.ivr_outcome, call.ivr_path, call.missed) == (
        "en", IvrOutcome.SELF_SERVED, f"lang:3/main:2/information:3/services:1/more:{NO_INPUT}",
        False)
    assert attempts == []


async def test_wrong_keys_three_times_go_to_the_front_desk(clinic: Clinic) -> None:
    caller = "+380501120031"
    trace = await clinic.call("1w8w8w8", caller)
    assert trace.queues_joined == ["universal"]
    assert trace.variable("CLINICALL_PATH") == "lang:1/main:8?/main:8?/main:8?"
    assert trace.prompts_played.count("clinicall/uk/invalid") == 2
    assert len(trace.operators_connected) == 1
    call, attempts = await rows(clinic, caller)
    # the IVR's own fallback is a queue call to the account (controller/tracking/project.py)
    assert (call.ivr_outcome, call.route, call.ivr_path) == (
        IvrOutcome.QUEUE, "operator", "lang:1/main:8?/main:8?/main:8?")
    assert [(a.queue, a.outcome) for a in attempts] == [("universal", QueueOutcome.ANSWERED)]


async def test_silence_goes_to_the_front_desk(clinic: Clinic) -> None:
    # three full menu prompts and timeouts: about a minute in the IVR before the queue
    caller = "+380501120041"
    trace = await clinic.call("", caller, hold_s=100)
    assert trace.queues_joined == ["universal"]
    assert trace.variable("CLINICALL_LANG") == "uk"  # the default language
    assert trace.variable("CLINICALL_PATH") == "lang:-/main:-/main:-/main:-"
    played = trace.prompts_played
    # nobody pressed a key, so everything was heard: the emergency notice before the menu
    assert played.index("clinicall/uk/emergency") < played.index("clinicall/uk/menu_main")
    assert played.count("clinicall/uk/no_input") == 2
    call, attempts = await rows(clinic, caller)
    assert (call.language, call.ivr_outcome, call.route, call.ivr_path) == (
        "uk", IvrOutcome.QUEUE, "operator", "lang:-/main:-/main:-/main:-")
    assert [(a.queue, a.outcome) for a in attempts] == [("universal", QueueOutcome.ANSWERED)]


async def test_a_patient_who_hangs_up_in_the_menu_is_a_missed_call(clinic: Clinic) -> None:
    caller = "+380501120051"
    call_handle = await clinic.place("1", caller, hold_s=60)
    await clinic.patients.heard(call_handle, "clinicall/uk/menu_main")
    await clinic.patients.hang_up(call_handle)
    trace = await clinic.patients.finished(call_handle)
    await clinic.settled()
    assert trace.queues_joined == []
    call, attempts = await rows(clinic, caller)
    assert (call.language, call.ivr_outcome, call.missed, call.miss_cause) == (
        "uk", IvrOutcome.HANGUP_IVR, True, MissCause.HANGUP_IVR)
    assert call.hangup_side == HangupSide.CALLER
    assert attempts == []


async def test_a_patient_who_hangs_up_in_the_queue_is_an_abandon(clinic: Clinic) -> None:
    # pediatrics' only operator takes no call; the patient gives up 6 s after joining
    caller = "+380501120061"
    await clinic.patients.unanswered("op103", away=True)
    try:
        call_handle = await clinic.place("1w1w3", caller, hold_s=60)
        await clinic.patients.joined(call_handle)
        await asyncio.sleep(6)  # the patient's patience: the scenario, not a wait for a signal
        await clinic.patients.hang_up(call_handle)
        trace = await clinic.patients.finished(call_handle)
        await clinic.settled()
    finally:
        await clinic.patients.unanswered("op103", away=False)
    assert trace.queues_joined == ["pediatrics"]
    assert trace.operators_connected == []
    call, attempts = await rows(clinic, caller)
    assert (call.route, call.ivr_outcome, call.missed, call.miss_cause, call.hangup_side) == (
        "pediatrics", IvrOutcome.QUEUE, True, MissCause.ABANDONED, HangupSide.CALLER)
    (attempt,) = attempts
    assert (attempt.queue, attempt.outcome, attempt.agent) == (
        "pediatrics", QueueOutcome.ABANDONED, None)
    assert attempt.wait_s is not None
    assert 5 <= attempt.wait_s <= 8
    # the operator's phone rang, unanswered, while the patient waited
    rings = await ring_rows(clinic, attempt.id)
    assert rings
    assert {(r.member, r.answered) for r in rings} == {("op103", False)}


async def test_with_nobody_logged_in_the_caller_overflows_and_is_answered(
        clinic: Clinic) -> None:
    caller = "+380501120071"
    await clinic.patients.logged_out("op103", "pediatrics", out=True)  # its only operator
    try:
        trace = await clinic.call("1w1w3", caller, hold_s=60)
    finally:
        await clinic.patients.logged_out("op103", "pediatrics", out=False)
    (operator,) = trace.operators_connected
    assert operator in {op.id for op in clinic.config.operators if "universal" in op.queues}
    assert trace.variable("CLINICALL_ROUTE") == "pediatrics"
    call, attempts = await rows(clinic, caller)
    assert (call.route, call.ivr_outcome, call.missed) == ("pediatrics", IvrOutcome.QUEUE, False)
    if clinic.engine == "asterisk":
        # Different by design: an empty specialty queue refuses the caller at once
        # (joinempty), so Asterisk never has them join it
        assert trace.queues_joined == ["universal"]
        assert [(a.queue, a.outcome, a.agent) for a in attempts] == [
            ("universal", QueueOutcome.ANSWERED, operator)]
    else:
        # mod_callcenter has no joinempty: the caller joins and is given up after the
        # queue's no-agent time (10 s, clinicall/freeswitch_config/callcenter.py)
        assert trace.queues_joined == ["pediatrics", "universal"]
        assert [(a.queue, a.outcome, a.agent) for a in attempts] == [
            ("pediatrics", QueueOutcome.EMPTY, None),
            ("universal", QueueOutcome.ANSWERED, operator)]
        assert attempts[0].wait_s is not None
        assert attempts[0].wait_s >= 10


async def _overflow_by_the_routes_time(clinic: Clinic, caller: str) -> Trace:
    """A patient for ultrasound whose operator's phone rings unanswered (op104, ultrasound's
    other member, is taken out of it): after the route's wait the patient goes on to the
    front desk, where another operator answers."""
    await clinic.patients.unanswered("op101", away=True)
    await clinic.patients.logged_out("op104", "ultrasound", out=True)
    try:
        return await clinic.call("1w1", caller, number=ENGLISH_NUMBER, hold_s=40)
    finally:
        await clinic.patients.logged_out("op104", "ultrasound", out=False)
        await clinic.patients.unanswered("op101", away=False)


async def test_the_routes_wait_before_overflow_is_honoured(clinic: Clinic) -> None:
    """The ultrasound route overflows after its own 6 s, not its queue's 180 s (on
    FreeSWITCH the generated dialplan's wait timer, controller/freeswitch/queue_wait.py)."""
    caller = "+380501120072"
    trace = await _overflow_by_the_routes_time(clinic, caller)
    assert trace.queues_joined == ["ultrasound", "universal"]
    (operator,) = trace.operators_connected
    assert operator in {op.id for op in clinic.config.operators
                        if "universal" in op.queues} - {"op101"}
    call, attempts = await rows(clinic, caller)
    assert (call.route, call.ivr_outcome, call.missed) == ("ultrasound", IvrOutcome.QUEUE, False)
    assert [(a.queue, a.outcome, a.agent) for a in attempts] == [
        ("ultrasound", QueueOutcome.TIMEOUT, None),
        ("universal", QueueOutcome.ANSWERED, operator)]
    assert attempts[0].wait_s is not None
    assert ULTRASOUND_OVERFLOW_S - 1 <= attempts[0].wait_s <= ULTRASOUND_OVERFLOW_S + 2
    rings = await ring_rows(clinic, attempts[0].id)
    assert rings  # the ultrasound operator's phone rang, unanswered, before the overflow
    assert {(r.member, r.answered) for r in rings} == {("op101", False)}


async def _delete_wait_timer(fs: FreeswitchSandbox, member: str) -> str:
    """Deletes a caller's pending wait timer; FreeSWITCH says how many it deleted (its
    scheduler itself: ``show tasks`` reads a table written behind it)."""
    return (await fs.api(f"sched_del {timer_group(member)}")).strip()


async def test_the_wait_timer_is_deleted_when_an_operator_answers(clinic: Clinic) -> None:
    """The route's wait timer never fires into an answered call (controller/freeswitch/
    queue_wait.py): a first patient, waiting while nobody is in gynecology, has one pending
    (deleted here to show it); a second, answered by an operator, has none left while they
    talk."""
    if clinic.engine == "asterisk":
        pytest.skip("Asterisk's Queue() takes the route's wait itself: there is no timer")
    patients = clinic.patients
    assert isinstance(patients, FreeswitchPatients)
    fs = patients.fsc.fs
    bridged: dict[str, asyncio.Event] = {}

    def on_event(event: EslEvent) -> None:
        if event.get("CC-Action") == "bridge-agent-start":
            bridged.setdefault(event.get("CC-Member-Session-UUID", ""), asyncio.Event()).set()

    patients.fsc.observer.esl.add_handler(on_event)
    out = {"op101", "op102"}  # gynecology's operators
    for op in sorted(out):
        await patients.logged_out(op, "gynecology", out=True)
    try:
        waiting = await clinic.place("1w2", "+380501120073", number=ENGLISH_NUMBER, hold_s=20)
        assert isinstance(waiting, CallTrace)
        await patients.joined(waiting)
        assert await _delete_wait_timer(fs, waiting.clinic_leg) == "+OK Deleted: 1"
        await patients.hang_up(waiting)
        await patients.finished(waiting)

        answered = await clinic.place("1w2", "+380501120074", number=ENGLISH_NUMBER, hold_s=40)
        assert isinstance(answered, CallTrace)
        await patients.joined(answered)
        await patients.logged_out("op102", "gynecology", out=False)
        out.discard("op102")
        await asyncio.wait_for(
            bridged.setdefault(answered.clinic_leg, asyncio.Event()).wait(), 30)
        assert await _delete_wait_timer(fs, answered.clinic_leg) == "+OK Deleted: 0"
        await patients.finished(answered)
        await clinic.settled()
    finally:
        for op in sorted(out):
            await patients.logged_out(op, "gynecology", out=False)
    assert answered.queues_joined == ["gynecology"]
    assert answered.operators_connected == ["op102"]


CONSOLE_SECRET = b"c" * 32
CONSOLE_COST = PasswordCost(time_cost=1, memory_kib=1024, parallelism=1)  # tests only
CONSOLE_PASSWORD = "pw-operator-both-engines"
CSRF_IN_PAGE = re.compile(r'name="csrf_token" value="([^"]+)"')
ConsoleClient = TestClient[web.Request, web.Application]


def _csrf(html: str) -> str:
    found = CSRF_IN_PAGE.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


@asynccontextmanager
async def _console(clinic: Clinic) -> AsyncIterator[ConsoleClient]:
    """The web console on the running controller, its operator desk on the engine's own
    members (the simulated clinic's Local members on Asterisk)."""
    if clinic.engine == "asterisk":
        desk = OperatorDesk(clinic.parts.engine.control, clinic.parts.tracker.live,
                            lambda op: member_interface(op, simulated=True))
    else:
        desk = operator_desk(clinic.config, clinic.parts)
    app = build_app(sessions=clinic.parts.sessions, config=clinic.config,
                    live=clinic.parts.tracker.live, secret=CONSOLE_SECRET,
                    cookie_secure=False, password_cost=CONSOLE_COST, desk=desk)
    async with TestClient(TestServer(app)) as client:
        yield client


async def _operator_session(client: ConsoleClient, operator: str) -> str:
    """Logs ``operator`` in through the login form; the session's CSRF token."""
    form = await client.get("/login")
    response = await client.post("/login", data={
        "username": operator, "password": CONSOLE_PASSWORD,
        "csrf_token": _csrf(await form.text())}, allow_redirects=False)
    assert response.status == 303, await response.text()
    return _csrf(await (await client.get("/", allow_redirects=False)).text())


async def _console_pause(clinic: Clinic, operator: str, *, paused: bool) -> None:
    """``operator`` pauses (for lunch) or resumes on the console's operator API (their
    console user made on first use)."""
    with suppress(UserExistsError):  # an earlier test made it
        await add_user(clinic.parts.sessions, operator, Role.OPERATOR, CONSOLE_PASSWORD,
                       cost=CONSOLE_COST)
    async with _console(clinic) as client:
        token = await _operator_session(client, operator)
        body: dict[str, object] = {"paused": paused}
        if paused:
            body["reason"] = "lunch"
        response = await client.post("/api/operator/pause", json=body,
                                      headers={"X-CSRF-Token": token})
        assert response.status == 200, await response.text()


async def _paused_in(clinic: Clinic, queue: str) -> dict[str, bool]:
    """The engine's own word on who is paused in ``queue`` (its queue status)."""
    status = await clinic.parts.engine.control.queue_status()
    (q,) = [s for s in status if s.queue == queue]
    return {m.member_name or m.member: m.paused for m in q.members}


async def test_an_operator_paused_on_the_console_is_not_rung(clinic: Clinic) -> None:
    """op102 pauses on the web console: the engine pauses them and gynecology's call rings
    only op101, who answers; then op102 resumes, op101 pauses, and the next call is op102's."""
    answered_by: dict[str, str] = {}
    try:
        for paused, caller in (("op102", "+380501120131"), ("op101", "+380501120132")):
            other = "op101" if paused == "op102" else "op102"
            await _console_pause(clinic, other, paused=False)
            await _console_pause(clinic, paused, paused=True)
            states = await _paused_in(clinic, "gynecology")
            assert (states.get(paused), states.get(other)) == (True, False), states
            trace = await clinic.call("1w2", caller, number=ENGLISH_NUMBER)
            (answered_by[paused],) = trace.operators_connected
            _, [attempt] = await rows(clinic, caller)
            assert (attempt.queue, attempt.outcome) == ("gynecology", QueueOutcome.ANSWERED)
            rings = await ring_rows(clinic, attempt.id)
            assert {r.member for r in rings} == {other}, rings  # never the paused one
    finally:
        for op in ("op101", "op102"):
            await _console_pause(clinic, op, paused=False)
    assert answered_by == {"op102": "op101", "op101": "op102"}
    assert not any((await _paused_in(clinic, "gynecology")).values())


async def test_a_phone_that_rings_unanswered_while_another_answers_is_a_missed_ring(
        clinic: Clinic) -> None:
    """The front desk rings all its first-choice operators at once (ring_all): op101's phone
    rings unanswered while op104 answers (op102 and op103 are taken out of the queue). The
    attempt is answered by op104 and holds both rings, op101's unanswered."""
    caller = "+380501120141"
    await clinic.patients.unanswered("op101", away=True)
    out: list[str] = []
    try:
        for op in ("op102", "op103"):
            await clinic.patients.logged_out(op, "universal", out=True)
            out.append(op)
        trace = await clinic.call("0", caller, number=ENGLISH_NUMBER)
    finally:
        for op in out:
            await clinic.patients.logged_out(op, "universal", out=False)
        await clinic.patients.unanswered("op101", away=False)
    assert trace.queues_joined == ["universal"]
    assert trace.operators_connected == ["op104"]
    call, [attempt] = await rows(clinic, caller)
    assert (call.route, call.missed) == ("operator", False)
    assert (attempt.queue, attempt.outcome, attempt.agent) == (
        "universal", QueueOutcome.ANSWERED, "op104")
    rings = await ring_rows(clinic, attempt.id)
    assert sorted((r.member, r.answered) for r in rings) == [("op101", False), ("op104", True)]
    (missed_ring,) = [r for r in rings if not r.answered]
    (answered_ring,) = [r for r in rings if r.answered]
    assert abs(missed_ring.rang_at - answered_ring.rang_at) <= timedelta(seconds=1)  # at once


async def test_with_every_operator_of_the_queue_paused_the_caller_overflows(
        clinic: Clinic) -> None:
    """Ultrasound's operators (op101, op104) pause on the console: the patient for ultrasound
    goes on to the front desk, where another operator answers."""
    caller = "+380501120151"
    paused: list[str] = []
    try:
        for op in ("op101", "op104"):
            await _console_pause(clinic, op, paused=True)
            paused.append(op)
        trace = await clinic.call("1w1", caller, number=ENGLISH_NUMBER, hold_s=40)
    finally:
        for op in paused:
            await _console_pause(clinic, op, paused=False)
    (operator,) = trace.operators_connected
    assert operator in {"op102", "op103"}  # the front desk's operators not paused
    call, attempts = await rows(clinic, caller)
    assert (call.route, call.ivr_outcome, call.missed) == ("ultrasound", IvrOutcome.QUEUE, False)
    if clinic.engine == "asterisk":
        # a queue whose members are all paused refuses the caller at once (joinempty)
        assert trace.queues_joined == ["universal"]
        assert [(a.queue, a.outcome, a.agent) for a in attempts] == [
            ("universal", QueueOutcome.ANSWERED, operator)]
    else:
        # Different by design: mod_callcenter counts an On Break agent as present, so the
        # caller joins and leaves after the route's wait (the dialplan's timer)
        assert trace.queues_joined == ["ultrasound", "universal"]
        assert [(a.queue, a.outcome, a.agent) for a in attempts] == [
            ("ultrasound", QueueOutcome.TIMEOUT, None),
            ("universal", QueueOutcome.ANSWERED, operator)]
        assert attempts[0].wait_s is not None
        assert ULTRASOUND_OVERFLOW_S - 1 <= attempts[0].wait_s <= ULTRASOUND_OVERFLOW_S + 2
        assert await ring_rows(clinic, attempts[0].id) == []  # nobody was rung


async def test_after_hours_the_hours_are_announced_and_no_queue_is_entered(
        clinic: Clinic) -> None:
    clinic.clock.at = SUNDAY_10_KYIV
    caller = "+380501120081"
    trace = await clinic.call("1", caller, hold_s=40)
    assert trace.queues_joined == []
    assert "clinicall/uk/closed" in trace.prompts_played
    call, attempts = await rows(clinic, caller)
    assert (call.ivr_outcome, call.missed, call.miss_cause) == (
        IvrOutcome.AFTER_HOURS, True, MissCause.AFTER_HOURS)
    assert attempts == []


async def test_a_sip_patient_through_the_trunk_reaches_a_specialty_queue(
        clinic: Clinic, tmp_path: Path) -> None:
    """A provider's call over SIP (SIPp, keys as RFC 2833 events) into FreeSWITCH's sofia
    profile, let in by the generated trunk ACL, through the IVR to gynecology."""
    if clinic.engine == "asterisk":
        pytest.skip("on Asterisk the SIP trunk patient is proved with the administrator's own "
                    "config merged in (test_merged_config.py)")
    if reason := sipp.available():
        pytest.fail(f"the SIP proof needs SIPp: {reason}", pytrace=False)
    patients = clinic.patients
    assert isinstance(patients, FreeswitchPatients)
    fs = patients.fsc.fs
    caller = "380501120091"
    trace = CallTrace(patient="", caller=caller, digits=[])  # the observer follows its calls
    patients.fsc.observer.calls[caller] = trace
    clinic.placed += 1
    assert fs.sip_port is not None
    # picked (and claimed) just before SIPp binds them, not when the module is imported
    sipp_port, stranger_port = free_ports(2, socket.SOCK_DGRAM)
    sipp_media, stranger_media = sipp.free_media_port(), sipp.free_media_port()
    call = sipp.SipCall(TRUNK_IP, sipp_port, sipp_media, fs.sip_port,
                        ENGLISH_NUMBER.removeprefix("+"), caller=caller)
    code, output = await call.run(tmp_path, keys="12")  # main:1 appointments, 2 gynecology
    assert code == 0, output  # answered, and hung up by the clinic after the operator's talk
    await patients.finished(trace)
    await clinic.settled()
    assert trace.variables["Channel-Name"].startswith("sofia/internal/")
    assert trace.variable("dtmf_type") == "rfc2833"
    assert trace.queues_joined == ["gynecology"]
    (operator,) = trace.operators_connected
    assert trace.variable("CLINICALL_PATH") == "main:1/appointments:2"
    call_row, attempts = await rows(clinic, f"+{caller}")
    assert (call_row.language, call_row.route, call_row.ivr_outcome, call_row.missed) == (
        "en", "gynecology", IvrOutcome.QUEUE, False)
    assert [(a.queue, a.outcome, a.agent) for a in attempts] == [
        ("gynecology", QueueOutcome.ANSWERED, operator)]

    # the ACL lets the trunk in, not everyone: another address is asked to log in
    stranger = sipp.SipCall(STRANGER_IP, stranger_port, stranger_media, fs.sip_port,
                            ENGLISH_NUMBER.removeprefix("+"), caller="380501120092")
    code, output = await stranger.run(tmp_path, limit_s=20)
    assert code != 0
    assert "407 Proxy Authentication Required" in output


async def _abandon_after(clinic: Clinic, digits: str, caller: str, patience_s: float) -> Trace:
    """A patient who hangs up ``patience_s`` after joining the queue."""
    handle = await clinic.place(digits, caller, number=ENGLISH_NUMBER, hold_s=60)
    await clinic.patients.joined(handle)
    await asyncio.sleep(patience_s)  # the patient's patience: the scenario, not a signal
    await clinic.patients.hang_up(handle)
    trace = await clinic.patients.finished(handle)
    await clinic.settled()
    return trace


async def test_the_kpis_equal_what_the_scenario_generated(clinic: Clinic) -> None:
    """The KPI ground truth (docs/kpi.md): an answered call, an abandon after 8 s, a short
    abandon after 2 s, a timeout by the route's wait → overflow → answered at the front desk,
    a hang-up in the menu and a call after hours; the report over exactly these calls counts
    what the scenario made, from the hourly sums and from the rows alike."""
    # from the whole second: FreeSWITCH's durable record (the CDR) keeps whole seconds, so
    # the first call may start up to a second before now (the previous test's last call
    # started many seconds earlier)
    since = datetime.now(UTC).replace(microsecond=0)
    answered = "+380501120111"
    gyn_trace = await clinic.call("1w2", answered, number=ENGLISH_NUMBER)  # gynecology
    await clinic.patients.unanswered("op103", away=True)  # pediatrics' only operator
    try:
        long_trace = await _abandon_after(clinic, "1w3", "+380501120112", 8)
        short_trace = await _abandon_after(clinic, "1w3", "+380501120113", 2)
    finally:
        await clinic.patients.unanswered("op103", away=False)
    overflow_trace = await _overflow_by_the_routes_time(clinic, "+380501120116")
    in_menu = await clinic.place("", "+380501120114", number=ENGLISH_NUMBER, hold_s=60)
    await clinic.patients.heard(in_menu, "clinicall/en/menu_main")
    await clinic.patients.hang_up(in_menu)
    menu_trace = await clinic.patients.finished(in_menu)
    await clinic.settled()
    clinic.clock.at = SUNDAY_10_KYIV
    closed_trace = await clinic.call("", "+380501120115", number=ENGLISH_NUMBER, hold_s=30)
    clinic.clock.at = TUESDAY_10_KYIV
    end = datetime.now(UTC) + timedelta(seconds=1)

    # what the engine reported (the scenario as it ran)
    assert gyn_trace.queues_joined == ["gynecology"]
    assert len(gyn_trace.operators_connected) == 1
    assert long_trace.queues_joined == short_trace.queues_joined == ["pediatrics"]
    assert long_trace.operators_connected == short_trace.operators_connected == []
    assert menu_trace.queues_joined == closed_trace.queues_joined == []
    assert overflow_trace.queues_joined == ["ultrasound", "universal"]
    assert len(overflow_trace.operators_connected) == 1
    _, [gyn] = await rows(clinic, answered)
    _, [long_wait] = await rows(clinic, "+380501120112")
    _, [short_wait] = await rows(clinic, "+380501120113")
    _, [timed_out, overflowed] = await rows(clinic, "+380501120116")
    assert gyn.wait_s is not None
    assert long_wait.wait_s is not None
    assert short_wait.wait_s is not None
    assert gyn.wait_s <= 5  # the operator answered within their ring
    assert 7 <= long_wait.wait_s <= 10  # the patient hung up 8 s after joining
    assert short_wait.wait_s <= 3  # ... 2 s after joining: a short abandon
    assert (timed_out.queue, timed_out.outcome) == ("ultrasound", QueueOutcome.TIMEOUT)
    assert (overflowed.queue, overflowed.outcome) == ("universal", QueueOutcome.ANSWERED)
    assert overflowed.wait_s is not None

    async with clinic.parts.sessions() as session:
        report = await compute(session, start=since, end=end, by="queue",
                               config=clinic.config)  # fmt: skip
        from_rows = await compute(session, start=since, end=end, by="queue",
                                  config=clinic.config, hourly_sums=False)  # fmt: skip
    assert report.to_dict() == from_rows.to_dict()
    queues = {row["queue"]: row for row in report.section("queues").rows}
    assert set(queues) == {"gynecology", "pediatrics", "ultrasound", "universal"}
    gyn_row, ped = queues["gynecology"], queues["pediatrics"]
    us, uni = queues["ultrasound"], queues["universal"]
    assert (gyn_row["offered"], gyn_row["answered"], gyn_row["asa"]) == (1, 1, gyn.wait_s)
    assert (ped["offered"], ped["abandoned"], ped["short_abandoned"], ped["answered"]) == (
        2, 1, 1, 0)
    assert ped["abandon_rate"] == 100.0  # the short abandon is left out
    assert ped["service_level"] == 0.0
    assert (us["offered"], us["timeout"], us["answered"]) == (1, 1, 0)
    assert (uni["offered"], uni["answered"], uni["asa"]) == (1, 1, overflowed.wait_s)
    (calls,) = report.section("calls").rows
    assert (calls["inbound"], calls["missed"], calls["missed_abandoned"],
            calls["missed_afterhours"], calls["missed_hangup_ivr"], calls["self_served"]) == (
        6, 4, 2, 1, 1, 0)  # fmt: skip


async def test_with_the_controller_down_the_dialplan_still_queues_the_patient(
        clinic: Clinic) -> None:
    """Last in the module: the controller stops taking calls (its IVR port refuses), the
    generated dialplan sends the patient to the fallback route's queue, and the account
    still has the call, as ``fallback``."""
    engine = clinic.parts.engine
    if isinstance(engine, AsteriskEngine):
        assert engine.agi is not None
        await engine.agi.close()  # the FastAGI port now refuses
    else:
        assert isinstance(engine, FreeswitchEngine)
        assert engine.outbound is not None
        await engine.outbound.close()  # the outbound socket's port now refuses
    caller = "+380501120101"
    trace = await clinic.patients.finished(
        await clinic.patients.place("1w1w1", caller=caller, number=None, hold_s=60))
    await clinic.parts.tracker.reconcile()
    await clinic.parts.tracker.flush()
    assert trace.queues_joined == ["universal"]
    assert trace.variable("CLINICALL_OUTCOME") == "fallback"
    (operator,) = trace.operators_connected
    call, attempts = await rows(clinic, caller)
    assert (call.ivr_outcome, call.route, call.missed) == (IvrOutcome.FALLBACK, "operator", False)
    assert [(a.queue, a.outcome, a.agent) for a in attempts] == [
        ("universal", QueueOutcome.ANSWERED, operator)]
