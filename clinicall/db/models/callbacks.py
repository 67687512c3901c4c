"""Callback jobs: a patient to call back, claimed by exactly one controller.

On PostgreSQL a job is claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` over
(state, due_at), so two controllers never dial the same patient.  A done job returns the
missed call it was made from: whoever changes a job's state calls
``clinicall.db.call_links.refresh_calls`` with its ``origin_call_id`` in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from clinicall.db.models.base import BIG_ID_TYPE, Base, Id
from clinicall.db.models.enums import CallbackReason, CallbackState
from clinicall.db.types import str_enum


class Callback(Base):
    __tablename__ = "callbacks"
    __table_args__ = (
        Index(None, "state", "due_at"),
        Index(None, "phone", "created_at"),
        Index(None, "origin_call_id"),  # reports: the callback job of a missed call
    )

    id: Mapped[Id]
    phone: Mapped[str] = mapped_column(String(32))  # E.164
    reason: Mapped[CallbackReason] = mapped_column(str_enum(CallbackReason))
    origin_call_id: Mapped[int | None] = mapped_column(
        BIG_ID_TYPE, ForeignKey("calls.id", ondelete="SET NULL")
    )
    queue: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime]
    due_at: Mapped[datetime]
    state: Mapped[CallbackState] = mapped_column(
        str_enum(CallbackState), default=CallbackState.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    result: Mapped[str | None] = mapped_column(String(64))
    result_call_id: Mapped[int | None] = mapped_column(
        BIG_ID_TYPE, ForeignKey("calls.id", ondelete="SET NULL")
    )
