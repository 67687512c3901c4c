"""Staff accounts in the store: create, list, and check a password or an API token.

The web application and ``clinicall user`` both go through here, so a password is hashed the
same way wherever it is set.  Hashing and checking a password run in a worker thread (argon2id
is slow by design and must not stall the event loop).  A successful check of a hash weaker than
the current cost (or of the former scrypt scheme) stores a fresh argon2id hash.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import Role, User
from clinicall.web.passwords import (
    DEFAULT_COST,
    PasswordCost,
    dummy_hash,
    hash_password,
    needs_rehash,
    new_api_token,
    token_digest,
    verify_password,
)


class UserExistsError(ValueError):
    """A user with that name already exists."""


@dataclass(frozen=True, slots=True)
class NewUser:
    user: User
    api_token: str | None  # the token in clear, only now; the store keeps its digest


async def add_user(
    sessions: async_sessionmaker[AsyncSession],
    username: str,
    role: Role,
    password: str,
    *,
    display_name: str = "",
    with_token: bool = False,
    cost: PasswordCost = DEFAULT_COST,
) -> NewUser:
    """Create an active user; with ``with_token`` also an API token (returned once).

    Raises UserExistsError when the name is taken, ValueError for an empty password/name.
    """
    if not username.strip():
        raise ValueError("a user name cannot be empty")
    password_hash = await asyncio.to_thread(hash_password, password, cost=cost)
    token = new_api_token() if with_token else None
    user = User(
        username=username,
        display_name=display_name,
        role=role,
        password_hash=password_hash,
        api_token_hash=token_digest(token) if token else None,
        active=True,
        created_at=datetime.now(UTC),
    )
    async with sessions() as session:
        session.add(user)
        try:
            await session.commit()
        except IntegrityError:
            raise UserExistsError(f"user {username!r} already exists") from None
    return NewUser(user, token)


async def list_users(sessions: async_sessionmaker[AsyncSession]) -> list[User]:
    async with sessions() as session:
        return list((await session.scalars(select(User).order_by(User.username))).all())


async def check_password(
    sessions: async_sessionmaker[AsyncSession], username: str, password: str,
    cost: PasswordCost = DEFAULT_COST,
) -> User | None:
    """The active user with this name and password, else None (same cost either way).  A
    matching hash that ``needs_rehash`` at ``cost`` is replaced by a fresh one."""
    async with sessions() as session:
        user = await session.scalar(select(User).where(User.username == username))
    stored = user.password_hash if user is not None else dummy_hash(cost)
    matches = await asyncio.to_thread(verify_password, password, stored)
    if user is None or not matches or not user.active:
        return None
    if needs_rehash(stored, cost):
        fresh = await asyncio.to_thread(hash_password, password, cost=cost)
        async with sessions() as session:
            await session.execute(update(User).where(User.id == user.id,
                                                     User.password_hash == stored)
                                  .values(password_hash=fresh))
            await session.commit()
        user.password_hash = fresh
    return user


async def user_by_token(session: AsyncSession, token: str) -> User | None:
    """The active user owning this API token, else None."""
    user = await session.scalar(select(User).where(User.api_token_hash == token_digest(token)))
    return user if user is not None and user.active else None

