"""The ``by`` of a report: which SQL expressions a row is grouped on, and their labels.

``queue`` (alias ``specialty``) groups on the queue a call waited in; ``route`` on the IVR
topic the caller chose (``Call.route``); ``day`` and ``hour`` on the local day / local hour of
the row's instant (see :mod:`reports.timebuckets`).  Queue-level rows use the attempt's join
time; clinic-level rows (calls) use the call's start and ignore ``queue``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.sql.elements import ColumnElement

from clinicall.reports import timebuckets as tb
from clinicall.reports.table import Column, Value

KEYS = ("queue", "route", "day", "hour")
ALIASES = {"specialty": "queue", "topic": "route"}


class BadGroupingError(ValueError):
    """``by`` names something a report cannot be grouped on."""


def parse_by(by: Sequence[str] | str) -> list[str]:
    """``"queue,hour"`` or ``["queue", "hour"]`` → canonical keys, order kept, no repeats."""
    items = by.split(",") if isinstance(by, str) else list(by)
    keys: list[str] = []
    for item in (i.strip().lower() for i in items):
        if not item:
            continue
        key = ALIASES.get(item, item)
        if key not in KEYS:
            raise BadGroupingError(
                f"cannot group by {item!r}: choose from {', '.join((*KEYS, *ALIASES))}"
            )
        if key not in keys:
            keys.append(key)
    return keys


@dataclass(frozen=True, slots=True)
class Grouping:
    """SQL group-by expressions of a set of keys, and how to turn their values into labels."""

    keys: list[str]
    exprs: list[ColumnElement[Any]]
    widths: list[int]  # how many SQL values each key takes (hour: bucket and offset)
    queue_names: dict[str, str]

    def columns(self) -> list[Column]:
        cols: list[Column] = []
        for key in self.keys:
            if key == "queue":
                cols += [Column("queue"), Column("queue_name")]
            elif key == "hour":
                cols.append(Column("hour", "time", "local start of the hour, with its offset"))
            elif key == "day":
                cols.append(Column("day", "time", "local calendar day"))
            else:
                cols.append(Column("route", "", "IVR topic (triage route)"))
        return cols

    def order(self, values: Sequence[Any]) -> tuple[tuple[int, Any], ...]:
        """Rows in key order; an hour sorts by its UTC instant, so the repeated hour of an
        autumn DST change comes in the order it was lived (03:00+03 before 03:00+02)."""
        out: list[Any] = []
        i = 0
        for key, width in zip(self.keys, self.widths, strict=True):
            part = values[i : i + width]
            i += width
            if key == "hour":
                out.append(int(part[0]) * tb.HOUR - int(part[1]))
            else:
                out.append(part[0])
        return sort_key(out)

    def part(self, values: Sequence[Any], keys: Sequence[str]) -> tuple[Any, ...]:
        """The SQL values of ``keys`` (a subset of this grouping's keys, in their order)."""
        slices: dict[str, Sequence[Any]] = {}
        i = 0
        for key, width in zip(self.keys, self.widths, strict=True):
            slices[key] = values[i : i + width]
            i += width
        return tuple(v for key in keys for v in slices[key])

    def labels(self, values: Sequence[Any]) -> dict[str, Value]:
        out: dict[str, Value] = {}
        i = 0
        for key, width in zip(self.keys, self.widths, strict=True):
            part = values[i : i + width]
            i += width
            if key == "queue":
                out["queue"] = part[0]
                out["queue_name"] = self.queue_names.get(part[0], part[0])
            elif key == "route":
                out["route"] = part[0]
            elif key == "day":
                out["day"] = tb.day_label(int(part[0]))
            else:
                out["hour"] = tb.hour_label(int(part[0]), int(part[1]))
        return out


def sort_key(values: Sequence[Any]) -> tuple[tuple[int, Any], ...]:
    """A hashable key of SQL group values, NULL first, numbers as numbers (driver types
    normalized), so the rows of two queries over the same groups meet.  (A list, not a
    generator, and ints and strings as they are: a report makes a few hundred of these.)"""
    return tuple([(1, v) if type(v) is int or isinstance(v, str)
                  else (0, "") if v is None else (1, int(v)) for v in values])


def build(
    keys: Sequence[str],
    *,
    at_s: Any,
    queue: Any | None,
    route: Any,
    segments: list[tb.Segment],
    queue_names: dict[str, str],
) -> Grouping:
    """Group-by expressions for ``keys``; ``at_s`` is the rows' instant in epoch seconds;
    ``queue=None`` means the rows have no queue.  Besides the keys of ``parse_by``,
    ``utc_hour`` groups on whole UTC hours (the reports' hourly sums)."""
    exprs: list[ColumnElement[Any]] = []
    widths: list[int] = []
    kept: list[str] = []
    for key in keys:
        if key == "queue":
            if queue is None:
                continue
            exprs.append(queue)
            widths.append(1)
        elif key == "route":
            exprs.append(route)
            widths.append(1)
        elif key == "day":
            exprs.append(tb.local_day_bucket(at_s, segments))
            widths.append(1)
        elif key == "utc_hour":
            exprs.append(at_s // tb.HOUR)
            widths.append(1)
        else:
            exprs += [tb.local_hour_bucket(at_s, segments), tb.offset_expr(at_s, segments)]
            widths.append(2)
        kept.append(key)
    return Grouping(kept, exprs, widths, queue_names)
