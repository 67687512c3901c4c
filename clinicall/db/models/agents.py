"""Operators as queue members: who was logged in to which queue, and their pauses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from clinicall.db.models.base import Base, Id


class Agent(Base):
    """A queue member: ``interface`` is what the engine calls it (e.g. ``PJSIP/op1``)."""

    __tablename__ = "agents"

    id: Mapped[Id]
    interface: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(default=True)


class AgentSession(Base):
    """One login of an agent to one queue (QueueAdd … QueueRemove); open while logout_at is null."""

    __tablename__ = "agent_sessions"
    __table_args__ = (Index(None, "agent_id", "login_at"), Index(None, "login_at"))

    id: Mapped[Id]
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    queue: Mapped[str] = mapped_column(String(64))
    login_at: Mapped[datetime]
    logout_at: Mapped[datetime | None]


class AgentPause(Base):
    """One pause of an agent (in one queue, or all when queue is null), with its reason."""

    __tablename__ = "agent_pauses"
    __table_args__ = (Index(None, "agent_id", "paused_at"),)

    id: Mapped[Id]
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    queue: Mapped[str | None] = mapped_column(String(64))
    paused_at: Mapped[datetime]
    unpaused_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(String(64), default="")
