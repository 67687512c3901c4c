"""The few SQL expressions that SQLite and PostgreSQL spell differently.

Each returns an integer expression with the same value on both databases, so the aggregates
built on them (and the reports) compare equal across the two.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import BigInteger, Float, Integer, Interval, cast, func, literal
from sqlalchemy.sql.elements import ColumnElement

#: Later than any instant a report can meet: the "never" of ``least_ms``.
NEVER_MS = 10**15


def epoch_ms(column: Any, dialect: str) -> ColumnElement[int]:
    """Milliseconds since 1970 (UTC) of a stored instant, rounded to the millisecond.

    SQLite's date functions keep milliseconds (``julianday`` is an exact ms count scaled);
    PostgreSQL's ``extract(epoch)`` keeps microseconds, rounded here to the same ms.
    """
    if dialect == "sqlite":
        jd = cast(func.julianday(column), Float)
        return cast(func.round((jd - 2440587.5) * 86400000.0), Integer)
    return cast(func.round(func.extract("epoch", column) * 1000), BigInteger)


def least(dialect: str, *values: ColumnElement[int]) -> ColumnElement[int]:
    """The smallest of non-null integer expressions (give ``coalesce(x, NEVER_MS)``)."""
    if dialect == "sqlite":
        return func.min(*values)  # scalar min() with several arguments
    return func.least(*values)


def never_if_null(value: ColumnElement[int]) -> ColumnElement[int]:
    return func.coalesce(value, literal(NEVER_MS))


def as_int(value: ColumnElement[Any]) -> ColumnElement[int]:
    return cast(value, BigInteger)


def seconds_as_ms(column: Any, dialect: str) -> ColumnElement[int]:
    """A duration in float seconds as whole milliseconds, so that sums are exact integers
    (float sums depend on the order the database adds in, which differs between the two)."""
    return cast(func.round(column * 1000), Integer if dialect == "sqlite" else BigInteger)


def plus_seconds(column: Any, seconds: int, dialect: str) -> ColumnElement[Any]:
    """``column + seconds`` as a value comparable with stored instants (for index ranges).

    On SQLite it is UTC text to the millisecond, so it compares (as text) at most 1 ms off:
    use it for a bound that is then checked exactly, never as the exact test itself.
    """
    if dialect == "sqlite":
        return func.strftime("%Y-%m-%d %H:%M:%f", column, f"+{int(seconds)} seconds")
    shifted: ColumnElement[Any] = column + literal(timedelta(seconds=seconds), Interval())
    return shifted
