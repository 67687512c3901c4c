"""What ``clinicall user`` does, on a database URL: add a user, list users.

Opens its own engine for the one operation and disposes of it.  Refuses a store that is
missing, never migrated or at another revision (:class:`clinicall.db.status.StoreNotReady`,
one line saying which command to run) before opening it, so a mistyped URL creates nothing.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from clinicall.db import create_engine, session_factory
from clinicall.db.models import Role
from clinicall.db.status import require_current
from clinicall.web.users import NewUser, add_user, list_users


async def _sessions_for(url: str) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    await require_current(url)
    engine = create_engine(url)
    return engine, session_factory(engine)


async def add(url: str, username: str, role: Role, password: str, *, display_name: str,
              with_token: bool) -> NewUser:
    engine, sessions = await _sessions_for(url)
    try:
        return await add_user(sessions, username, role, password, display_name=display_name,
                              with_token=with_token)
    finally:
        await engine.dispose()


async def listing(url: str) -> list[tuple[str, str, str, bool, bool]]:
    """(name, role, display name, active, has an API token) per user, by name."""
    engine, sessions = await _sessions_for(url)
    try:
        users = await list_users(sessions)
    finally:
        await engine.dispose()
    return [(u.username, u.role.value, u.display_name, u.active, u.api_token_hash is not None)
            for u in users]
