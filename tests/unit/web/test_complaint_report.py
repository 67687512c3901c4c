"""The complaint report per queue and topic on a real SQLite store, through the API and
``clinicall report --section complaints``: counts, overdue now, time to acknowledge and to
resolve (nearest-rank p50/p90), the queue from the call's answered attempt (after a transfer:
the last), a case without a call under ''."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from store_writes import writing

from clinicall.cli import main
from clinicall.db.models import (
    Call,
    Complaint,
    ComplaintState,
    Direction,
    QueueAttempt,
    QueueOutcome,
    Role,
)
from clinicall.settings.models import ClinicConfig
from clinicall.web import build_app

from .web_fixtures import FAST_COST, NOW, SECRET, Account, FakeLive

Client = TestClient[web.Request, web.Application]
OPENED = NOW - timedelta(days=2)
HOUR = 3600.0
EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "clinic.example.yaml"


def case(call_id: int | None, topic: str | None, ack_h: float | None,
         resolve_h: float | None, due: datetime) -> Complaint:
    state = (ComplaintState.RESOLVED if resolve_h is not None else
             ComplaintState.ACKNOWLEDGED if ack_h is not None else ComplaintState.NEW)
    return Complaint(
        summary="s", call_id=call_id, topic=topic, state=state, opened_at=OPENED, due_at=due,
        acknowledge_due_at=OPENED + timedelta(hours=24),
        acknowledged_at=None if ack_h is None else OPENED + timedelta(hours=ack_h),
        resolved_at=None if resolve_h is None else OPENED + timedelta(hours=resolve_h))


@pytest.fixture
async def cases(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    async with writing(db_sessions) as session:
        call = Call(call_key="C1", direction=Direction.INBOUND, started_at=OPENED,
                    missed=False, route="therapy")
        call.queue_attempts = [
            QueueAttempt(channel_id="A", queue="therapy", joined_at=OPENED,
                         connected_at=OPENED, outcome=QueueOutcome.ANSWERED, agent="op101"),
            QueueAttempt(channel_id="B", queue="universal", joined_at=OPENED + timedelta(
                minutes=2), connected_at=OPENED + timedelta(minutes=3),
                outcome=QueueOutcome.ANSWERED, agent="op104")]
        session.add(call)
        await session.flush()
        call_id = call.id
    later = NOW + timedelta(days=3)
    async with db_sessions.begin() as session:
        session.add_all([
            case(call_id, None, 1, 24, later),  # topic from the call's route
            case(call_id, None, 2, 72, later),
            case(call_id, None, 10, None, later),
            case(call_id, None, None, None, later),  # not acknowledged in 24 h: overdue
            case(None, "billing", 5, None, NOW - timedelta(hours=1)),  # past its due date
        ])


@pytest.fixture
async def client(db_sessions: async_sessionmaker[AsyncSession], clinic_config: ClinicConfig,
                 cases: None) -> AsyncIterator[Client]:
    app = build_app(sessions=db_sessions, config=clinic_config, live=FakeLive(), secret=SECRET,
                    clock=lambda: NOW, password_cost=FAST_COST)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


EXPECTED = [
    {"queue": "", "topic": "billing", "opened": 1, "acknowledged": 1, "resolved": 0,
     "overdue": 1, "acknowledge_p50": 5 * HOUR, "acknowledge_p90": 5 * HOUR,
     "resolve_p50": None, "resolve_p90": None},
    {"queue": "universal", "topic": "therapy", "opened": 4, "acknowledged": 3, "resolved": 2,
     "overdue": 1, "acknowledge_p50": 2 * HOUR, "acknowledge_p90": 10 * HOUR,
     "resolve_p50": 24 * HOUR, "resolve_p90": 72 * HOUR},
]


async def test_the_api_reports_per_queue_and_topic(client: Client,
                                                   accounts: dict[Role, Account]) -> None:
    day = OPENED.date()
    response = await client.get(f"/api/complaints/report?from={day}&to={NOW.date()}",
                                headers={"Authorization":
                                         f"Bearer {accounts[Role.MANAGER].token}"})
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["sections"]["complaints"]["rows"] == EXPECTED


async def test_a_period_without_cases_is_empty_and_bad_dates_say_why(
    client: Client, accounts: dict[Role, Account]
) -> None:
    headers = {"Authorization": f"Bearer {accounts[Role.QUALITY].token}"}
    empty = await client.get("/api/complaints/report?from=2020-01-01&to=2020-01-31",
                             headers=headers)
    assert (await empty.json())["sections"]["complaints"]["rows"] == []
    bad = await client.get("/api/complaints/report?from=yesterday", headers=headers)
    assert bad.status == 400


async def test_the_cli_section_gives_the_same_table(
    cases: None, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["report", "--section", "complaints", "--format", "json", "--from",
            str(OPENED.date()), "--to", str(NOW.date()), "--config", str(EXAMPLE), "--db",
            db_url]
    assert await asyncio.to_thread(main, argv) == 0
    rows = json.loads(capsys.readouterr().out)["sections"]["complaints"]["rows"]
    assert [(r["queue"], r["topic"], r["opened"], r["resolve_p90"]) for r in rows] == [
        ("", "billing", 1, None), ("universal", "therapy", 4, 72 * HOUR)]
