"""Calls clinicall places (callback attempts, reminders): ``calls.purpose``, outbound, not missed.

Until this revision the account stored a call clinicall placed as an inbound call, and an
unanswered one as a missed call (docs/kpi.md, "calls clinicall places").  The new nullable
``purpose`` column says why clinicall placed a call (``callback``, ``reminder``).  The calls
already stored are put right by their attempt rows (``callback_attempts.call_id`` is the
engine's id of the call the attempt placed): outbound, to the job's number, with the job's
purpose, not missed.  Every summed hour is dropped so the keeper sums it again (the sums are a
cache, as in 0008); the return links of the missed calls are rebuilt by the next writer of
each number, and a completed callback returned its missed call already.

Revision ID: 0017
Revises: 0015
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLACED = ("SELECT a.call_id FROM callback_attempts a WHERE a.call_id IS NOT NULL")
PURPOSE = ("(SELECT CASE WHEN j.reason = 'reminder' THEN 'reminder' ELSE 'callback' END "
           "FROM callback_attempts a JOIN callbacks j ON j.id = a.callback_id "
           "WHERE a.call_id = calls.call_key LIMIT 1)")
DIALLED = ("(SELECT j.phone FROM callback_attempts a JOIN callbacks j ON j.id = a.callback_id "
           "WHERE a.call_id = calls.call_key LIMIT 1)")


def _drop_sums() -> None:
    for table in ("kpi_queue_hours", "kpi_call_hours", "kpi_hours_built"):
        op.execute(sa.text(f"DELETE FROM {table}"))


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("purpose", sa.String(length=16), nullable=True))
    op.execute(sa.text(
        f"UPDATE calls SET direction = 'outbound', purpose = {PURPOSE}, dialled = {DIALLED}, "
        f"missed = false, miss_cause = NULL, repeat_gap_ms = NULL, return_delay_ms = NULL "
        f"WHERE call_key IN ({PLACED})"))
    _drop_sums()


def downgrade() -> None:
    _drop_sums()
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("purpose")
