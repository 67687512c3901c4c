"""Whether an error means "the store cannot be reached now" (and will be retried), or a bug.

The two are logged differently (docs/architecture.md, "Logs"): an unreachable store is an
outage with a start and an end, two lines however long it lasts; anything else is a defect
worth its traceback.  Unreachable: the connection could not be made or was lost (refused,
reset, timed out, the server shutting down), or SQLite's file is locked or cannot be opened.
"""

from __future__ import annotations

from asyncpg import exceptions as pg
from sqlalchemy import exc as sa

#: Errors raised before SQLAlchemy wraps them (connecting) or by the driver itself.
_UNREACHABLE = (OSError, TimeoutError, pg.PostgresConnectionError, pg.CannotConnectNowError,
                pg.InterfaceError, sa.OperationalError, sa.InterfaceError, sa.TimeoutError)


def unreachable(exc: BaseException) -> str | None:
    """A one-line reason when ``exc`` says the store is unreachable; None for anything else."""
    seen = exc.orig if isinstance(exc, sa.DBAPIError) and exc.orig is not None else exc
    invalidated = isinstance(exc, sa.DBAPIError) and exc.connection_invalidated
    if not (invalidated or isinstance(exc, _UNREACHABLE) or isinstance(seen, _UNREACHABLE)):
        return None
    text = " ".join(str(seen).split())[:160]
    return f"{type(seen).__name__}: {text}" if text else type(seen).__name__
