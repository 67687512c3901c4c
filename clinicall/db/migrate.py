"""Bringing a database to the schema of this code, with Alembic, from inside asyncio.

Alembic's commands are synchronous; ``upgrade`` opens an async connection and hands its sync
face to Alembic (``config.attributes["connection"]``), which ``migrations/env.py`` uses as is.
``schema_diff`` compares a live database with the models: empty means they agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import URL, Connection

from clinicall.db.engine import async_url, create_engine
from clinicall.db.models import Base

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str | URL | None = None) -> Config:
    """An Alembic Config pointing at the packaged migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        rendered = async_url(url).render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


async def upgrade(url: str | URL, revision: str = "head") -> None:
    """Run the migrations on ``url`` up to ``revision`` (idempotent: at head it does nothing)."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_on, alembic_config(url), revision)
    finally:
        await engine.dispose()


async def current_revision(url: str | URL) -> str | None:
    """The revision the database is at (None for a database never migrated)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_current_revision_on)
    finally:
        await engine.dispose()


async def schema_diff(url: str | URL) -> list[Any]:
    """Alembic's autogenerate diff between the database and the models ([] when they agree)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_diff_on)
    finally:
        await engine.dispose()


def _upgrade_on(connection: Connection, config: Config, revision: str) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _current_revision_on(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _diff_on(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": False}
    )
    return list(compare_metadata(context, Base.metadata))
