"""survey_answers: the queue, operator and route the answer is about, and whether the survey was
complete (a patient who hung up, or ended it, after the first question leaves a partial one).
docs/kpi.md, Survey.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("survey_answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queue", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("operator", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("route", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("complete", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("survey_answers", schema=None) as batch_op:
        batch_op.drop_column("complete")
        batch_op.drop_column("route")
        batch_op.drop_column("operator")
        batch_op.drop_column("queue")
