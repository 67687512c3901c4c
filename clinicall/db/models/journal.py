"""The append-only event journal and the resume positions of the ingest sources.

Every engine fact (``clinicall.controller.facts``: from the live events or the durable record)
and every IVR outcome is written here once, under its idempotency ``key``: replaying a source
after a crash or a reconnect inserts nothing twice.  ``kind`` is the fact's kind and the
payload carries its version (``"v"``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from clinicall.db.models.base import JSON_TYPE, Base, BigId
from clinicall.db.models.enums import JournalSource
from clinicall.db.types import str_enum


class JournalEvent(Base):
    __tablename__ = "event_journal"
    __table_args__ = (Index(None, "at"), Index(None, "source", "at"), Index(None, "call_key"))

    id: Mapped[BigId]
    key: Mapped[str] = mapped_column(String(128), unique=True)
    source: Mapped[JournalSource] = mapped_column(str_enum(JournalSource))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON_TYPE)
    # The call the event belongs to (its call id; a channel's id while that is unknown),
    # so a call's rows can be read back together to project it.  None: not about one call.
    call_key: Mapped[str | None] = mapped_column(String(64))


class IngestState(Base):
    """Where an engine's durable record (Asterisk's ``queue_log``, ...) was read up to, to
    resume after a restart.  The cursor is the engine adapter's own (opaque to the account)."""

    __tablename__ = "ingest_state"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[dict[str, Any]] = mapped_column(JSON_TYPE)
    updated_at: Mapped[datetime]
