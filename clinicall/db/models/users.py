"""Staff who log in to the web console, with one role each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from clinicall.db.models.base import Base, Id
from clinicall.db.models.enums import Role
from clinicall.db.types import str_enum


class User(Base):
    __tablename__ = "users"

    id: Mapped[Id]
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    role: Mapped[Role] = mapped_column(str_enum(Role))
    password_hash: Mapped[str] = mapped_column(String(255))  # a full hash string, never a password
    # SHA-256 (hex) of the user's API token for ``Authorization: Bearer``; the token is shown once.
    api_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
