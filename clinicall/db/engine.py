"""Opening the store: one async engine per process, SQLite or PostgreSQL by URL.

SQLite gets WAL, ``synchronous=NORMAL`` (about 30 times the single-row insert rate of the
default journal, docs/store.md), foreign keys (off by default in SQLite!) and a busy
timeout so a second writer waits instead of failing at once.  PostgreSQL goes through asyncpg.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import URL, event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 5000

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


class UnsupportedDatabaseError(ValueError):
    """The URL names a database the store does not support (only SQLite and PostgreSQL)."""


def async_url(url: str | URL) -> URL:
    """The URL with its async driver: ``sqlite:///x.db`` → ``sqlite+aiosqlite:///x.db``,
    ``postgresql://…`` (or ``postgres://…``) → ``postgresql+asyncpg://…``.

    Raises UnsupportedDatabaseError for any other backend or a sync-only driver.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgres":
        backend = "postgresql"
    wanted = _ASYNC_DRIVERS.get(backend)
    if wanted is None:
        raise UnsupportedDatabaseError(f"unsupported database {backend!r}: use sqlite/postgresql")
    if parsed.drivername not in (backend, wanted, "postgres"):
        raise UnsupportedDatabaseError(f"driver {parsed.drivername!r} is not async: use {wanted}")
    return parsed.set(drivername=wanted)


def create_engine(url: str | URL, **kwargs: Any) -> AsyncEngine:
    """An AsyncEngine for ``url`` with the store's connection settings applied.

    Extra keyword arguments go to SQLAlchemy's ``create_async_engine``.
    """
    target = async_url(url)
    if target.get_backend_name() == "sqlite":
        engine = _create_async_engine(target, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return _create_async_engine(target, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit (no surprise lazy load in async code),
    guarded so that calls and what derives from them are written only by ``StoreWriter``."""
    from clinicall.db.writer import install_guard  # the writer needs the models: import late

    install_guard()
    return async_sessionmaker(engine, expire_on_commit=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA analysis_limit=400")  # ANALYZE samples: milliseconds at any size
    finally:
        cursor.close()
