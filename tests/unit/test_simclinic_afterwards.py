"""The simulated day's after-call figures on hand-made days: when a callback is on time, late or
carried to the next day; the survey's response rate, partials, CSAT and NPS; and the lines that
say where a report differs from the simulation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from clinicall.calltypes import QueueRequest
from clinicall.reports.table import Column, Report, Section, Value
from clinicall.simclinic.day_afterwards import late_lines
from clinicall.simclinic.day_callback_kpis import (
    ALL,
    NO_QUEUE,
    Return,
    callback_differences,
    return_kpis,
)
from clinicall.simclinic.day_survey_kpis import survey_differences, survey_kpis
from clinicall.simclinic.floor import HandedBack
from clinicall.simclinic.survey_port import SurveyTruth

T0 = datetime(2026, 11, 24, 8, tzinfo=UTC)  # 10:00 in Kyiv
DAY_END = datetime(2026, 11, 24, 22, tzinfo=UTC)
TEN = timedelta(minutes=10)


def returned(call_id: str, *, missed_min: float, dial_min: float | None,
             window_min: float | None = None, decision: str | None = "create",
             queue: str | None = "therapy", answered: bool = True,
             job: int | None = 1) -> Return:  # fmt: skip
    missed = T0 + timedelta(minutes=missed_min)
    window = missed if window_min is None else T0 + timedelta(minutes=window_min)
    dial = None if dial_min is None else T0 + timedelta(minutes=dial_min)
    return Return(call_id, queue, T0, missed, decision, None, job if decision else None,
                  "done", None, window, dial, answered and dial is not None, TEN)  # fmt: skip


def test_a_callback_is_on_time_within_the_target_after_the_window_opened() -> None:
    assert returned("a", missed_min=1, dial_min=11).on_time()  # 10 min after the miss
    assert not returned("b", missed_min=1, dial_min=11.01).on_time()
    # missed before the window (the night): measured from the window's opening
    assert returned("c", missed_min=-120, window_min=0, dial_min=9).on_time()
    assert not returned("d", missed_min=1, dial_min=None).on_time()


def test_the_figures_per_queue_count_jobs_skips_late_and_carried_calls() -> None:
    items = [
        returned("a", missed_min=0, dial_min=1, job=1),
        returned("b", missed_min=0, dial_min=4, job=2, answered=False),
        returned("c", missed_min=0, dial_min=25, job=3),  # late
        returned("d", missed_min=0, dial_min=None, job=4),  # never dialled: late
        returned("e", missed_min=0, dial_min=None, decision="skip", queue=None),
        returned("f", missed_min=700, window_min=1400, dial_min=None, job=5, queue=None),
    ]
    kpis = return_kpis(items, DAY_END)
    assert list(kpis) == [NO_QUEUE, "therapy", ALL]
    therapy = kpis["therapy"]
    assert (therapy["missed"], therapy["jobs"], therapy["dialled"], therapy["answered"]) == (
        4, 4, 3, 2)
    assert (therapy["on_time"], therapy["late"], therapy["carried"]) == (2, 2, 0)
    assert (therapy["delay_p50"], therapy["delay_p90"], therapy["delay_max"]) == (240.0, 1500.0,
                                                                               1500.0)
    front = kpis[NO_QUEUE]
    assert (front["missed"], front["skipped"], front["jobs"], front["carried"],
            front["late"]) == (2, 1, 1, 1, 0)  # fmt: skip
    assert kpis[ALL]["missed"] == 6
    assert late_lines(items, DAY_END) == [
        "c (therapy): first attempt 900 s after its target",
        "d (therapy): not dialled within the day",
    ]


def _callbacks_report(row: dict[str, Value]) -> Report:
    section = Section("callbacks", [], [Column(k, "") for k in row])
    section.rows.append(row)
    return Report(T0, DAY_END, "Europe/Kyiv", [], {"callbacks": section})


def test_the_callbacks_report_is_checked_against_the_engines_dials() -> None:
    items = [returned("a", missed_min=0, dial_min=1, job=1),
             returned("b", missed_min=0, dial_min=3, job=2),
             returned("c", missed_min=0, dial_min=None, decision="merge", job=2)]  # fmt: skip
    same: dict[str, Value] = {"jobs": 2, "first_attempt_p50": 60.0, "first_attempt_p90": 180.0}
    assert callback_differences(items, _callbacks_report(same)) == []
    other = {**same, "first_attempt_p90": 181.0}
    assert callback_differences(items, _callbacks_report(other)) == [
        "callbacks first_attempt_p90: simulation 180.0, report 181.0"]


def _back(call_id: str, queue: str) -> HandedBack:
    return HandedBack(0, call_id, queue, f"{queue}-op1",
                      QueueRequest(queue, 0, 90, None, "uk", "", queue, survey=True))


def test_the_survey_figures_follow_docs_kpi() -> None:
    due = [_back(c, "therapy") for c in "abcde"] + [_back("f", "universal")]
    keyed = [SurveyTruth("a", "therapy", "therapy-op1", 5, 10),
             SurveyTruth("b", "therapy", "therapy-op1", 4, 6),
             SurveyTruth("c", "therapy", "therapy-op1", 2, None),  # hung up at the NPS
             SurveyTruth("d", "therapy", "therapy-op1", None, None),  # hung up at once
             SurveyTruth("f", "universal", "universal-op1", 3, 8)]  # fmt: skip
    kpis = survey_kpis(due, keyed)
    assert list(kpis) == ["therapy", "universal", ALL]
    assert kpis["therapy"] == {"due": 5, "answered": 3, "response_rate": 60.0, "partial": 1,
                               "csat_answers": 3, "csat_mean": 3.667, "nps_answers": 2,
                               "nps": 0.0}  # one promoter, one detractor
    assert kpis[ALL]["nps"] == 0.0  # 8 is passive
    assert kpis[ALL]["response_rate"] == round(100 * 4 / 6, 2)
    section = Section("survey", [Column("queue", "")], [Column("due", "count")])
    section.rows += [{"queue": "therapy", **kpis["therapy"]},
                     {"queue": "universal", **kpis["universal"], "partial": 1}]
    report = Report(T0, DAY_END, "Europe/Kyiv", ["queue"], {"survey": section})
    assert survey_differences(kpis, report) == [
        "survey universal partial: simulation 0, report 1"]
