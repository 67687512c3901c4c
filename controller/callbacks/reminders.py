"""Appointment reminders through the callback machinery (docs/reminders.md).

A reminder is a callback job of reason ``reminder``: made once per appointment when it comes
within the lead time (:func:`plan_reminders`), claimed under a lease with its attempt's key
written before the originate, like every job (``CallbackScheduler``), but dialled patient
first into the IVR's ``reminder`` flow, holding no operator.  The helpers here decide with
the pure timing (``routing.reminder_schedule``) and the appointment's row.
"""

from __future__ import annotations

import logging
from datetime import datetime

from clinicall.db.appointments import AppointmentRow, AppointmentStore
from clinicall.routing.callback_policy import policy_for
from clinicall.routing.hours import OpeningHours
from clinicall.routing.patient_time import patient_zone
from clinicall.routing.reminder_schedule import ReminderTiming, reminder_call_at
from clinicall.settings.models import ClinicConfig

log = logging.getLogger(__name__)
#: The IVR flow a reminder call runs once the patient answers.
FLOW = "reminder"


def queue_of(config: ClinicConfig, appointment: AppointmentRow) -> str | None:
    """The specialty's queue (where key 0 goes; its callback policy sets the retries)."""
    route = config.routes.get(appointment.specialty)
    return route.queue if route is not None else None


def call_at(config: ClinicConfig, appointment: AppointmentRow, now: datetime, *,
            hours: OpeningHours, timing: ReminderTiming) -> datetime | None:  # fmt: skip
    """When the appointment's reminder may ring, at or after ``now`` (None: not in time)."""
    return reminder_call_at(
        now, appointment.starts_at, timing=timing, hours=hours,
        patient_zone=patient_zone(appointment.phone, config.clinic.zone),
        policy=policy_for(config.callbacks, queue_of(config, appointment)))  # fmt: skip


async def plan_reminders(appointments: AppointmentStore, config: ClinicConfig, now: datetime,
                         *, hours: OpeningHours, timing: ReminderTiming) -> list[int]:  # fmt: skip
    """Make the reminder job of every scheduled appointment within the lead time that has
    none, due at the first instant it may ring.  An appointment whose window opens too late
    gets no job: it stays unconfirmed, on the no-show-risk list.  The new jobs' ids."""
    start, end = timing.planning_range(now)
    made: list[int] = []
    for appointment in await appointments.to_remind(start, end):
        due = call_at(config, appointment, now, hours=hours, timing=timing)
        if due is None:
            continue
        job = await appointments.plan_reminder(appointment, queue=queue_of(config, appointment),
                                               due_at=due, now=now)  # fmt: skip
        if job is not None:
            made.append(job)
    return made
