"""Calls, their queue attempts and the operators rung during each attempt.

One ``Call`` per inbound or outbound call (keyed by the engine's id of the call, ``call_key``); one
``QueueAttempt`` per time the call joined a queue; one ``RingAttempt`` per member rung.
The KPIs (docs/kpi.md) are computed from these rows at report time: in particular a *short
abandon* (wait < ``short_abandon_s``) is not stored, because the threshold is configuration.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinicall.db.models.base import BIG_ID_TYPE, Base, BigId
from clinicall.db.models.enums import Direction, HangupSide, IvrOutcome, MissCause, QueueOutcome
from clinicall.db.types import str_enum


class Call(Base):
    """One call through the clinic number (or one outbound callback call)."""

    __tablename__ = "calls"
    __table_args__ = (
        Index(None, "started_at"),
        # repeat calls within 24 h / 7 days, answered returns: covering, read in index order
        Index(None, "caller", "started_at", "direction"),
        Index(None, "missed", "started_at"),
        Index(None, "dialled", "started_at"),  # reports: outbound call returning a missed one
    )

    id: Mapped[BigId]
    # The engine's id of the whole call (Asterisk linkedid, FreeSWITCH the first leg's uuid);
    # ``call_id`` in other tables is the foreign key to ``calls.id``.
    call_key: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[Direction] = mapped_column(str_enum(Direction))
    caller: Mapped[str | None] = mapped_column(String(32))  # E.164 when known
    dialled: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    language: Mapped[str | None] = mapped_column(String(8))
    ivr_path: Mapped[str | None] = mapped_column(String(255))  # keys pressed, e.g. "2>1"
    route: Mapped[str | None] = mapped_column(String(64))  # triage topic
    caller_name: Mapped[str | None] = mapped_column(String(80))  # the caller id's name
    # Why clinicall placed this outbound call (``callback``, ``reminder``; migration 0017);
    # None for a patient's call.  docs/kpi.md, "calls clinicall places".
    purpose: Mapped[str | None] = mapped_column(String(16))
    ivr_outcome: Mapped[IvrOutcome | None] = mapped_column(str_enum(IvrOutcome))
    hangup_side: Mapped[HangupSide | None] = mapped_column(str_enum(HangupSide))
    missed: Mapped[bool] = mapped_column(default=False)
    miss_cause: Mapped[MissCause | None] = mapped_column(str_enum(MissCause))
    # Links to later calls of the number, for the reports (clinicall.db.call_links keeps them)
    repeat_gap_ms: Mapped[int | None] = mapped_column(BigInteger)
    return_delay_ms: Mapped[int | None] = mapped_column(BigInteger)
    # What the operator marked the call with (console.dispositions; docs/console.md).
    disposition: Mapped[str | None] = mapped_column(String(40))
    disposition_by: Mapped[str | None] = mapped_column(String(64))
    disposition_at: Mapped[datetime | None]

    queue_attempts: Mapped[list[QueueAttempt]] = relationship(
        back_populates="call", cascade="all, delete-orphan", order_by="QueueAttempt.joined_at"
    )


class QueueAttempt(Base):
    """One stay of a call in one queue: join, then connect or leave.

    wait_s is join → connect for answered attempts and join → leave otherwise; talk_s is
    connect → complete.  ``channel_id`` is the engine's id of the caller's channel.
    """

    __tablename__ = "queue_attempts"
    __table_args__ = (
        UniqueConstraint("channel_id", "queue", "joined_at"),
        Index(None, "queue", "joined_at"),
        Index(None, "joined_at"),
        Index(None, "call_id", "connected_at"),  # reports: was the call answered (covering)
        Index(None, "outcome", "joined_at", "queue", "wait_s"),  # reports: wait percentiles
    )

    id: Mapped[BigId]
    call_id: Mapped[int] = mapped_column(BIG_ID_TYPE, ForeignKey("calls.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(64))
    queue: Mapped[str] = mapped_column(String(64))
    joined_at: Mapped[datetime]
    connected_at: Mapped[datetime | None]
    left_at: Mapped[datetime | None]
    outcome: Mapped[QueueOutcome | None] = mapped_column(str_enum(QueueOutcome))
    wait_s: Mapped[float | None]
    talk_s: Mapped[float | None]
    agent: Mapped[str | None] = mapped_column(String(128))
    position: Mapped[int | None]
    original_position: Mapped[int | None]
    exit_key: Mapped[str | None] = mapped_column(String(1))
    priority: Mapped[int] = mapped_column(default=0)

    call: Mapped[Call] = relationship(back_populates="queue_attempts")
    rings: Mapped[list[RingAttempt]] = relationship(
        back_populates="queue_attempt", cascade="all, delete-orphan", order_by="RingAttempt.rang_at"
    )


class RingAttempt(Base):
    """One queue member rung for one queue attempt (AgentCalled, then answer or no answer)."""

    __tablename__ = "ring_attempts"
    __table_args__ = (Index(None, "queue_attempt_id"), Index(None, "member", "rang_at"))

    id: Mapped[BigId]
    queue_attempt_id: Mapped[int] = mapped_column(
        BIG_ID_TYPE, ForeignKey("queue_attempts.id", ondelete="CASCADE")
    )
    member: Mapped[str] = mapped_column(String(128))
    rang_at: Mapped[datetime]
    ring_ms: Mapped[int | None]
    answered: Mapped[bool] = mapped_column(default=False)

    queue_attempt: Mapped[QueueAttempt] = relationship(back_populates="rings")
