"""Appointments in the store: imported idempotently, each given one reminder job, answered.

- **Import** (:meth:`AppointmentStore.import_rows`) is keyed by ``external_id``: a row equal
  to the stored one changes nothing, a changed one (another doctor) is updated; a *moved* one
  (another start) is scheduled again: its answer is cleared, its reminder job, if still
  pending, cancelled (``moved``), and a new reminder is planned for the new time (a cancelled
  appointment stays cancelled).  A file imported twice changes nothing.
- **Planning** (:meth:`AppointmentStore.plan_reminder`) makes the reminder's job (a
  ``callbacks`` row of reason ``reminder``) and links it in one transaction, only while the
  appointment has none: two controllers planning at once make one job.
- **Answers** (:meth:`AppointmentStore.record_answer`) come from the reminder call's IVR flow.

Values cross this boundary as plain data; the store imports no ``routing``
(docs/architecture.md, "Layers").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.appointment_input import AppointmentInput
from clinicall.db.models import (
    Appointment,
    AppointmentState,
    Callback,
    CallbackReason,
    CallbackState,
)
from clinicall.db.writer import StoreWriter

Sessions = async_sessionmaker[AsyncSession]
#: The reminder's answers (the appointment's ``reminder_result``).
CONFIRMED, CANCELLED, OPERATOR, NO_INPUT, UNREACHED = (
    "confirmed", "cancelled", "operator", "no_input", "unreached")  # fmt: skip
#: The appointment's state after each answer (an operator or silence changes nothing).
STATE_AFTER = {CONFIRMED: AppointmentState.CONFIRMED, CANCELLED: AppointmentState.CANCELLED,
               UNREACHED: AppointmentState.UNREACHED}  # fmt: skip


@dataclass(frozen=True, slots=True)
class AppointmentRow:
    id: int
    external_id: str
    phone: str
    language: str
    doctor: str
    specialty: str
    starts_at: datetime
    state: str
    reminder_job_id: int | None
    reminder_result: str | None
    reminder_at: datetime | None


@dataclass(frozen=True, slots=True)
class ImportCount:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _row(a: Appointment) -> AppointmentRow:
    return AppointmentRow(id=a.id, external_id=a.external_id, phone=a.phone,
                          language=a.language, doctor=a.doctor, specialty=a.specialty,
                          starts_at=a.starts_at, state=str(a.state),
                          reminder_job_id=a.reminder_job_id, reminder_result=a.reminder_result,
                          reminder_at=a.reminder_at)  # fmt: skip


def _same(stored: Appointment, given: AppointmentInput) -> bool:
    return (stored.phone, stored.language, stored.doctor, stored.specialty,
            stored.starts_at) == (given.phone, given.language, given.doctor, given.specialty,
                                  given.starts_at)  # fmt: skip


class _PlannedAlready(Exception):
    """Rolls back a second reminder job for one appointment."""


class AppointmentStore:
    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions

    async def import_rows(self, rows: Iterable[AppointmentInput], now: datetime) -> ImportCount:
        """Insert new appointments, update changed ones, leave equal ones alone (one
        transaction: the file's good rows go in together)."""
        given = {row.external_id: row for row in rows}
        created = updated = unchanged = 0
        async with self.sessions.begin() as session, StoreWriter(session):
            stored = {a.external_id: a for a in await session.scalars(
                select(Appointment).where(Appointment.external_id.in_(list(given))))}
            for external_id, row in given.items():
                old = stored.get(external_id)
                if old is None:
                    session.add(Appointment(
                        external_id=external_id, phone=row.phone, language=row.language,
                        doctor=row.doctor, specialty=row.specialty, starts_at=row.starts_at,
                        state=AppointmentState.SCHEDULED, created_at=now, updated_at=now))
                    created += 1
                elif _same(old, row):
                    unchanged += 1
                else:
                    if (old.starts_at != row.starts_at
                            and old.state != AppointmentState.CANCELLED):  # fmt: skip
                        await self._moved(session, old, now)
                    old.phone, old.language, old.doctor = row.phone, row.language, row.doctor
                    old.specialty, old.starts_at, old.updated_at = (row.specialty,
                                                                    row.starts_at, now)
                    updated += 1
        return ImportCount(created, updated, unchanged)

    @staticmethod
    async def _moved(session: AsyncSession, old: Appointment, now: datetime) -> None:
        """A moved appointment is scheduled again, with a new reminder to come."""
        if old.reminder_job_id is not None:
            await session.execute(update(Callback).where(
                Callback.id == old.reminder_job_id,
                Callback.state == CallbackState.PENDING.value).values(
                state=CallbackState.CANCELLED.value, result="moved", completed_at=now)
                .execution_options(synchronize_session=False))
        old.state = AppointmentState.SCHEDULED
        old.reminder_job_id = old.reminder_result = old.reminder_at = None

    async def get(self, appointment_id: int) -> AppointmentRow | None:
        async with self.sessions() as session:
            row = await session.get(Appointment, appointment_id)
            return _row(row) if row is not None else None

    async def by_external_id(self, external_id: str) -> AppointmentRow | None:
        async with self.sessions() as session:
            row = await session.scalar(select(Appointment).where(
                Appointment.external_id == external_id))
            return _row(row) if row is not None else None

    async def between(self, start: datetime, end: datetime, *,
                      states: Iterable[str] = ()) -> list[AppointmentRow]:  # fmt: skip
        """Appointments starting in ``[start, end)``, in time order (these states only)."""
        query = (select(Appointment).where(Appointment.starts_at >= start,
                                           Appointment.starts_at < end)
                 .order_by(Appointment.starts_at, Appointment.id))  # fmt: skip
        wanted = list(states)
        if wanted:
            query = query.where(Appointment.state.in_(wanted))
        async with self.sessions() as session:
            return [_row(a) for a in await session.scalars(query)]

    async def to_remind(self, start: datetime, end: datetime) -> list[AppointmentRow]:
        """Scheduled appointments starting in ``[start, end]`` without a reminder job."""
        async with self.sessions() as session:
            rows = await session.scalars(select(Appointment).where(
                Appointment.starts_at >= start, Appointment.starts_at <= end,
                Appointment.state == AppointmentState.SCHEDULED.value,
                Appointment.reminder_job_id.is_(None)).order_by(Appointment.starts_at))
            return [_row(a) for a in rows]

    async def plan_reminder(self, appointment: AppointmentRow, *, queue: str | None,
                            due_at: datetime, now: datetime) -> int | None:  # fmt: skip
        """Make the appointment's reminder job, due at ``due_at``; None when it has one already
        (another controller planned it first: its job stands, this one is rolled back)."""
        job = Callback(phone=appointment.phone, queue=queue, reason=CallbackReason.REMINDER,
                       language=appointment.language, created_at=now, arrived_at=due_at,
                       due_at=due_at, priority=0, state=CallbackState.PENDING, attempts=0)
        try:
            async with self.sessions.begin() as session, StoreWriter(session):
                session.add(job)
                await session.flush()
                linked = await session.execute(update(Appointment).where(
                    Appointment.id == appointment.id, Appointment.reminder_job_id.is_(None))
                    .values(reminder_job_id=job.id)
                    .execution_options(synchronize_session=False))
                if linked.rowcount != 1:  # type: ignore[attr-defined]
                    raise _PlannedAlready
        except _PlannedAlready:
            return None
        return job.id

    async def of_job(self, job_id: int) -> AppointmentRow | None:
        """The appointment a reminder job is about."""
        async with self.sessions() as session:
            row = await session.scalar(select(Appointment).where(
                Appointment.reminder_job_id == job_id))
            return _row(row) if row is not None else None

    async def record_answer(self, appointment_id: int, result: str, now: datetime) -> bool:
        """Store what the patient answered (or ``unreached``); the state follows
        :data:`STATE_AFTER`.  A cancelled appointment stays cancelled."""
        values: dict[str, object] = {"reminder_result": result, "reminder_at": now,
                                     "updated_at": now}  # fmt: skip
        if result in STATE_AFTER:
            values["state"] = STATE_AFTER[result].value
        async with self.sessions.begin() as session:
            changed = await session.execute(update(Appointment).where(
                Appointment.id == appointment_id,
                Appointment.state != AppointmentState.CANCELLED.value).values(**values)
                .execution_options(synchronize_session=False))
            return bool(changed.rowcount)  # type: ignore[attr-defined]
