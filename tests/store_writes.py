"""Test fixtures write calls the way every writer must: inside a ``StoreWriter``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import Call, Direction, QueueAttempt, QueueOutcome, Recording
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
                talk_s=talk_s, wait_s=30.0, left_at=joined + timedelta(seconds=30)))
            session.add(call)


async def recorded_calls(sessions: async_sessionmaker[AsyncSession],
                         calls: list[tuple[str, str, datetime]]) -> dict[str, int]:
    """``(key, caller, started_at)`` inbound calls, each with one imported recording (a stub
    file name, no file); the calls' ids by key."""
    async with writing(sessions) as session:
        made = {key: Call(call_key=key, direction=Direction.INBOUND, caller=caller,
                          started_at=at, missed=False) for key, caller, at in calls}
        session.add_all(made.values())
        await session.flush()
        ids = {key: call.id for key, call in made.items()}
    async with sessions.begin() as session:
        for (key, call_id), (_, _, at) in zip(ids.items(), calls, strict=True):
            session.add(Recording(call_id=call_id, call_key=key, path=f"{key}.ogg",
                                  format="ogg", size_bytes=1, sha256="d" * 64,
                                  started_at=at, imported_at=at))
    return ids
