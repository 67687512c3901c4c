from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from clinicall.routing.hours import OpeningHours, is_open, next_opening
from clinicall.settings.models import ClinicConfig, Hours

KYIV = ZoneInfo("Europe/Kyiv")


EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "clinic.example.yaml"


@pytest.fixture(scope="module")
def config() -> ClinicConfig:
    with EXAMPLE.open(encoding="utf-8") as f:
        return ClinicConfig.model_validate(yaml.safe_load(f))


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def kyiv(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=KYIV)


def hours(**weekly: list[str]) -> Hours:
    days: dict[str, list[str]] = {d: [] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    days.update(weekly)
    return Hours.model_validate({"weekly": days})


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (kyiv(2026, 6, 1, 7, 59, 59), False),  # Monday, just before 08:00
        (kyiv(2026, 6, 1, 8, 0), True),
        (kyiv(2026, 6, 1, 19, 59, 59), True),
        (kyiv(2026, 6, 1, 20, 0), False),  # the end is exclusive
        (kyiv(2026, 6, 6, 14, 59), True),  # Saturday 09-15
        (kyiv(2026, 6, 6, 15, 0), False),
        (kyiv(2026, 6, 7, 12, 0), False),  # Sunday: closed
    ],
)
def test_weekly_schedule(config: ClinicConfig, at: datetime, expected: bool) -> None:
    assert is_open(config.hours, KYIV, at) is expected


def test_the_question_is_asked_on_the_clinic_clock_not_utc(config: ClinicConfig) -> None:
    # Summer (EEST, +3): 08:30 in Kyiv is 05:30 UTC.
    assert is_open(config.hours, KYIV, utc(2026, 6, 1, 5, 30))
    # Winter (EET, +2): 05:30 UTC is 07:30 in Kyiv, still closed.
    assert not is_open(config.hours, KYIV, utc(2026, 1, 5, 5, 30))


def test_dst_monday_after_spring_forward(config: ClinicConfig) -> None:
    # DST began on Sunday 2026-03-29: on the Monday before, 05:30 UTC is 07:30 local; after, 08:30.
    assert not is_open(config.hours, KYIV, utc(2026, 3, 23, 5, 30))
    assert is_open(config.hours, KYIV, utc(2026, 3, 30, 5, 30))
    assert next_opening(config.hours, KYIV, utc(2026, 3, 30, 4, 0)) == utc(2026, 3, 30, 5, 0)
    assert next_opening(config.hours, KYIV, utc(2026, 3, 23, 4, 0)) == utc(2026, 3, 23, 6, 0)


def test_dst_monday_after_fall_back(config: ClinicConfig) -> None:
    # DST ended on Sunday 2026-10-25: 08:00 local is 05:00 UTC on the 19th, 06:00 UTC on the 26th.
    assert next_opening(config.hours, KYIV, utc(2026, 10, 19, 0)) == utc(2026, 10, 19, 5)
    assert next_opening(config.hours, KYIV, utc(2026, 10, 26, 0)) == utc(2026, 10, 26, 6)


def test_opening_inside_the_spring_gap_opens_when_the_clock_jumps() -> None:
    h = OpeningHours.from_config(hours(sun=["03:30-05:00"]), KYIV)
    # 2026-03-29: clocks go from 03:00 EET to 04:00 EEST at 01:00 UTC; 03:30 never shows.
    assert not h.is_open(utc(2026, 3, 29, 0, 59, 59))
    assert h.is_open(utc(2026, 3, 29, 1, 0))
    assert h.next_opening(utc(2026, 3, 29, 0)) == utc(2026, 3, 29, 1, 0)


def test_opening_inside_the_autumn_repeat_opens_at_the_first_occurrence() -> None:
    h = OpeningHours.from_config(hours(sun=["03:30-05:00"]), KYIV)
    # 2026-10-25: 03:00-04:00 local happens twice; first at 00:00-01:00 UTC (EEST).
    opening = h.next_opening(utc(2026, 10, 24, 22))
    assert opening == utc(2026, 10, 25, 0, 30)
    assert h.is_open(utc(2026, 10, 25, 0, 30))
    assert h.is_open(utc(2026, 10, 25, 1, 30))  # the second 03:30
    assert not h.is_open(utc(2026, 10, 25, 3, 0))  # 05:00 EET


def test_holiday_closed_all_day(config: ClinicConfig) -> None:
    # Christmas 2026 is a Friday, normally 08-20.
    assert not is_open(config.hours, KYIV, kyiv(2026, 12, 25, 12))
    # The next opening is Saturday's 09:00.
    assert next_opening(config.hours, KYIV, kyiv(2026, 12, 25, 12)) == kyiv(2026, 12, 26, 9)


def test_holiday_with_special_hours(config: ClinicConfig) -> None:
    # New Year's Eve 2026 is a Thursday, open 09:00-14:00 instead of 08:00-20:00.
    assert not is_open(config.hours, KYIV, kyiv(2026, 12, 31, 8, 30))
    assert is_open(config.hours, KYIV, kyiv(2026, 12, 31, 13, 59))
    assert not is_open(config.hours, KYIV, kyiv(2026, 12, 31, 14, 0))
    assert next_opening(config.hours, KYIV, kyiv(2026, 12, 31, 8, 30)) == kyiv(2026, 12, 31, 9)
    # 2027-01-01 (holiday), 02 (Sat 09-15).
    assert next_opening(config.hours, KYIV, kyiv(2026, 12, 31, 15)) == kyiv(2027, 1, 2, 9)


def test_next_opening_when_open_is_now(config: ClinicConfig) -> None:
    at = kyiv(2026, 6, 1, 10)
    assert next_opening(config.hours, KYIV, at) == at


def test_next_opening_over_a_closed_sunday(config: ClinicConfig) -> None:
    assert next_opening(config.hours, KYIV, kyiv(2026, 6, 6, 15)) == kyiv(2026, 6, 8, 8)


def test_until_midnight_means_the_whole_day() -> None:
    h = OpeningHours.from_config(hours(mon=["00:00-24:00"]), KYIV)
    assert h.is_open(kyiv(2026, 6, 1, 0, 0))
    assert h.is_open(kyiv(2026, 6, 1, 23, 59, 59))
    assert not h.is_open(kyiv(2026, 6, 2, 0, 0))


def test_never_open_gives_none() -> None:
    assert next_opening(hours(), KYIV, utc(2026, 6, 1)) is None


def test_naive_datetimes_are_refused(config: ClinicConfig) -> None:
    with pytest.raises(ValueError, match="aware"):
        is_open(config.hours, KYIV, datetime(2026, 6, 1, 10))


def test_open_until_is_the_end_of_the_current_opening(config: ClinicConfig) -> None:
    h = OpeningHours.from_config(config.hours, KYIV)
    assert h.open_until(kyiv(2026, 6, 1, 10)) == kyiv(2026, 6, 1, 20)
    assert h.open_until(kyiv(2026, 6, 1, 10)).tzinfo is UTC  # type: ignore[union-attr]
    assert h.open_until(kyiv(2026, 12, 31, 13)) == kyiv(2026, 12, 31, 14)  # holiday hours
    assert h.open_until(kyiv(2026, 6, 1, 20)) is None  # closed: no opening to end
    assert h.open_until(kyiv(2026, 6, 7, 12)) is None


def test_open_until_joins_touching_intervals_and_midnight() -> None:
    h = OpeningHours.from_config(
        hours(mon=["08:00-12:00", "12:00-14:00", "16:00-24:00"], tue=["00:00-02:00"]), KYIV)
    assert h.open_until(kyiv(2026, 6, 1, 9)) == kyiv(2026, 6, 1, 14)
    assert h.open_until(kyiv(2026, 6, 1, 17)) == kyiv(2026, 6, 2, 2)
    shut_tuesday = OpeningHours.from_config(hours(mon=["16:00-24:00"]), KYIV)
    assert shut_tuesday.open_until(kyiv(2026, 6, 1, 17)) == kyiv(2026, 6, 2, 0)


def test_open_around_the_clock_never_closes_within_the_horizon() -> None:
    every_day = ["00:00-24:00"]
    h = OpeningHours.from_config(hours(mon=every_day, tue=every_day, wed=every_day,
                                       thu=every_day, fri=every_day, sat=every_day,
                                       sun=every_day), KYIV)
    assert h.open_until(kyiv(2026, 6, 1, 12)) is None
