"""Column types that behave the same on SQLite and PostgreSQL.

SQLite has no time zone type: ``DateTime(timezone=True)`` stores the wall-clock text and gives
back a *naive* datetime, while PostgreSQL gives back an aware one.  ``UTCDateTime`` stores every
instant as UTC on both and always returns an aware UTC datetime, so the code above the store
never meets a naive time (and comparisons between stored text on SQLite stay in one zone).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import DateTime, Dialect, Enum
from sqlalchemy.types import TypeDecorator


class NaiveDatetimeError(ValueError):
    """A naive datetime was given to the store: its time zone is unknown, so it is refused."""


class UTCDateTime(TypeDecorator[datetime]):
    """An instant in time, stored as UTC, returned aware (tzinfo=UTC) on every database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetimeError(f"naive datetime {value.isoformat()} given to the store")
        utc = value.astimezone(UTC)
        # SQLite's DATETIME is text: keep one zone (UTC) and no suffix so text order = time order.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @property
    def python_type(self) -> type[datetime]:
        return datetime


def str_enum(enum_cls: type[enum.StrEnum], length: int = 16) -> Enum:
    """A portable enum column: VARCHAR holding the members' *values* (not their names).

    No native PostgreSQL enum type and no CHECK constraint, so adding a member later needs no
    schema migration; the Python enum validates what is written.
    """

    def values(cls: type[enum.StrEnum]) -> list[str]:
        return [member.value for member in cls]

    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=values,
        validate_strings=True,
    )
