"""The staffing report's summary for managers, and ``clinicall report --help`` on staffing."""

from __future__ import annotations

import argparse
from datetime import datetime
from zoneinfo import ZoneInfo

from clinicall.reports.cli import report_command
from clinicall.reports.staffing_summary import summary_lines
from clinicall.reports.table import Column, Report, Section, Value

KYIV = ZoneInfo("Europe/Kyiv")


def _row(weekday: int, hour: int, a: int, c: int, staffed: str | None) -> dict[str, Value]:
    return {"queue": "therapy", "weekday": weekday, "hour": hour, "agents_erlang_a": a,
            "agents_erlang_c": c, "staffed": staffed}  # fmt: skip


def test_the_summary_names_the_understaffed_hours_the_model_and_the_next_step() -> None:
    rows = [_row(2, 9, 2, 3, "ok"), _row(2, 11, 6, 7, "under"), _row(2, 12, 5, 6, "under"),
            _row(2, 16, 2, 2, "over")]  # fmt: skip
    about: list[dict[str, Value]] = [{"queue": "therapy", "aht_s": 240.0, "patience_s": 118.2,
                                      "abandons": 85, "target_sl": 80.0}]  # fmt: skip
    report = Report(
        datetime(2026, 11, 2, tzinfo=KYIV),
        datetime(2026, 11, 30, tzinfo=KYIV),
        "Europe/Kyiv",
        [],
        {
            "staffing": Section("staffing", [Column("queue")], [], rows),
            "assumptions": Section("assumptions", [], [], about),
        },
    )
    lines = summary_lines(report)
    assert lines[0] == ("Staffing advice from 4 weeks of calls (2026-11-02 to 2026-11-29), per "
                        "queue and hour of the week:")  # fmt: skip
    assert lines[1] == (
        "  therapy: 4 hours with calls, at most 6 operators by Erlang A (7 by "
        "Erlang C); under-staffed 2 h: Tue 11:00, Tue 12:00; over-staffed 1 h; "
        "AHT 240.0 s, patience 118.2 s from 85 abandons; target 80.0 %."
    )
    assert lines[2].startswith("Model: Poisson arrivals")
    assert lines[3].startswith("Next: move operators' shifts into the under-staffed hours")


def test_without_log_ins_or_abandons_the_summary_says_so() -> None:
    about: list[dict[str, Value]] = [{"queue": "therapy", "aht_s": 200.0, "patience_s": None,
                                      "abandons": 0, "target_sl": 80.0}]  # fmt: skip
    report = Report(
        datetime(2026, 11, 2, tzinfo=KYIV),
        datetime(2026, 11, 9, tzinfo=KYIV),
        "Europe/Kyiv",
        [],
        {
            "staffing": Section("staffing", [], [], [_row(1, 10, 2, 2, None)]),
            "assumptions": Section("assumptions", [], [], about),
        },
    )
    line = summary_lines(report)[1]
    assert "no log-ins recorded" in line
    assert "no abandons: Erlang C only" in line


def test_report_help_states_the_staffing_model_and_window() -> None:
    parser = argparse.ArgumentParser(prog="clinicall report")
    report_command(parser)
    text = parser.format_help()
    assert "give whole weeks, at least one" in text
    assert "Erlang C (beside it) does not and asks for more" in text
    assert "exponential handle time and patience" in text
