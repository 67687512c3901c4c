"""The survey's figures on a hand-built store, on SQLite and PostgreSQL: numbers worked out by
hand from the rows below (docs/kpi.md, Survey)."""

from __future__ import annotations

import asyncio
import csv
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from store_writes import writing

from clinicall.db.models import (
    Call,
    Direction,
    QueueAttempt,
    QueueOutcome,
    SurveyAnswer,
    SurveyQuestion,
)
from clinicall.reports.grouping import BadGroupingError
from clinicall.reports.survey import compute_survey

KYIV = ZoneInfo("Europe/Kyiv")
START, END = datetime(2026, 11, 10, tzinfo=KYIV), datetime(2026, 11, 11, tzinfo=KYIV)
AGREED = "main:1/appointments:1/survey:1"
EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "clinic.example.yaml"


def at(hour: int, day: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


async def _store(sessions: async_sessionmaker[AsyncSession]) -> None:
    # key, path, route, queue, agent (None: abandoned), csat, nps, complete, hour, day
    calls = [
        ("A", AGREED, "ultrasound", "ultrasound", "op101", 4, 10, True, 8, 10),
        ("B", AGREED, "ultrasound", "ultrasound", "op101", 2, None, False, 8, 10),
        ("C", AGREED, "ultrasound", "ultrasound", "op104", None, None, True, 9, 10),
        ("D", "main:1/appointments:1/survey:2", "ultrasound", "ultrasound", "op101",
         None, None, True, 9, 10),
        ("E", "main:1/appointments:4", "therapy", "therapy", "op103", 5, 6, True, 9, 10),
        ("F", "main:1/appointments:4", "therapy", "therapy", None, None, None, True, 9, 10),
        ("G", AGREED, "ultrasound", "ultrasound", "op101", 1, 0, True, 8, 11),  # next day
    ]  # fmt: skip
    async with writing(sessions) as session:
        for key, path, route, queue, agent, csat, nps, complete, hour, day in calls:
            started = at(hour, day)
            call = Call(call_key=key, direction=Direction.INBOUND, started_at=started,
                        ivr_path=path, route=route)  # fmt: skip
            session.add(call)
            await session.flush()
            session.add(QueueAttempt(
                call_id=call.id, channel_id=key, queue=queue, joined_at=started,
                connected_at=started if agent else None, agent=agent,
                outcome=QueueOutcome.ANSWERED if agent else QueueOutcome.ABANDONED,
            ))  # fmt: skip
            for question, score in ((SurveyQuestion.CSAT, csat), (SurveyQuestion.NPS, nps)):
                if score is not None:
                    session.add(SurveyAnswer(call_id=call.id, question=question, score=score,
                                             answered_at=started, queue=queue,
                                             operator=agent, route=route,
                                             complete=complete))  # fmt: skip


def _pick(row: Mapping[str, object], *names: str) -> tuple[object, ...]:
    return tuple(row[n] for n in names)


FIGURES = ("due", "answered", "response_rate", "partial", "csat_answers", "csat_mean",
           "nps_answers", "promoters", "passives", "detractors", "nps")  # fmt: skip


async def test_survey_figures_by_queue_operator_and_in_total(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _store(db_sessions)
    async with db_sessions() as session:
        by_queue = await compute_survey(session, start=START, end=END, by="queue",
                                        timezone="Europe/Kyiv", always={"therapy"})
        by_operator = await compute_survey(session, start=START, end=END, by="operator",
                                           timezone="Europe/Kyiv", always={"therapy"})
        total = await compute_survey(session, start=START, end=END, by="",
                                     timezone="Europe/Kyiv", always={"therapy"})
        asked_only = await compute_survey(session, start=START, end=END, by="queue",
                                          timezone="Europe/Kyiv")
    rows = {r["queue"]: r for r in by_queue.section("survey").rows}
    # ultrasound: due A, B, C (D declined); answered A, B; B partial; CSAT 4, 2; NPS 10
    assert _pick(rows["ultrasound"], *FIGURES) == (3, 2, 66.67, 1, 2, 3.0, 1, 1, 0, 0, 100.0)
    assert _pick(rows["ultrasound"], "csat_2", "csat_4", "csat_1") == (1, 1, 0)
    # therapy always asks: E due and answered (F was not answered); NPS 6 detracts
    assert _pick(rows["therapy"], *FIGURES) == (1, 1, 100.0, 0, 1, 5.0, 1, 0, 0, 1, -100.0)
    ops = {r["operator"]: r for r in by_operator.section("survey").rows}
    assert _pick(ops["op101"], "due", "answered", "csat_mean") == (2, 2, 3.0)
    assert _pick(ops["op104"], "due", "answered", "response_rate", "csat_mean") == (
        1, 0, 0.0, None)  # fmt: skip
    (row,) = total.section("survey").rows
    # CSAT 4, 2, 5 → 3.667; NPS 10, 6 → 50 % - 50 % = 0
    assert _pick(row, *FIGURES) == (4, 3, 75.0, 1, 3, 3.667, 2, 1, 0, 1, 0.0)
    # without 'always', therapy's answered call is not due (its answers still count)
    asked = {r["queue"]: r for r in asked_only.section("survey").rows}
    assert _pick(asked["therapy"], "due", "answered", "response_rate") == (0, 1, None)


async def test_survey_by_local_day_and_hour(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _store(db_sessions)
    async with db_sessions() as session:
        report = await compute_survey(session, start=START, end=END, by="day,hour,route",
                                      timezone="Europe/Kyiv", always={"therapy"})
    keys = [_pick(r, "day", "hour", "route", "due", "answered")
            for r in report.section("survey").rows]
    assert keys == [
        ("2026-11-10", "2026-11-10T10:00:00+02:00", "ultrasound", 2, 2),  # 08 UTC: A, B
        ("2026-11-10", "2026-11-10T11:00:00+02:00", "therapy", 1, 1),
        ("2026-11-10", "2026-11-10T11:00:00+02:00", "ultrasound", 1, 0),  # C
    ]


def test_an_unknown_grouping_is_refused() -> None:
    from clinicall.reports.survey import parse_keys

    with pytest.raises(BadGroupingError, match="cannot group the survey by 'doctor'"):
        parse_keys("queue,doctor")
    assert parse_keys("specialty, topic,queue") == ["queue", "route"]


async def test_report_command_writes_the_survey_section(
    db_url: str, db_sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """``clinicall report --section survey`` as a user runs it, read back from its CSV."""
    await _store(db_sessions)
    out = tmp_path / "survey.csv"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clinicall", "report", "--from", "2026-11-10", "--to",
        "2026-11-10", "--section", "survey", "--by", "operator", "--format", "csv",
        "--out", str(out), "--db", db_url, "--config", str(EXAMPLE),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)  # fmt: skip
    _, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    with out.open(newline="", encoding="utf-8") as f:
        rows = {r["operator"]: r for r in csv.DictReader(f)}
    # the example config asks (no 'always' queue): E's answers count, E is not due
    assert (rows["op101"]["due [count]"], rows["op101"]["csat_mean [score]"]) == ("2", "3.0")
    assert (rows["op103"]["due [count]"], rows["op103"]["nps [score]"]) == ("0", "-100.0")
    assert rows["op104"]["response_rate [%]"] == "0.0"
