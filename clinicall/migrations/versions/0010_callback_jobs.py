"""callback jobs: each job's place in line and lease, and one row per attempt.

``callbacks`` gains ``arrived_at`` (the arrival of the earliest call the job stands for: its
place in line, docs/callbacks.md "Exact place"; existing rows take ``created_at``),
``priority`` (the queue priority of that call), ``lease_until`` (a claim whose lease ran
out is taken again) and a partial unique index: one open job per number and queue.
``callback_attempts`` holds one row per dialling, with the originate's
idempotency key, written before the originate is sent (unique, so an attempt is sent at most
once) and the attempt's outcome (NULL until settled).  ``callback_intake`` holds the decision
taken on each missed call (a job made, merged into, or none), so each is decided once.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: One open job per number and queue (the model's partial unique index).
OPEN_JOB = "state IN ('pending', 'claimed') AND reason <> 'reminder'"


def upgrade() -> None:
    with op.batch_alter_table("callbacks") as batch:
        batch.add_column(sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    op.execute(sa.text("UPDATE callbacks SET arrived_at = created_at"))
    with op.batch_alter_table("callbacks") as batch:
        batch.alter_column("arrived_at", existing_type=sa.DateTime(timezone=True),
                           nullable=False)
        batch.alter_column("priority", existing_type=sa.Integer(), server_default=None)
        batch.create_index(batch.f("ix_callbacks_queue_state_arrived_at"),
                           ["queue", "state", "arrived_at"], unique=False)
    op.create_index("ix_callbacks_open_phone_queue", "callbacks", ["phone", "queue"],
                    unique=True, postgresql_where=sa.text(OPEN_JOB),
                    sqlite_where=sa.text(OPEN_JOB))
    op.create_table(
        "callback_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("callback_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("agent", sa.String(length=128), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["callback_id"], ["callbacks.id"],
                                name=op.f("fk_callback_attempts_callback_id_callbacks"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_attempts")),
        sa.UniqueConstraint("key", name=op.f("uq_callback_attempts_key")),
        sa.UniqueConstraint("callback_id", "number",
                            name=op.f("uq_callback_attempts_callback_id_number")),
    )
    op.create_index(op.f("ix_callback_attempts_started_at"), "callback_attempts",
                    ["started_at"], unique=False)
    op.create_table(
        "callback_intake",
        sa.Column("call_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  nullable=False),
        sa.Column("callback_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"],
                                name=op.f("fk_callback_intake_call_id_calls"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["callback_id"], ["callbacks.id"],
                                name=op.f("fk_callback_intake_callback_id_callbacks"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_callback_intake")),
    )


def downgrade() -> None:
    op.drop_table("callback_intake")
    op.drop_index(op.f("ix_callback_attempts_started_at"), table_name="callback_attempts")
    op.drop_table("callback_attempts")
    op.drop_index("ix_callbacks_open_phone_queue", table_name="callbacks")
    with op.batch_alter_table("callbacks") as batch:
        batch.drop_index(batch.f("ix_callbacks_queue_state_arrived_at"))
        batch.drop_column("lease_until")
        batch.drop_column("priority")
        batch.drop_column("arrived_at")
