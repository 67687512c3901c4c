"""What the admin pages change in the store: users (role, active, password) and sessions.

Every change that takes rights away ends the user's sessions at once (a disabled user, a new
role, a reset password): the session check (web/session_store.py) would refuse most of them at
their next request anyway, this makes it immediate and visible in the list.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import Role, User, WebSession
from clinicall.web.passwords import DEFAULT_COST, PasswordCost, hash_password, verify_password


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: int
    username: str
    role: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    key_hash: str


async def users_with_sessions(
    sessions: async_sessionmaker[AsyncSession],
) -> list[tuple[User, int]]:
    async with sessions() as session:
        counted = await session.execute(
            select(WebSession.user_id, func.count()).group_by(WebSession.user_id))
        counts = {user_id: int(n) for user_id, n in counted.all()}
        users = (await session.scalars(select(User).order_by(User.username))).all()
    return [(user, counts.get(user.id, 0)) for user in users]


async def live_sessions(sessions: async_sessionmaker[AsyncSession],
                        now: datetime) -> list[SessionRow]:
    async with sessions() as session:
        rows = (await session.execute(
            select(WebSession, User.username).join(User, User.id == WebSession.user_id)
            .where(WebSession.expires_at > now).order_by(WebSession.last_seen_at.desc()))).all()
    return [SessionRow(s.id, name, s.role, s.created_at, s.last_seen_at, s.expires_at,
                       s.key_hash) for s, name in rows]


async def revoke_session(sessions: async_sessionmaker[AsyncSession], session_id: int) -> bool:
    async with sessions() as session:
        gone = await session.execute(delete(WebSession).where(WebSession.id == session_id))
        await session.commit()
    return bool(gone.rowcount)  # type: ignore[attr-defined]


async def _set(sessions: async_sessionmaker[AsyncSession], user_id: int, *,
               keep: str | None = None, **values: object) -> bool:
    """Change the user and end their sessions (but ``keep``, a session's key hash)."""
    async with sessions() as session:
        changed = await session.execute(update(User).where(User.id == user_id).values(**values))
        await session.execute(delete(WebSession).where(WebSession.user_id == user_id,
                                                       WebSession.key_hash != (keep or "")))
        await session.commit()
    return bool(changed.rowcount)  # type: ignore[attr-defined]


async def set_role(sessions: async_sessionmaker[AsyncSession], user_id: int, role: Role) -> bool:
    return await _set(sessions, user_id, role=role)


async def set_active(sessions: async_sessionmaker[AsyncSession], user_id: int,
                     active: bool) -> bool:
    return await _set(sessions, user_id, active=active)


async def set_password(sessions: async_sessionmaker[AsyncSession], user_id: int, password: str,
                       cost: PasswordCost = DEFAULT_COST, keep: str | None = None) -> bool:
    """A new password; every other session of the user ends (``keep``: the one changing its
    own password stays signed in)."""
    fresh = await asyncio.to_thread(hash_password, password, cost=cost)
    return await _set(sessions, user_id, keep=keep, password_hash=fresh)


async def password_matches(sessions: async_sessionmaker[AsyncSession], user_id: int,
                           password: str) -> bool:
    async with sessions() as session:
        stored = await session.scalar(select(User.password_hash).where(User.id == user_id))
    return stored is not None and await asyncio.to_thread(verify_password, password, stored)
