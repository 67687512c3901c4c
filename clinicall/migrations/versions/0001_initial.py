"""All tables of the store (calls, queues, agents, callbacks, recordings, complaints,
surveys, users, event journal, ingest state).

Plain SQLAlchemy types only (no imports from the application), so that this file keeps
describing the schema of 0001 whatever the models become.  Enums are VARCHAR(16) columns.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 12:16:39.287302
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("caller", sa.String(length=32), nullable=True),
        sa.Column("dialled", sa.String(length=32), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("ivr_path", sa.String(length=255), nullable=True),
        sa.Column("route", sa.String(length=64), nullable=True),
        sa.Column("ivr_outcome", sa.String(length=16), nullable=True),
        sa.Column("hangup_side", sa.String(length=16), nullable=True),
        sa.Column("missed", sa.Boolean(), nullable=False),
        sa.Column("miss_cause", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
        sa.UniqueConstraint("linkedid", name=op.f("uq_calls_linkedid")),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calls_caller_started_at"), ["caller", "started_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_calls_missed_started_at"), ["missed", "started_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_calls_started_at"), ["started_at"], unique=False)

    op.create_table(
        "event_journal",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_journal")),
        sa.UniqueConstraint("key", name=op.f("uq_event_journal_key")),
    )
    with op.batch_alter_table("event_journal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_journal_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_event_journal_source_at"), ["source", "at"], unique=False
        )

    op.create_table(
        "ingest_state",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("inode", sa.BigInteger(), nullable=True),
        sa.Column("line_no", sa.BigInteger(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_ingest_state")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("interface", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_agents_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
        sa.UniqueConstraint("interface", name=op.f("uq_agents_interface")),
    )
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column(
            "origin_call_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("queue", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.String(length=64), nullable=True),
        sa.Column(
            "result_call_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["origin_call_id"],
            ["calls.id"],
            name=op.f("fk_callbacks_origin_call_id_calls"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["result_call_id"],
            ["calls.id"],
            name=op.f("fk_callbacks_result_call_id_calls"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
    )
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_callbacks_phone_created_at"), ["phone", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_callbacks_state_due_at"), ["state", "due_at"], unique=False
        )

    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_complaints_call_id_calls"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_complaints_owner_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
    )
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaints_opened_at"), ["opened_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_complaints_state_due_at"), ["state", "due_at"], unique=False
        )

    op.create_table(
        "queue_attempts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("call_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("uniqueid", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("wait_s", sa.Double(), nullable=True),
        sa.Column("talk_s", sa.Double(), nullable=True),
        sa.Column("agent", sa.String(length=128), nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("original_position", sa.Integer(), nullable=True),
        sa.Column("exit_key", sa.String(length=1), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
            name=op.f("fk_queue_attempts_call_id_calls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_attempts")),
        sa.UniqueConstraint(
            "uniqueid",
            "queue",
            "joined_at",
            name=op.f("uq_queue_attempts_uniqueid_queue_joined_at"),
        ),
    )
    with op.batch_alter_table("queue_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_queue_attempts_call_id"), ["call_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_queue_attempts_joined_at"), ["joined_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_queue_attempts_queue_joined_at"), ["queue", "joined_at"], unique=False
        )

    op.create_table(
        "recordings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=512), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("duration_s", sa.Double(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_recordings_call_id_calls"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
        sa.UniqueConstraint("path", name=op.f("uq_recordings_path")),
    )
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recordings_call_id"), ["call_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_recordings_linkedid"), ["linkedid"], unique=False)
        batch_op.create_index(batch_op.f("ix_recordings_started_at"), ["started_at"], unique=False)

    op.create_table(
        "survey_answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("question", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
            name=op.f("fk_survey_answers_call_id_calls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_answers")),
        sa.UniqueConstraint("call_id", "question", name=op.f("uq_survey_answers_call_id_question")),
    )
    with op.batch_alter_table("survey_answers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_answers_answered_at"), ["answered_at"], unique=False
        )

    op.create_table(
        "agent_pauses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=True),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unpaused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_agent_pauses_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_pauses")),
    )
    with op.batch_alter_table("agent_pauses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agent_pauses_agent_id_paused_at"),
            ["agent_id", "paused_at"],
            unique=False,
        )

    op.create_table(
        "agent_sessions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("login_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("logout_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_agent_sessions_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_sessions")),
    )
    with op.batch_alter_table("agent_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agent_sessions_agent_id_login_at"),
            ["agent_id", "login_at"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_agent_sessions_login_at"), ["login_at"], unique=False)

    op.create_table(
        "complaint_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_complaint_events_complaint_id_complaints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_complaint_events_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_events")),
    )
    with op.batch_alter_table("complaint_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_complaint_events_complaint_id_at"), ["complaint_id", "at"], unique=False
        )

    op.create_table(
        "recording_access",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("remote_addr", sa.String(length=45), nullable=True),
        sa.Column("reason", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name=op.f("fk_recording_access_recording_id_recordings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_recording_access_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_access")),
    )
    with op.batch_alter_table("recording_access", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recording_access_recording_id_at"), ["recording_id", "at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_recording_access_user_id_at"), ["user_id", "at"], unique=False
        )

    op.create_table(
        "ring_attempts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "queue_attempt_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("member", sa.String(length=128), nullable=False),
        sa.Column("rang_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ring_ms", sa.Integer(), nullable=True),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["queue_attempt_id"],
            ["queue_attempts.id"],
            name=op.f("fk_ring_attempts_queue_attempt_id_queue_attempts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ring_attempts")),
    )
    with op.batch_alter_table("ring_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ring_attempts_member_rang_at"), ["member", "rang_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ring_attempts_queue_attempt_id"), ["queue_attempt_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ring_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ring_attempts_queue_attempt_id"))
        batch_op.drop_index(batch_op.f("ix_ring_attempts_member_rang_at"))

    op.drop_table("ring_attempts")
    with op.batch_alter_table("recording_access", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recording_access_user_id_at"))
        batch_op.drop_index(batch_op.f("ix_recording_access_recording_id_at"))

    op.drop_table("recording_access")
    with op.batch_alter_table("complaint_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_events_complaint_id_at"))

    op.drop_table("complaint_events")
    with op.batch_alter_table("agent_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_sessions_login_at"))
        batch_op.drop_index(batch_op.f("ix_agent_sessions_agent_id_login_at"))

    op.drop_table("agent_sessions")
    with op.batch_alter_table("agent_pauses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_pauses_agent_id_paused_at"))

    op.drop_table("agent_pauses")
    with op.batch_alter_table("survey_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_answers_answered_at"))

    op.drop_table("survey_answers")
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recordings_started_at"))
        batch_op.drop_index(batch_op.f("ix_recordings_linkedid"))
        batch_op.drop_index(batch_op.f("ix_recordings_call_id"))

    op.drop_table("recordings")
    with op.batch_alter_table("queue_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_queue_attempts_queue_joined_at"))
        batch_op.drop_index(batch_op.f("ix_queue_attempts_joined_at"))
        batch_op.drop_index(batch_op.f("ix_queue_attempts_call_id"))

    op.drop_table("queue_attempts")
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaints_state_due_at"))
        batch_op.drop_index(batch_op.f("ix_complaints_opened_at"))

    op.drop_table("complaints")
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callbacks_state_due_at"))
        batch_op.drop_index(batch_op.f("ix_callbacks_phone_created_at"))

    op.drop_table("callbacks")
    op.drop_table("agents")
    op.drop_table("users")
    op.drop_table("ingest_state")
    with op.batch_alter_table("event_journal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_journal_source_at"))
        batch_op.drop_index(batch_op.f("ix_event_journal_at"))

    op.drop_table("event_journal")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calls_started_at"))
        batch_op.drop_index(batch_op.f("ix_calls_missed_started_at"))
        batch_op.drop_index(batch_op.f("ix_calls_caller_started_at"))

    op.drop_table("calls")
