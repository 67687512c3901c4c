"""KPI report sums: first-contact resolution counters and the answered waits' counts (issue 16).

``kpi_call_hours`` gains the resolution section's counters, so a report no longer reads every
call of its period for them; ``kpi_wait_counts`` holds the answered waits counted per block
of hours (an hour, a UTC day, 32 UTC days), queue, route and wait, which the wait percentiles
rank instead of every answered attempt; ``kpi_wait_blocks`` marks the blocks longer than an
hour that are built (docs/store.md).  The sums are a cache: every hour already summed is
dropped here (its built mark with it) and summed again by the keeper or the next report, so
no hour has sums without the new counters.  The counters are frozen here, not imported.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RESOLUTION_SUMS = ("dispositioned", "resolved", "wrong_number", "resolved_known",
                   "resolved_rep24")
SUM_TABLES = ("kpi_queue_hours", "kpi_call_hours", "survey_hours", "demand_hours",
              "staffing_hours", "kpi_hours_built")
WAIT_INDEX = "ix_kpi_wait_counts_settings_key_span_hour_queue_route_wait_s_n"


def upgrade() -> None:
    for table in SUM_TABLES:
        op.execute(sa.text(f"DELETE FROM {table}"))
    with op.batch_alter_table("kpi_call_hours") as batch:
        for name in RESOLUTION_SUMS:
            batch.add_column(sa.Column(name, sa.BigInteger(), nullable=False,
                                       server_default="0"))
    op.create_table(
        "kpi_wait_counts",
        sa.Column("settings_key", sa.String(length=16), nullable=False),
        sa.Column("span", sa.Integer(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("route", sa.String(length=64), nullable=True),
        sa.Column("wait_s", sa.Float(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
    )
    op.create_index(op.f(WAIT_INDEX), "kpi_wait_counts",
                    ["settings_key", "span", "hour", "queue", "route", "wait_s", "n"])
    op.create_table(
        "kpi_wait_blocks",
        sa.Column("settings_key", sa.String(length=16), nullable=False),
        sa.Column("span", sa.Integer(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("settings_key", "span", "hour", name=op.f("pk_kpi_wait_blocks")),
    )


def downgrade() -> None:
    op.drop_table("kpi_wait_blocks")
    op.drop_index(op.f(WAIT_INDEX), table_name="kpi_wait_counts")
    op.drop_table("kpi_wait_counts")
    for table in SUM_TABLES:
        op.execute(sa.text(f"DELETE FROM {table}"))
    with op.batch_alter_table("kpi_call_hours") as batch:
        for name in RESOLUTION_SUMS:
            batch.drop_column(name)
