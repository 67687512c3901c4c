"""Test fixtures write calls the way every writer must: inside a ``StoreWriter``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import Call, Direction, QueueAttempt, QueueOutcome
from clinicall.db.writer import StoreWriter


@asynccontextmanager
async def writing(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction in which calls, attempts, callbacks and survey answers may be written;
    the writer keeps the call links and hourly marks before it commits."""
    async with sessions.begin() as session, StoreWriter(session):
        yield session


async def seed_attempts(sessions: async_sessionmaker[AsyncSession],
                        attempts: list[tuple[str, QueueOutcome, float | None, timedelta]],
                        now: datetime) -> None:
    """One call per ``(queue, outcome, talk_s, joined this long before now)``, each waited
    30 s (the estimated wait's history, db/queue_history.py)."""
    async with writing(sessions) as session:
        for n, (queue, outcome, talk_s, ago) in enumerate(attempts):
            joined = now - ago
            call = Call(call_key=f"h{n}.{queue}.{ago.total_seconds():.0f}",
                        direction=Direction.INBOUND, caller="+380501230000", started_at=joined,
                        missed=False)
            call.queue_attempts.append(QueueAttempt(
                channel_id=f"h{n}", queue=queue, joined_at=joined, outcome=outcome,
                talk_s=talk_s, left_at=joined + timedelta(seconds=30)))
            session.add(call)
