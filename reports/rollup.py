"""Which part of a report the hourly sums serve, and keeping those sums current.

A period [start, end) is read from the hourly sums (``clinicall.db.models.rollups``) for its
whole UTC hours and from the calls' own rows for the minutes at its edges.  That is exact when
the clinic's UTC offset is a whole number of hours over the period (then every local hour and
local day is a union of UTC hours); otherwise the whole period is read from the rows.

Before a report reads them, :func:`bring_up_to_date` drops the sums of the hours that writers
marked changed (``clinicall.db.changes``) and sums every hour of the period that has no sums
for the report's settings yet; the report commits that before it reads.  A report first asks
:func:`coverage` (one read, no lock) and skips all that when no hour of its period is marked
changed and every one is summed: what it finds when the keeper has kept them.  A KPI report
that finds more than a month of its hours, and a third of them, never summed reads its
period from the rows instead and leaves the hours to the keeper (:attr:`Coverage.rows_pay`).
The answered waits' counts (``reports.wait_counts``) are kept in the same pass, under the
same marks.  The survey, demand and staffing sums (``reports.analytics_hours``) are a second
family with its own built marks, summed by :func:`bring_analytics_up_to_date` for the
reports that read them (and the keeper): a KPI report does not sum what it does not read.
A changed hour drops both families' sums (one set of changed-hour marks).  Sums are kept
per *settings key*, the thresholds that counters depend on, so a report with other thresholds
never reads sums made for different ones.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import Any

from sqlalchemy import Table, delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from clinicall.db.changes import hour_of
from clinicall.db.models import (
    analytics_hours_built,
    kpi_call_hours,
    kpi_changed_hours,
    kpi_hours_built,
    kpi_queue_hours,
)
from clinicall.db.models.rollups import HOURLY_SUM_TABLES, metric_names
from clinicall.reports import analytics_hours, wait_counts
from clinicall.reports import timebuckets as tb
from clinicall.reports.settings import KpiSettings
from clinicall.reports.sums import Sums

Span = tuple[datetime, datetime]
#: Sums the queue attempts and the calls of [start, end) by (utc_hour, queue, route) and by
#: (utc_hour, route): what one run of missing hours is filled with.
HourSummer = Callable[[datetime, datetime], Awaitable[tuple[Sums, Sums]]]
#: Stores one family's sums of the whole hours [start, end) (one run of missing hours).
RunSummer = Callable[[datetime, datetime], Awaitable[None]]

CHUNK = 500
_LOCK_ID = 74042611  # PostgreSQL advisory lock: one report at a time brings the sums current


@dataclass(frozen=True, slots=True)
class Plan:
    """How a period is read: ``raw`` spans from the rows, ``hours`` [h0, h1) from the sums."""

    raw: list[Span]
    hours: tuple[int, int] | None


def plan(segments: Sequence[tb.Segment], start: datetime, end: datetime) -> Plan:
    """The whole UTC hours of [start, end) and the spans around them, or every row when the
    clinic's offset (``segments``, see ``reports.timebuckets``) is not whole hours."""
    whole_hours = all(s.offset_s % tb.HOUR == 0 and _epoch(s.start) % tb.HOUR == 0
                      for s in segments[1:]) and segments[0].offset_s % tb.HOUR == 0
    h0 = hour_of(start)
    if _at(h0) < start:
        h0 += 1
    h1 = hour_of(end)
    if not whole_hours or h0 >= h1:
        return Plan([(start, end)], None)
    raw = [(a, b) for a, b in ((start, _at(h0)), (_at(h1), end)) if a < b]
    return Plan(raw, (h0, h1))


def settings_key(settings: KpiSettings) -> str:
    """The thresholds that the hourly counters depend on, as a short stable key."""
    thresholds = {
        "short_abandon_s": settings.short_abandon_s,
        "service_level_s": settings.service_level_s,
        "queue_service_level_s": sorted(settings.queue_service_level_s.items()),
        "unreturned_after_min": settings.unreturned_after_min,
        "return_horizon_h": settings.return_horizon_h,
    }
    blob = json.dumps(thresholds, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Coverage:
    """How far the sums of a period's hours are current: of its ``hours``, how many are
    summed (``built``), how many of those are marked changed since (``changed``), and
    whether what the family builds from the hours' sums is there too (``blocks``: the KPI
    sums' wait blocks, ``reports.wait_counts``)."""

    hours: int
    built: int
    changed: int
    blocks: bool = True

    @property
    def current(self) -> bool:
        return not self.changed and self.built == self.hours and self.blocks

    @property
    def missing(self) -> int:
        """Hours never summed (the changed ones are summed again, but are few)."""
        return self.hours - self.built

    @property
    def rows_pay(self) -> bool:
        """Whether a report reads its period from the rows rather than first summing the
        missing hours itself, leaving them to the keeper (``reports.keeper``): when more
        than :data:`ROWS_FROM_MISSING` hours and at least a third of the period are missing
        (a store just migrated, new thresholds).  Summing an hour costs about three times
        what reading it from the rows does (a year on SQLite, CPU: 8.5 s to sum, 3.2 s
        from the rows; bench/README.md, issue 16), so from a third of the period the rows
        are the cheaper answer; a month or less is summed (under a second), and the sums
        then serve the next report."""
        return self.missing > ROWS_FROM_MISSING and 3 * self.missing >= self.hours


#: The most missing hours a report sums itself (:attr:`Coverage.rows_pay`): 31 days.
ROWS_FROM_MISSING = 31 * 24


async def coverage(session: AsyncSession, key: str, hours: tuple[int, int],
                   also: Sequence[ColumnElement[Any]] = (), *,
                   marks: Table = kpi_hours_built) -> Coverage:
    """How far the sums of ``key`` for the hours [h0, h1) are current (:class:`Coverage`).
    One read, no lock: when current, what a report over summed hours usually finds, it has
    nothing to write (the marks outside the period are left to the next
    :func:`bring_up_to_date` that runs).  A writer's marks are committed with its rows, so a
    report that finds none reads sums that hold every write committed before.  ``also``:
    expressions evaluated in the same statement, their values unused (a report's
    transaction settings: one round trip for both).  ``marks``: the family's built marks
    (the KPI sums', or ``analytics_hours_built``)."""
    h0, h1 = hours
    changed = (select(func.count()).select_from(kpi_changed_hours)
               .where(kpi_changed_hours.c.hour >= h0, kpi_changed_hours.c.hour < h1))
    built = select(func.count()).where(marks.c.settings_key == key, marks.c.hour >= h0,
                                       marks.c.hour < h1)
    n_changed, n_built, *_ = (await session.execute(
        select(changed.scalar_subquery(), built.scalar_subquery(), *also))).one()
    return Coverage(h1 - h0, int(n_built), int(n_changed))


async def current(session: AsyncSession, key: str, hours: tuple[int, int], *,
                  marks: Table = kpi_hours_built) -> bool:
    """Whether the sums of ``key`` for the hours [h0, h1) are current: every hour summed and
    none of them marked changed since (:func:`coverage`)."""
    return (await coverage(session, key, hours, marks=marks)).current


async def bring_up_to_date(session: AsyncSession, key: str, hours: tuple[int, int],
                           sum_hours: HourSummer) -> int:
    """Make the KPI sums of ``key`` for the hours [h0, h1) current (the caller commits):
    the queue and call sums ``sum_hours`` gives and the answered waits' hour counts; returns
    how many hours were summed."""

    async def sum_run(lo: datetime, hi: datetime) -> None:
        queues, calls = await sum_hours(lo, hi)
        await _insert(session, kpi_queue_hours, key, queues, ("hour", "queue", "route"))
        await _insert(session, kpi_call_hours, key, calls, ("hour", "route"))
        await wait_counts.sum_hours(session, key, lo, hi)

    return await _bring_family_up_to_date(session, key, hours, kpi_hours_built, sum_run)


async def bring_analytics_up_to_date(session: AsyncSession, key: str,
                                     hours: tuple[int, int]) -> int:
    """Make the survey, demand and staffing sums of ``key`` for the hours [h0, h1) current
    (the caller commits; ``reports.analytics_hours``); returns how many hours were summed."""

    async def sum_run(lo: datetime, hi: datetime) -> None:
        await analytics_hours.sum_hours(session, key, lo, hi)

    return await _bring_family_up_to_date(session, key, hours, analytics_hours_built, sum_run)


async def _bring_family_up_to_date(session: AsyncSession, key: str, hours: tuple[int, int],
                                   marks: Table, sum_run: RunSummer) -> int:
    """Drop the sums of every hour marked changed (both families: the marks are shared),
    then sum, by ``sum_run``, the hours of [h0, h1) that ``marks`` does not hold for ``key``,
    in runs of consecutive hours."""
    dialect = (await session.connection()).dialect.name
    if dialect == "postgresql":
        await session.execute(text(f"SELECT pg_advisory_xact_lock({_LOCK_ID})"))
    changed = list(await session.scalars(
        delete(kpi_changed_hours).returning(kpi_changed_hours.c.hour)))
    for part in _chunks(sorted(changed)):
        for table in HOURLY_SUM_TABLES:
            await session.execute(delete(table).where(table.c.hour.in_(part)))
    if changed:
        await wait_counts.drop_blocks(session, changed)
    h0, h1 = hours
    in_period = (marks.c.settings_key == key, marks.c.hour >= h0, marks.c.hour < h1)
    if await session.scalar(select(func.count()).where(*in_period)) == h1 - h0:
        return 0  # every hour summed: the usual case, counted without reading a year's hours
    built = set(await session.scalars(select(marks.c.hour).where(*in_period)))
    missing = [h for h in range(h0, h1) if h not in built]
    claimed = await _claim(session, dialect, marks, key, missing)
    for run in _runs(claimed):
        await sum_run(_at(run[0]), _at(run[-1] + 1))
    return len(claimed)


async def _claim(session: AsyncSession, dialect: str, marks: Table, key: str,
                 hours: list[int]) -> list[int]:
    """Insert the built marks of ``hours``; the ones this call inserted (another report may
    have summed some meanwhile) are the ones to sum."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    claimed: list[int] = []
    for part in _chunks(hours):
        statement = insert(marks).values([{"settings_key": key, "hour": h} for h in part])
        claimed += await session.scalars(
            statement.on_conflict_do_nothing().returning(marks.c.hour))
    return sorted(claimed)


async def _insert(session: AsyncSession, table: Table, key: str, sums: Sums,
                  key_names: tuple[str, ...]) -> None:
    empty = {name: None if name.endswith("_max") else 0 for name in metric_names(table)}
    rows = [{"settings_key": key, **empty, **dict(zip(key_names, k, strict=True)), **m}
            for k, m in sums]
    for start in range(0, len(rows), 5000):
        await session.execute(table.insert(), rows[start : start + 5000])


def _runs(hours: list[int]) -> list[list[int]]:
    """Consecutive hours, grouped: each run is summed by one query."""
    return [[h for _, h in run] for _, run in groupby(enumerate(hours), lambda ih: ih[1] - ih[0])]


def _chunks(values: list[int]) -> list[list[int]]:
    return [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


def _at(hour: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(hours=hour)


__all__ = ["ROWS_FROM_MISSING", "Coverage", "HourSummer", "Plan", "bring_analytics_up_to_date",
           "bring_up_to_date", "coverage", "current", "plan", "settings_key"]
