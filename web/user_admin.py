"""What ``clinicall user`` does, on a database URL: add a user, list users.

Opens its own engine for the one operation and disposes of it.  Refuses a database that was
never migrated (the users table would be missing) with a plain message.
"""

from __future__ import annotations

from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from clinicall.db import create_engine, current_revision, session_factory
from clinicall.db.models import Role
from clinicall.web.users import NewUser, add_user, list_users


class NotMigratedError(RuntimeError):
    """The database has no schema yet."""


async def _sessions_for(url: str) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    if await current_revision(url) is None:
        raise NotMigratedError(f"the database has no schema yet ({_safe(url)})")
    engine = create_engine(url)
    return engine, session_factory(engine)


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


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
