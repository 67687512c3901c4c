"""Test fixtures write calls the way every writer must: inside a ``StoreWriter``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.writer import StoreWriter


@asynccontextmanager
async def writing(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction in which calls, attempts, callbacks and survey answers may be written;
    the writer keeps the call links and hourly marks before it commits."""
    async with sessions.begin() as session, StoreWriter(session):
        yield session
