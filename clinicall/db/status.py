"""Whether a store can be used as it is, found without changing it.

Commands that only read or add to the store (``report``, ``user``, ``db current``) must not
create one by opening it: SQLite makes an empty file for any path it is given, so a mistyped
URL would leave a file behind and then fail on a missing table.  :func:`store_status` looks
first (the file, then the revision) and :class:`StoreNotReady` says in one line what is wrong
and which command puts it right (docs/store.md, "Migrations").
"""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.request import pathname2url

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from clinicall.db.migrate import alembic_config, current_revision

UPGRADE_HINT = "run 'clinicall db upgrade' (with the same --config or --db)"


class StoreNotReady(Exception):
    """The store is missing, unreachable, never migrated or at another revision."""

    def __init__(self, message: str, hint: str = UPGRADE_HINT) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True, slots=True)
class StoreStatus:
    """The store's revision (None: never migrated) and the one this code needs."""

    revision: str | None
    head: str

    @property
    def current(self) -> bool:
        return self.revision == self.head


def head_revision() -> str:
    """The revision the migrations of this code end at."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the packaged migrations have one head"
    return head


def _known(revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:  # "Can't locate revision ..."
        return False


def shown(url: str | URL) -> str:
    """The URL for a message: never its password."""
    return make_url(url).render_as_string(hide_password=True)


def sqlite_file(url: str | URL) -> Path | None:
    """The file a SQLite URL names (None for another database, or SQLite in memory)."""
    parsed = make_url(url)
    name = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or name in ("", ":memory:") or name.startswith(
            "file:"):
        return None
    return Path(name)


async def store_status(url: str | URL) -> StoreStatus:
    """The store's revision, read without creating anything; StoreNotReady when there is no
    store at ``url`` or it cannot be opened."""
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        where = "its folder does not exist" if not path.parent.is_dir() else "no such file"
        raise StoreNotReady(f"no store at {shown(url)} ({where})",
                            "check the URL (database.url in the config, or --db); for a new "
                            "store, " + UPGRADE_HINT)
    try:
        if path is not None:  # read only: the store's own connections would turn on WAL
            revision = await asyncio.to_thread(_sqlite_revision, path)
        else:
            revision = await current_revision(url)
    except (SQLAlchemyError, OSError, sqlite3.Error) as exc:
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())[:160]
        raise StoreNotReady(f"cannot open the store {shown(url)}: {reason}",
                            "check the URL, that the database server is up and that this "
                            "user may read it") from None
    return StoreStatus(revision, head_revision())


def _sqlite_revision(path: Path) -> str | None:
    """Alembic's revision in a SQLite file, opened read-only (nothing is written to it)."""
    uri = f"file:{pathname2url(str(path.resolve()))}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as connection:
        table = connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                                   "name = 'alembic_version'").fetchone()
        if table is None:
            return None
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        return None if row is None else str(row[0])


async def require_current(url: str | URL) -> StoreStatus:
    """The status of a store this code can use as it is; StoreNotReady saying why not."""
    status = await store_status(url)
    if status.revision is None:
        raise StoreNotReady(f"the store {shown(url)} is not migrated (it has no tables yet)")
    if not _known(status.revision):
        raise StoreNotReady(f"the store {shown(url)} is at revision {status.revision}, which "
                            "this version does not know (a newer clinicall migrated it)",
                            "run the clinicall version that migrated it")
    if not status.current:
        raise StoreNotReady(f"the store {shown(url)} is at revision {status.revision}; this "
                            f"version needs {status.head}")
    return status
