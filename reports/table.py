"""A report as plain tables: named sections of rows with typed, unit-bearing columns.

Every export (CSV, XLSX, JSON) and the JSON API render this one shape, so the column order and
the units written in the headers are decided here once.  Values are normalized on the way in
(``normalize``): a PostgreSQL ``Decimal`` and a SQLite ``float`` of the same quantity become
the same Python value, which is what makes the two databases' reports compare equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

Value = int | float | str | None
Unit = Literal["", "s", "%", "count", "score", "time"]

#: Seconds are reported to the millisecond and ratios to 0.01 %: enough for a manager, and
#: coarse enough that the two databases' different summation orders cannot show.
SECONDS_DIGITS = 3
PERCENT_DIGITS = 2


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    unit: Unit = ""
    description: str = ""

    @property
    def header(self) -> str:
        """The column's name with its unit, as exports write it: ``wait_p90 [s]``."""
        return f"{self.name} [{self.unit}]" if self.unit else self.name


@dataclass(slots=True)
class Section:
    """One table: ``keys`` are the group-by columns (first), then the metric columns."""

    name: str
    keys: list[Column]
    metrics: list[Column]
    rows: list[dict[str, Value]] = field(default_factory=list)

    @property
    def columns(self) -> list[Column]:
        return [*self.keys, *self.metrics]

    def as_lists(self) -> list[list[Value]]:
        names = [c.name for c in self.columns]
        return [[row.get(n) for n in names] for row in self.rows]


@dataclass(slots=True)
class Report:
    """The KPIs of one period, grouped as asked; times are local to ``timezone``."""

    start: datetime
    end: datetime
    timezone: str
    by: list[str]
    sections: dict[str, Section]

    def section(self, name: str) -> Section:
        return self.sections[name]

    def to_dict(self) -> dict[str, object]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "timezone": self.timezone,
            "by": list(self.by),
            "sections": {
                name: {
                    "columns": [
                        {"name": c.name, "unit": c.unit, "key": c in s.keys} for c in s.columns
                    ],
                    "rows": s.rows,
                }
                for name, s in self.sections.items()
            },
        }


def normalize(value: object, unit: Unit = "") -> Value:
    """One Python value per quantity, whatever the database driver returned."""
    if isinstance(value, bool):
        return int(value)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal | float):
        number = float(value)
        if unit == "count":
            return round(number)
        if unit == "%":
            return round(number, PERCENT_DIGITS)
        return round(number, SECONDS_DIGITS)
    raise TypeError(f"unexpected value {value!r} of type {type(value).__name__}")


def ratio(part: int, whole: int) -> float | None:
    """``part / whole`` in percent (None when nothing was counted)."""
    if whole <= 0:
        return None
    return round(100.0 * part / whole, PERCENT_DIGITS)
