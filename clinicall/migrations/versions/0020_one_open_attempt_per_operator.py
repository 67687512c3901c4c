"""one open callback attempt per reserved operator (docs/callbacks.md, "Reserving the operator").

A partial unique index on ``callback_attempts.agent`` over the attempts with no outcome yet:
two controllers that chose the same free operator in the same instant cannot both store their
attempt, so only one of them dials the operator.  The condition is frozen here, not imported.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_AGENT_ATTEMPT = "outcome IS NULL AND agent IS NOT NULL"


def upgrade() -> None:
    op.create_index("ix_callback_attempts_open_agent", "callback_attempts", ["agent"],
                    unique=True, postgresql_where=sa.text(OPEN_AGENT_ATTEMPT),
                    sqlite_where=sa.text(OPEN_AGENT_ATTEMPT))


def downgrade() -> None:
    op.drop_index("ix_callback_attempts_open_agent", table_name="callback_attempts")
