"""What the callback tests on the real Asterisk share: the example clinic with one front-desk
operator and callbacks on, a patient who waits in the front desk's queue, the engine's
queue_log, a queue attempt once the account holds its outcome, and a callback scheduler the
test drives round by round."""

from __future__ import annotations

import asyncio
from typing import Any

from callback_fakes import add_due_jobs
from sqlalchemy import select

from clinicall.app import Running, utc_now
from clinicall.controller.asterisk.control import call_id_for
from clinicall.controller.asterisk.engine import AsteriskEngine
from clinicall.controller.callbacks import CallbackScheduler, SchedulerSettings
from clinicall.controller.service import Clock
from clinicall.db.callbacks import AttemptRow, CallbackStore
from clinicall.db.models import Call, QueueAttempt
from clinicall.settings.loader import load_config
from clinicall.settings.models import ClinicConfig
from clinicall.simclinic.calltrace import CallTrace
from clinicall.simclinic.clinic import SimulatedClinic

from .scenario import ENGLISH_NUMBER, EXAMPLE

OPERATOR = "op104"
QUEUE = "universal"  # "0" in the main menu: the front desk
HOLD_S = 180  # live callers stay until served
#: Seconds the operator talks on each call: long enough to hear a callback's whole whisper,
#: and to be on the line for the patient's greeting (the built prompts, with a margin).
TALK_S = 20


def offer_config(*, announce_position: bool = False, **callbacks: Any) -> ClinicConfig:
    """The example clinic open around the clock with one front-desk operator (so the order
    of serves is the order of the line) and callbacks on, patients awake at any hour;
    ``callbacks`` override more of the callbacks section."""
    data = load_config(EXAMPLE).model_dump(mode="json")
    data["hours"] = {"weekly": {day: ["00:00-24:00"] for day in data["hours"]["weekly"]},
                     "holidays": []}
    data["operators"] = [{**op, "queues": {QUEUE: 0}} for op in data["operators"]
                         if op["id"] == OPERATOR]  # fmt: skip
    data["queues"][QUEUE]["announce_position"] = announce_position
    data["callbacks"].update({"enabled": True, "attempts": 1, "patient_day": "00:00-24:00",
                              **callbacks})  # fmt: skip
    return ClinicConfig.model_validate(data)


async def queued(clinic: SimulatedClinic, caller: str) -> str:
    """A patient who asks for the front desk; returns once they wait in its queue."""
    linkedid = await clinic.call(digits="0", number=ENGLISH_NUMBER, hold_s=HOLD_S,
                                 caller=caller)  # fmt: skip
    await clinic.tracer.wait_for(linkedid, "QueueCallerJoin", timeout=60)
    return linkedid


def queue_log(clinic: SimulatedClinic) -> list[list[str]]:
    return [line.split("|") for line in clinic.asterisk.queue_log_path.read_text().splitlines()]


async def written_attempt(app: Running, linkedid: str) -> QueueAttempt:
    """The call's (first) queue attempt once the account holds its outcome (read back from
    queue_log)."""
    for _ in range(200):  # the account writes in batches: flush until it is projected
        await app.tracker.reconcile()
        await app.tracker.flush()
        async with app.sessions() as session:
            attempt = await session.scalar(
                select(QueueAttempt).join(Call, Call.id == QueueAttempt.call_id)
                .where(Call.call_key == linkedid).order_by(QueueAttempt.joined_at)
                .limit(1))  # fmt: skip
            if attempt is not None and attempt.outcome is not None:
                return attempt
        await asyncio.sleep(0.1)
    raise AssertionError("the account never held the call's queue attempt")


def driven_scheduler(app: Running, *, clock: Clock = utc_now,
                     ring_timeout_s: float = 30.0) -> CallbackScheduler:  # fmt: skip
    """A callback scheduler on ``app``'s engine and store, for the test to run round by round
    (``run_once``); its claims are the test's own."""
    assert isinstance(app.engine, AsteriskEngine)
    settings = SchedulerSettings(owner="test", ring_timeout_s=ring_timeout_s)
    store = CallbackStore(app.sessions, owner="test", lease=settings.lease)
    return CallbackScheduler(app.engine.control, store, app.controller.config,
                             call_id_for=call_id_for, clock=clock, settings=settings,
                             country_code="380")  # fmt: skip


async def dial_one_due(clinic: SimulatedClinic, app: Running, scheduler: CallbackScheduler,
                       job_id: int, first: int) -> tuple[AttemptRow, CallTrace]:  # fmt: skip
    """One due manual job of the front desk for ``+38050<first>`` (``add_due_jobs``; the
    store's job ``job_id``), dialled once by ``scheduler``: its attempt, and the call as
    Asterisk told it, once ended."""
    key = f"cb{job_id}-1"  # the job's first attempt
    clinic.tracer.expect(call_id_for(key))
    await add_due_jobs(app.sessions, 1, queue=QUEUE, first=first)
    assert await scheduler.run_once() == [job_id]
    await scheduler.attempts_done()
    [attempt] = await scheduler.store.attempts(job_id)
    return attempt, await clinic.finished(call_id_for(key), timeout=120)
