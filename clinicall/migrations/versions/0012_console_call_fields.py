"""console: the caller's name on the call, and the operator's disposition of it (what it was:
resolved, needs a callback, a complaint, a wrong number; ids from ``console.dispositions``),
who gave it and when.  docs/console.md.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("caller_name", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("disposition", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("disposition_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("disposition_at", sa.DateTime(timezone=True),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("disposition_at")
        batch.drop_column("disposition_by")
        batch.drop_column("disposition")
        batch.drop_column("caller_name")
