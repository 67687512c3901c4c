"""How the counting statements read a long span of rows on SQLite: a run of hours summed,
or a report's whole period read from its rows.

The same counting statements (``reports.kpi``, ``reports.wait_counts``) read the few minutes
at a period's edges, sum runs of missing hours (up to a year of them after the sums were
emptied: a migration, a change of thresholds), and read a whole period from its rows when
its hours are left to the keeper (``rollup.Coverage.rows_pay``).  For the edges the rows are
found by the time index; a year read that way costs an index lookup and a row lookup per
row.  So (bench/README.md, issue 16, "cold year") the statements count by ``FILTER``, and:

- summing hours, the UTC hour is grouped on as it is stored: the first 13 characters of
  the UTC text (``YYYY-MM-DD HH``), turned into the hour number once per group
  (:func:`hour_key`, :func:`hour_number`) instead of every row's epoch seconds divided;
- a span holding at least :data:`SCAN_SHARE` of the table's time range is read
  by a full scan instead of the time index (:func:`scan_pays`, :func:`unindexed`): a scan
  reads every row once in table order, the index path two b-tree descents per row.  A short
  run (a changed hour, a day) keeps the index: a full scan for it would read the whole
  year.

PostgreSQL's planner makes that choice itself from its statistics, and there grouping on
``date_trunc('hour')`` and counting by ``FILTER`` saved nothing measurable: its summing
statements stay the reading ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from sqlalchemy import Integer, cast, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from clinicall.reports.timebuckets import HOUR

#: The share of a table's time range (its oldest to its newest row) from which a span is
#: read by a full scan (SQLite): the year's calls by scan took about two thirds of the
#: time the index took, so a scan pays from somewhat over half of the rows; spans are
#: either a year-long run or a few hours in practice.
SCAN_SHARE = 0.5


def hour_key(column: Any) -> ColumnElement[Any]:
    """A stored instant's UTC hour, cheap per row: ``YYYY-MM-DD HH`` of the UTC text.  Group
    on it, then take :func:`hour_number` of the group's value."""
    return func.substr(column, 1, 13)


def hour_number(key: Any) -> ColumnElement[int]:
    """The hours since 1970 of a :func:`hour_key` value (the sums' ``hour``)."""
    return cast(func.strftime("%s", key + ":00"), Integer) // HOUR


def unindexed(column: Any) -> ColumnElement[Any]:
    """``column`` as SQLite's unary ``+`` leaves it: the same value, but a term on it does
    not constrain an index, so the planner scans the table (it has no ``NOT INDEXED`` hint
    in SQLAlchemy)."""
    return literal_column(f"+{column.table.name}.{column.name}", type_=column.type)


@dataclass(frozen=True, slots=True)
class Run:
    """A span of rows counted on SQLite: read by a full scan when ``scan`` (a long span),
    counted by ``FILTER``; when ``hourly`` (a run of whole hours being summed) grouped on
    the stored hour's text, else (a report's period read from its rows) by the report's
    own keys."""

    scan: bool
    hourly: bool = True

    @classmethod
    async def of(cls, session: AsyncSession, column: Any, lo: datetime, hi: datetime, *,
                 hourly: bool = True) -> Self:
        """The span [lo, hi) of ``column``'s rows, scanned when :func:`scan_pays`."""
        return cls(await scan_pays(session, column, lo, hi), hourly)

    @staticmethod
    def hour(column: Any) -> ColumnElement[Any]:
        return hour_key(column)

    def at(self, column: Any) -> Any:
        """``column`` for the span's bounds: not constraining the index when scanning."""
        return unindexed(column) if self.scan else column


async def scan_pays(session: AsyncSession, column: Any, lo: datetime, hi: datetime) -> bool:
    """Whether [lo, hi) holds at least :data:`SCAN_SHARE` of the time range of ``column``'s
    rows (SQLite; always False elsewhere).  Two index reads (min and max, each
    SQLite's one-row shortcut)."""
    if (await session.connection()).dialect.name != "sqlite":
        return False
    oldest, newest = (await session.execute(select(
        select(func.min(column)).scalar_subquery(),
        select(func.max(column)).scalar_subquery()))).one()
    if oldest is None or newest is None:
        return False
    whole = (newest - oldest).total_seconds()
    inside = (min(hi, newest) - max(lo, oldest)).total_seconds()
    return bool(inside >= SCAN_SHARE * whole)


__all__ = ["SCAN_SHARE", "Run", "hour_key", "hour_number", "scan_pays", "unindexed"]
