"""The manager's period: a preset (today, yesterday, this week, last week, this month, last
month) or custom local dates, checked and turned into the report's bounds — the same local
days ``clinicall report --from --to`` takes (docs/console.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PRESETS = ("today", "yesterday", "this_week", "last_week", "this_month", "last_month")
MAX_DAYS = 400
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


class BadPeriod(ValueError):
    """A period the page cannot show; the message says what to give."""


@dataclass(frozen=True, slots=True)
class Period:
    first: date
    last: date  # included

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        return (datetime.combine(self.first, time(), zone),
                datetime.combine(self.last + timedelta(days=1), time(), zone))


def preset(name: str, today: date) -> Period:
    monday = today - timedelta(days=today.weekday())
    first_of_month = today.replace(day=1)
    if name == "today":
        return Period(today, today)
    if name == "yesterday":
        return Period(today - timedelta(days=1), today - timedelta(days=1))
    if name == "this_week":
        return Period(monday, today)
    if name == "last_week":
        return Period(monday - timedelta(days=7), monday - timedelta(days=1))
    if name == "this_month":
        return Period(first_of_month, today)
    if name == "last_month":
        last = first_of_month - timedelta(days=1)
        return Period(last.replace(day=1), last)
    raise BadPeriod("period: one of " + ", ".join(PRESETS))


def period_of(query: dict[str, str], today: date) -> Period:
    """``from``/``to`` (custom, both included) win over ``period`` (a preset); neither: the
    last 7 days."""
    if "from" in query:
        try:
            first = date.fromisoformat(query["from"])
            last = date.fromisoformat(query.get("to") or query["from"])
        except ValueError:
            raise BadPeriod("give from=YYYY-MM-DD (and to=YYYY-MM-DD, included)") from None
        if last < first or (last - first).days > MAX_DAYS:
            raise BadPeriod(f"'to' must be on or after 'from', at most {MAX_DAYS} days later")
        if not (first >= FIRST_DAY and last <= LAST_DAY):
            raise BadPeriod(f"dates from {FIRST_DAY} to {LAST_DAY}")
        return Period(first, last)
    if "period" in query:
        return preset(query["period"], today)
    return Period(today - timedelta(days=6), today)
