"""The operator a callback reserves on the real Asterisk 22, with no wrap-up (``wrapup_s: 0``):
app_queue may give an operator to a live caller at the very instant the callback scheduler
saw them free (docs/callbacks.md, "Reserving the operator").

One operator in the front desk's queue.  A callback job is due (its patient called a minute
ago).  The scheduler reads the queue (the operator is free, nobody waits); before it acts, a
live caller B joins and app_queue connects B to the operator.  The scheduler's reservation
(pause, then read the queue again) finds the operator in B's call: the callback is not
dialled, its job keeps its place, the try uncounted, and the operator is unpaused.  Once B's
call ends the next round dials the callback to the same operator with a new key.  What was
dialled is read from the engine's own events.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from clinicall.app import Running
from clinicall.asterisk_config.queues import member_interface
from clinicall.controller.asterisk.control import call_id_for
from clinicall.controller.asterisk.engine import AsteriskEngine
from clinicall.controller.callbacks import CallbackScheduler, SchedulerSettings
from clinicall.controller.callbacks.scheduler import OPERATOR_TAKEN, RESERVE_REASON
from clinicall.controller.port import (
    EngineControl,
    OriginateRequest,
    OriginateResult,
    QueueStatus,
)
from clinicall.db.callbacks import CallbackStore
from clinicall.db.models import CallbackReason
from clinicall.settings.loader import load_config
from clinicall.settings.models import ClinicConfig
from clinicall.simclinic.clinic import SimulatedClinic

from .scenario import ENGLISH_NUMBER, EXAMPLE

pytestmark = pytest.mark.asyncio(loop_scope="module")

OPERATOR = "op104"
QUEUE = "universal"  # "0" in the main menu: the front desk
PATIENT = "+380501230031"


def _config() -> ClinicConfig:
    """The example clinic open around the clock, one front-desk operator, no wrap-up."""
    data = load_config(EXAMPLE).model_dump(mode="json")
    data["hours"] = {"weekly": {day: ["00:00-24:00"] for day in data["hours"]["weekly"]},
                     "holidays": []}
    data["operators"] = [{**op, "queues": {QUEUE: 0}} for op in data["operators"]
                         if op["id"] == OPERATOR]  # fmt: skip
    data["queues"][QUEUE]["wrapup_s"] = 0
    data["callbacks"].update({"attempts": 2, "patient_day": "00:00-24:00"})
    return ClinicConfig.model_validate(data)


class LateControl:
    """The engine's control, with ``meanwhile`` run once between the first queue status it
    reads and the moment that status is handed to the scheduler: what the engine did while
    the scheduler's round was deciding."""

    def __init__(self, control: EngineControl) -> None:
        self.control = control
        self.meanwhile: Callable[[], Awaitable[None]] | None = None

    async def queue_status(self) -> tuple[QueueStatus, ...]:
        status = await self.control.queue_status()
        meanwhile, self.meanwhile = self.meanwhile, None
        if meanwhile is not None:
            await meanwhile()
        return status

    async def originate(self, request: OriginateRequest) -> OriginateResult:
        return await self.control.originate(request)

    async def queue_member_add(self, queue: str, member: str, *, name: str = "",
                               paused: bool = False, penalty: int = 0) -> None:  # fmt: skip
        await self.control.queue_member_add(queue, member, name=name, paused=paused,
                                            penalty=penalty)  # fmt: skip

    async def queue_member_remove(self, queue: str, member: str) -> None:
        await self.control.queue_member_remove(queue, member)

    async def queue_member_pause(self, member: str, *, paused: bool, reason: str = "",
                                 queue: str | None = None) -> None:  # fmt: skip
        await self.control.queue_member_pause(member, paused=paused, reason=reason, queue=queue)

    async def hangup(self, channel_id: str, *, cause: int = 16) -> None:
        await self.control.hangup(channel_id, cause=cause)

    async def set_call_data(self, channel_id: str, name: str, value: str) -> None:
        await self.control.set_call_data(channel_id, name, value)

    async def offer_callback(self, channel_id: str) -> None:
        await self.control.offer_callback(channel_id)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def clinic(asterisk_root: Path) -> AsyncIterator[SimulatedClinic]:
    async with SimulatedClinic.run(_config(), root=asterisk_root, name="reserve") as clinic:
        yield clinic


async def _member_paused(app: Running, member: str) -> tuple[bool, str]:
    statuses = await app.engine.control.queue_status()
    [seen] = [m for s in statuses if s.queue == QUEUE for m in s.members if m.member == member]
    return seen.paused, seen.pause_reason


async def test_an_operator_given_to_a_live_caller_meanwhile_is_not_dialled(
    clinic: SimulatedClinic, app: Running
) -> None:
    assert isinstance(app.engine, AsteriskEngine)
    late = LateControl(app.engine.control)
    settings = SchedulerSettings(owner="reserve", ring_timeout_s=6.0)
    store = CallbackStore(app.sessions, owner="reserve", lease=settings.lease)
    scheduler = CallbackScheduler(late, store, app.controller.config, call_id_for=call_id_for,
                                  clock=lambda: datetime.now(UTC), settings=settings,
                                  country_code="380")  # fmt: skip
    await clinic.set_operator(OPERATOR, "answer", ring_s=1, talk_s=4)
    now = datetime.now(UTC)
    job_id = await store.add_job(phone=PATIENT, queue=QUEUE, reason=CallbackReason.MISSED,
                                 arrived_at=now - timedelta(minutes=1), due_at=now, now=now)
    first, second = call_id_for(f"cb{job_id}-1"), call_id_for(f"cb{job_id}-2")
    clinic.tracer.expect(first)
    clinic.tracer.expect(second)
    live: list[str] = []

    async def a_live_caller_takes_the_operator() -> None:
        b = await clinic.call(digits="0", number=ENGLISH_NUMBER, hold_s=60,
                              caller="+380501230032")  # fmt: skip
        live.append(b)
        await clinic.tracer.wait_for(b, "AgentConnect", timeout=60)

    late.meanwhile = a_live_caller_takes_the_operator
    assert await scheduler.run_once() == [job_id]  # the status it read: the operator free
    await scheduler.attempts_done()
    [attempt] = await store.attempts(job_id)
    assert attempt.outcome == OPERATOR_TAKEN
    [job] = await store.jobs()
    assert (job.state, job.attempts) == ("pending", 0)
    member = member_interface(OPERATOR, simulated=True)
    assert await _member_paused(app, member) == (False, "")
    assert clinic.tracer.trace(first).events == []  # the engine never saw the first key

    [b] = live
    await clinic.finished(b, timeout=60)  # B talked 4 s and hung up: the operator is free
    for _ in range(50):  # the engine tells the member's state a moment after the hang-up
        if await scheduler.run_once() == [job_id]:
            break
        await asyncio.sleep(0.2)
    await scheduler.attempts_done()
    [job] = await store.jobs()
    assert (job.state, job.result, job.attempts) == ("done", "answered", 1)
    trace = await clinic.finished(second, timeout=60)
    patient_dials = [m.get("DialStatus", "") for m in trace.named("DialEnd")
                     if "@clinicall-originate" in m.get("DestChannel", "")]  # fmt: skip
    assert patient_dials == ["ANSWER"]
    assert await _member_paused(app, member) == (False, "")  # the reservation ended with it
    reserved = [line for line in clinic.asterisk.queue_log_path.read_text().splitlines()
                if f"|PAUSE|{RESERVE_REASON}" in line]
    assert len(reserved) == 2  # the reservation B's call foiled, then the callback's
