"""Covering indexes for the reports' one-pass window queries at a year of data.

calls(caller, started_at, direction) replaces calls(caller, started_at): the next call of the
same caller (repeat calls) and the answered calls that return a missed one are read in
(caller, started_at) order from the index alone, with no table lookup per call.
queue_attempts(call_id, connected_at) replaces queue_attempts(call_id): "did an operator
answer this call" is answered from the index.  Both keep the old leading columns, so every
lookup the old indexes served is served as before.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calls_caller_started_at_direction"),
            ["caller", "started_at", "direction"],
            unique=False,
        )
        batch_op.drop_index(batch_op.f("ix_calls_caller_started_at"))
    with op.batch_alter_table("queue_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_queue_attempts_call_id_connected_at"),
            ["call_id", "connected_at"],
            unique=False,
        )
        batch_op.drop_index(batch_op.f("ix_queue_attempts_call_id"))


def downgrade() -> None:
    with op.batch_alter_table("queue_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_queue_attempts_call_id"), ["call_id"], unique=False)
        batch_op.drop_index(batch_op.f("ix_queue_attempts_call_id_connected_at"))
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calls_caller_started_at"), ["caller", "started_at"], unique=False
        )
        batch_op.drop_index(batch_op.f("ix_calls_caller_started_at_direction"))
