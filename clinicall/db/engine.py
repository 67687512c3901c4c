"""Opening the store: one async engine per process, SQLite or PostgreSQL by URL.

SQLite gets WAL, ``synchronous=NORMAL`` (about 30 times the single-row insert rate of the
default journal, docs/store.md), foreign keys (off by default in SQLite!) and a busy
timeout so a second writer waits instead of failing at once.  PostgreSQL goes through asyncpg.

A pooled PostgreSQL connection is checked when it is handed out, but not with SQLAlchemy's
``pool_pre_ping``: that pings every check-out, and asyncpg's ping is three round trips
(BEGIN, an empty statement, ROLLBACK), a third of a warm day's report (bench/README.md,
issue 16).  Instead (``_check_out``):

- a connection whose socket the server closed (a restart, a stop, a crash, the backend
  terminated: the server's end sends its FIN, which the event loop reads while the
  connection sits in the pool) is seen as closed by asyncpg without a round trip, on every
  check-out;
- a connection idle for more than ``PING_AFTER_IDLE_S`` is pinged, one round trip: what the
  socket cannot tell (a connection dropped silently on the way, by a firewall or a network
  outage) happens to connections that sat unused, not to one used a moment ago; a ping
  with no answer within ``PING_TIMEOUT_S`` fails like one that errs.

Either failure invalidates the pool (every connection opened before it is replaced) and the
check-out goes on with a new connection, as the pre-ping did; when the server is down, the
new connection's error is what the caller sees (docs/store.md, "Connections").
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import URL, event, exc, make_url
from sqlalchemy.engine.interfaces import AdaptedConnection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

SQLITE_BUSY_TIMEOUT_MS = 5000
#: A pooled PostgreSQL connection unused for longer than this is pinged before it is handed
#: out (module docstring); a busy pool's connections are not.
PING_AFTER_IDLE_S = 5.0
#: How long that ping may take: a connection dropped silently on the way gets no answer and
#: no reset, and without a deadline its ping would wait for TCP to give up (many minutes).
PING_TIMEOUT_S = 5.0
_LAST_USED = "clinicall_last_used"  # the pool entry's info: monotonic time of its check-in

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
    engine = _create_async_engine(target, **kwargs)
    event.listen(engine.sync_engine.pool, "checkout", _check_out)
    event.listen(engine.sync_engine.pool, "checkin", _checked_in)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit (no surprise lazy load in async code),
    guarded so that calls and what derives from them are written only by ``StoreWriter``."""
    from clinicall.db.writer import install_guard  # the writer needs the models: import late

    install_guard()
    return async_sessionmaker(engine, expire_on_commit=False)


def _check_out(dbapi_connection: Any, record: ConnectionPoolEntry,
               _proxy: PoolProxiedConnection) -> None:
    """A connection the server closed, or one idle for long that does not answer a ping,
    raises ``InvalidatePoolError``: the pool replaces its connections and hands out a new
    one (module docstring).  A new connection (no check-in yet) is used as it is."""
    assert isinstance(dbapi_connection, AdaptedConnection)
    driver = dbapi_connection.driver_connection
    if driver.is_closed():
        raise exc.InvalidatePoolError("the server closed the connection")
    last_used = record.info.get(_LAST_USED)
    if last_used is None or time.monotonic() - last_used <= PING_AFTER_IDLE_S:
        return
    try:  # the simple protocol: one round trip, no prepared statement left behind
        dbapi_connection.run_async(
            lambda connection: connection.execute("SELECT 1", timeout=PING_TIMEOUT_S))
    except Exception as error:
        raise exc.InvalidatePoolError(f"no answer to a ping: {error!r}") from error


def _checked_in(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info[_LAST_USED] = time.monotonic()


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
