"""Demand analytics on a hand-built store, on SQLite and PostgreSQL: the numbers below are
worked out by hand from the calls (docs/kpi.md, Demand)."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from store_writes import writing

from clinicall.db.models import (
    Call,
    Direction,
    IvrOutcome,
    MissCause,
    QueueAttempt,
    QueueOutcome,
)
from clinicall.reports.demand import compute_demand, questions
from clinicall.settings.loader import load_config
from clinicall.settings.models import ClinicConfig

from .scenario import EXAMPLE

KYIV = ZoneInfo("Europe/Kyiv")
START, END = datetime(2026, 11, 10, tzinfo=KYIV), datetime(2026, 11, 11, tzinfo=KYIV)  # a Tue
TWO_SERVICES = "main:2/information:3/services:1/more:5/main:2/information:3/services:3/more:-"
HOUR_MS = 3_600_000
A = QueueOutcome.ANSWERED


@pytest.fixture(scope="module")
def config() -> ClinicConfig:
    """The example clinic; the pediatrics route books Dr Lysenko."""
    config = load_config(EXAMPLE)
    routes = dict(config.routes)
    routes["pediatrics"] = routes["pediatrics"].model_copy(update={"doctor": "lysenko"})
    return config.model_copy(update={"routes": routes})


def utc(hh: int, mm: int = 0, day: int = 10) -> datetime:
    return datetime(2026, 11, day, hh, mm, tzinfo=UTC)


async def _store(sessions: async_sessionmaker[AsyncSession]) -> None:
    # key, start, route, path, outcome, attempts [(queue, outcome)], miss cause, repeat gap
    calls = [
        ("P1", utc(8), "pediatrics", "main:1/appointments:3", IvrOutcome.QUEUE,
         [("pediatrics", A)], None, None),
        ("P2", utc(8, 30), "pediatrics", "main:1/appointments:3", IvrOutcome.QUEUE,
         [("pediatrics", QueueOutcome.ABANDONED)], MissCause.ABANDONED, HOUR_MS),
        ("P3", utc(9, 10), "pediatrics", "main:1/appointments:3", IvrOutcome.QUEUE,
         [("pediatrics", A)], None, None),
        ("I1", utc(8, 20), "service_pediatrician_visit", TWO_SERVICES, IvrOutcome.SELF_SERVED,
         [], None, None),
        ("I2", utc(9), "info_hours", "main:2/information:1/more:-", IvrOutcome.SELF_SERVED,
         [], None, None),
        ("U1", utc(9, 30), "ultrasound", "main:1/appointments:1", IvrOutcome.QUEUE,
         [("ultrasound", QueueOutcome.TIMEOUT), ("universal", A)], None, 48 * HOUR_MS),
        ("H1", utc(10), None, "main:-", IvrOutcome.HANGUP_IVR, [], MissCause.HANGUP_IVR, None),
        # the day before: the previous period of the same length
        ("B1", utc(8, day=9), "pediatrics", "main:1/appointments:3", IvrOutcome.QUEUE,
         [("pediatrics", A)], None, None),
        ("B2", utc(9, day=9), "info_hours", "main:2/information:1", IvrOutcome.SELF_SERVED,
         [], None, None),
        ("B3", utc(10, day=9), "info_hours", "main:2/information:1", IvrOutcome.SELF_SERVED,
         [], None, None),
    ]  # fmt: skip
    async with writing(sessions) as session:
        for key, at, route, path, outcome, attempts, cause, gap in calls:
            call = Call(call_key=key, direction=Direction.INBOUND, started_at=at, route=route,
                        ivr_path=path, ivr_outcome=outcome, missed=cause is not None,
                        miss_cause=cause, repeat_gap_ms=gap)  # fmt: skip
            for i, (queue, result) in enumerate(attempts):
                call.queue_attempts.append(QueueAttempt(
                    channel_id=f"{key}-{i}", queue=queue, joined_at=at + timedelta(seconds=i),
                    outcome=result))  # fmt: skip
            session.add(call)
        session.add(Call(call_key="O1", direction=Direction.OUTBOUND, started_at=utc(9),
                         route="pediatrics"))  # fmt: skip


def test_questions_are_read_from_the_path_and_the_menus(config: ClinicConfig) -> None:
    assert questions(config, TWO_SERVICES) == ["service:pelvic_ultrasound",
                                               "service:pediatrician_visit"]  # fmt: skip
    assert questions(config, "lang:1/main:2/information:2/more:0") == ["address"]
    assert questions(config, "main:9?/nosuch:1/main:-") == []


async def test_demand_sections_equal_the_hand_worked_numbers(
    config: ClinicConfig, db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    await _store(db_sessions)
    async with db_sessions() as session:
        report = await compute_demand(session, start=START, end=END, config=config)

    def rows(section: str, *names: str) -> list[tuple[object, ...]]:
        return [tuple(r[n] for n in names) for r in report.section(section).rows]

    assert rows("heatmap", "topic", "specialty", "weekday", "hour", "calls") == [
        ("info_hours", "none", 2, 11, 1),
        ("none", "none", 2, 12, 1),
        ("pediatrics", "pediatrics", 2, 10, 2),
        ("pediatrics", "pediatrics", 2, 11, 1),
        ("service_pediatrician_visit", "none", 2, 10, 1),
        ("ultrasound", "ultrasound", 2, 11, 1),  # its first queue, not the overflow's
    ]
    assert rows("information", "question", "name", "asked", "calls") == [
        ("hours", "hours", 1, 1),
        ("service:pediatrician_visit", "Консультація педіатра", 1, 1),
        ("service:pelvic_ultrasound", "УЗД органів малого таза", 1, 1),
    ]
    assert rows("doctors", "doctor", "calls", "answered", "missed", "missed_rate",
                "asked_about") == [
        ("lysenko", 3, 2, 1, 33.33, 1),
        ("petrenko", 0, 0, 0, None, 1),  # pelvic ultrasound: Petrenko and Savchenko
        ("savchenko", 0, 0, 0, None, 1),
    ]  # fmt: skip
    assert rows("trend", "topic", "calls", "previous_calls", "change") == [
        ("info_hours", 1, 2, -50.0),
        ("none", 1, 0, None),
        ("pediatrics", 3, 1, 200.0),
        ("service_pediatrician_visit", 1, 0, None),
        ("ultrasound", 1, 0, None),
    ]
    assert rows("unmet", "topic", "calls", "missed", "missed_rate", "missed_abandoned",
                "missed_hangup_ivr") == [
        ("info_hours", 1, 0, 0.0, 0, 0),
        ("none", 1, 1, 100.0, 0, 1),
        ("pediatrics", 3, 1, 33.33, 1, 0),
        ("service_pediatrician_visit", 1, 0, 0.0, 0, 0),
        ("ultrasound", 1, 0, 0.0, 0, 0),
    ]  # fmt: skip
    assert rows("repeats", "topic", "first_outcome", "calls", "repeated_24h",
                "repeat_rate") == [
        ("info_hours", "selfserved", 1, 0, 0.0),
        ("none", "missed", 1, 0, 0.0),
        ("pediatrics", "answered", 2, 0, 0.0),
        ("pediatrics", "missed", 1, 1, 100.0),  # called again an hour later
        ("service_pediatrician_visit", "selfserved", 1, 0, 0.0),
        ("ultrasound", "answered", 1, 0, 0.0),  # again only two days later
    ]  # fmt: skip


async def test_report_command_writes_every_demand_table_as_json(
    db_url: str, db_sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """``clinicall report --section demand`` as a user runs it, with a route naming a doctor."""
    await _store(db_sessions)
    text = EXAMPLE.read_text(encoding="utf-8")
    route = "  pediatrics: {queue: pediatrics, priority: 1,"
    assert route in text
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text(text.replace(route, route.replace("{", "{doctor: lysenko, ")),
                      encoding="utf-8")  # fmt: skip
    out = tmp_path / "demand.json"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clinicall", "report", "--from", "2026-11-10", "--to",
        "2026-11-10", "--section", "demand", "--format", "json", "--out", str(out),
        "--db", db_url, "--config", str(clinic),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)  # fmt: skip
    _, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    sections = json.loads(out.read_text(encoding="utf-8"))["sections"]
    assert set(sections) == {"heatmap", "information", "doctors", "trend", "unmet", "repeats"}
    lysenko = next(r for r in sections["doctors"]["rows"] if r["doctor"] == "lysenko")
    assert (lysenko["calls"], lysenko["missed"], lysenko["asked_about"]) == (3, 1, 1)
