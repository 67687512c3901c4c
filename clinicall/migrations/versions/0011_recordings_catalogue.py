"""recordings catalogue: what the importer computes once (peaks, channels, the transcode's
path, where the engine wrote the file), retention's tombstone rule and purpose, manual legal
holds, reviewers' notes, the links of recordings and calls to complaint cases, the hash chain
of the access audit, and the complaint case's steps (new → acknowledged → investigating →
resolved → reviewed: the states "open" and "closed" become "new" and "reviewed"), deadlines,
topic and reply (docs/recordings.md).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("spool_path", sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column("transcode_path", sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column("channels", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("peaks", JSON, nullable=True))
        batch_op.add_column(sa.Column("purpose", sa.String(length=16), nullable=False,
                                      server_default="quality"))
        batch_op.add_column(sa.Column("deleted_by", sa.String(length=64), nullable=True))

    with op.batch_alter_table("recording_access", schema=None) as batch_op:
        batch_op.add_column(sa.Column("listen_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("detail", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("row_hash", sa.String(length=64), nullable=False,
                                      server_default=""))
        batch_op.create_unique_constraint(batch_op.f("uq_recording_access_listen_key"),
                                          ["listen_key"])

    op.create_table(
        "recording_holds",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["recording_id"], ["recordings.id"],
                                name=op.f("fk_recording_holds_recording_id_recordings"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_recording_holds_user_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_holds")),
    )
    op.create_index(op.f("ix_recording_holds_recording_id"), "recording_holds",
                    ["recording_id"], unique=False)

    op.create_table(
        "recording_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offset_s", sa.Double(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["recording_id"], ["recordings.id"],
                                name=op.f("fk_recording_notes_recording_id_recordings"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_recording_notes_user_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_notes")),
    )
    op.create_index(op.f("ix_recording_notes_recording_id_at"), "recording_notes",
                    ["recording_id", "at"], unique=False)

    op.create_table(
        "complaint_recordings",
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaints.id"],
                                name=op.f("fk_complaint_recordings_complaint_id_complaints"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["recording_id"], ["recordings.id"],
                                name=op.f("fk_complaint_recordings_recording_id_recordings"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("complaint_id", "recording_id",
                                name=op.f("pk_complaint_recordings")),
    )
    op.create_index(op.f("ix_complaint_recordings_recording_id"), "complaint_recordings",
                    ["recording_id"], unique=False)

    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acknowledge_due_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("topic", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("reply", sa.Text(), nullable=True))
    op.execute("UPDATE complaints SET state = 'new' WHERE state = 'open'")
    op.execute("UPDATE complaints SET state = 'reviewed' WHERE state = 'closed'")
    op.create_table(
        "complaint_calls",
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  nullable=False),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaints.id"],
                                name=op.f("fk_complaint_calls_complaint_id_complaints"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"],
                                name=op.f("fk_complaint_calls_call_id_calls"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("complaint_id", "call_id", name=op.f("pk_complaint_calls")),
    )
    op.create_index(op.f("ix_complaint_calls_call_id"), "complaint_calls", ["call_id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_complaint_calls_call_id"), table_name="complaint_calls")
    op.drop_table("complaint_calls")
    op.execute("UPDATE complaints SET state = 'open' WHERE state = 'new'")
    op.execute("UPDATE complaints SET state = 'closed' WHERE state = 'reviewed'")
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        for column in ("reply", "topic", "reviewed_at", "acknowledge_due_at"):
            batch_op.drop_column(column)
    op.drop_index(op.f("ix_complaint_recordings_recording_id"),
                  table_name="complaint_recordings")
    op.drop_table("complaint_recordings")
    op.drop_index(op.f("ix_recording_notes_recording_id_at"), table_name="recording_notes")
    op.drop_table("recording_notes")
    op.drop_index(op.f("ix_recording_holds_recording_id"), table_name="recording_holds")
    op.drop_table("recording_holds")
    with op.batch_alter_table("recording_access", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_recording_access_listen_key"), type_="unique")
        for column in ("row_hash", "prev_hash", "detail", "listen_key"):
            batch_op.drop_column(column)
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        for column in ("deleted_by", "purpose", "peaks", "channels", "transcode_path",
                       "spool_path"):
            batch_op.drop_column(column)
