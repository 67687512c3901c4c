"""Web console sessions, kept in the store so that logging out ends them at once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from clinicall.db.models.base import Base, Id
from clinicall.db.models.enums import Role
from clinicall.db.types import str_enum


class WebSession(Base):
    """One logged-in browser.  The cookie holds a random session id; the store keeps only its
    SHA-256 (``key_hash``), so a copy of the table opens no session.  ``role`` is the user's
    role at login: a session whose user has another role now (or is disabled) is ended.
    ``csrf_token`` is the synchronizer token every form and state-changing fetch must carry
    (docs/web-security.md)."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index(None, "user_id"), Index(None, "expires_at"))

    id: Mapped[Id]
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
