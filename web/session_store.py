"""Server-side web sessions (the ``web_sessions`` table): open, find, end one, end all.

The browser's cookie holds a random session id (32 bytes, URL-safe); the store keeps only its
SHA-256, so a row read from a backup or a log opens nothing.  A session lives until its
expiry, until its user logs out (the row is deleted at once), signs out everywhere (all the
user's rows are deleted), is disabled or changes role (the row is deleted at the next request
that carries it).  Expired rows are purged whenever someone logs in.  docs/web-security.md.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import User, WebSession
from clinicall.web.passwords import token_digest

SESSION_ID_BYTES = 32
CSRF_TOKEN_BYTES = 32
#: How stale ``last_seen_at`` may get before a request writes it again (one write a minute
#: per session at most, not one per poll of the dashboard).
LAST_SEEN_STEP = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class OpenedSession:
    """What a login hands the browser: the session id (cookie) and its CSRF token."""

    session_id: str
    csrf_token: str


@dataclass(frozen=True, slots=True)
class LiveSession:
    """A valid session, as a request sees it."""

    key_hash: str
    user: User
    csrf_token: str


async def open_session(sessions: async_sessionmaker[AsyncSession], user: User, now: datetime,
                       ttl: timedelta, *, replaces: str | None = None) -> OpenedSession:
    """A new session for ``user`` until ``now + ttl``.  Purges every expired row, and ends the
    session ``replaces`` (the id the browser came with, if any: a login never keeps an id the
    browser already had, so a planted id is worth nothing)."""
    opened = OpenedSession(secrets.token_urlsafe(SESSION_ID_BYTES),
                           secrets.token_urlsafe(CSRF_TOKEN_BYTES))
    async with sessions() as session:
        await session.execute(delete(WebSession).where(WebSession.expires_at <= now))
        if replaces:
            await session.execute(
                delete(WebSession).where(WebSession.key_hash == token_digest(replaces)))
        session.add(WebSession(key_hash=token_digest(opened.session_id), user_id=user.id,
                               role=user.role, csrf_token=opened.csrf_token, created_at=now,
                               expires_at=now + ttl, last_seen_at=now))
        await session.commit()
    return opened


async def find_session(session: AsyncSession, session_id: str, now: datetime
                       ) -> LiveSession | None:
    """The valid session behind ``session_id``: unexpired, its user active and still in the
    role it logged in with.  A session that fails the user checks is deleted (it stays ended
    if the user is enabled again)."""
    key_hash = token_digest(session_id)
    row = await session.scalar(select(WebSession).where(WebSession.key_hash == key_hash))
    if row is None or row.expires_at <= now:
        return None
    user = await session.get(User, row.user_id)
    if user is None or not user.active or user.role is not row.role:
        await session.execute(delete(WebSession).where(WebSession.id == row.id))
        await session.commit()
        return None
    if now - row.last_seen_at >= LAST_SEEN_STEP:
        await session.execute(
            update(WebSession).where(WebSession.id == row.id).values(last_seen_at=now))
        await session.commit()
    return LiveSession(key_hash, user, row.csrf_token)


async def end_session(sessions: async_sessionmaker[AsyncSession], key_hash: str) -> None:
    """Log out: the session's row is deleted, so its cookie opens nothing from now on."""
    async with sessions() as session:
        await session.execute(delete(WebSession).where(WebSession.key_hash == key_hash))
        await session.commit()


async def end_all_sessions(sessions: async_sessionmaker[AsyncSession], user_id: int) -> int:
    """Sign out everywhere: every session of the user is deleted; how many there were."""
    async with sessions() as session:
        ended = await session.execute(delete(WebSession).where(WebSession.user_id == user_id))
        await session.commit()
    return int(getattr(ended, "rowcount", 0) or 0)


async def count_sessions(sessions: async_sessionmaker[AsyncSession]) -> int:
    """How many session rows the store holds (expired ones until the next purge)."""
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(WebSession)) or 0)
