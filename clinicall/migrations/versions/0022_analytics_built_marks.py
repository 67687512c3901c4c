"""The survey, demand and staffing sums get their own built marks (docs/store.md).

Until now one mark per hour (``kpi_hours_built``) covered the KPI sums and the survey, demand
and staffing sums, so a KPI report over hours never summed built all of them (a year: ~19 s
of CPU, of which ~11 s were sums it never reads; bench/README.md, issue 16).  With
``analytics_hours_built`` each family is summed by the reports that read it (and by the keeper,
which keeps both current).  A changed hour still drops both families' sums and marks.

Every hour marked built so far had both families summed in the same transaction, so its mark
is copied: nothing is summed again.  Downgrading empties every hourly sum (a cache), since
before this revision a KPI mark was taken to cover sums the analytics family may not have.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUM_TABLES = ("kpi_queue_hours", "kpi_call_hours", "survey_hours", "demand_hours",
              "staffing_hours", "kpi_wait_counts", "kpi_wait_blocks", "kpi_hours_built")


def upgrade() -> None:
    op.create_table(
        "analytics_hours_built",
        sa.Column("settings_key", sa.String(length=16), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("settings_key", "hour", name=op.f("pk_analytics_hours_built")),
    )
    op.execute(sa.text("INSERT INTO analytics_hours_built (settings_key, hour) "
                       "SELECT settings_key, hour FROM kpi_hours_built"))


def downgrade() -> None:
    op.drop_table("analytics_hours_built")
    for table in SUM_TABLES:
        op.execute(sa.text(f"DELETE FROM {table}"))
