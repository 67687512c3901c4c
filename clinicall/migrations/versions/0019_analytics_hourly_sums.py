"""survey, demand and staffing hourly sums (docs/store.md; reports.analytics_hours).

Three tables kept like the KPI sums.  Every hour already summed is summed again (its KPI sums
dropped too: an hour is marked built for all its sums at once), so the keeper fills the new
tables in its first rounds.  The counters are frozen here, not imported from the models.

Revision ID: 0019
Revises: 0015
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SURVEY_SUMS = ("due_agreed", "due_other", "answered", "partial",
               *[f"csat_{n}" for n in range(1, 6)], *[f"nps_{n}" for n in range(11)])
DEMAND_SUMS = ("calls", "repeated")
STAFFING_SUMS = ("offered", "talk_n", "talk_ms", "wait_n", "wait_ms", "abandons")


def _table(name: str, keys: list[sa.Column[int] | sa.Column[str]],
           sums: Sequence[str]) -> None:
    op.create_table(
        name,
        sa.Column("settings_key", sa.String(length=16), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        *keys,
        *[sa.Column(s, sa.BigInteger(), nullable=False) for s in sums],
    )
    op.create_index(op.f(f"ix_{name}_settings_key_hour"), name, ["settings_key", "hour"],
                    unique=False)


def upgrade() -> None:
    _table("survey_hours", [sa.Column("queue", sa.String(length=64), nullable=False),
                            sa.Column("operator", sa.String(length=128), nullable=False),
                            sa.Column("route", sa.String(length=64), nullable=False)],
           SURVEY_SUMS)
    _table("demand_hours", [sa.Column("topic", sa.String(length=64), nullable=False),
                            sa.Column("specialty", sa.String(length=64), nullable=False),
                            sa.Column("path", sa.String(length=255), nullable=False),
                            sa.Column("answered", sa.Integer(), nullable=False),
                            sa.Column("missed", sa.Integer(), nullable=False),
                            sa.Column("self_served", sa.Integer(), nullable=False),
                            sa.Column("cause", sa.String(length=16), nullable=False)],
           DEMAND_SUMS)
    _table("staffing_hours", [sa.Column("queue", sa.String(length=64), nullable=False)],
           STAFFING_SUMS)
    for table in ("kpi_hours_built", "kpi_queue_hours", "kpi_call_hours"):
        op.execute(sa.text(f"DELETE FROM {table}"))


def downgrade() -> None:
    for name in ("staffing_hours", "demand_hours", "survey_hours"):
        op.drop_index(op.f(f"ix_{name}_settings_key_hour"), table_name=name)
        op.drop_table(name)
