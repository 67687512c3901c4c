"""When an appointment's reminder call is planned and when it may ring (docs/reminders.md).

Pure: values in, values out, the clock passed as a datetime.  A reminder is planned once the
appointment is within the lead time; it rings at the first instant the callbacks' calling
window allows (the clinic open, the patient awake: :func:`routing.callback_schedule.
earliest_call`), and never later than ``min_notice`` before the appointment: a reminder that
cannot ring by then is not made (the appointment stays unconfirmed, on the no-show-risk list).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from clinicall.routing.callback_policy import CallbackPolicy
from clinicall.routing.callback_schedule import earliest_call
from clinicall.routing.hours import OpeningHours
from clinicall.settings.models import Reminders


@dataclass(frozen=True, slots=True)
class ReminderTiming:
    lead: timedelta
    min_notice: timedelta

    @classmethod
    def from_config(cls, reminders: Reminders) -> ReminderTiming:
        return cls(timedelta(hours=reminders.lead_h), timedelta(minutes=reminders.min_notice_min))

    def planning_range(self, now: datetime) -> tuple[datetime, datetime]:
        """The appointments whose reminder is planned now start in ``[start, end]``: within
        the lead time, and not too soon to be worth a call."""
        return now + self.min_notice, now + self.lead

    def latest(self, starts_at: datetime) -> datetime:
        """The last instant a reminder of an appointment at ``starts_at`` may start."""
        return starts_at - self.min_notice


def reminder_call_at(now: datetime, starts_at: datetime, *, timing: ReminderTiming,
                     hours: OpeningHours, patient_zone: ZoneInfo,
                     policy: CallbackPolicy) -> datetime | None:  # fmt: skip
    """The first instant at or after ``now`` the reminder may ring; None when the calling
    window allows none before :meth:`ReminderTiming.latest` (no call at night, nor too late)."""
    at = earliest_call(now, hours=hours, patient_zone=patient_zone, policy=policy)
    if at is None or at > timing.latest(starts_at):
        return None
    return at
