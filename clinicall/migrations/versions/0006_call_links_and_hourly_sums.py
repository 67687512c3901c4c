"""What makes the reports fast at a year of data.

- calls.repeat_gap_ms and calls.return_delay_ms: each inbound call's links to the later calls
  of its number (the caller's next call, the return of a missed call), kept on the row so the
  reports read them instead of searching later calls (``clinicall.db.call_links``).  Existing
  calls get theirs computed here.
- kpi_hours_built, kpi_changed_hours, kpi_queue_hours, kpi_call_hours: the reports' hourly
  sums (``clinicall.db.models.rollups``), empty until a report fills them.
- queue_attempts(outcome, joined_at, queue, wait_s): the answered waits of a period, read
  from the index alone, for the wait percentiles.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from clinicall.db.call_links import rebuild_statement

# The counters as this revision made them, frozen (later revisions add columns of their own).
QUEUE_SUMS = ("offered", "answered", "abandoned_all", "short", "timeout", "exit_key", "empty",
              "in_queue", "in_sl", "wait_ms", "wait_n", "talk_ms", "talk_n")
CAUSE_SUMS = tuple(f"cause_{c}" for c in ("hangup_ivr", "abandoned", "timeout", "exitkey",
                                          "empty", "afterhours", "failed"))
CALL_SUMS = ("inbound", "self_served", "missed", *CAUSE_SUMS, "in_time", "ttc_n", "ttc_sum",
             "known_callers", "rep24", "rep7")
SURVEY_SUMS = ("csat_n", "csat_sum", "nps_n", "promoters", "detractors")

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("repeat_gap_ms", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("return_delay_ms", sa.BigInteger(), nullable=True))
    op.execute(rebuild_statement(op.get_bind().dialect.name))
    with op.batch_alter_table("queue_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_queue_attempts_outcome_joined_at_queue_wait_s"),
            ["outcome", "joined_at", "queue", "wait_s"],
            unique=False,
        )
    op.create_table(
        "kpi_hours_built",
        sa.Column("settings_key", sa.String(length=16), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("settings_key", "hour", name=op.f("pk_kpi_hours_built")),
    )
    op.create_table(
        "kpi_changed_hours",
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour", name=op.f("pk_kpi_changed_hours")),
    )
    op.create_table(
        "kpi_queue_hours",
        sa.Column("settings_key", sa.String(length=16), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("route", sa.String(length=64), nullable=True),
        *[sa.Column(name, sa.BigInteger(), nullable=False) for name in QUEUE_SUMS],
        sa.Column("wait_max", sa.Float(), nullable=True),
    )
    op.create_index(op.f("ix_kpi_queue_hours_settings_key_hour"), "kpi_queue_hours",
                    ["settings_key", "hour"], unique=False)
    op.create_table(
        "kpi_call_hours",
        sa.Column("settings_key", sa.String(length=16), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("route", sa.String(length=64), nullable=True),
        *[sa.Column(name, sa.BigInteger(), nullable=False)
          for name in (*CALL_SUMS, *SURVEY_SUMS)],
        sa.Column("ttc_max", sa.BigInteger(), nullable=True),
    )
    op.create_index(op.f("ix_kpi_call_hours_settings_key_hour"), "kpi_call_hours",
                    ["settings_key", "hour"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_kpi_call_hours_settings_key_hour"), table_name="kpi_call_hours")
    op.drop_table("kpi_call_hours")
    op.drop_index(op.f("ix_kpi_queue_hours_settings_key_hour"), table_name="kpi_queue_hours")
    op.drop_table("kpi_queue_hours")
    op.drop_table("kpi_changed_hours")
    op.drop_table("kpi_hours_built")
    with op.batch_alter_table("queue_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_queue_attempts_outcome_joined_at_queue_wait_s"))
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("return_delay_ms")
        batch_op.drop_column("repeat_gap_ms")
