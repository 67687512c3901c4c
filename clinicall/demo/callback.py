"""The demo's callback: the scheduler on the demo's clock, and its steps printed as the engine
reports them (the operator rung first, then the patient), on either engine."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from clinicall.app import Running, utc_now
from clinicall.controller.callbacks import CallbackScheduler, SchedulerSettings
from clinicall.demo.clinic import PlacedCallWatch
from clinicall.privacy import mask_number
from clinicall.settings.models import ClinicConfig

Print = Callable[[str], None]


@asynccontextmanager
async def callback_scheduler(parts: Running, config: ClinicConfig, now: Callable[[], datetime],
                             out: Print) -> AsyncIterator[CallbackScheduler]:
    """The callback scheduler as ``run`` starts it, but on the demo's clock: the IVR's, an
    hour after the next opening when the clinic is closed (the missed call keeps its real
    time, so intake looks back past the shift).  The call id rule is the engine's."""
    from clinicall.controller.tracking.config import TrackingConfig
    from clinicall.db.callbacks import CallbackStore

    settings = SchedulerSettings(owner="demo", caller_id=config.numbers[0].number,
                                 intake_since=timedelta(days=1) + abs(now() - utc_now()))
    store = CallbackStore(parts.sessions, owner="demo", lease=settings.lease)
    scheduler = CallbackScheduler(parts.engine.control, store, config,
                                  call_id_for=parts.engine.call_id_for, clock=now,
                                  settings=settings,
                                  country_code=TrackingConfig.from_clinic(config).country_code)
    await scheduler.start()
    out("demo: callbacks on: the scheduler looks for missed calls every second")
    try:
        yield scheduler
    finally:
        await scheduler.close()


@dataclass(frozen=True, slots=True)
class CallbackShown:
    """The demo's callback as the engine reported it and as the store settled it."""

    operator: str
    patient_dial: str  # how the patient's leg went, as the engine said (ANSWER)
    job_state: str
    job_result: str | None
    attempts: int
    #: The engine's own events of the callback's call, in order: (event, channel).
    events: list[tuple[str, str]]


#: The first attempt of the first job: the demo's store is fresh, and one patient gives up.
CALLBACK_KEY = "cb1-1"


async def show_callback(watch: PlacedCallWatch, scheduler: CallbackScheduler, out: Print,
                        timeout: float = 180.0) -> CallbackShown:  # noqa: ASYNC109
    """Print the callback's steps as the engine reports them: the operator rung first, the
    patient dialled once the operator answered, the patient's answer, the end."""
    operator = await watch.operator_rung(timeout)
    out(f"callback 1: the scheduler rings operator {operator} first")
    await watch.patient_dialled(timeout)
    out(f"callback 1: {operator} answered; the patient is dialled")
    status = await watch.patient_status(timeout)
    out(f"callback 1: the patient's phone: {status}"
        + (" — patient and operator are talking" if status == "ANSWER" else ""))
    await watch.ended(timeout)
    await scheduler.attempts_done()
    [job] = [j for j in await scheduler.store.jobs() if j.id == 1]
    out(f"callback 1: ended; {mask_number(job.phone)}'s callback is {job.state} "
        f"({job.result}), {job.attempts} attempt(s)")
    return CallbackShown(operator, status, job.state, job.result, job.attempts, watch.events)
