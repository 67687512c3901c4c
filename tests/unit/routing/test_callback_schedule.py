"""Callbacks are dialled only within the clinic's hours and the patient's day."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from clinicall.routing.callback_order import Waiter, WaiterKind, serve_order
from clinicall.routing.callback_policy import CallbackPolicy, policy_for
from clinicall.routing.callback_schedule import earliest_call, first_attempt, in_patient_day
from clinicall.routing.hours import OpeningHours
from clinicall.settings.models import Callbacks, Hours

KYIV = ZoneInfo("Europe/Kyiv")
LISBON = ZoneInfo("Europe/Lisbon")  # two hours behind Kyiv all year
TOKYO = ZoneInfo("Asia/Tokyo")
DEFAULT = policy_for(Callbacks(), None)


def kyiv(d: int, h: int, mi: int = 0, *, month: int = 6, year: int = 2026) -> datetime:
    return datetime(year, month, d, h, mi, tzinfo=KYIV)


def week(**weekly: list[str]) -> OpeningHours:
    days: dict[str, list[str]] = {d: ["08:00-20:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
    days |= {"sat": ["09:00-15:00"], "sun": []}
    days.update(weekly)
    return OpeningHours.from_config(
        Hours.model_validate({"weekly": days, "holidays": [{"date": "2026-06-10"}]}), KYIV)


HOURS = week()  # 2026-06-01 is a Monday; 2026-06-10 (Wednesday) a holiday


def earliest(at: datetime, zone: ZoneInfo = KYIV, policy: CallbackPolicy = DEFAULT
             ) -> datetime | None:
    return earliest_call(at, hours=HOURS, patient_zone=zone, policy=policy)


def test_open_and_awake_is_now() -> None:
    assert earliest(kyiv(1, 10, 3)) == kyiv(1, 10, 3)
    assert earliest(kyiv(1, 10, 3)).tzinfo is UTC  # type: ignore[union-attr]


def test_before_opening_and_after_closing_wait_for_the_next_opening_that_is_awake() -> None:
    # 08:00 opening but the patient's day starts at 09:00 (same zone)
    assert earliest(kyiv(1, 6)) == kyiv(1, 9)
    assert earliest(kyiv(1, 21)) == kyiv(2, 9)
    assert earliest(kyiv(6, 16)) == kyiv(8, 9)  # Saturday afternoon → Monday


def test_the_patient_clock_counts_not_the_clinic_clock() -> None:
    # 08:00 in Kyiv is 06:00 in Lisbon: wait till 09:00 Lisbon = 11:00 Kyiv
    assert earliest(kyiv(1, 8), LISBON) == kyiv(1, 11)
    # 19:00 in Kyiv is 01:00 in Tokyo: nothing fits that day; Tokyo's 09:00 is 03:00 Kyiv,
    # before opening, so Tuesday's 08:00 Kyiv (14:00 Tokyo) is the first allowed instant
    assert earliest(kyiv(1, 19), TOKYO) == kyiv(2, 8)


def test_no_attempt_starts_within_the_closing_margin() -> None:
    assert earliest(kyiv(1, 19, 54)) == kyiv(1, 19, 54)
    assert earliest(kyiv(1, 19, 55)) == kyiv(2, 9)
    no_margin = replace(DEFAULT, closing_margin=timedelta(0))
    assert earliest(kyiv(1, 19, 58), policy=no_margin) == kyiv(1, 19, 58)


def test_a_holiday_is_skipped() -> None:
    assert earliest(kyiv(9, 20)) == kyiv(11, 9)


def test_a_clinic_that_never_opens_in_the_patient_day_gives_none() -> None:
    night = OpeningHours.from_config(Hours.model_validate(
        {"weekly": {d: ["01:00-05:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat",
                                                 "sun")}}), KYIV)  # fmt: skip
    assert earliest_call(kyiv(1, 12), hours=night, patient_zone=KYIV, policy=DEFAULT) is None
    closed = OpeningHours.from_config(Hours.model_validate(
        {"weekly": {d: [] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}), KYIV)
    assert earliest_call(kyiv(1, 12), hours=closed, patient_zone=KYIV, policy=DEFAULT) is None


def test_patient_day_to_midnight_includes_the_last_second() -> None:
    day = (time(9), time(23, 59, 59))
    assert in_patient_day(datetime(2026, 6, 1, 23, 59, 59, 500000, tzinfo=KYIV), KYIV, day)
    assert not in_patient_day(kyiv(1, 8, 59), KYIV, day)
    assert not in_patient_day(kyiv(1, 21), KYIV, (time(9), time(21)))


def test_first_attempt_during_hours_is_due_now_and_on_time() -> None:
    attempt = first_attempt(kyiv(1, 10), kyiv(1, 10, 1), hours=HOURS, patient_zone=KYIV,
                            policy=DEFAULT)
    assert attempt is not None
    assert attempt.due_at == kyiv(1, 10, 1)
    assert attempt.target == kyiv(1, 10, 10)
    assert attempt.on_time


def test_first_attempt_is_never_before_the_call() -> None:
    attempt = first_attempt(kyiv(1, 10, 5), kyiv(1, 10), hours=HOURS, patient_zone=KYIV,
                            policy=DEFAULT)
    assert attempt is not None
    assert attempt.due_at == kyiv(1, 10, 5)


def test_first_attempt_after_hours_is_the_next_morning_and_late() -> None:
    attempt = first_attempt(kyiv(1, 22), kyiv(1, 22), hours=HOURS, patient_zone=KYIV,
                            policy=DEFAULT)
    assert attempt is not None
    assert attempt.due_at == kyiv(2, 9)
    assert not attempt.on_time


@pytest.mark.parametrize("minutes", [0, 5, 30])
def test_the_target_follows_the_policy(minutes: int) -> None:
    policy = replace(DEFAULT, first_attempt=timedelta(minutes=minutes))
    attempt = first_attempt(kyiv(1, 10), kyiv(1, 10), hours=HOURS, patient_zone=KYIV,
                            policy=policy)
    assert attempt is not None
    assert attempt.target == kyiv(1, 10) + timedelta(minutes=minutes)


def test_calls_missed_overnight_are_due_together_and_served_in_arrival_order() -> None:
    arrivals = {"late": kyiv(1, 23, 50), "first": kyiv(1, 20, 30), "middle": kyiv(2, 3)}
    due = {key: first_attempt(at, kyiv(2, 4), hours=HOURS, patient_zone=KYIV, policy=DEFAULT)
           for key, at in arrivals.items()}
    assert {attempt.due_at for attempt in due.values() if attempt} == {kyiv(2, 9)}
    line = [Waiter(WaiterKind.CALLBACK, key, at, 0) for key, at in arrivals.items()]
    assert [w.key for w in serve_order(line)] == ["first", "late", "middle"]


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        earliest(datetime(2026, 6, 1, 10))
