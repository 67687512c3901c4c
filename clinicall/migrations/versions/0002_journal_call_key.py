"""event_journal.call_key: the call (linkedid) an event belongs to, indexed, so call tracking
reads a call's journal rows back together and re-projects it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event_journal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("call_key", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_event_journal_call_key"), ["call_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("event_journal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_journal_call_key"))
        batch_op.drop_column("call_key")
