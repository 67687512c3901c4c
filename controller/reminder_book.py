"""The reminder call's side of the store: what the IVR says (the appointment) and where the
patient's answer goes (docs/reminders.md).  The controller hands an answered reminder call
(``CallInfo.reminder``, the appointment's id) to the IVR's reminder flow with this."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from clinicall.db.appointments import AppointmentStore
from clinicall.ivr.reminder import ReminderAnswer, ReminderCall
from clinicall.settings.models import ClinicConfig

log = logging.getLogger(__name__)


class ReminderBook:
    def __init__(self, appointments: AppointmentStore, config: ClinicConfig, *,
                 clock: Callable[[], datetime]) -> None:  # fmt: skip
        self.appointments, self.config, self.clock = appointments, config, clock

    async def reminder_call(self, appointment_id: str) -> ReminderCall | None:
        """What to say on the reminder of appointment ``appointment_id`` (None: unknown)."""
        row = await self.appointments.get(int(appointment_id))
        if row is None:
            return None
        return ReminderCall(language=row.language, doctor=row.doctor, specialty=row.specialty,
                            starts_at=row.starts_at.astimezone(self.config.clinic.zone))

    async def record_answer(self, appointment_id: str, answer: ReminderAnswer) -> None:
        """Store the patient's answer; never raises (logged: the call is over either way)."""
        try:
            await self.appointments.record_answer(int(appointment_id), answer, self.clock())
        except Exception:
            log.exception("reminder answer of appointment %s not stored", appointment_id)
