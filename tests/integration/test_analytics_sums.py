"""The survey, demand and staffing reports read from their hourly sums equal the same reports
read from the rows, after the account's writes, corrections of calls already summed, new
survey answers and a replay of every call; on SQLite and PostgreSQL.

Calls are written as the tracker writes them (``write_call``), answers as the survey writes
them (``write_survey``); a report between the writes sums the hours, so the later writes must
reach the next report through the changed-hours marks alone (docs/store.md).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.calltypes import AnsweredCall, SurveyOutcome
from clinicall.controller.tracking.attempts import AttemptRecord
from clinicall.controller.tracking.project import CallRecord
from clinicall.controller.tracking.store import write_call
from clinicall.controller.tracking.surveys import write_survey
from clinicall.db.models import (
    Direction,
    IvrOutcome,
    MissCause,
    QueueOutcome,
    demand_hours,
    kpi_changed_hours,
    staffing_hours,
    survey_hours,
)
from clinicall.db.writer import StoreWriter
from clinicall.reports.demand import compute_demand
from clinicall.reports.settings import kpi_settings
from clinicall.reports.staffing import compute_staffing
from clinicall.reports.survey import compute_survey
from clinicall.settings.loader import load_config
from clinicall.settings.models import ClinicConfig

Sessions = async_sessionmaker[AsyncSession]
EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "clinic.example.yaml"
DAY = datetime(2026, 11, 9, tzinfo=UTC)  # a Monday
CLINIC = "+380441234567"
ALWAYS = ("pediatrics",)


def at(hours: float) -> datetime:
    return DAY + timedelta(hours=hours)


def inbound(call_key: str, caller: str, start: datetime, *, queue: str, outcome: QueueOutcome,
            agreed: bool = False, wait_s: float = 12.5) -> CallRecord:
    answered = outcome == QueueOutcome.ANSWERED
    attempt = AttemptRecord(
        channel_id=call_key, queue=queue, joined_at=start + timedelta(seconds=20),
        connected_at=start + timedelta(seconds=20 + wait_s) if answered else None,
        left_at=start + timedelta(seconds=200), outcome=outcome, wait_s=wait_s,
        talk_s=167.25 if answered else None)
    path = "main:1" + ("/survey:1" if agreed else "")
    return CallRecord(
        call_key=call_key, direction=Direction.INBOUND, caller=caller, dialled=CLINIC,
        started_at=start, answered_at=attempt.connected_at, ended_at=start + timedelta(minutes=4),
        language="uk", ivr_path=path, route=queue, ivr_outcome=IvrOutcome.QUEUE,
        hangup_side=None, missed=not answered,
        miss_cause=None if answered else MissCause.ABANDONED, attempts=(attempt,))


def day_calls() -> list[CallRecord]:
    """Three days of calls in two queues: answered (some agreed to the survey), abandoned,
    a caller calling again within the day."""
    out = []
    for day in range(3):
        for i in range(8):
            queue = ("therapy", "pediatrics")[i % 2]
            outcome = QueueOutcome.ANSWERED if i % 3 else QueueOutcome.ABANDONED
            start = at(24 * day + 7 + 1.4 * i + 0.1 * day)
            out.append(inbound(f"d{day}c{i}", f"+38050000{i:04d}", start, queue=queue,
                               outcome=outcome, agreed=i % 4 == 1, wait_s=5.0 + 7.25 * i))
    return out


async def write(sessions: Sessions, record: CallRecord) -> None:
    async with sessions() as session, session.begin(), StoreWriter(session) as writer:
        await write_call(writer, record)


async def survey(sessions: Sessions, call_key: str, queue: str, csat: int | None,
                 nps: int | None) -> None:
    async with sessions() as session, session.begin():
        await write_survey(session, call_key, AnsweredCall("uk", queue, f"op-{queue}", queue),
                           SurveyOutcome(csat, nps, nps is not None), at(100))


@pytest.fixture(scope="module")
def config() -> ClinicConfig:
    return load_config(EXAMPLE)


async def reports(sessions: Sessions, config: ClinicConfig, *, sums: bool,
                  start: datetime = DAY) -> dict[str, Any]:
    end = DAY + timedelta(days=7)
    settings = kpi_settings(config)
    out: dict[str, Any] = {}
    async with sessions() as session:
        for by in ("queue,operator,route", "day,hour", "queue,hour"):
            report = await compute_survey(session, start=start, end=end, by=by,
                                          timezone=settings.timezone, always=ALWAYS,
                                          settings=settings if sums else None)
            out[f"survey {by}"] = report.to_dict()
        out["demand"] = (await compute_demand(session, start=start, end=end, config=config,
                                              hourly_sums=sums)).to_dict()
        out["staffing"] = (await compute_staffing(session, start=start, end=end, config=config,
                                                  hourly_sums=sums)).to_dict()
    return out


async def rows_in(sessions: Sessions) -> dict[str, int]:
    async with sessions() as session:
        return {t.name: int(await session.scalar(select(func.count()).select_from(t)) or 0)
                for t in (survey_hours, demand_hours, staffing_hours, kpi_changed_hours)}


@pytest.mark.parametrize("start", [DAY, DAY + timedelta(hours=7, minutes=30, seconds=15.5)])
async def test_sums_equal_the_rows_after_calls_corrections_and_a_replay(
    db_sessions: Sessions, config: ClinicConfig, start: datetime
) -> None:
    calls = day_calls()
    for record in calls:
        await write(db_sessions, record)
    await survey(db_sessions, "d0c1", "pediatrics", 4, 10)
    await survey(db_sessions, "d1c5", "pediatrics", 2, None)  # hung up after CSAT: partial
    first = await reports(db_sessions, config, sums=True, start=start)
    counts = await rows_in(db_sessions)
    assert min(counts["survey_hours"], counts["demand_hours"], counts["staffing_hours"]) > 0
    assert counts["kpi_changed_hours"] == 0
    assert first == await reports(db_sessions, config, sums=False, start=start)

    # Corrections of hours already summed: an abandon turns out answered after all, an
    # answered call abandoned, a new call, a second survey replacing the first.
    await write(db_sessions, replace(calls[0], **_answered(calls[0])))
    await write(db_sessions, inbound("d2c2", "+380500000002", calls[-6].started_at,
                                     queue="therapy", outcome=QueueOutcome.ABANDONED))
    await write(db_sessions, inbound("late", "+380500000001", at(24 + 8.25), queue="therapy",
                                     outcome=QueueOutcome.ANSWERED, agreed=True))
    await survey(db_sessions, "late", "therapy", 5, 9)
    await survey(db_sessions, "d0c1", "pediatrics", 3, 6)
    assert (await rows_in(db_sessions))["kpi_changed_hours"] > 0
    corrected = await reports(db_sessions, config, sums=True, start=start)
    assert corrected != first
    assert (await rows_in(db_sessions))["kpi_changed_hours"] == 0
    assert corrected == await reports(db_sessions, config, sums=False, start=start)

    # A replay writes every call again: nothing changes.
    async with db_sessions() as session, session.begin(), StoreWriter(session) as writer:
        for record in calls:
            if record.call_key not in ("d0c0", "d2c2"):
                await write_call(writer, record)
    assert await reports(db_sessions, config, sums=True, start=start) == corrected


def _answered(record: CallRecord) -> dict[str, Any]:
    attempt = replace(record.attempts[0], outcome=QueueOutcome.ANSWERED,
                      connected_at=record.started_at + timedelta(seconds=30), talk_s=61.0)
    return {"missed": False, "miss_cause": None, "answered_at": attempt.connected_at,
            "attempts": (attempt,)}
