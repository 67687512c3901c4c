"""Appointment reminders through the callback scheduler, against a scripted engine control with
an injected clock, on SQLite and PostgreSQL: planned at the lead time, never rung at night nor
too late, dialled patient first into the reminder flow, each attempt once; every try
unanswered marks the appointment unreached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from callback_fakes import (
    TUESDAY_10_KYIV,
    TUESDAY_21_KYIV,
    WEDNESDAY_OPENING,
    Clock,
    ScriptedControl,
    Sessions,
    example_config,
    scheduler,
)

from clinicall.controller.callbacks import CallbackScheduler
from clinicall.controller.port import OriginateCause, OriginateFailed
from clinicall.db.appointment_input import AppointmentInput
from clinicall.db.appointments import AppointmentRow, AppointmentStore
from clinicall.settings.models import ClinicConfig

PATIENT = "+380507776655"
WEDNESDAY_14_KYIV = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def reminding(**callbacks: object) -> ClinicConfig:
    config = example_config(**callbacks)
    return config.model_copy(update={"reminders": config.reminders.model_copy(
        update={"enabled": True, "lead_h": 24, "min_notice_min": 120})})


async def booked(sessions: Sessions, starts_at: datetime, external_id: str = "A-1",
                 ) -> AppointmentStore:  # fmt: skip
    store = AppointmentStore(sessions)
    await store.import_rows([AppointmentInput(external_id, PATIENT, "en", "petrenko",
                                              "ultrasound", starts_at)], TUESDAY_10_KYIV)
    return store


async def the(store: AppointmentStore, external_id: str = "A-1") -> AppointmentRow:
    row = await store.by_external_id(external_id)
    assert row is not None
    return row


async def round_(cbs: CallbackScheduler) -> list[int]:
    claimed = await cbs.run_once()
    await cbs.attempts_done()
    return claimed


async def test_the_reminder_is_planned_at_the_lead_time_and_rung_patient_first(
    db_sessions: Sessions,
) -> None:
    store = await booked(db_sessions, WEDNESDAY_14_KYIV)
    clock, control = Clock(TUESDAY_10_KYIV), ScriptedControl()
    cbs = scheduler(db_sessions, control, clock, reminding())
    assert await round_(cbs) == []  # 28 hours before: not yet
    assert (await the(store)).reminder_job_id is None
    clock.at = WEDNESDAY_14_KYIV - timedelta(hours=24)
    [job_id] = await round_(cbs)
    [request] = control.sent
    appointment = await the(store)
    assert appointment.reminder_job_id == job_id
    assert (request.number, request.flow, request.agent, request.queue) == (
        PATIENT, "reminder", "", "ultrasound")
    assert request.data == {"appointment": str(appointment.id), "language": "en",
                            "purpose": "reminder", "dialled": PATIENT}
    assert request.key == f"cb{job_id}-1"
    job = await cbs.store.job(job_id)
    assert job is not None
    assert (job.reason, job.state, job.result) == ("reminder", "done", "answered")
    clock.at += timedelta(hours=1)
    assert await round_(cbs) == []  # planned once, dialled once
    assert len(control.sent) == 1


async def test_nobody_is_called_at_night(db_sessions: Sessions) -> None:
    store = await booked(db_sessions, WEDNESDAY_14_KYIV)
    clock, control = Clock(TUESDAY_21_KYIV), ScriptedControl()
    cbs = scheduler(db_sessions, control, clock, reminding())
    assert await round_(cbs) == []
    job = await cbs.store.job((await the(store)).reminder_job_id or 0)
    assert job is not None
    assert (job.state, job.due_at) == ("pending", WEDNESDAY_OPENING)  # 09:00 in Kyiv
    clock.at = WEDNESDAY_OPENING - timedelta(seconds=1)
    assert await round_(cbs) == []
    clock.at = WEDNESDAY_OPENING
    assert await round_(cbs) == [job.id]
    assert [r.flow for r in control.sent] == ["reminder"]


async def test_an_appointment_too_early_next_morning_gets_no_call(db_sessions: Sessions) -> None:
    """At 09:30 Kyiv: the last useful call is at 07:30, before the patient's day."""
    store = await booked(db_sessions, datetime(2026, 11, 25, 7, 30, tzinfo=UTC))
    control = ScriptedControl()
    cbs = scheduler(db_sessions, control, Clock(TUESDAY_21_KYIV), reminding())
    assert await round_(cbs) == []
    appointment = await the(store)
    assert (appointment.state, appointment.reminder_job_id) == ("scheduled", None)
    assert control.sent == []


async def test_every_try_unanswered_marks_the_appointment_unreached(
    db_sessions: Sessions,
) -> None:
    store = await booked(db_sessions, WEDNESDAY_14_KYIV)
    clock, control = Clock(WEDNESDAY_OPENING), ScriptedControl()
    control.script = [OriginateFailed("Originate", OriginateCause.NO_ANSWER),
                      OriginateFailed("Originate", OriginateCause.BUSY)]
    cbs = scheduler(db_sessions, control, clock, reminding(attempts=2, spacing_min=5))
    [job_id] = await round_(cbs)
    assert (await the(store)).state == "scheduled"
    clock.at += timedelta(minutes=4)
    assert await round_(cbs) == []  # the retry is five minutes later
    clock.at += timedelta(minutes=1)
    assert await round_(cbs) == [job_id]
    job = await cbs.store.job(job_id)
    assert job is not None
    assert (job.state, job.attempts) == ("failed", 2)
    appointment = await the(store)
    assert (appointment.state, appointment.reminder_result) == ("unreached", "unreached")
    assert [a.key for a in await cbs.store.attempts(job_id)] == [f"cb{job_id}-1",
                                                                 f"cb{job_id}-2"]
