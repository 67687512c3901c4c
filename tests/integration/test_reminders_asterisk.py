"""Appointment reminders on the real Asterisk 22: the scheduler dials the patient first into
the reminder flow (FastAGI script ``reminder``); the simulated patient hears the appointment
and presses 2 (the appointment is cancelled) or 1 (confirmed).  That each patient was dialled
once, and what was played, is read from the engine's own events (the tracer's AMI stream).

The controller (IVR, account, the reminder flow) runs in-process through
``clinicall.app.running``; the callback scheduler is built on the same engine and store and
driven round by round.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from clinicall.app import Running
from clinicall.controller.asterisk.control import call_id_for
from clinicall.controller.callbacks import CallbackScheduler
from clinicall.db.appointment_input import AppointmentInput
from clinicall.db.appointments import AppointmentStore
from clinicall.settings.loader import load_config
from clinicall.settings.models import ClinicConfig
from clinicall.simclinic.clinic import SimulatedClinic

from .offer_common import driven_scheduler
from .scenario import EXAMPLE

pytestmark = pytest.mark.asyncio(loop_scope="module")

#: The patient waits (0.5 s per ``w``) until the announcement plays, then presses the key.
WAIT_FOR_ANNOUNCEMENT = "w" * 6


def _config() -> ClinicConfig:
    """The example clinic open around the clock, patients awake at any hour, reminders on."""
    data = load_config(EXAMPLE).model_dump(mode="json")
    data["hours"] = {"weekly": {day: ["00:00-24:00"] for day in data["hours"]["weekly"]},
                     "holidays": []}
    data["callbacks"].update({"attempts": 1, "patient_day": "00:00-24:00"})
    data["reminders"] = {"enabled": True, "lead_h": 24, "min_notice_min": 60, "ring_s": 10}
    return ClinicConfig.model_validate(data)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def clinic(asterisk_root: Path) -> AsyncIterator[SimulatedClinic]:
    async with SimulatedClinic.run(_config(), root=asterisk_root, name="reminders") as clinic:
        yield clinic


@pytest.fixture(scope="module")
def scheduler(app: Running) -> CallbackScheduler:
    return driven_scheduler(app, ring_timeout_s=10)


@pytest.mark.parametrize(("phone", "key", "state"), [
    ("+380501240002", "2", "cancelled"), ("+380501240001", "1", "confirmed")])
async def test_the_patients_key_answers_the_reminder(
    clinic: SimulatedClinic, app: Running, scheduler: CallbackScheduler, phone: str, key: str,
    state: str,
) -> None:
    store = AppointmentStore(app.sessions)
    external_id = f"R-{key}"
    starts_at = (datetime.now(UTC) + timedelta(hours=3)).replace(second=0, microsecond=0)
    await store.import_rows([AppointmentInput(external_id, phone, "en", "petrenko",
                                              "ultrasound", starts_at)], datetime.now(UTC))
    await clinic.ami.action("Setvar", {"Variable": "SIM_KEYS_" + phone.removeprefix("+"),
                                       "Value": WAIT_FOR_ANNOUNCEMENT + key})  # fmt: skip
    for job_id in range(1, 4):  # a fresh store: the jobs are 1, 2, ...
        clinic.tracer.expect(call_id_for(f"cb{job_id}-1"))
    claimed = await scheduler.run_once()
    await scheduler.attempts_done()
    appointment = await store.by_external_id(external_id)
    assert appointment is not None
    assert claimed == [appointment.reminder_job_id]
    job = await scheduler.store.job(claimed[0])
    assert job is not None
    assert (job.reason, job.state, job.result) == ("reminder", "done", "answered")
    [attempt] = await scheduler.store.attempts(job.id)
    trace = await clinic.finished(call_id_for(attempt.key), timeout=60)
    await app.controller.writes_done()
    appointment = await store.by_external_id(external_id)
    assert appointment is not None
    assert (appointment.state, appointment.reminder_result) == (state, state)
    played = trace.prompts_played
    assert "clinicall/en/reminder_doctor_petrenko" in played
    assert f"clinicall/en/reminder_{state}" in played
    originated = [m for m in trace.named("Newchannel")
                  if "@clinicall-originate" in m.get("Channel", "")]
    assert len(originated) == 2  # the patient dialled once (a Local channel's two halves)
    assert await scheduler.run_once() == []  # answered: never dialled again
