"""DST segments and labels, ``by`` parsing, and exports that parse back."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from clinicall.reports import timebuckets as tb
from clinicall.reports.export import write
from clinicall.reports.grouping import BadGroupingError, parse_by
from clinicall.reports.kpi import QUEUE_METRICS
from clinicall.reports.table import Column, Report, Section

KYIV = ZoneInfo("Europe/Kyiv")


def test_kyiv_autumn_change_is_one_segment_boundary_at_0100_utc() -> None:
    segs = tb.offset_segments(KYIV, datetime(2026, 10, 24, tzinfo=KYIV),
                              datetime(2026, 10, 27, tzinfo=KYIV))
    assert [(s.start, s.offset_s) for s in segs] == [
        (datetime(2026, 10, 23, 21, tzinfo=UTC), 10800),
        (datetime(2026, 10, 25, 1, tzinfo=UTC), 7200)]


def test_no_change_in_november_is_one_segment() -> None:
    segs = tb.offset_segments(KYIV, datetime(2026, 11, 1, tzinfo=KYIV),
                              datetime(2026, 12, 1, tzinfo=KYIV))
    assert len(segs) == 1
    assert segs[0].offset_s == 7200


def test_repeated_hour_has_two_labels() -> None:
    first = tb.local_hour_of(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), KYIV)
    second = tb.local_hour_of(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), KYIV)
    assert (first, second) == ("2026-10-25T03:00:00+03:00", "2026-10-25T03:00:00+02:00")
    assert tb.local_day_of(datetime(2026, 10, 24, 21, 30, tzinfo=UTC), KYIV) == "2026-10-25"


def test_parse_by_aliases_and_errors() -> None:
    assert parse_by("Specialty, hour,queue,,topic") == ["queue", "hour", "route"]
    with pytest.raises(BadGroupingError, match="weekday"):
        parse_by(["weekday"])


def _report() -> Report:
    section = Section("queues", [Column("queue"), Column("hour", "time")], QUEUE_METRICS[:3])
    section.rows = [
        {"queue": "therapy", "hour": "2026-10-25T03:00:00+02:00", "offered": 3, "answered": 2,
         "abandoned": None},
        {"queue": "педіатрія", "hour": "2026-10-25T04:00:00+02:00", "offered": 1,
         "answered": 1, "abandoned": 0},
    ]
    return Report(datetime(2026, 10, 25, tzinfo=UTC), datetime(2026, 10, 26, tzinfo=UTC),
                  "Europe/Kyiv", ["queue", "hour"], {"queues": section})


def test_csv_parses_back_with_units_in_headers() -> None:
    out = io.BytesIO()
    write(_report(), "csv", out)
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8"))))
    assert rows[0] == ["queue", "hour [time]", "offered [count]", "answered [count]",
                       "abandoned [count]"]
    assert rows[1] == ["therapy", "2026-10-25T03:00:00+02:00", "3", "2", ""]
    assert rows[2][0] == "педіатрія"


def test_json_parses_back() -> None:
    out = io.BytesIO()
    write(_report(), "json", out)
    data = json.loads(out.getvalue())
    assert data["timezone"] == "Europe/Kyiv"
    assert data["sections"]["queues"]["rows"][0]["offered"] == 3
    assert [c["name"] for c in data["sections"]["queues"]["columns"]][:2] == ["queue", "hour"]


def test_xlsx_parses_back() -> None:
    out = io.BytesIO()
    write(_report(), "xlsx", out)
    book = load_workbook(io.BytesIO(out.getvalue()))
    sheet = book["queues"]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][:3] == ["queue", "hour [time]", "offered [count]"]
    assert values[1] == ["therapy", "2026-10-25T03:00:00+02:00", 3, 2, None]
    assert book["about"]["B3"].value == "Europe/Kyiv"
