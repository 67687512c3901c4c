"""Operators' log-in sessions and pauses written by the call account, on SQLite and PostgreSQL.

queue_log lines (docs/engines/asterisk.md formats) go through the Asterisk adapter's durable
record reader into the tracker, as in production; ``agent_sessions`` and ``agent_pauses`` are
then what the staffing report reads as operators present.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.controller.asterisk.record import QueueLogRecord
from clinicall.controller.tracking import CallTracker, TrackingConfig
from clinicall.db.models import Agent, AgentPause, AgentSession, IngestState

Sessions = async_sessionmaker[AsyncSession]
T0 = 1763900000

QUEUE_LOG = (
    f"{T0}|NONE|cardiology|op1|ADDMEMBER|\n"
    f"{T0 + 5}|NONE|general|op1|ADDMEMBER|\n"
    f"{T0 + 10}|NONE|cardiology|op2|ADDMEMBER|\n"
    f"{T0 + 60}|NONE|cardiology|op1|PAUSE|lunch\n"
    f"{T0 + 90}|NONE|NONE|op2|PAUSEALL|meeting\n"
    f"{T0 + 120}|NONE|cardiology|op1|UNPAUSE|\n"
    f"{T0 + 600}|NONE|cardiology|op1|REMOVEMEMBER|\n"
    f"{T0 + 700}|NONE|cardiology|op1|ADDMEMBER|\n"
    f"{T0 + 900}|NONE|cardiology|op3|REMOVEMEMBER|\n"  # logged in before the record began
).encode()


def at(offset: int) -> datetime:
    return datetime.fromtimestamp(T0 + offset, UTC)


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands times back naive (UTC), PostgreSQL aware."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def presence(sessions: Sessions) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    async with sessions() as s:
        logins = await s.execute(
            select(Agent.interface, AgentSession.queue, AgentSession.login_at,
                   AgentSession.logout_at).join(Agent, Agent.id == AgentSession.agent_id)
            .order_by(AgentSession.login_at, Agent.interface, AgentSession.queue))  # fmt: skip
        pauses = await s.execute(
            select(Agent.interface, AgentPause.queue, AgentPause.paused_at,
                   AgentPause.unpaused_at, AgentPause.reason)
            .join(Agent, Agent.id == AgentPause.agent_id)
            .order_by(AgentPause.paused_at))  # fmt: skip
        return (
            [(m, q, aware(a), aware(b)) for m, q, a, b in logins],
            [(m, q, aware(a), aware(b), r) for m, q, a, b, r in pauses],
        )


EXPECTED_LOGINS = [
    ("op1", "cardiology", at(0), at(600)),
    ("op1", "general", at(5), None),
    ("op2", "cardiology", at(10), None),
    ("op1", "cardiology", at(700), None),
]
EXPECTED_PAUSES = [
    ("op1", "cardiology", at(60), at(120), "lunch"),
    ("op2", None, at(90), None, "meeting"),
]


def tracker_on(sessions: Sessions, path: Path) -> CallTracker:
    return CallTracker(sessions, QueueLogRecord(path), TrackingConfig(country_code="380"))


async def test_log_ins_and_pauses_become_sessions(db_sessions: Sessions, tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    path.write_bytes(QUEUE_LOG)
    await tracker_on(db_sessions, path).reconcile()
    assert await presence(db_sessions) == (EXPECTED_LOGINS, EXPECTED_PAUSES)
    async with db_sessions() as s:
        assert sorted(await s.scalars(select(Agent.interface))) == ["op1", "op2", "op3"]


async def test_a_record_read_in_pieces_and_again_gives_the_same_sessions(
    db_sessions: Sessions, tmp_path: Path
) -> None:
    path = tmp_path / "queue_log"
    cut = QUEUE_LOG.index(b"REMOVEMEMBER") + 3  # in the middle of op1's log-out line
    path.write_bytes(QUEUE_LOG[:cut])
    await tracker_on(db_sessions, path).reconcile()
    logins, _ = await presence(db_sessions)
    assert ("op1", "cardiology", at(0), None) in logins  # still logged in: the line is half
    path.write_bytes(QUEUE_LOG)
    await tracker_on(db_sessions, path).reconcile()
    assert await presence(db_sessions) == (EXPECTED_LOGINS, EXPECTED_PAUSES)
    # The whole record again from byte 0 (a lost cursor): nothing doubles or reopens.
    async with db_sessions() as s, s.begin():
        await s.execute(delete(IngestState))
    await tracker_on(db_sessions, path).reconcile()
    assert await presence(db_sessions) == (EXPECTED_LOGINS, EXPECTED_PAUSES)
