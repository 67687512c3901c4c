"""Local hour and day buckets computed in SQL, exact across daylight-saving changes.

The store keeps UTC.  Over a report period the clinic's UTC offset is piecewise constant: it
changes only at DST transitions.  ``offset_segments`` finds those pieces (by probing the zone
hour by hour, then bisecting each change to the second), and ``local_epoch`` builds the SQL
``epoch(utc) + CASE WHEN epoch(utc) < t1 THEN off0 WHEN ... END``: the local wall clock as
seconds, from which an hour is ``// 3600`` and a day ``// 86400``.

A day is the local calendar day (23 or 25 hours on DST days).  An hour is the local wall-clock
hour *and* its offset, so the repeated hour of an autumn change (03:00+03 then 03:00+02 in
Kyiv) stays two rows instead of one row of two hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Integer, case, cast, func, literal
from sqlalchemy.sql.elements import ColumnElement

HOUR = 3600
DAY = 86400
EPOCH = datetime(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class Segment:
    """From ``start`` (UTC) until the next segment, local time = UTC + ``offset_s``."""

    start: datetime
    offset_s: int


def _offset(zone: ZoneInfo, at: datetime) -> int:
    delta = at.astimezone(zone).utcoffset()
    assert delta is not None
    return int(delta.total_seconds())


def offset_segments(zone: ZoneInfo, start: datetime, end: datetime) -> list[Segment]:
    """The constant-offset pieces of [start, end) in ``zone`` (at least one)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    segments = [Segment(start, _offset(zone, start))]
    probe = start
    while probe < end:
        step = min(probe + timedelta(hours=1), end)
        if _offset(zone, step) != segments[-1].offset_s and step < end:
            low, high = probe, step  # the change lies in (low, high]: bisect to the second
            while high - low > timedelta(seconds=1):
                mid = low + (high - low) / 2
                if _offset(zone, mid) == segments[-1].offset_s:
                    low = mid
                else:
                    high = mid
            high = high.replace(microsecond=0)
            segments.append(Segment(high, _offset(zone, high)))
        probe = step
    return segments


def epoch_seconds(column: Any, dialect: str) -> ColumnElement[int]:
    """Whole seconds since 1970 (UTC) of a stored instant, as an SQL integer.

    SQLite stores UTC text, which ``strftime('%s')`` reads; PostgreSQL's ``extract(epoch)`` is
    numeric, floored so both truncate fractions the same way.
    """
    if dialect == "sqlite":
        return cast(func.strftime("%s", column), Integer)
    return cast(func.floor(func.extract("epoch", column)), BigInteger)


def offset_expr(at_s: ColumnElement[int], segments: list[Segment]) -> ColumnElement[int]:
    """The clinic's UTC offset (seconds) at each row's instant ``at_s`` (epoch seconds)."""
    if len(segments) == 1:
        return literal(segments[0].offset_s)
    whens = [(at_s < int(seg.start.timestamp()), literal(prev.offset_s))
             for prev, seg in pairwise(segments)]
    return case(*whens, else_=literal(segments[-1].offset_s))


def local_hour_bucket(at_s: ColumnElement[int], segments: list[Segment]) -> ColumnElement[int]:
    """Hours since 1970-01-01 00:00 local wall clock (integer division of local seconds)."""
    return (at_s + offset_expr(at_s, segments)) // HOUR


def local_day_bucket(at_s: ColumnElement[int], segments: list[Segment]) -> ColumnElement[int]:
    return (at_s + offset_expr(at_s, segments)) // DAY


@lru_cache(maxsize=16384)  # a report labels the same few thousand hours again and again
def hour_label(bucket: int, offset_s: int) -> str:
    """ISO local start of an hour bucket with its offset, e.g. ``2026-10-25T03:00:00+02:00``."""
    local = EPOCH + timedelta(hours=bucket)
    sign = "+" if offset_s >= 0 else "-"
    hours, rest = divmod(abs(offset_s), 3600)
    return f"{local.isoformat()}{sign}{hours:02d}:{rest // 60:02d}"


@lru_cache(maxsize=4096)
def day_label(bucket: int) -> str:
    return (EPOCH + timedelta(days=bucket)).date().isoformat()


def local_hour_of(at: datetime, zone: ZoneInfo) -> str:
    """The hour label of one instant, computed in Python (the naive reference uses it)."""
    local = at.astimezone(zone)
    offset = local.utcoffset()
    assert offset is not None
    return hour_label(
        int((local.replace(tzinfo=None) - EPOCH).total_seconds()) // HOUR,
        int(offset.total_seconds()),
    )


def local_day_of(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).date().isoformat()
