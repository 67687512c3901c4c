"""Reminder timing with an injected clock: planned within the lead time, rung only in the
calling window (nobody is called at night), never too close to the appointment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from clinicall.routing.callback_policy import policy_for
from clinicall.routing.hours import OpeningHours
from clinicall.routing.reminder_schedule import ReminderTiming, reminder_call_at
from clinicall.settings.models import Callbacks, Hours, Reminders

KYIV = ZoneInfo("Europe/Kyiv")
LISBON = ZoneInfo("Europe/Lisbon")
HOURS = OpeningHours.from_config(Hours.model_validate({"weekly": {
    **{d: ["08:00-20:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
    "sat": ["09:00-15:00"], "sun": []}, "holidays": []}), KYIV)  # fmt: skip
POLICY = policy_for(Callbacks(), None)  # patient's day 09:00-21:00
TIMING = ReminderTiming.from_config(Reminders(lead_h=24, min_notice_min=120))


def kyiv(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=KYIV)  # 2026-06-01 is a Monday


def call_at(now: datetime, starts_at: datetime, zone: ZoneInfo = KYIV) -> datetime | None:
    return reminder_call_at(now, starts_at, timing=TIMING, hours=HOURS, patient_zone=zone,
                            policy=POLICY)  # fmt: skip


def test_planned_within_the_lead_time_and_not_too_late() -> None:
    now = kyiv(2, 10)
    assert TIMING.planning_range(now) == (kyiv(2, 12), kyiv(3, 10))


def test_a_reminder_in_the_window_rings_at_once() -> None:
    assert call_at(kyiv(2, 10), kyiv(3, 9, 30)) == kyiv(2, 10)


def test_nobody_is_called_at_night() -> None:
    """Planned at 23:00 for 14:00 tomorrow: the clinic opens at 08:00, the patient's day
    starts at 09:00: the call rings at 09:00."""
    assert call_at(kyiv(2, 23), kyiv(3, 14)) == kyiv(3, 9).astimezone(UTC)


def test_the_patients_own_night_counts() -> None:
    """A Lisbon patient (two hours behind): not before 09:00 in Lisbon, 11:00 in Kyiv."""
    assert call_at(kyiv(2, 23), kyiv(3, 16), LISBON) == kyiv(3, 11).astimezone(UTC)


def test_no_call_when_the_window_opens_too_late() -> None:
    """An appointment at 10:00: the last useful call is at 08:00, before the patient's day."""
    assert call_at(kyiv(2, 23), kyiv(3, 10)) is None
    assert call_at(kyiv(2, 23), kyiv(3, 11)) == kyiv(3, 9).astimezone(UTC)  # 09:00 is in time


def test_a_sunday_waits_for_monday() -> None:
    """The clinic is closed on Sunday (2026-06-07): a Monday-afternoon appointment is rung
    Monday at 09:00, not on Sunday."""
    assert call_at(kyiv(7, 12), kyiv(8, 15)) == kyiv(8, 9).astimezone(UTC)


def test_min_notice_must_be_shorter_than_the_lead() -> None:
    with pytest.raises(ValueError, match="shorter than the lead time"):
        Reminders(lead_h=1, min_notice_min=60)
    assert TIMING.latest(kyiv(3, 10)) == kyiv(3, 10) - timedelta(hours=2)
