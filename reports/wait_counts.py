"""The answered waits counted per block of hours, which the wait percentiles rank.

A percentile needs every answered wait of its group, not a sum; but waits are few distinct
values (whole seconds from Asterisk: under a thousand (queue, wait) pairs in a generated year
of 725 k answered waits), so the report ranks their counts instead.  ``kpi_wait_counts``
(``clinicall.db.models.rollups``) keeps them per (block, queue, IVR route, wait) for the
inbound calls' answered attempts with a wait, the set the percentiles are defined on:

- blocks of one hour (span 1) are summed from the rows with the other hourly sums
  (:func:`sum_hours`) and dropped with them when the hour changes;
- blocks of a UTC day and of 32 UTC days (``WAIT_SPANS``, aligned on multiples of their
  span since 1970) are summed from their hours' counts (:func:`build_blocks`) once a report
  over a period holding them has made those hours current, marked in ``kpi_wait_blocks``,
  and dropped when any of their hours changes (:func:`drop_blocks`).

A report grouped by local day or hour reads the hours (a local day is a union of UTC hours,
not of UTC days); any other reads the fewest blocks that tile its whole hours
(:func:`tiling`): a year is about 11 blocks of 32 days, a few dozen days and hours, about
twenty thousand counts instead of 725 k waits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from clinicall.db.models import (
    Call,
    Direction,
    QueueAttempt,
    QueueOutcome,
    kpi_wait_blocks,
    kpi_wait_counts,
)
from clinicall.db.models.rollups import WAIT_SPANS
from clinicall.reports import summing
from clinicall.reports import timebuckets as tb

#: (span, first block's hour, end hour): the blocks of ``span`` hours from first to end.
Range = tuple[int, int, int]


def tiling(h0: int, h1: int, spans: Sequence[int] = WAIT_SPANS) -> list[Range]:
    """The hours [h0, h1) as the fewest aligned blocks: the longest span's blocks in the
    middle, shorter ones at the edges; at most two ranges per span but the longest."""
    if h0 >= h1:
        return []
    span = spans[-1]
    if span == 1:
        return [(1, h0, h1)]
    a, b = -(-h0 // span) * span, h1 // span * span
    if a >= b:
        return tiling(h0, h1, spans[:-1])
    return [*tiling(h0, a, spans[:-1]), (span, a, b), *tiling(b, h1, spans[:-1])]


def where(key: str, ranges: Sequence[tuple[int, Any, Any]]) -> ColumnElement[bool]:
    """The counts of ``key`` in these ranges of blocks (a range's hours as integers or bound
    parameters).  The key is repeated in every range:
    so SQLite reads each range from the index (a multi-index OR) instead of every count of
    the key (72 ms against 11 ms for a year)."""
    t = kpi_wait_counts.c
    return or_(*[and_(t.settings_key == key, t.span == span, t.hour >= lo, t.hour < hi)
                 for span, lo, hi in ranges])


async def sum_hours(session: AsyncSession, key: str, lo: datetime, hi: datetime) -> None:
    """Store the hour blocks of [lo, hi) (whole hours), summed by the database (uncommitted).
    On SQLite grouped on the stored hour's text, and read by a full scan when the run is
    long (``reports.summing``; bench/README.md); PostgreSQL's statement is the same without
    those (``date_trunc('hour')`` there saved nothing measurable).  PostgreSQL inserts the
    counts in the order of the table's index: from its hash aggregate's order, each went to
    a random leaf of the index, and a year's 435 k counts took 5.2-7.1 s to insert against
    3.9-5.5 s in order (bench/README.md)."""
    dialect = (await session.connection()).dialect.name
    qa = QueueAttempt
    if dialect == "sqlite":
        run = await summing.Run.of(session, qa.joined_at, lo, hi)
        joined, hour = run.at(qa.joined_at), run.hour(qa.joined_at)
    else:
        joined, hour = qa.joined_at, tb.epoch_seconds(qa.joined_at, dialect) // tb.HOUR
    counted = (
        select(hour.label("hour"), qa.queue, Call.route, qa.wait_s, func.count().label("n"))
        .select_from(qa).join(Call, Call.id == qa.call_id)
        .where(joined >= lo, joined < hi, qa.outcome == QueueOutcome.ANSWERED.value,
               qa.wait_s.is_not(None), Call.direction == Direction.INBOUND.value)
        .group_by(hour, qa.queue, Call.route, qa.wait_s)).subquery()
    c = counted.c
    numbered = select(literal(key), literal(1),
                      summing.hour_number(c.hour) if dialect == "sqlite" else c.hour,
                      c.queue, c.route, c.wait_s, c.n)
    if dialect != "sqlite":  # in the index's order (SQLite's grouping returns them so)
        numbered = numbered.order_by(c.hour, c.queue, c.route, c.wait_s)
    await session.execute(kpi_wait_counts.insert().from_select(_COLUMNS, numbered))


_COLUMNS = ["settings_key", "span", "hour", "queue", "route", "wait_s", "n"]


async def drop_blocks(session: AsyncSession, hours: Sequence[int]) -> None:
    """Drop the blocks longer than an hour that hold any of these (changed) hours; the hour
    blocks go with the hours' other sums."""
    for span in WAIT_SPANS[1:]:
        starts = sorted({h - h % span for h in hours})
        for i in range(0, len(starts), 500):
            part = starts[i : i + 500]
            for table in (kpi_wait_counts, kpi_wait_blocks):
                await session.execute(delete(table).where(
                    table.c.span == span, table.c.hour.in_(part)))


async def blocks_built(session: AsyncSession, key: str, h0: int, h1: int) -> bool:
    """Whether every block longer than an hour that tiles [h0, h1) is built (one read; none
    when no such block fits in the hours)."""
    return not await _missing_blocks(session, key, h0, h1)


async def _missing_blocks(session: AsyncSession, key: str, h0: int, h1: int
                          ) -> list[tuple[int, int]]:
    """The (span, first hour) of the blocks longer than an hour that tile [h0, h1) and are
    not built."""
    ranges = [r for r in tiling(h0, h1) if r[0] > 1]
    if not ranges:
        return []
    b = kpi_wait_blocks.c
    marks = await session.execute(select(b.span, b.hour).where(
        b.settings_key == key,
        or_(*[and_(b.span == span, b.hour >= lo, b.hour < hi) for span, lo, hi in ranges])))
    built = {(int(span), int(h)) for span, h in marks.all()}
    return [(span, h) for span, lo, hi in ranges for h in range(lo, hi, span)
            if (span, h) not in built]


async def build_blocks(session: AsyncSession, key: str, h0: int, h1: int) -> int:
    """Sum the missing blocks longer than an hour that tile [h0, h1), whose hours' counts
    are current (uncommitted); returns how many were built."""
    missing = await _missing_blocks(session, key, h0, h1)
    if not missing:
        return 0
    b = kpi_wait_blocks.c
    dialect = (await session.connection()).dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    claimed = (await session.execute(
        insert(kpi_wait_blocks).values([{"settings_key": key, "span": span, "hour": h}
                                        for span, h in missing])
        .on_conflict_do_nothing().returning(b.span, b.hour))).all()
    t = kpi_wait_counts.c
    for span in WAIT_SPANS[1:]:
        starts = sorted(int(h) for s, h in claimed if s == span)
        if not starts:
            continue
        runs: list[list[int]] = []
        for h in starts:
            if runs and h == runs[-1][1]:
                runs[-1][1] = h + span
            else:
                runs.append([h, h + span])
        block = t.hour // span * span
        counted = (
            select(literal(key), literal(span), block, t.queue, t.route, t.wait_s,
                   func.sum(t.n))
            .where(t.settings_key == key, t.span == 1,
                   or_(*[and_(t.hour >= lo, t.hour < hi) for lo, hi in runs]))
            .group_by(block, t.queue, t.route, t.wait_s))
        await session.execute(kpi_wait_counts.insert().from_select(_COLUMNS, counted))
    return len(claimed)


__all__ = ["Range", "build_blocks", "drop_blocks", "sum_hours", "tiling", "where"]
