"""The demo's callback: the scheduler on the demo's clock, and its steps printed as Asterisk
reports them (the operator rung first, then the patient)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from clinicall.app import Running, utc_now
from clinicall.controller.callbacks import CallbackScheduler, SchedulerSettings
from clinicall.privacy import mask_number
from clinicall.settings.models import ClinicConfig
from clinicall.simclinic.calltrace import CallTrace
from clinicall.simclinic.clinic import SimulatedClinic

Print = Callable[[str], None]


@asynccontextmanager
async def callback_scheduler(parts: Running, config: ClinicConfig, now: Callable[[], datetime],
                             out: Print) -> AsyncIterator[CallbackScheduler]:
    """The callback scheduler as ``run`` starts it, but on the demo's clock: the IVR's, an
    hour after the next opening when the clinic is closed (the missed call keeps its real
    time, so intake looks back past the shift)."""
    from clinicall.controller.asterisk.control import call_id_for
    from clinicall.controller.asterisk.engine import AsteriskEngine
    from clinicall.controller.tracking.config import TrackingConfig
    from clinicall.db.callbacks import CallbackStore

    assert isinstance(parts.engine, AsteriskEngine)  # the demo's engine (--engine asterisk)
    settings = SchedulerSettings(owner="demo", caller_id=config.numbers[0].number,
                                 intake_since=timedelta(days=1) + abs(now() - utc_now()))
    store = CallbackStore(parts.sessions, owner="demo", lease=settings.lease)
    scheduler = CallbackScheduler(parts.engine.control, store, config, call_id_for=call_id_for,
                                  clock=now, settings=settings,
                                  country_code=TrackingConfig.from_clinic(config).country_code)
    await scheduler.start()
    out("demo: callbacks on: the scheduler looks for missed calls every second")
    try:
        yield scheduler
    finally:
        await scheduler.close()


@dataclass(frozen=True, slots=True)
class CallbackShown:
    """The demo's callback as Asterisk reported it and as the store settled it."""

    operator: str
    patient_dial: str  # Asterisk's DialStatus of the patient's leg (ANSWER)
    job_state: str
    job_result: str | None
    trace: CallTrace


#: The first attempt of the first job: the demo's store is fresh, and one patient gives up.
CALLBACK_KEY = "cb1-1"


def expect_callback(clinic: SimulatedClinic) -> None:
    from clinicall.controller.asterisk.control import call_id_for

    clinic.tracer.expect(call_id_for(CALLBACK_KEY))


async def show_callback(clinic: SimulatedClinic, parts: Running, scheduler: CallbackScheduler,
                        out: Print, timeout: float = 180.0) -> CallbackShown:  # noqa: ASYNC109
    """Print the callback's steps as Asterisk reports them: the operator rung first, the
    patient dialled once the operator answered, the patient's answer, the end."""
    from clinicall.controller.asterisk.control import call_id_for

    call = call_id_for(CALLBACK_KEY)
    tracer = clinic.tracer
    rung = await tracer.wait_until(call, lambda m: m.get("Event") == "Newchannel" and (
        "@clinicall-sim-operators" in m.get("Channel", "")), timeout)
    operator = rung.get("Channel", "").removeprefix("Local/").split("@", 1)[0]
    out(f"callback 1: the scheduler rings operator {operator} first")
    await tracer.wait_for(call, "DialBegin", timeout)
    out(f"callback 1: {operator} answered and heard the whisper; the patient is dialled")
    ended = await tracer.wait_for(call, "DialEnd", timeout)
    status = ended.get("DialStatus", "")
    out(f"callback 1: the patient's phone: {status}"
        + (" — patient and operator are talking" if status == "ANSWER" else ""))
    trace = await tracer.finished(call, timeout)
    await scheduler.attempts_done()
    [job] = [j for j in await scheduler.store.jobs() if j.id == 1]
    out(f"callback 1: ended; {mask_number(job.phone)}'s callback is {job.state} "
        f"({job.result}), {job.attempts} attempt(s)")
    return CallbackShown(operator, status, job.state, job.result, trace)


