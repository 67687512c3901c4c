"""Business hours and holidays in the clinic's own time zone.

The config gives opening intervals as wall-clock times (``08:00-20:00``) per weekday, and dated
holidays that either close the clinic all day or replace that day's hours.  Every question is
answered on the wall clock of the clinic zone, so daylight-saving changes need no special case
for :func:`is_open`.  :func:`next_opening` turns a wall-clock start back into an instant; there
a start that falls into the spring-forward gap (it never happens on the clock) opens at the
first instant after the gap, and a start inside the autumn repeat opens at its first occurrence.

Compile once with :meth:`OpeningHours.from_config` when asking many times (the IVR does, per
call); the module-level functions are conveniences that compile on every call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from clinicall.settings.models import WEEKDAYS, Hours, TimeRange

#: How far :func:`next_opening` looks ahead before deciding the clinic never opens again.
HORIZON_DAYS = 400
#: The config spells "until midnight" (``24:00``) as 23:59:59; it means the whole last second.
_DAY_END = time(23, 59, 59)
_DAY_SECONDS = 86_400

Interval = tuple[int, int]  # [start, end) in seconds since local midnight


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _interval(r: TimeRange) -> Interval:
    end = _DAY_SECONDS if r.end == _DAY_END else _seconds(r.end)
    return (_seconds(r.start), end)


def _intervals(ranges: list[TimeRange]) -> tuple[Interval, ...]:
    return tuple(sorted(_interval(r) for r in ranges))


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("business-hours questions need an aware datetime (UTC or any zone)")


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """The weekly schedule and holidays, compiled to second offsets for quick lookups."""

    zone: ZoneInfo
    weekly: tuple[tuple[Interval, ...], ...]  # index 0 = Monday
    holidays: Mapping[date, tuple[Interval, ...]]  # replaces the weekday; () = closed all day

    @classmethod
    def from_config(cls, hours: Hours, zone: ZoneInfo) -> OpeningHours:
        weekly = tuple(_intervals(hours.weekly[day]) for day in WEEKDAYS)
        holidays = {h.date: _intervals(h.hours) for h in hours.holidays}
        return cls(zone=zone, weekly=weekly, holidays=holidays)

    def intervals_on(self, day: date) -> tuple[Interval, ...]:
        """Opening intervals of a local calendar day (a holiday's own hours win)."""
        special = self.holidays.get(day)
        return special if special is not None else self.weekly[day.weekday()]

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays

    def is_open(self, at: datetime) -> bool:
        """Whether the clinic is open at the instant ``at`` (aware; any zone)."""
        _require_aware(at)
        local = at.astimezone(self.zone)
        now = local.hour * 3600 + local.minute * 60 + local.second
        return any(start <= now < end for start, end in self.intervals_on(local.date()))

    def next_opening(self, at: datetime) -> datetime | None:
        """The first instant at or after ``at`` when the clinic is open, as a UTC datetime.

        ``at`` itself when open; None when nothing opens within :data:`HORIZON_DAYS`.  UTC
        because an instant in the autumn repeat, as a Kyiv wall time, compares unequal to
        everything (PEP 495); convert for display only.
        """
        if self.is_open(at):
            return at.astimezone(UTC)
        at_utc = at.astimezone(UTC)
        first_day = at.astimezone(self.zone).date()
        for offset in range(HORIZON_DAYS + 1):
            day = first_day + timedelta(days=offset)
            for start, _end in self.intervals_on(day):
                opening = self._instant(day, start)
                if opening > at_utc:
                    return opening
        return None

    def open_until(self, at: datetime) -> datetime | None:
        """When the opening that holds ``at`` ends, as a UTC datetime.

        None when the clinic is closed at ``at`` (or stays open past :data:`HORIZON_DAYS`).
        Intervals that touch or overlap are one opening, and so are an interval that runs to
        midnight (``24:00``) and a next day that opens at ``00:00``.
        """
        _require_aware(at)
        if not self.is_open(at):
            return None
        local = at.astimezone(self.zone)
        day, position = local.date(), local.hour * 3600 + local.minute * 60 + local.second
        for _ in range(HORIZON_DAYS):
            for start, end in self.intervals_on(day):  # sorted by start
                if start <= position < end:
                    position = end
            next_day = day + timedelta(days=1)
            if position < _DAY_SECONDS or not any(s == 0 for s, _ in self.intervals_on(next_day)):
                return self._instant(day, position)
            day, position = next_day, 0
        return None

    def _instant(self, day: date, seconds: int) -> datetime:
        """The UTC instant the local wall clock first shows ``seconds`` past midnight of ``day``."""
        if seconds >= _DAY_SECONDS:
            return datetime.combine(day + timedelta(days=1), time(), self.zone).astimezone(UTC)
        wall = datetime.combine(day, _time_of(seconds))
        early = wall.replace(tzinfo=self.zone, fold=0).astimezone(UTC)
        if early.astimezone(self.zone).replace(tzinfo=None) == wall:
            return early  # exists (first occurrence if repeated)
        return self._after_gap(wall, wall.replace(tzinfo=self.zone, fold=1).astimezone(UTC), early)

    def _after_gap(self, wall: datetime, low: datetime, high: datetime) -> datetime:
        """First instant in (low, high] whose wall clock reads at least ``wall`` (DST gap)."""
        while high - low > timedelta(seconds=1):
            mid = low + (high - low) / 2
            if mid.astimezone(self.zone).replace(tzinfo=None) >= wall:
                high = mid
            else:
                low = mid
        return high.replace(microsecond=0)


def _time_of(seconds: int) -> time:
    return time(seconds // 3600, seconds % 3600 // 60, seconds % 60)


def is_open(hours: Hours, zone: ZoneInfo, at: datetime) -> bool:
    """Whether the clinic is open at ``at`` (see :meth:`OpeningHours.is_open`)."""
    return OpeningHours.from_config(hours, zone).is_open(at)


def next_opening(hours: Hours, zone: ZoneInfo, at: datetime) -> datetime | None:
    """When the clinic next opens (see :meth:`OpeningHours.next_opening`)."""
    return OpeningHours.from_config(hours, zone).next_opening(at)
