"""Which part of a period the hourly sums serve (``reports.rollup.plan``), and how partial
counters add up (``reports.sums``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from clinicall.reports import rollup
from clinicall.reports import timebuckets as tb
from clinicall.reports.settings import KpiSettings
from clinicall.reports.sums import Sums

KYIV = ZoneInfo("Europe/Kyiv")


def hour(at: datetime) -> int:
    return int(at.timestamp()) // 3600


def plan(zone: str, start: datetime, end: datetime) -> rollup.Plan:
    return rollup.plan(tb.offset_segments(ZoneInfo(zone), start, end), start, end)


def test_whole_local_days_are_whole_utc_hours_across_the_dst_change() -> None:
    start, end = datetime(2026, 10, 24, tzinfo=KYIV), datetime(2026, 10, 27, tzinfo=KYIV)
    p = plan("Europe/Kyiv", start, end)
    assert p.raw == []
    assert p.hours == (hour(start), hour(end))
    assert p.hours[1] - p.hours[0] == 73  # 24 + 25 (the repeated hour) + 24


def test_the_minutes_at_the_edges_are_read_from_the_rows() -> None:
    start = datetime(2026, 11, 10, 8, 15, 30, 500_000, tzinfo=UTC)
    end = datetime(2026, 11, 10, 17, 40, tzinfo=UTC)
    p = plan("Europe/Kyiv", start, end)
    assert p.raw == [(start, datetime(2026, 11, 10, 9, tzinfo=UTC)),
                     (datetime(2026, 11, 10, 17, tzinfo=UTC), end)]
    assert p.hours == (hour(start) + 1, hour(end))


def test_a_period_inside_one_hour_is_all_rows() -> None:
    start = datetime(2026, 11, 10, 8, 5, tzinfo=UTC)
    p = plan("Europe/Kyiv", start, start + timedelta(minutes=50))
    assert p == rollup.Plan([(start, start + timedelta(minutes=50))], None)


def test_a_half_hour_offset_is_all_rows() -> None:
    """Kolkata is UTC+05:30: its local hours and days are not unions of UTC hours."""
    start = datetime(2026, 11, 1, tzinfo=ZoneInfo("Asia/Kolkata"))
    end = start + timedelta(days=30)
    assert plan("Asia/Kolkata", start, end) == rollup.Plan([(start, end)], None)


def test_thresholds_name_the_sums_and_names_do_not() -> None:
    base = KpiSettings(timezone="Europe/Kyiv", queue_service_level_s={"therapy": 20})
    renamed = KpiSettings(timezone="UTC", queue_service_level_s={"therapy": 20},
                          queue_names={"therapy": "General practice"})
    stricter = KpiSettings(timezone="Europe/Kyiv", queue_service_level_s={"therapy": 15})
    assert rollup.settings_key(base) == rollup.settings_key(renamed)
    assert rollup.settings_key(base) != rollup.settings_key(stricter)


def test_sums_add_counters_and_keep_the_largest_max() -> None:
    sums = Sums()
    sums.add(("therapy", None), {"offered": 2, "wait_max": 30.0, "wait_ms": None})
    sums.add(("therapy", None), {"offered": 3, "wait_max": 12.0, "wait_ms": 500})
    sums.add(("universal", None), {"offered": 1})
    assert list(sums) == [(("therapy", None), {"offered": 5, "wait_max": 30.0, "wait_ms": 500}),
                          (("universal", None), {"offered": 1})]
