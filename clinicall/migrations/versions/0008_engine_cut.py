"""Calls ended by the PBX: the queue sums count "cut" attempts, the call sums misses by "engine".

The hourly sums are a cache of the calls and queue attempts (docs/store.md): the new counters
are added as columns, and every summed hour is dropped so the keeper sums it again with them
(its first round after the upgrade; a report meanwhile sums unsummed hours itself).  The
calls, attempts and the journal are untouched: ``hangup_side``, ``miss_cause`` and
``outcome`` are text columns validated by the code, so "engine" and "cut" need no change.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_COLUMNS = (("kpi_queue_hours", "cut"), ("kpi_call_hours", "cause_engine"))


def _drop_sums() -> None:
    for table in ("kpi_queue_hours", "kpi_call_hours", "kpi_hours_built"):
        op.execute(sa.text(f"DELETE FROM {table}"))


def upgrade() -> None:
    _drop_sums()
    for table, column in NEW_COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column(column, sa.BigInteger(), nullable=False,
                                       server_default="0"))


def downgrade() -> None:
    _drop_sums()
    for table, column in NEW_COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
