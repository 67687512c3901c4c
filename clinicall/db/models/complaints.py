"""Complaint cases: acknowledged at once, resolved to a deadline, every step recorded."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinicall.db.models.base import BIG_ID_TYPE, Base, Id
from clinicall.db.models.enums import ComplaintState
from clinicall.db.types import str_enum


class Complaint(Base):
    __tablename__ = "complaints"
    __table_args__ = (Index(None, "state", "due_at"), Index(None, "opened_at"))

    id: Mapped[Id]
    call_id: Mapped[int | None] = mapped_column(
        BIG_ID_TYPE, ForeignKey("calls.id", ondelete="SET NULL")
    )
    phone: Mapped[str | None] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text)
    state: Mapped[ComplaintState] = mapped_column(
        str_enum(ComplaintState, length=16), default=ComplaintState.NEW
    )
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    due_at: Mapped[datetime]  # resolve by (complaints.resolve_within_days)
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(Text)
    acknowledge_due_at: Mapped[datetime | None]  # complaints.acknowledge_within_hours
    reviewed_at: Mapped[datetime | None]
    topic: Mapped[str | None] = mapped_column(String(64))
    reply: Mapped[str | None] = mapped_column(Text)  # what the patient was sent

    events: Mapped[list[ComplaintEvent]] = relationship(
        back_populates="complaint", cascade="all, delete-orphan", order_by="ComplaintEvent.at"
    )


class ComplaintEvent(Base):
    """One step of a complaint case (state change, note, recording reviewed, ...)."""

    __tablename__ = "complaint_events"
    __table_args__ = (Index(None, "complaint_id", "at"),)

    id: Mapped[Id]
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")

    complaint: Mapped[Complaint] = relationship(back_populates="events")


class ComplaintCall(Base):
    """A call linked to a complaint case (the one it came in on, or one attached by hand)."""

    __tablename__ = "complaint_calls"

    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaints.id", ondelete="CASCADE"), primary_key=True
    )
    call_id: Mapped[int] = mapped_column(
        BIG_ID_TYPE, ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True, index=True
    )
