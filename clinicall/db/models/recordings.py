"""Recorded conversations and the audit trail of every access to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from clinicall.db.models.base import BIG_ID_TYPE, Base, Id
from clinicall.db.models.enums import RecordingAction
from clinicall.db.types import str_enum


class Recording(Base):
    """One recording file.  ``call_key`` (the engine's id of the call) is kept so that a file
    imported before its call row exists (controller down) can still be joined later;
    ``call_id`` is the call's reference."""

    __tablename__ = "recordings"
    __table_args__ = (Index(None, "call_key"), Index(None, "call_id"), Index(None, "started_at"))

    id: Mapped[Id]
    call_id: Mapped[int | None] = mapped_column(
        BIG_ID_TYPE, ForeignKey("calls.id", ondelete="SET NULL")
    )
    call_key: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(512), unique=True)  # relative to the storage root
    format: Mapped[str] = mapped_column(String(16))
    size_bytes: Mapped[int]
    duration_s: Mapped[float | None]
    sha256: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    imported_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]  # retention removed the file; the row stays for audit


class RecordingAccess(Base):
    """Who played, downloaded, exported or deleted which recording, when and why."""

    __tablename__ = "recording_access"
    __table_args__ = (Index(None, "recording_id", "at"), Index(None, "user_id", "at"))

    id: Mapped[Id]
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime]
    action: Mapped[RecordingAction] = mapped_column(str_enum(RecordingAction))
    remote_addr: Mapped[str | None] = mapped_column(String(45))
    reason: Mapped[str | None] = mapped_column(String(255))
