"""Recorded conversations, their holds and notes, and the audit trail of every access.

A recording row is never deleted: retention removes the files and leaves the row as a
tombstone (``deleted_at``, ``deleted_by``), so the audit rows that point at it stay whole.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Table, Text, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from clinicall.db.models.base import BIG_ID_TYPE, JSON_TYPE, Base, Id
from clinicall.db.models.enums import RecordingAction
from clinicall.db.types import str_enum


class Recording(Base):
    """One recording file.  ``call_key`` (the engine's id of the call) is kept so that a file
    imported before its call row exists (controller down) can still be joined later;
    ``call_id`` is the call's reference.

    Until the importer has taken the file, ``path`` is where the engine wrote it (relative to
    the spool) and ``sha256`` is empty; afterwards ``path`` is the original in clinicall's
    storage and ``spool_path`` remembers where it came from (docs/recordings.md)."""

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
    spool_path: Mapped[str | None] = mapped_column(String(512))  # where the engine wrote it
    transcode_path: Mapped[str | None] = mapped_column(String(512))  # the browser copy
    channels: Mapped[int | None]
    #: Waveform peaks per channel (0-255 per bucket), computed once at import.
    peaks: Mapped[list[list[int]] | None] = mapped_column(JSON_TYPE)
    purpose: Mapped[str] = mapped_column(String(16), server_default="quality")
    deleted_by: Mapped[str | None] = mapped_column(String(64))  # the retention rule


class RecordingHold(Base):
    """A manual legal hold: while ``released_at`` is empty, retention keeps the recording."""

    __tablename__ = "recording_holds"
    __table_args__ = (Index(None, "recording_id"),)

    id: Mapped[Id]
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(255))
    held_at: Mapped[datetime]
    released_at: Mapped[datetime | None]


class RecordingNote(Base):
    """A reviewer's note at a moment of the recording."""

    __tablename__ = "recording_notes"
    __table_args__ = (Index(None, "recording_id", "at"),)

    id: Mapped[Id]
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime]
    offset_s: Mapped[float]
    text: Mapped[str] = mapped_column(Text)


class ComplaintRecording(Base):
    """A recording linked to a complaint case: it is held while the case is open."""

    __tablename__ = "complaint_recordings"

    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaints.id", ondelete="CASCADE"), primary_key=True
    )
    recording_id: Mapped[int] = mapped_column(
        ForeignKey("recordings.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class RecordingAccess(Base):
    """Who played, downloaded, annotated, held or deleted which recording, when and why.

    Append-only and hash-chained: ``row_hash`` covers the row's fields and ``prev_hash`` (the
    previous row's ``row_hash``), so ``clinicall audit verify`` finds an edited or deleted
    row (:mod:`recordings.audit`).  ``listen_key`` names one listening session: the many Range
    requests of one play share it and write one row."""

    __tablename__ = "recording_access"
    __table_args__ = (Index(None, "recording_id", "at"), Index(None, "user_id", "at"))

    id: Mapped[Id]
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime]
    action: Mapped[RecordingAction] = mapped_column(str_enum(RecordingAction))
    remote_addr: Mapped[str | None] = mapped_column(String(45))
    reason: Mapped[str | None] = mapped_column(String(255))
    listen_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    detail: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64), server_default="")
    row_hash: Mapped[str] = mapped_column(String(64), server_default="")


def json_peaks(value: Any) -> list[list[int]]:
    """The stored peaks as lists of ints (JSON columns come back as plain lists)."""
    return [[int(v) for v in channel] for channel in value or []]


class AuditRowChange(RuntimeError):
    """An update or delete of an access audit row: the audit is append-only."""


def _refuse_change(mapper: object, connection: object, target: RecordingAccess) -> None:
    raise AuditRowChange(f"the access audit is append-only (row {target.id})")


def _refuse_bulk_change(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    tables = {m.local_table.name for m in state.all_mappers if isinstance(m.local_table, Table)}
    if RecordingAccess.__tablename__ in tables:
        raise AuditRowChange("the access audit is append-only (bulk update or delete)")


event.listen(RecordingAccess, "before_update", _refuse_change)
event.listen(RecordingAccess, "before_delete", _refuse_change)
event.listen(Session, "do_orm_execute", _refuse_bulk_change)
