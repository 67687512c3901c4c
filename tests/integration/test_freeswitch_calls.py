"""Patients' calls through a real FreeSWITCH 1.10.12 driven by ``clinicall run``'s wiring:
the IVR over the outbound socket, triage into mod_callcenter, the call account from the
inbound Event Socket, and the engine port's control commands.

Each test starts a FreeSWITCH loaded with the config ``clinicall freeswitch-config``
generates (and the simulated clinic's context of operators and patients,
clinicall/simclinic/freeswitch.py), then ``clinicall.app.running`` with the FreeSWITCH clinic
config: the same wiring ``clinicall run`` uses.  What FreeSWITCH did is read from the test's
own Event Socket link; the account from the store after the controller closed.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from clinicall.app import Running, running
from clinicall.controller.facts import ChannelClosed, Fact, QueueCompleted, QueueJoined
from clinicall.controller.freeswitch.control import ACCOUNT
from clinicall.controller.freeswitch.engine import FreeswitchEngine
from clinicall.controller.port import (
    EngineRefused,
    OriginateCause,
    OriginateFailed,
    OriginateRequest,
)
from clinicall.controller.tracking.store import load_cursor
from clinicall.db import create_engine, session_factory
from clinicall.db.models import Call, QueueAttempt
from clinicall.db.models.enums import HangupSide, IvrOutcome, QueueOutcome
from clinicall.ivr.outcome import NO_INPUT
from clinicall.prompt_build import build_prompts, prompt_texts
from clinicall.sandbox.freeswitch import FreeswitchSandbox
from clinicall.sandbox.rootfs import default_cache_dir
from clinicall.settings import ClinicConfig, load_config
from clinicall.settings.models import FreeswitchEngine as FreeswitchSettings
from clinicall.simclinic.freeswitch import (
    SIM,
    SIM_CONTEXT_NAME,
    TALK_S,
    CallObserver,
    CallTrace,
    operators_answer,
)

from .freeswitch_common import ENGLISH_NUMBER, FREESWITCH_EXAMPLE, FreeswitchFactory
from .scenario import Clock

pytestmark = [pytest.mark.asyncio, pytest.mark.freeswitch]



def _config() -> ClinicConfig:
    """The FreeSWITCH example clinic, with a short digit timeout so silence ends sooner."""
    config = load_config(FREESWITCH_EXAMPLE)
    return config.model_copy(update={"ivr": config.ivr.model_copy(update={"digit_timeout_s": 2.0})})


@dataclass
class Clinic:
    fs: FreeswitchSandbox
    config: ClinicConfig
    parts: Running
    observer: CallObserver
    db_url: str
    facts: list[Fact]  # what the engine gave the account, in order
    told: asyncio.Condition  # notified on each fact

    async def until_told(self, predicate: Callable[[list[Fact]], bool],
                         within: float = 10) -> None:  # fmt: skip
        async with asyncio.timeout(within), self.told:
            await self.told.wait_for(lambda: predicate(self.facts))


@asynccontextmanager
async def clinic(make_freeswitch: FreeswitchFactory, tmp_path: Path, name: str,
                 *, answering: set[str] | None = None) -> AsyncIterator[Clinic]:  # fmt: skip
    """A FreeSWITCH with the clinic's prompts, ``running`` (store, engine, account,
    controller) and the test's observer.  Leaving it closes the controller first, so every
    write of the account is done when the test reads the store."""
    fs, config = make_freeswitch(_config(), name=name, **SIM)
    cache = Path(os.environ.get("CLINICALL_CACHE") or default_cache_dir()) / "prompts"
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'clinicall.db'}"
    facts: list[Fact] = []
    told = asyncio.Condition()
    notices: set[asyncio.Task[None]] = set()

    async def notify() -> None:
        async with told:
            told.notify_all()

    def on_fact(fact: Fact) -> None:
        facts.append(fact)
        task = asyncio.create_task(notify())
        notices.add(task)
        task.add_done_callback(notices.discard)

    async with fs:
        engine = config.engine.model_copy(update={"cdr_dir": str(fs.log_dir / "cdr-csv")})
        config = config.model_copy(update={"engine": engine})  # the account reads the CDR
        await build_prompts(prompt_texts(config), fs.sounds_dir, cache_dir=cache)
        await operators_answer(fs, config, answering)
        async with CallObserver(fs) as observer, running(config, db_url=db_url,
                                                         now=Clock()) as parts:
            assert isinstance(parts.engine, FreeswitchEngine)
            parts.engine.subscribe(on_fact)  # after the account: it has the fact first
            await parts.engine.wait_up(10)
            yield Clinic(fs, config, parts, observer, db_url, facts, told)
            if notices:
                await asyncio.wait(notices)


async def account_rows(db_url: str) -> tuple[list[Call], list[QueueAttempt]]:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            calls = list((await session.execute(select(Call))).scalars())
            attempts = list((await session.execute(
                select(QueueAttempt).order_by(QueueAttempt.joined_at))).scalars())  # fmt: skip
            return calls, attempts
    finally:
        await engine.dispose()


async def finished(c: Clinic, trace: CallTrace, within: float = 60) -> CallTrace:
    """FreeSWITCH ended the clinic's leg, the engine gave the account the leg's end and, for
    an answered call, the end of its talk (mod_callcenter's bridge-agent-end may come after
    the caller's channel is gone), the IVR finished every call placed so far (a session the
    IVR ended by hanging up is still completing its ``hangup`` when the channel is gone), and
    the account read the call's CDR line."""
    await c.observer.finished(trace, within)
    leg = trace.clinic_leg

    def told(facts: list[Fact]) -> bool:
        closed = any(isinstance(f, ChannelClosed) and f.channel_id == leg for f in facts)
        talked = any(isinstance(f, QueueCompleted) and f.channel_id == leg for f in facts)
        return closed and (talked or not trace.agents_answered)

    await c.until_told(told)
    await asyncio.wait_for(c.parts.controller.wait_handled(len(c.observer.calls)), 10)
    # the call's CDR line is written (before the channel is destroyed): the account reads it
    # too, and the durable facts must merge with the live ones into the same rows
    await asyncio.wait_for(trace.destroyed.wait(), 10)
    await c.parts.tracker.reconcile()  # what the account's own loop has not read yet
    engine = c.parts.tracker.record
    assert isinstance(engine, FreeswitchEngine)
    record = engine.record
    async with c.parts.tracker.sessions() as session:
        cursor = await load_cursor(session, record.record_name)
    size = (await asyncio.to_thread(record.path.stat)).st_size
    assert cursor is not None
    assert cursor["offset"] == size  # every CDR line was read
    return trace


async def test_a_menu_branch_reaches_its_queue_an_operator_answers_and_is_accounted(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:
    # Ukrainian (1), appointments (1), ultrasound (1): op101 and op104 answer ultrasound
    async with clinic(make_freeswitch, tmp_path, "branch") as c:
        trace = await c.observer.call(c.config, "0501110001", "111")
        await finished(c, trace)
        assert c.parts.controller.calls_handled == 1
    assert trace.queues_joined == ["ultrasound"]
    assert len(trace.agents_answered) == 1
    assert trace.agents_answered[0] in {"op101", "op104"}
    assert trace.variable("CLINICALL_LANG") == "uk"
    assert trace.variable("CLINICALL_PATH") == "lang:1/main:1/appointments:1"
    assert trace.variable("CLINICALL_ROUTE") == "ultrasound"
    assert trace.variable("CLINICALL_OUTCOME") == "queue"
    assert trace.prompts[:3] == ["clinicall/uk/language_menu", "clinicall/ru/language_menu",
                                 "clinicall/en/language_menu"]
    assert trace.prompts[-1] == "clinicall/uk/queue_ultrasound"

    calls, attempts = await account_rows(c.db_url)
    (call,) = calls
    assert (call.call_key, call.caller, call.language, call.route, call.ivr_outcome,
            call.missed) == (trace.clinic_leg, "+380501110001", "uk", "ultrasound", "queue",
                             False)  # fmt: skip
    assert call.ivr_path == "lang:1/main:1/appointments:1"
    assert call.hangup_side == HangupSide.AGENT
    (attempt,) = attempts
    assert (attempt.queue, attempt.agent) == ("ultrasound", trace.agents_answered[0])
    assert attempt.outcome == QueueOutcome.ANSWERED
    assert attempt.wait_s is not None
    assert 0 <= attempt.wait_s <= 3  # ring-all: every operator rings at once and answers
    assert attempt.talk_s is not None
    assert TALK_S - 1 <= attempt.talk_s <= TALK_S + 1  # whole seconds (mod_callcenter's)


async def test_a_self_service_answer_ends_the_call_without_a_queue(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:
    # English number: no language menu.  2 = information, 3 = services, 1 = the pelvic
    # ultrasound's description, then silence after the answer: goodbye and hang-up
    async with clinic(make_freeswitch, tmp_path, "selfserve") as c:
        trace = await c.observer.call(c.config, "0501110002", "231", number=ENGLISH_NUMBER)
        await finished(c, trace)
    assert trace.queues_joined == []
    assert "clinicall/uk/language_menu" not in trace.prompts
    assert "clinicall/en/service_pelvic_ultrasound" in trace.prompts
    assert trace.prompts[-1] == "clinicall/en/goodbye"
    calls, attempts = await account_rows(c.db_url)
    (call,) = calls
    assert (call.language, call.ivr_outcome, call.ivr_path, call.missed) == (
        "en", IvrOutcome.SELF_SERVED, f"main:2/information:3/services:1/more:{NO_INPUT}", False)
    assert attempts == []


async def test_a_patient_who_hangs_up_in_the_menu_ends_the_session_cleanly(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:
    async with clinic(make_freeswitch, tmp_path, "hangup") as c:
        trace = await c.observer.call(c.config, "0501110003", "1")
        hung_up: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_menu(t: CallTrace) -> None:  # the second wait for keys: the main menu
            if t.waits_for_keys == 2 and not hung_up.done():
                hung_up.set_result(None)

        trace.on_menu = on_menu
        await asyncio.wait_for(hung_up, 30)
        await c.observer.hang_up(trace)
        await finished(c, trace)
    assert trace.queues_joined == []
    calls, attempts = await account_rows(c.db_url)
    (call,) = calls
    assert (call.language, call.ivr_outcome, call.missed) == ("uk", IvrOutcome.HANGUP_IVR, True)
    assert call.hangup_side == HangupSide.CALLER
    assert attempts == []


async def test_engine_control_on_the_real_freeswitch(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:
    fs, config = make_freeswitch(_config(), name="control", **SIM)
    settings = config.engine
    assert isinstance(settings, FreeswitchSettings)
    engine = FreeswitchEngine(settings, originate_context=SIM_CONTEXT_NAME)
    joined: dict[str, asyncio.Event] = {}

    def on_fact(fact: Fact) -> None:
        if isinstance(fact, QueueJoined):
            joined.setdefault(fact.channel_id, asyncio.Event()).set()

    engine.subscribe(on_fact)
    async with fs:
        await engine.start()
        try:
            await engine.wait_up(10)
            control = engine.control
            assert engine.health().up

            def members(status: Any, queue: str) -> dict[str, Any]:
                (q,) = [s for s in status if s.queue == queue]
                return {m.member: m for m in q.members}

            before = await control.queue_status()
            assert {s.queue for s in before} == set(config.queues)
            assert set(members(before, "pediatrics")) == {"op103"}
            await control.queue_member_add("pediatrics", "op101", paused=True)
            after = members(await control.queue_status(), "pediatrics")
            assert set(after) == {"op101", "op103"}
            assert after["op101"].paused
            await control.queue_member_pause("op101", paused=False)
            assert not members(await control.queue_status(), "pediatrics")["op101"].paused
            await control.queue_member_remove("pediatrics", "op101")
            assert set(members(await control.queue_status(), "pediatrics")) == {"op103"}
            with pytest.raises(EngineRefused):
                await control.queue_member_pause("nobody", paused=True)

            # Nobody answers pediatrics: the answered callee waits there
            await fs.api("callcenter_config agent set status op103 'Logged Out'")
            result = await control.originate(OriginateRequest(
                key="callback-1", number="+380501234567", queue="pediatrics", priority=1))
            assert result.call_id == result.channel_id
            # the answered callee runs the queue extension: mod_callcenter tells its joining
            await asyncio.wait_for(joined.setdefault(result.call_id, asyncio.Event()).wait(), 10)
            members_out = await fs.api("callcenter_config queue list members pediatrics@clinicall")
            assert result.call_id in members_out
            waiting = [s for s in await control.queue_status() if s.queue == "pediatrics"]
            assert waiting[0].waiting == 1
            await control.set_call_data(result.channel_id, "route", "callback")
            assert (await fs.api(f"uuid_getvar {result.channel_id} CLINICALL_ROUTE")).strip() \
                == "callback"
            await control.hangup(result.channel_id)
            with pytest.raises(OriginateFailed) as failed:
                await control.originate(OriginateRequest(
                    key="callback-2", number="0501234567", queue="pediatrics"))
            assert failed.value.cause is OriginateCause.BUSY
        finally:
            await engine.close()


async def test_with_nobody_in_its_queue_the_caller_overflows_and_is_answered_there(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:
    # pediatrics' only operator (op103) is logged out: mod_callcenter gives the caller up
    # after the queue's no-agent time (10 s), the dialplan moves them to the overflow queue
    answering = {"op101", "op102", "op104"}
    async with clinic(make_freeswitch, tmp_path, "overflow", answering=answering) as c:
        trace = await c.observer.call(c.config, "0501110004", "113")
        await finished(c, trace, within=90)
    assert trace.queues_joined == ["pediatrics", "universal"]
    cause, reason, waited = trace.queue_ends[0]
    assert (cause, reason) == ("Cancel", "NO_AGENT_TIMEOUT")
    assert waited >= 10  # the queue's no-agent time (mod_callcenter checks it every few s)
    assert len(trace.agents_answered) == 1
    assert trace.agents_answered[0] in answering
    assert trace.variable("CLINICALL_QUEUE") == "universal"
    assert trace.variable("CLINICALL_ROUTE") == "pediatrics"
    calls, attempts = await account_rows(c.db_url)
    (call,) = calls
    assert (call.route, call.ivr_outcome, call.missed) == ("pediatrics", IvrOutcome.QUEUE,
                                                           False)  # fmt: skip
    assert [(a.queue, a.outcome, a.agent) for a in attempts] == [
        ("pediatrics", QueueOutcome.EMPTY, None),
        ("universal", QueueOutcome.ANSWERED, trace.agents_answered[0])]  # fmt: skip
    assert attempts[0].wait_s == waited


async def test_wrong_keys_three_times_go_to_the_universal_queue(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:
    async with clinic(make_freeswitch, tmp_path, "wrongkeys") as c:
        trace = await c.observer.call(c.config, "0501110005", "1888")
        await finished(c, trace)
    assert trace.queues_joined == ["universal"]
    assert trace.variable("CLINICALL_PATH") == "lang:1/main:8?/main:8?/main:8?"
    assert trace.variable("CLINICALL_ROUTE") == "operator"
    assert trace.prompts.count("clinicall/uk/invalid") == 2
    assert len(trace.agents_answered) == 1
    calls, _ = await account_rows(c.db_url)
    (call,) = calls
    # the IVR's own fallback is a queue call to the account (controller/tracking/project.py)
    assert (call.ivr_outcome, call.route) == (IvrOutcome.QUEUE, "operator")
    assert call.ivr_path == "lang:1/main:8?/main:8?/main:8?"


async def test_a_call_taken_while_the_controller_was_down_is_accounted_from_the_cdr(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:
    fs, config = make_freeswitch(_config(), name="outage", **SIM)
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'clinicall.db'}"
    async with fs:
        cdr_dir = fs.log_dir / "cdr-csv"
        engine = config.engine.model_copy(update={"cdr_dir": str(cdr_dir)})
        config = config.model_copy(update={"engine": engine})
        await operators_answer(fs, config)
        # nobody listens on the outbound port: the dialplan fails open to the fallback queue
        async with CallObserver(fs) as observer:
            trace = await observer.call(config, "0501110006", "1")
            await observer.finished(trace, 60)
            # mod_cdr_csv writes the line in the channel's reporting state, before it is
            # destroyed
            await asyncio.wait_for(trace.destroyed.wait(), 10)
        cdr = cdr_dir / f"{ACCOUNT}.csv"
        assert (await asyncio.to_thread(cdr.read_text)).count("\n") == 1
        # the controller comes back: the account reconciles from the CDR when it starts
        async with running(config, db_url=db_url, now=Clock()):
            pass
    assert trace.queues_joined == ["universal"]
    assert trace.waits_for_keys == 0  # no IVR ran
    calls, attempts = await account_rows(db_url)
    (call,) = calls
    assert (call.call_key, call.ivr_outcome, call.route, call.missed) == (
        trace.clinic_leg, IvrOutcome.FALLBACK, "operator", False)
    (attempt,) = attempts
    assert (attempt.queue, attempt.outcome, attempt.agent) == (
        "universal", QueueOutcome.ANSWERED, trace.agents_answered[0])
    assert attempt.talk_s is not None
    assert TALK_S - 1 <= attempt.talk_s <= TALK_S + 1
