"""Callback jobs: a patient to call back, claimed by exactly one controller, and its attempts.

A job is claimed under a lease (``claimed_by``, ``lease_until``): on PostgreSQL with
``SELECT ... FOR UPDATE SKIP LOCKED``, on SQLite by one ``UPDATE ... RETURNING`` (SQLite has
one writer at a time), so two controllers never dial the same patient; a lease that ran out
(its controller died) is claimed again (clinicall.db.callbacks).  Each attempt is a
``CallbackAttempt`` row whose idempotency ``key`` is committed *before* the originate is sent
and is unique, so an attempt is dialled at most once.  A done job returns the missed call it
was made from: whoever changes a job's state calls
``clinicall.db.call_links.refresh_calls`` with its ``origin_call_id`` in the same transaction
(``StoreWriter.callbacks_changed``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

from clinicall.db.models.base import BIG_ID_TYPE, Base, Id
from clinicall.db.models.enums import CallbackReason, CallbackState
from clinicall.db.types import str_enum

#: The rows the unique open-job index covers.
OPEN_JOB = "state IN ('pending', 'claimed') AND reason <> 'reminder'"
#: The attempts the one-open-attempt-per-operator index covers: sent (or about to be) and
#: holding a reserved operator.
OPEN_AGENT_ATTEMPT = "outcome IS NULL AND agent IS NOT NULL"


def _created_at(context: DefaultExecutionContext) -> datetime:
    """A job written without its place (staff, older code) holds its creation time."""
    value: datetime = context.get_current_parameters()["created_at"]  # type: ignore[no-untyped-call]
    return value


class Callback(Base):
    __tablename__ = "callbacks"
    __table_args__ = (
        Index(None, "state", "due_at"),
        Index(None, "phone", "created_at"),
        Index(None, "origin_call_id"),  # reports: the callback job of a missed call
        Index(None, "queue", "state", "arrived_at"),  # the scheduler: a queue's line
        # one open job per number and queue (missed calls merge into it), even when two
        # controllers take in two missed calls of the number at once; reminders stand apart
        Index("ix_callbacks_open_phone_queue", "phone", "queue", unique=True,
              postgresql_where=text(OPEN_JOB), sqlite_where=text(OPEN_JOB)),
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
    #: The job's place in line: the arrival of the earliest call it stands for (a merge may
    #: move it earlier), not when the job was made (docs/callbacks.md, "Exact place").
    arrived_at: Mapped[datetime] = mapped_column(default=_created_at)
    priority: Mapped[int] = mapped_column(default=0)  # the queue priority of that call
    due_at: Mapped[datetime]
    state: Mapped[CallbackState] = mapped_column(
        str_enum(CallbackState), default=CallbackState.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]  # a claim whose lease ran out may be taken again
    completed_at: Mapped[datetime | None]
    result: Mapped[str | None] = mapped_column(String(64))
    result_call_id: Mapped[int | None] = mapped_column(
        BIG_ID_TYPE, ForeignKey("calls.id", ondelete="SET NULL")
    )


class CallbackAttempt(Base):
    """One dialling of a job.  ``key`` (the originate's idempotency key, ``cb<job>-<n>``) is
    written and committed before the originate is sent; ``call_id`` is the engine's id of the
    call derived from it; ``outcome`` stays NULL until the attempt is settled, so a NULL
    outcome after a restart means "sent or about to be: learn what happened, never re-send"."""

    __tablename__ = "callback_attempts"
    __table_args__ = (
        UniqueConstraint("key"),
        UniqueConstraint("callback_id", "number"),
        Index(None, "started_at"),
        # an operator is reserved by one attempt at a time, whichever controller sends it:
        # two controllers that chose the same free operator in the same instant cannot both
        # store their attempt, so only one dials them (docs/callbacks.md, "Reserving the
        # operator")
        Index("ix_callback_attempts_open_agent", "agent", unique=True,
              postgresql_where=text(OPEN_AGENT_ATTEMPT), sqlite_where=text(OPEN_AGENT_ATTEMPT)),
    )

    id: Mapped[Id]
    callback_id: Mapped[int] = mapped_column(ForeignKey("callbacks.id", ondelete="CASCADE"))
    number: Mapped[int]  # 1, 2, ... within the job (operator misses included)
    key: Mapped[str] = mapped_column(String(64))
    call_id: Mapped[str] = mapped_column(String(64))  # the engine's id of the call
    owner: Mapped[str] = mapped_column(String(64))  # the controller that sent it
    agent: Mapped[str | None] = mapped_column(String(128))  # the reserved operator
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(32))  # AttemptOutcome, or "unknown"


class CallbackIntake(Base):
    """The decision taken on one missed call: it made job ``callback_id`` (``create``), merged
    into it (``merge``) or made none (``skip``, with ``reason``).  One row per missed call, so
    each is decided exactly once, across restarts and controllers (the primary key)."""

    __tablename__ = "callback_intake"

    call_id: Mapped[int] = mapped_column(
        BIG_ID_TYPE, ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True
    )
    callback_id: Mapped[int | None] = mapped_column(
        ForeignKey("callbacks.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime]
