"""The config's ``database.url``: checked when the config is read, and its SQLite path placed.

The store speaks SQLite (through aiosqlite) and PostgreSQL (through asyncpg) only
(docs/store.md).  Anything else, or a driver that is not installed, is a config error with the
file, line and key like any other, not a traceback when the store is first opened.  A relative
SQLite path is relative to the config file's folder, so the store does not move with the
working directory of whoever runs a command.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from sqlalchemy import URL, make_url
from sqlalchemy.exc import ArgumentError

#: backend -> (the drivers a URL may name, the async driver's module)
_BACKENDS: dict[str, tuple[frozenset[str], str]] = {
    "sqlite": (frozenset({"sqlite", "sqlite+aiosqlite"}), "aiosqlite"),
    "postgresql": (frozenset({"postgresql", "postgres", "postgresql+asyncpg"}), "asyncpg"),
}
EXAMPLES = "sqlite+aiosqlite:///var/clinicall.db or postgresql+asyncpg://USER:PASS@HOST/DB"


def check_database_url(value: str) -> str:
    """``value`` if the store can use it; ValueError saying why not (no password shown)."""
    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError(f"not a database URL: expected {EXAMPLES}") from None
    shown = url.render_as_string(hide_password=True)
    backend = "postgresql" if url.get_backend_name() == "postgres" else url.get_backend_name()
    if backend not in _BACKENDS:
        raise ValueError(f"unsupported database {url.get_backend_name()!r} in {shown!r}: "
                         f"expected {EXAMPLES}")
    drivers, module = _BACKENDS[backend]
    if url.drivername not in drivers:
        raise ValueError(f"driver {url.drivername!r} is not supported: write "
                         f"{sorted(drivers)[-1]!r}")
    if importlib.util.find_spec(module) is None:
        raise ValueError(f"{shown!r} needs the Python package {module!r}, which is not "
                         f"installed; install it or use another database")
    return value


def is_sqlite_file(url: URL) -> bool:
    """A SQLite URL naming a file (not ``:memory:``, not an empty name, not a ``file:`` URI)."""
    name = url.database or ""
    return (url.get_backend_name() == "sqlite" and name not in ("", ":memory:")
            and not name.startswith("file:"))


def placed_database_url(value: str, config_dir: Path) -> str:
    """``value`` with a relative SQLite path made absolute against ``config_dir``."""
    url = make_url(value)
    if not is_sqlite_file(url) or Path(url.database or "").is_absolute():
        return value
    path = config_dir.resolve() / (url.database or "")
    return url.set(database=str(path)).render_as_string(hide_password=False)
