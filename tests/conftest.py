"""Database fixtures shared by the whole suite (other fixtures live next to their tests).

- ``db_url``: a fresh, migrated database per test, parametrized over SQLite and PostgreSQL
  (the PostgreSQL case carries ``pytest.mark.postgres``; its database is dropped when the test
  ends).  A ``str`` async SQLAlchemy URL.
- ``sqlite_db_url`` / ``postgres_db_url``: the same for one backend only.
- ``empty_db_url``: like ``db_url`` but never migrated (for migration tests).
- ``db_engine`` / ``db_sessions``: an AsyncEngine / async_sessionmaker on ``db_url``.
- ``postgres_server``: the session's PostgreSQL (tests/pg.py).  If PostgreSQL is missing the
  fixture fails (install it) unless CLINICALL_SKIP_POSTGRES=1, which skips instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pg import INSTALL_HINT, PostgresServer, find_pg_bin
from sqlalchemy import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from clinicall.db import create_engine, session_factory, upgrade

SKIP_POSTGRES_ENV = "CLINICALL_SKIP_POSTGRES"
BACKENDS = [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]


def _run_outside_loop(coro: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine to completion on its own loop in a worker thread (session setup)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coro).result()


def _sqlite_url(path: Path) -> str:
    return URL.create("sqlite+aiosqlite", database=str(path)).render_as_string()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if os.environ.get(SKIP_POSTGRES_ENV) == "1":
        pytest.skip(f"PostgreSQL tests skipped ({SKIP_POSTGRES_ENV}=1)")
    if find_pg_bin() is None:
        pytest.fail(f"{INSTALL_HINT} (or set {SKIP_POSTGRES_ENV}=1 to skip these tests)")
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    """A migrated database that per-test databases are copied from."""
    name = postgres_server.create_database("clinicall_template")
    _run_outside_loop(upgrade(postgres_server.url(name)))
    return name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "clinicall.db"
    _run_outside_loop(upgrade(_sqlite_url(path)))
    return path


@pytest.fixture
def sqlite_db_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "clinicall.db"
    shutil.copyfile(sqlite_template, path)
    return _sqlite_url(path)


@pytest.fixture
def postgres_db_url(postgres_server: PostgresServer, postgres_template: str) -> Iterator[str]:
    database = postgres_server.create_database(template=postgres_template)
    yield postgres_server.url(database).render_as_string()
    postgres_server.drop_database(database)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(f"{request.param}_db_url")
    return url


@pytest.fixture(params=BACKENDS)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield _sqlite_url(tmp_path / "empty.db")
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    database = server.create_database()
    yield server.url(database).render_as_string()
    server.drop_database(database)


@pytest.fixture
async def db_engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def db_sessions(db_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(db_engine)
