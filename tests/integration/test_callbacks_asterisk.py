"""Callbacks on the real Asterisk 22: a patient who abandons the queue is called back, agent
first (the operator is rung and whispered to, then the patient is dialled, hears the
announcement and is bridged); a second missed call adds no job; a patient who does not answer
is tried per policy, then the job fails.  Every "dialled once" is counted from the engine's
own events (the tracer's AMI stream), not from the store.

The controller (IVR, account) runs in-process through ``clinicall.app.running``; the callback
scheduler is built on the same engine and store with an injected clock (real time plus an
offset the test moves for the retry spacing) and driven round by round.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from sqlalchemy import select

from clinicall.app import Running
from clinicall.controller.asterisk.control import call_id_for
from clinicall.controller.asterisk.engine import AsteriskEngine
from clinicall.controller.callbacks import CallbackScheduler, SchedulerSettings
from clinicall.controller.port import CALLBACK_ANSWERED
from clinicall.db.callbacks import CallbackStore
from clinicall.db.models import Call, Direction
from clinicall.reports.kpi import compute
from clinicall.settings.loader import load_config
from clinicall.settings.models import ClinicConfig
from clinicall.simclinic.calltrace import CallTrace
from clinicall.simclinic.clinic import SimulatedClinic

from .offer_common import driven_scheduler
from .scenario import ENGLISH_NUMBER, EXAMPLE

pytestmark = pytest.mark.asyncio(loop_scope="module")

RING_S = 6.0


def _config() -> ClinicConfig:
    """The example clinic open around the clock (the account keeps real time, and the test
    must not depend on when it runs), two tries a minute apart."""
    data = load_config(EXAMPLE).model_dump(mode="json")
    data["hours"] = {"weekly": {day: ["00:00-24:00"] for day in data["hours"]["weekly"]},
                     "holidays": []}
    data["callbacks"].update({"attempts": 2, "spacing_min": 1, "patient_day": "00:00-24:00"})
    return ClinicConfig.model_validate(data)


class ShiftedClock:
    """Real time plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def clinic(asterisk_root: Path) -> AsyncIterator[SimulatedClinic]:
    async with SimulatedClinic.run(_config(), root=asterisk_root, name="callbacks") as clinic:
        yield clinic


@pytest.fixture(scope="module")
def clock() -> ShiftedClock:
    return ShiftedClock()


@pytest.fixture(scope="module")
def scheduler(app: Running, clock: ShiftedClock) -> CallbackScheduler:
    return driven_scheduler(app, clock=clock, ring_timeout_s=RING_S)


async def _set_operators(clinic: SimulatedClinic, behaviour: str) -> None:
    for op in clinic.config.operators:
        await clinic.set_operator(op.id, behaviour, ring_s=1, talk_s=3 * int(RING_S))


async def _missed_call(clinic: SimulatedClinic, app: Running, caller: str) -> str:
    """A patient who asks for an operator and hangs up while nobody answers; returns when the
    account holds the call as missed."""
    await _set_operators(clinic, "noanswer")
    linkedid = await clinic.call(digits="0", number=ENGLISH_NUMBER, hold_s=6, caller=caller)
    await clinic.finished(linkedid, timeout=60)
    for _ in range(100):  # the account writes in batches: flush until the call is projected
        await app.tracker.flush()
        async with app.sessions() as session:
            if await session.scalar(select(Call.missed).where(Call.call_key == linkedid)):
                return linkedid
        await asyncio.sleep(0.1)
    raise AssertionError("the account never held the missed call")


def _expect_callbacks(clinic: SimulatedClinic, jobs: range, attempts: int) -> None:
    """Trace every call the scheduler may place (keys are ``cb<job>-<n>``, fresh store)."""
    for job in jobs:
        for number in range(1, attempts + 1):
            clinic.tracer.expect(call_id_for(f"cb{job}-{number}"))


def _patient_dials(trace: CallTrace) -> list[str]:
    return [m.get("DialStatus", "") for m in trace.named("DialEnd")
            if "@clinicall-originate" in m.get("DestChannel", "")]


async def test_a_missed_call_is_called_back_agent_first_and_a_second_adds_no_job(
    clinic: SimulatedClinic, app: Running, scheduler: CallbackScheduler
) -> None:
    _expect_callbacks(clinic, range(1, 4), 2)
    caller = "+380501230001"
    first = await _missed_call(clinic, app, caller)
    await _missed_call(clinic, app, caller)  # the same patient again: merged
    await _set_operators(clinic, "answer")
    claimed = await scheduler.run_once()
    await scheduler.attempts_done()
    jobs = await scheduler.store.jobs()
    assert [(j.id, j.phone, j.queue) for j in jobs] == [(claimed[0], caller, "universal")]
    [job] = jobs
    assert (job.state, job.result, job.attempts) == ("done", "answered", 1)
    async with app.sessions() as session:
        missed_at = await session.scalar(select(Call.started_at).where(Call.call_key == first))
    assert job.arrived_at == missed_at  # the place is the first call's arrival
    [attempt] = await scheduler.store.attempts(job.id)
    assert attempt.started_at - job.arrived_at < timedelta(minutes=10)  # within the target
    trace = await clinic.finished(call_id_for(attempt.key), timeout=60)
    assert _patient_dials(trace) == ["ANSWER"]  # the patient was dialled once and answered
    # what a controller that died meanwhile would learn: the engine's durable record holds
    # that the patient answered (the account reads it back)
    await app.tracker.reconcile()
    record = await scheduler.store.call_record(attempt.call_id)
    assert record is not None
    assert CALLBACK_ANSWERED in record.outcomes, [
        line for line in clinic.asterisk.queue_log_path.read_text().splitlines()
        if "CLINICALLCB" in line]
    callbacks = [m for m in trace.named("UserEvent")
                 if m.get("UserEvent") == "ClinicallCallback"]
    assert callbacks
    assert callbacks[0].get("Status") == "ANSWER"
    rung = [i for i, m in enumerate(trace.events) if m.get("Event") == "Newchannel"
            and "@clinicall-sim-operators" in m.get("Channel", "")]  # fmt: skip
    dialled = [i for i, m in enumerate(trace.events) if m.get("Event") == "DialBegin"]
    assert len(rung) == 2  # one operator (a Local channel's two halves) ...
    assert rung[-1] < dialled[0]  # ... rung before the patient was dialled


async def test_an_unanswered_callback_is_retried_then_failed(
    clinic: SimulatedClinic, app: Running, scheduler: CallbackScheduler, clock: ShiftedClock
) -> None:
    caller = "+380501230002"
    since = datetime.now(UTC)
    _expect_callbacks(clinic, range(1, 4), 2)
    await clinic.ami.action("Setvar", {"Variable": "SIM_PATIENT_380501230002",
                                       "Value": "noanswer"})  # fmt: skip
    await _missed_call(clinic, app, caller)
    await _set_operators(clinic, "answer")
    await scheduler.run_once()
    await scheduler.attempts_done()
    [job] = [j for j in await scheduler.store.jobs() if j.phone == caller]
    assert (job.state, job.attempts, job.result) == ("pending", 1, "no_answer")
    assert await scheduler.run_once() == []  # the retry is a minute away
    clock.offset += timedelta(minutes=1, seconds=1)
    assert await scheduler.run_once() == [job.id]
    await scheduler.attempts_done()
    [job] = [j for j in await scheduler.store.jobs() if j.phone == caller]
    assert (job.state, job.attempts, job.result) == ("failed", 2, "no_answer")
    keys = [a.key for a in await scheduler.store.attempts(job.id)]
    assert keys == [f"cb{job.id}-1", f"cb{job.id}-2"]
    for key in keys:  # each attempt dialled the patient exactly once, unanswered
        trace = await clinic.finished(call_id_for(key), timeout=60)
        assert _patient_dials(trace) == ["NOANSWER"]
    # the account holds the two attempts as calls clinicall placed, not as missed calls
    placed = await _ended_calls(app, [call_id_for(key) for key in keys])
    assert [(c.direction, c.purpose, c.missed, c.dialled) for c in placed] == [
        (Direction.OUTBOUND, "callback", False, caller)] * 2
    async with app.sessions() as session:
        report = await compute(session, start=since, config=clinic.config,
                               end=datetime.now(UTC) + timedelta(hours=1))
    [calls] = report.section("calls").rows
    assert (calls["inbound"], calls["missed"], calls["missed_abandoned"]) == (1, 1, 1)
    [queue] = report.section("queues").rows
    abandons = int(queue["abandoned"] or 0) + int(queue["short_abandoned"] or 0)
    assert (queue["offered"], abandons, queue["answered"]) == (1, 1, 0)  # the patient only


async def _ended_calls(app: Running, call_keys: list[str]) -> list[Call]:
    """The account's rows of these calls once each has ended (it writes in batches)."""
    for _ in range(100):
        await app.tracker.flush()
        async with app.sessions() as session:
            rows = {c.call_key: c for c in await session.scalars(
                select(Call).where(Call.call_key.in_(call_keys)))}
        if len(rows) == len(call_keys) and all(c.ended_at for c in rows.values()):
            return [rows[key] for key in call_keys]
        await asyncio.sleep(0.1)
    raise AssertionError(f"the account never ended the calls {call_keys}")


async def test_a_callback_due_after_hours_waits_for_the_next_opening(
    clinic: SimulatedClinic, app: Running
) -> None:
    """The example clinic's own hours (closed on Sunday), the scheduler's clock on a Sunday:
    nothing is dialled until Monday's first instant the clinic is open and the patient is
    awake (09:00 in Kyiv), then the callback is placed."""
    caller = "+380501230003"
    await _missed_call(clinic, app, caller)
    now = datetime.now(UTC)
    kyiv = ZoneInfo("Europe/Kyiv")
    local = now.astimezone(kyiv)
    sunday = datetime.combine(local.date() + timedelta(days=(6 - local.weekday()) % 7 or 7),
                              time(12, 0), kyiv)  # fmt: skip
    monday_nine = datetime.combine(sunday.date() + timedelta(days=1), time(9, 0), kyiv)
    clock = ShiftedClock()
    clock.offset = sunday - now
    example = load_config(EXAMPLE)  # closed on Sundays, opens 08:00; patients' day from 09:00
    config = app.controller.config.model_copy(update={"hours": example.hours,
                                                      "callbacks": example.callbacks})
    # the clock is up to a week ahead of the missed call: look back far enough for it
    settings = SchedulerSettings(owner="after-hours", ring_timeout_s=RING_S,
                                 intake_since=timedelta(days=8))
    assert isinstance(app.engine, AsteriskEngine)
    store = CallbackStore(app.sessions, owner="after-hours", lease=settings.lease)
    later = CallbackScheduler(app.engine.control, store, config, call_id_for=call_id_for,
                              clock=clock, settings=settings, country_code="380")
    await _set_operators(clinic, "answer")
    assert await later.run_once() == []
    [job] = [j for j in await store.jobs() if j.phone == caller]
    assert (job.state, job.due_at) == ("pending", monday_nine.astimezone(UTC))
    _expect_callbacks(clinic, range(job.id, job.id + 1), 1)
    clock.offset = monday_nine - datetime.now(UTC) - timedelta(seconds=5)
    assert await later.run_once() == []  # five seconds early: still waiting
    clock.offset += timedelta(seconds=6)
    assert await later.run_once() == [job.id]
    await later.attempts_done()
    [job] = [j for j in await store.jobs() if j.phone == caller]
    assert (job.state, job.result) == ("done", "answered")
    trace = await clinic.finished(call_id_for(f"cb{job.id}-1"), timeout=60)
    assert _patient_dials(trace) == ["ANSWER"]
