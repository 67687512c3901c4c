"""Callbacks on the real FreeSWITCH 1.10.12: a patient who abandons the queue is called back,
agent first (the operator's contact is rung and whispered to, then the patient is dialled and
bridged), with the scheduler ``clinicall.app.build_callback_scheduler`` builds for this engine
(the call id rule is the engine port's).  That the operator was rung before the patient, and
that the patient was dialled once, is read from the test's own Event Socket link, never from
the store; that the patient answered is then read back from the operator leg's CDR line, as
a controller that was down would (docs/engines/freeswitch.md, "The callback call").
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from callback_fakes import add_due_jobs
from sqlalchemy import select

from clinicall.app import Running, build_callback_scheduler, running
from clinicall.controller.callbacks import CallbackScheduler, SchedulerSettings
from clinicall.controller.callbacks.scheduler import RESERVE_REASON
from clinicall.controller.facts import ChannelClosed, Fact, QueueJoined
from clinicall.controller.freeswitch.control import (
    CALLBACK_SUBCLASS,
    ORIGINATE_CONTEXT,
    call_id_for,
)
from clinicall.controller.freeswitch.engine import FreeswitchEngine
from clinicall.controller.freeswitch.esl.client import EslClient
from clinicall.controller.freeswitch.esl.message import EslEvent
from clinicall.controller.port import CALLBACK_ANSWERED
from clinicall.db.callbacks import AttemptRow, CallbackStore
from clinicall.db.models import Call, Direction
from clinicall.freeswitch_config.includes import DEFAULT_INCLUDE_DIR, Include, include_line
from clinicall.ivr import prompts
from clinicall.prompt_build import build_prompts, prompt_texts
from clinicall.reports.kpi import compute
from clinicall.sandbox.freeswitch import FreeswitchSandbox
from clinicall.sandbox.ports import free_ports
from clinicall.sandbox.rootfs import default_cache_dir
from clinicall.settings import ClinicConfig, load_config
from clinicall.simclinic.freeswitch import (
    SIM_FILES,
    SIM_INCLUDES,
    CallObserver,
    operators_answer,
)

from .freeswitch_common import ENGLISH_NUMBER, FREESWITCH_EXAMPLE, FreeswitchFactory
from .provider import Provider
from .scenario import Clock

pytestmark = [pytest.mark.asyncio, pytest.mark.freeswitch]

RING_S = 8.0
#: When the late patient answers: near the end of the ring, so their greeting outlasts it.
LATE_S = RING_S - 1
#: Simulated patients (busy on +380501239..., answering late on +380508..., never on
#: +380509..., answering and pressing 1 every 2 s on +380507..., else answering at once and
#: pressing nothing) and an operator who answers a
#: callback and stays on (the shared simulated operator hangs up
#: after a few seconds, shorter than a whisper and the patient's ring).  mod_loopback copies
#: the operator leg's variables to its other half, ``accountcode`` too: unset there, so that
#: half writes no CDR line of the clinic's (a real phone has no second half).
OPERATOR = "op104"
#: The provider the outbound route's test dials through, and the caller id it presents.
PROVIDER_IP, CALLER_ID = "127.0.0.3", "+380441112233"
TRUNK_ACCOUNT, TRUNK_PASSWORD = "clinic77", "trunk-secret"
CB_SIM_CONTEXT = "clinicall_cb_sim"
OPERATOR_CONTACT = f"loopback/cb_operator/{CB_SIM_CONTEXT}"
CB_SIM = """<include>
  <context name="clinicall_cb_sim">
    <extension name="cb_operator">
      <condition field="destination_number" expression="^cb_operator$">
        <action application="unset" data="accountcode"/>
        <action application="answer"/>
        <action application="echo"/>
      </condition>
    </extension>
    <extension name="cb_operator_leaves">
      <condition field="destination_number" expression="^cb_operator_leaves$">
        <action application="unset" data="accountcode"/>
        <action application="answer"/>
        <action application="sleep" data="1500"/>
        <action application="hangup"/>
      </condition>
    </extension>
    <extension name="cb_operator_away">
      <condition field="destination_number" expression="^cb_operator_away$">
        <action application="unset" data="accountcode"/>
        <action application="ring_ready"/>
        <action application="park"/>
      </condition>
    </extension>
    <extension name="busy_patient">
      <condition field="destination_number" expression="^\\+380501239[0-9]+$">
        <action application="hangup" data="USER_BUSY"/>
      </condition>
    </extension>
    <extension name="late_patient">
      <condition field="destination_number" expression="^\\+380508[0-9]+$">
        <action application="ring_ready"/>
        <action application="sleep" data="LATE_MS"/>
        <action application="answer"/>
        <action application="park"/>
      </condition>
    </extension>
    <extension name="confirming_patient">
      <condition field="destination_number" expression="^\\+380507[0-9]+$">
        <action application="answer"/>
        <action application="sleep" data="1000"/>
        <action application="send_dtmf" data="1"/>
        <action application="sleep" data="2000"/>
        <action application="send_dtmf" data="1"/>
        <action application="sleep" data="2000"/>
        <action application="send_dtmf" data="1"/>
        <action application="park"/>
      </condition>
    </extension>
    <extension name="absent_patient">
      <condition field="destination_number" expression="^\\+380509[0-9]+$">
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
  </context>
</include>
""".replace("LATE_MS", str(int(LATE_S * 1000)))
CB_INCLUDE = Include("dialplan/public.xml", "</context>", True,
                     include_line(DEFAULT_INCLUDE_DIR, "sim_cb_operator.xml"), "after </context>")


def _config() -> ClinicConfig:
    """The FreeSWITCH example clinic open around the clock (the account keeps real time, and
    the test must not depend on when it runs)."""
    data = load_config(FREESWITCH_EXAMPLE).model_dump(mode="json")
    data["hours"] = {"weekly": {day: ["00:00-24:00"] for day in data["hours"]["weekly"]},
                     "holidays": []}
    data["ivr"]["digit_timeout_s"] = 2.0
    data["callbacks"].update({"attempts": 2, "spacing_min": 1, "patient_day": "00:00-24:00"})
    return ClinicConfig.model_validate(data)


def _enabled(config: ClinicConfig) -> ClinicConfig:
    """Callbacks on: the controller says the whisper and the greeting (the clinic's own
    scheduler is closed by the tests that drive theirs)."""
    return config.model_copy(update={
        "callbacks": config.callbacks.model_copy(update={"enabled": True})})


class Trail:
    """The test's own link: the order in which channels were created and answered, and the
    callback dialplan's events."""

    def __init__(self, fs: FreeswitchSandbox) -> None:
        assert fs.esl_port is not None
        self.esl = EslClient(fs.esl_host, fs.esl_port, fs.esl_password,
                             events=("CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_EXECUTE",
                                     "CHANNEL_DESTROY"),
                             subclasses=(CALLBACK_SUBCLASS,))  # fmt: skip
        self.esl.add_handler(self._on_event)
        self.events: list[tuple[str, str, str]] = []  # (event, channel name, uuid)
        self.executed: list[tuple[str, str, str]] = []  # (uuid, application, its argument)
        #: Called with each application a channel starts (uuid, application).
        self.on_execute: Callable[[str, str], None] | None = None
        self.statuses: list[tuple[str, str]] = []  # (Key, Status)
        self.destroyed: dict[str, asyncio.Event] = {}
        self._executing = asyncio.Event()  # an application started on some channel

    def _on_event(self, event: EslEvent) -> None:
        if event.name == "CUSTOM":
            self.statuses.append((event.get("Key", ""), event.get("Status", "")))
            return
        name = event.name
        if name == "CHANNEL_EXECUTE":  # which application, not which channel name
            app = event.get("Application", "")
            name = f"EXECUTE {app}"
            self.executed.append((event.unique_id, app, event.get("Application-Data", "")))
            self._executing.set()
            if self.on_execute is not None:
                self.on_execute(event.unique_id, app)
        self.events.append((name, event.get("Channel-Name", ""), event.unique_id))
        if event.name == "CHANNEL_DESTROY":
            self.destroyed.setdefault(event.unique_id, asyncio.Event()).set()

    def first(self, name: str, predicate: Callable[[str, str], bool]) -> int:
        return next(i for i, (n, channel, uuid) in enumerate(self.events)
                    if n == name and predicate(channel, uuid))  # fmt: skip

    async def started(self, uuid: str, app: str, data: str, within: float = 10) -> None:
        """Until ``uuid`` has started ``app`` with ``data`` (checked and cleared with no await
        between, so no event is missed)."""
        async with asyncio.timeout(within):
            while (uuid, app, data) not in self.executed:
                self._executing.clear()
                await self._executing.wait()

    async def gone(self, uuid: str, within: float = 10) -> None:
        await asyncio.wait_for(self.destroyed.setdefault(uuid, asyncio.Event()).wait(), within)


@dataclass
class Clinic:
    fs: FreeswitchSandbox
    config: ClinicConfig
    parts: Running
    observer: CallObserver
    trail: Trail
    closed: dict[str, asyncio.Event]  # the account was told the channel closed
    joined: asyncio.Event  # the account was told a caller joined a queue

    def scheduler(self) -> CallbackScheduler:
        """The scheduler ``clinicall run`` builds, on this engine, driven by the test."""
        settings = SchedulerSettings(owner="test", ring_timeout_s=RING_S)
        return build_callback_scheduler(self.parts.controller.config, self.parts.engine,
                                        self.parts.sessions, settings=settings)  # fmt: skip


@asynccontextmanager
async def callback_clinic(make_freeswitch: FreeswitchFactory, tmp_path: Path, name: str,
                          config: ClinicConfig | None = None,
                          now: Callable[[], datetime] | None = None,
                          ) -> AsyncIterator[Clinic]:  # fmt: skip
    """FreeSWITCH with the clinic's config and the simulated patients and operators, and
    ``running`` (store, engine, account, controller); nobody answers the queues yet.
    ``now``: the controller's clock (default: pinned to an opening hour; the account keeps
    real time)."""
    fs, config = make_freeswitch(config or _config(), name=name,
                                 extra_files={**SIM_FILES, "sim_cb_operator.xml": CB_SIM},
                                 extra_includes=[*SIM_INCLUDES, CB_INCLUDE])  # fmt: skip
    cache = Path(os.environ.get("CLINICALL_CACHE") or default_cache_dir()) / "prompts"
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'clinicall.db'}"
    closed: dict[str, asyncio.Event] = {}
    joined = asyncio.Event()

    def on_fact(fact: Fact) -> None:
        if isinstance(fact, ChannelClosed):
            closed.setdefault(fact.channel_id, asyncio.Event()).set()
        elif isinstance(fact, QueueJoined):
            joined.set()

    async with fs:
        engine = config.engine.model_copy(update={"cdr_dir": str(fs.log_dir / "cdr-csv")})
        config = config.model_copy(update={"engine": engine})  # the account reads the CDR
        await build_prompts(prompt_texts(config), fs.sounds_dir, cache_dir=cache)
        await operators_answer(fs, config, set())  # nobody answers: the patient gives up
        trail = Trail(fs)
        await trail.esl.start()
        try:
            async with CallObserver(fs) as observer, running(
                    config, db_url=db_url, now=now or Clock()) as parts:  # fmt: skip
                assert isinstance(parts.engine, FreeswitchEngine)
                parts.engine.subscribe(on_fact)
                await parts.engine.wait_up(10)
                # the patient's leg reaches the simulated patients, not the generated
                # context, which refuses every number until an outbound route is configured
                parts.engine.control.originate_context = CB_SIM_CONTEXT
                yield Clinic(fs, config, parts, observer, trail, closed, joined)
        finally:
            await trail.esl.close()


async def missed_call(c: Clinic, caller: str) -> str:
    """A patient asks for an operator, waits in the universal queue and hangs up (abandoned);
    returns the call's id once the account holds it as missed."""
    c.joined.clear()
    trace = await c.observer.call(c.config, caller, "0", number=ENGLISH_NUMBER)
    await asyncio.wait_for(c.joined.wait(), 40)
    await c.observer.hang_up(trace)
    await c.observer.finished(trace, 30)
    await asyncio.wait_for(c.closed.setdefault(trace.clinic_leg, asyncio.Event()).wait(), 10)
    await asyncio.wait_for(trace.destroyed.wait(), 10)  # its CDR line is written
    await c.parts.tracker.reconcile()
    await c.parts.tracker.flush()
    async with c.parts.sessions() as session:
        missed = await session.scalar(select(Call.missed).where(
            Call.call_key == trace.clinic_leg))  # fmt: skip
    assert missed is True
    return trace.clinic_leg


async def operator_answers(c: Clinic) -> None:
    for command in (f"callcenter_config agent set contact {OPERATOR} {OPERATOR_CONTACT}",
                    f"callcenter_config agent set status {OPERATOR} 'Available'"):
        assert (await c.fs.api(command)).strip().startswith("+OK")


async def own_scheduler(c: Clinic) -> CallbackScheduler:
    """Callbacks on (the controller says the whisper and the greeting): the clinic's own
    scheduler (ring 30 s) is closed, the operator answers, and the test's (ring RING_S)
    dials."""
    assert c.parts.callbacks is not None
    await c.parts.callbacks.close()
    await operator_answers(c)
    return c.scheduler()


async def dial_one(c: Clinic, scheduler: CallbackScheduler,
                   first: int) -> tuple[AttemptRow, list[tuple[str, str]]]:  # fmt: skip
    """One due job for ``+38050<first>``, dialled once; the attempt and the callback
    statuses FreeSWITCH sent for it, read once the operator's leg is gone (an answered call
    is ended first: operator and patient would talk on)."""
    await add_due_jobs(c.parts.sessions, 1, queue="universal", first=first)
    c.trail.statuses.clear()
    [claimed] = await scheduler.run_once()
    await scheduler.attempts_done()
    [attempt] = await scheduler.store.attempts(claimed)
    call_id = call_id_for(attempt.key)
    if attempt.outcome == "answered":
        assert (await c.fs.api(f"uuid_kill {call_id}")).startswith("+OK")
    await c.trail.gone(call_id)  # its events, the patient's status first, are all in
    return attempt, list(c.trail.statuses)


async def test_a_missed_call_is_called_back_agent_first_on_freeswitch(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:
    since = datetime.now(UTC)
    async with callback_clinic(make_freeswitch, tmp_path, "callbacks") as c:
        caller = "+380501230001"
        missed = await missed_call(c, caller)
        await operator_answers(c)
        scheduler = c.scheduler()
        fs, trail, parts = c.fs, c.trail, c.parts
        claimed = await scheduler.run_once()
        await scheduler.attempts_done()
        jobs = await scheduler.store.jobs()
        assert [(j.id, j.phone, j.queue) for j in jobs] == [(claimed[0], caller, "universal")]
        [job] = jobs
        assert (job.state, job.result, job.attempts) == ("done", "answered", 1)
        [attempt] = await scheduler.store.attempts(job.id)
        assert (attempt.key, attempt.agent, attempt.outcome) == (f"cb{job.id}-1", OPERATOR,
                                                                 "answered")
        call_id = call_id_for(attempt.key)
        assert attempt.call_id == call_id

        # the call ends once bridged (the operator's leg marked, FreeSWITCH runs that as the
        # patient's event, not before it); the test's link has all of it once the operator's
        # leg is gone (its events come in order; the controller's link may be ahead of it)
        await trail.started(call_id, "set", f"CLINICALL_OUTCOME={CALLBACK_ANSWERED}")
        assert (await fs.api(f"uuid_kill {call_id}")).startswith("+OK")
        await trail.gone(call_id)

        # FreeSWITCH's own account of it: the operator's leg was answered before the
        # patient's leg was created; the patient was dialled once and answered
        agent_answered = trail.first("CHANNEL_ANSWER", lambda _c, u: u == call_id)
        patient_legs = [u for n, ch, u in trail.events if n == "CHANNEL_CREATE"
                        and ch == f"loopback/{caller}-a"]  # fmt: skip
        assert len(patient_legs) == 1
        patient_created = trail.first("CHANNEL_CREATE",
                                      lambda ch, _u: ch == f"loopback/{caller}-a")
        # the whisper: the operator's leg handed to the controller (its words are asserted
        # in test_callback_offer_freeswitch, where callbacks are enabled)
        whispered = trail.first("EXECUTE socket", lambda _c, u: u == call_id)
        assert agent_answered < whispered < patient_created
        assert trail.first("CHANNEL_ANSWER", lambda _c, u: u == patient_legs[0])
        assert trail.statuses == [(attempt.key, "ANSWER")]

        # its durable record says the patient answered
        await parts.tracker.reconcile()
        record = await scheduler.store.call_record(call_id)
        assert record is not None
        cdr = (fs.log_dir / "cdr-csv" / "clinicall.csv").read_text()
        assert CALLBACK_ANSWERED in record.outcomes, cdr
        await parts.tracker.flush()
        async with parts.sessions() as session:
            calls = {row.call_key: row for row in await session.scalars(select(Call))}
        # the account holds the missed call and the callback's call; no leg counts as a
        # call of its own (the simulated operator's second loopback half carries the
        # originate's key: a channel of the callback call)
        assert set(calls) == {missed, call_id}, {k: r.dialled for k, r in calls.items()}
        placed = calls[call_id]
        assert (placed.direction, placed.purpose, placed.missed, placed.dialled) == (
            Direction.OUTBOUND, "callback", False, caller)
        assert placed.answered_at is not None
        # the report counts the patient's call only, as on Asterisk
        async with parts.sessions() as session:
            report = await compute(session, start=since, config=c.config,
                                   end=datetime.now(UTC) + timedelta(hours=1))
        [row] = report.section("calls").rows
        assert (row["inbound"], row["missed"], row["missed_abandoned"]) == (1, 1, 1)
        [queue] = report.section("queues").rows
        abandons = int(queue["abandoned"] or 0) + int(queue["short_abandoned"] or 0)
        assert (queue["offered"], abandons, queue["answered"]) == (1, 1, 0)


async def test_an_operator_a_dead_controller_left_on_break_is_made_available_again(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:
    """What a controller that died mid-callback leaves: the operator reserved (on
    FreeSWITCH ``On Break``, which carries no reason), its job claimed with a lease that ran
    out, its attempt stored with no outcome, and no call of it in FreeSWITCH's record.  The
    next scheduler's round settles the attempt (``unknown``) and FreeSWITCH's agent is
    ``Available`` again (docs/callbacks.md, "Reserving the operator")."""
    async with callback_clinic(make_freeswitch, tmp_path, "callbacks-dead") as c:
        await operator_answers(c)
        await c.parts.engine.control.queue_member_pause(OPERATOR, paused=True,
                                                        reason=RESERVE_REASON)  # fmt: skip
        status = f"callcenter_config agent get status {OPERATOR}"
        assert (await c.fs.api(status)).strip() == "On Break"
        await add_due_jobs(c.parts.sessions, 1, queue="universal")
        died_at = datetime.now(UTC) - timedelta(minutes=20)
        dead = CallbackStore(c.parts.sessions, owner="dead", lease=timedelta(minutes=3))
        [job] = await dead.jobs()
        [held] = await dead.claim([job.id], died_at)
        assert await dead.begin_attempt(held, call_id_for=c.parts.engine.call_id_for,
                                        agent=OPERATOR, now=died_at) is not None
        scheduler = c.scheduler()
        await scheduler.run_once()
        await scheduler.attempts_done()
        [attempt] = await scheduler.store.attempts(job.id)
        assert (attempt.owner, attempt.outcome) == ("dead", "unknown")
        assert (await c.fs.api(status)).strip() == "Available"


async def test_a_busy_patient_is_dialled_once_and_the_job_waits_for_its_retry(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:
    async with callback_clinic(make_freeswitch, tmp_path, "callbacks-busy") as c:
        caller = "+380501239001"  # the simulated patient who is busy
        await missed_call(c, caller)
        await operator_answers(c)
        scheduler = c.scheduler()
        [claimed] = await scheduler.run_once()
        await scheduler.attempts_done()
        [job] = await scheduler.store.jobs()
        assert (job.id, job.state, job.result, job.attempts) == (claimed, "pending", "busy", 1)
        [attempt] = await scheduler.store.attempts(job.id)
        assert (attempt.agent, attempt.outcome) == (OPERATOR, "busy")
        call_id = call_id_for(attempt.key)
        await c.trail.gone(call_id)  # the operator's leg hung up after the failed bridge
        patient_legs = [u for n, ch, u in c.trail.events if n == "CHANNEL_CREATE"
                        and ch == f"loopback/{caller}-a"]  # fmt: skip
        assert len(patient_legs) == 1
        assert c.trail.statuses == [(attempt.key, "USER_BUSY")]
        await c.parts.tracker.reconcile()
        await c.parts.tracker.flush()  # the account writes in batches
        record = await scheduler.store.call_record(call_id)
        assert record is not None
        assert CALLBACK_ANSWERED not in record.outcomes
        assert await scheduler.run_once() == []  # the retry is spacing_min away


async def test_an_operator_who_hangs_up_in_the_whisper_or_never_answers_costs_no_patient_call(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:
    """The reserved operator answers and hangs up 1.5 s into the whisper, then (the next job)
    an operator's phone rings out: neither patient is dialled, each job goes back to its
    place without using up a try (``operator_missed``), and the agent is ``Available`` again
    (docs/engines/freeswitch.md, "The callback call")."""
    async with callback_clinic(make_freeswitch, tmp_path, "callbacks-operator",
                               _enabled(_config())) as c:  # fmt: skip
        scheduler = await own_scheduler(c)
        status = f"callcenter_config agent get status {OPERATOR}"
        await add_due_jobs(c.parts.sessions, 1, queue="universal", first=1_000_001)
        for number, contact in enumerate(("cb_operator_leaves", "cb_operator_away"), 1):
            command = f"callcenter_config agent set contact {OPERATOR} " \
                      f"loopback/{contact}/{CB_SIM_CONTEXT}"
            assert (await c.fs.api(command)).strip().startswith("+OK")
            [claimed] = await scheduler.run_once()  # the same job, at once again
            await scheduler.attempts_done()
            attempt = (await scheduler.store.attempts(claimed))[-1]
            [job] = await scheduler.store.jobs()
            assert (attempt.key, attempt.agent, attempt.outcome) == (
                f"cb{claimed}-{number}", OPERATOR, "operator_missed"), contact
            assert (job.state, job.attempts) == ("pending", 0), contact
            await c.trail.gone(call_id_for(attempt.key))
            assert (await c.fs.api(status)).strip() == "Available", contact
        # the whisper had begun on the operator who left; no patient's leg was ever created
        left = call_id_for("cb1-1")
        assert any(uuid == left and app == "socket" for uuid, app, _ in c.trail.executed)
        created = [ch for n, ch, _ in c.trail.events if n == "CHANNEL_CREATE"]
        assert not [ch for ch in created if ch.startswith("loopback/+380501")], created


async def test_a_patient_who_answers_late_is_greeted_whole_and_one_who_never_does_is_let_go(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:
    """The ring limits the patient's ring only: one who answers at its end hears the whole
    greeting (longer than what was left of the ring) and is bridged to the operator; one who
    never answers is let go when the ring is over, by the leg's own limit
    (docs/engines/freeswitch.md, "The callback call")."""
    async with callback_clinic(make_freeswitch, tmp_path, "callbacks-late",
                               _enabled(_config())) as c:  # fmt: skip
        scheduler = await own_scheduler(c)
        outcomes: list[tuple[str, str | None, list[tuple[str, str]]]] = []
        for first in (8_000_001, 9_000_001):  # late, then absent
            attempt, statuses = await dial_one(c, scheduler, first)
            outcomes.append((attempt.key, attempt.outcome, statuses))
        greeting = prompts.prompt_name(c.config.default_language, prompts.CALLBACK_GREETING)
        greeted = [uuid for uuid, app, data in c.trail.executed
                   if app == "playback" and greeting in data]  # fmt: skip
        late, absent = outcomes
        assert late[1:] == ("answered", [(late[0], "ANSWER")]), outcomes
        assert len(greeted) == 1, c.trail.executed
        # the leg's own limit let the absent patient go: ALLOTTED_TIMEOUT, not the whole
        # originate's NO_ANSWER at the end of the greeting's allowance
        assert absent[1:] == ("no_answer", [(absent[0], "ALLOTTED_TIMEOUT")]), outcomes


async def test_with_a_confirm_key_only_the_patient_who_presses_it_is_put_through(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:
    """``callbacks.confirm_key: "1"``: a patient who presses 1 while greeted is bridged to the
    operator (``answered``); one who answers and presses nothing, as an answering machine
    does, is asked twice, then hung up (``NO_USER_RESPONSE``): not put through, the try
    counted (``no_answer``), and the operator leg's CDR line holds no answer
    (docs/callbacks.md, "The callback call")."""
    config = _enabled(_config())
    config = config.model_copy(update={"callbacks": config.callbacks.model_copy(
        update={"confirm_key": "1"})})
    async with callback_clinic(make_freeswitch, tmp_path, "callbacks-confirm", config) as c:
        scheduler = await own_scheduler(c)
        results: list[tuple[str | None, list[tuple[str, str]], int]] = []
        for first in (7_000_001, 1_000_001):  # presses 1, then presses nothing
            attempt, statuses = await dial_one(c, scheduler, first)
            job = next(j for j in await scheduler.store.jobs() if j.id == attempt.callback_id)
            results.append((attempt.outcome, statuses, job.attempts))
        assert results == [("answered", [("cb1-1", "ANSWER")], 1),
                           ("no_answer", [("cb2-1", "NO_USER_RESPONSE")], 1)]
        asked = prompts.prompt_name(c.config.default_language, prompts.CALLBACK_CONFIRM)
        questions = [uuid for uuid, app, data in c.trail.executed
                     if app == "play_and_get_digits" and asked in data]  # fmt: skip
        # asked once of the patient who pressed at once, twice of the one who never did
        assert sorted(Counter(questions).values()) == [1, 2], c.trail.executed
        await c.parts.tracker.reconcile()
        unconfirmed = await scheduler.store.call_record(call_id_for("cb2-1"))
        assert unconfirmed is not None
        assert CALLBACK_ANSWERED not in unconfirmed.outcomes


@pytest.mark.parametrize("account", [False, True], ids=["ip-matched", "with-account"])
async def test_a_callback_goes_out_through_the_trunk_in_the_providers_format(
        make_freeswitch: FreeswitchFactory, tmp_path: Path, account: bool) -> None:
    """The outbound route (docs/outbound.md) through the generated ``clinicall_originate``:
    the patient's leg reaches the provider (provider.py) through the trunk, the number in the
    provider's format (``national``: ``0…``) with the clinic's caller id (in From; with an
    account, the trunk is a gateway that answers the provider's challenge, its account in
    From and the caller id in P-Asserted-Identity); the patient who answers is greeted and
    put through, and the call ends at the provider; a busy number (the provider's 486) is
    stored as ``busy``."""
    credentials = (TRUNK_ACCOUNT, TRUNK_PASSWORD) if account else None
    provider = Provider(PROVIDER_IP, behaviour={"0501000002": "busy"}, credentials=credentials)
    [port] = free_ports(1, socket.SOCK_DGRAM)
    await provider.listen(port)
    data = _enabled(_config()).model_dump(mode="json")
    trunk = {"id": "provider", "host": f"{PROVIDER_IP}:{port}", "match": [f"{PROVIDER_IP}/32"]}
    if account:
        trunk.update({"username": TRUNK_ACCOUNT, "password": TRUNK_PASSWORD})
    data["trunks"] = [trunk]
    data["outbound"] = {"trunk": "provider", "number_format": "national",
                        "country_code": "380", "caller_id": CALLER_ID}
    try:
        async with callback_clinic(make_freeswitch, tmp_path, "callbacks-trunk",
                                   ClinicConfig.model_validate(data)) as c:  # fmt: skip
            assert isinstance(c.parts.engine, FreeswitchEngine)
            c.parts.engine.control.originate_context = ORIGINATE_CONTEXT  # the generated one
            scheduler = await own_scheduler(c)
            answered, statuses = await dial_one(c, scheduler, 7_000_001)
            placed = await provider.next_call(10)
            presented = (TRUNK_ACCOUNT, CALLER_ID) if account else (CALLER_ID, "")
            assert (placed.dialled, placed.caller_id, placed.asserted_id) == (
                "0507000001", *presented)
            assert (answered.outcome, statuses) == ("answered", [("cb1-1", "ANSWER")])
            greeting = prompts.prompt_name(c.config.default_language,
                                           prompts.CALLBACK_GREETING)
            assert [data for _, app, data in c.trail.executed
                    if app == "playback" and greeting in data]  # fmt: skip
            await asyncio.wait_for(placed.ended.wait(), 10)  # hung up at the provider ...
            assert placed.state == "ended"  # ... after the answer was acknowledged
            busy, statuses = await dial_one(c, scheduler, 1_000_002)
            placed = await provider.next_call(10)
            assert (placed.dialled, placed.state) == ("0501000002", "busy")
            assert (busy.outcome, statuses) == ("busy", [("cb2-1", "USER_BUSY")])
    finally:
        provider.close()
