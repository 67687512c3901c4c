"""appointments: what the reminder calls are about (docs/reminders.md).

One row per appointment, unique by the clinic's ``external_id`` (a re-import changes nothing),
with the reminder call's job and what the patient answered.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("doctor", sa.String(length=64), nullable=False),
        sa.Column("specialty", sa.String(length=64), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.Enum("scheduled", "confirmed", "cancelled", "unreached",
                                   name="appointmentstate", native_enum=False, length=16,
                                   create_constraint=False), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminder_job_id", sa.Integer(), nullable=True),
        sa.Column("reminder_result", sa.String(length=32), nullable=True),
        sa.Column("reminder_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["reminder_job_id"], ["callbacks.id"],
                                name=op.f("fk_appointments_reminder_job_id_callbacks"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
        sa.UniqueConstraint("external_id", name=op.f("uq_appointments_external_id")),
    )
    op.create_index(op.f("ix_appointments_starts_at_state"), "appointments",
                    ["starts_at", "state"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_appointments_starts_at_state"), table_name="appointments")
    op.drop_table("appointments")
