"""Appointments the clinic reminds patients of (docs/reminders.md).

Imported from a CSV file or the HTTP API, each keyed by the clinic's own ``external_id`` (unique),
so importing the same appointment again changes nothing.  ``starts_at`` is a UTC instant (shown
in the clinic's zone).  ``reminder_job_id`` is the reminder call's job (a ``callbacks`` row of
reason ``reminder``): set once, by whoever planned it first, so each appointment is reminded by
one job whose attempts keep the callback machinery's exactly-once (docs/callbacks.md).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clinicall.db.models.base import Base, Id
from clinicall.db.types import str_enum


class AppointmentState(StrEnum):
    SCHEDULED = "scheduled"  # imported; no answer from the patient yet
    CONFIRMED = "confirmed"  # the patient pressed 1 on the reminder call
    CANCELLED = "cancelled"  # the patient pressed 2 (or the clinic's import said so)
    UNREACHED = "unreached"  # every reminder attempt went unanswered


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (UniqueConstraint("external_id"), Index(None, "starts_at", "state"))

    id: Mapped[Id]
    external_id: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(32))  # E.164
    language: Mapped[str] = mapped_column(String(8))
    doctor: Mapped[str] = mapped_column(String(64))  # a doctor id of the config
    specialty: Mapped[str] = mapped_column(String(64))  # a route id: its queue takes key 0
    starts_at: Mapped[datetime]
    state: Mapped[AppointmentState] = mapped_column(
        str_enum(AppointmentState), default=AppointmentState.SCHEDULED
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    reminder_job_id: Mapped[int | None] = mapped_column(
        ForeignKey("callbacks.id", ondelete="SET NULL")
    )
    #: What the reminder call ended with: confirmed, cancelled, operator, no_input, unreached.
    reminder_result: Mapped[str | None] = mapped_column(String(32))
    reminder_at: Mapped[datetime | None]
