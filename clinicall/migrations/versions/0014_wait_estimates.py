"""wait_estimates: every announced wait estimate beside the engine's own, so the report can
show the estimator's error (docs/callbacks.md, "Estimated wait").

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 10:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wait_estimates",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=True, nullable=False),
        sa.Column("call_key", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("estimate_s", sa.Double(), nullable=True),
        sa.Column("engine_estimate_s", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wait_estimates")),
    )
    op.create_index(op.f("ix_wait_estimates_announced_at"), "wait_estimates", ["announced_at"])
    op.create_index(op.f("ix_wait_estimates_call_key"), "wait_estimates", ["call_key"])


def downgrade() -> None:
    op.drop_index(op.f("ix_wait_estimates_call_key"), table_name="wait_estimates")
    op.drop_index(op.f("ix_wait_estimates_announced_at"), table_name="wait_estimates")
    op.drop_table("wait_estimates")
