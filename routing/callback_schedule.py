"""When a callback may be dialled: within the clinic's hours, and not in the patient's night.

An attempt starts only while the clinic is open, early enough to end before closing
(``callbacks.closing_margin_min``), and while the patient's own clock (zone from their number,
:mod:`clinicall.routing.patient_time`) is inside ``callbacks.patient_day``.  The opening hours
and holidays are the IVR's own (:class:`~clinicall.routing.hours.OpeningHours`), so a day the
clinic is closed for callers is closed for callbacks too.

The first attempt of a missed call is due at once when allowed; the target
(``first_attempt_min``, counted from the call) is what the reports measure it against.  A call
missed after hours or on a holiday is due at the next allowed instant; every job missed in the
same closed spell gets that same instant, and the exact-place order
(:mod:`clinicall.routing.callback_order`) then serves them by their original arrival.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from clinicall.routing.callback_policy import CallbackPolicy
from clinicall.routing.hours import HORIZON_DAYS, OpeningHours

#: Each step moves to the next opening, closing or patient morning: a few per day at most.
MAX_STEPS = 8 * HORIZON_DAYS
_LAST_SECOND = time(23, 59, 59)  # ``24:00`` in the config: to the end of the day


def in_patient_day(at: datetime, zone: ZoneInfo, day: tuple[time, time]) -> bool:
    """Whether the patient's wall clock at ``at`` is inside ``day`` ([start, end))."""
    start, end = day
    clock = at.astimezone(zone).time()
    return start <= clock and (clock < end or end == _LAST_SECOND)


def _next_patient_morning(at: datetime, zone: ZoneInfo, start: time) -> datetime:
    """The first instant after ``at`` when the patient's clock shows ``start``."""
    local = at.astimezone(zone)
    day = local.date() if local.time() < start else local.date() + timedelta(days=1)
    morning = datetime.combine(day, start, tzinfo=zone).astimezone(UTC)
    return morning if morning > at else at + timedelta(seconds=1)


def earliest_call(
    at: datetime, *, hours: OpeningHours, patient_zone: ZoneInfo, policy: CallbackPolicy
) -> datetime | None:
    """The first instant at or after ``at`` (aware) when a callback may start, in UTC.

    None when no such instant comes within the hours' horizon (a clinic that never opens, or
    whose openings all fall in the patient's night).
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("callback times need an aware datetime (UTC or any zone)")
    current = at.astimezone(UTC)
    for _ in range(MAX_STEPS):
        opening = hours.next_opening(current)
        if opening is None:
            return None
        closing = hours.open_until(opening)
        if closing is not None and opening >= closing - policy.closing_margin:
            current = closing  # too close to closing: try the next opening
            continue
        if in_patient_day(opening, patient_zone, policy.patient_day):
            return opening
        current = _next_patient_morning(opening, patient_zone, policy.patient_day[0])
    return None


@dataclass(frozen=True, slots=True)
class FirstAttempt:
    """When the first attempt of a job is due, and whether that meets the target."""

    due_at: datetime  # UTC
    target: datetime  # arrival + first_attempt_min (UTC)

    @property
    def on_time(self) -> bool:
        return self.due_at <= self.target


def first_attempt(
    arrived_at: datetime,
    now: datetime,
    *,
    hours: OpeningHours,
    patient_zone: ZoneInfo,
    policy: CallbackPolicy,
) -> FirstAttempt | None:
    """The first attempt of a job whose call arrived at ``arrived_at``, decided at ``now``.

    Due at once (``now``, or the arrival if that is later) when a call may start then,
    else at the next instant one may.  None when none comes (see :func:`earliest_call`).
    """
    start = max(arrived_at, now)
    due = earliest_call(start, hours=hours, patient_zone=patient_zone, policy=policy)
    if due is None:
        return None
    return FirstAttempt(due_at=due, target=(arrived_at + policy.first_attempt).astimezone(UTC))
