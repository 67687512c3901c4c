"""The operator's "this call is a complaint" on the real application and a real SQLite store:
the operator who took the call opens a case linked to it and its recording (once, however
often flagged); another operator, a call not in the account yet and bad bodies are refused;
only operators reach the route."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from store_writes import writing

from clinicall.db.models import (
    Call,
    Complaint,
    ComplaintRecording,
    Direction,
    QueueAttempt,
    QueueOutcome,
    Recording,
    Role,
)
from clinicall.settings.models import ClinicConfig
from clinicall.web import build_app
from clinicall.web.users import add_user

from .web_fixtures import FAST_COST, NOW, SECRET, Account, FakeLive

Client = TestClient[web.Request, web.Application]
URL = "/api/operator/complaint"


@pytest.fixture
async def call(db_sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """A therapy call op101 answered, with its recording; (call id, recording id)."""
    at = NOW - timedelta(minutes=10)
    async with writing(db_sessions) as session:
        row = Call(call_key="F1", direction=Direction.INBOUND, caller="+380671112233",
                   started_at=at, ended_at=at + timedelta(minutes=3), missed=False,
                   route="therapy")
        row.queue_attempts.append(QueueAttempt(
            channel_id="U1", queue="therapy", joined_at=at, connected_at=at,
            outcome=QueueOutcome.ANSWERED, wait_s=1.0, talk_s=120.0, agent="op101"))
        session.add(row)
        await session.flush()
        call_id = row.id
    async with db_sessions.begin() as session:
        rec = Recording(call_id=call_id, call_key="F1", path="2026/07/01/F1.ogg", format="ogg",
                        size_bytes=0, sha256="", started_at=at, imported_at=at)
        session.add(rec)
        await session.flush()
        return call_id, rec.id


async def operator(sessions: async_sessionmaker[AsyncSession], name: str) -> dict[str, str]:
    made = await add_user(sessions, name, Role.OPERATOR, f"pw-{name}-correct horse",
                          with_token=True, cost=FAST_COST)
    return {"Authorization": f"Bearer {made.api_token}"}


@pytest.fixture
async def client(db_sessions: async_sessionmaker[AsyncSession], clinic_config: ClinicConfig,
                 ) -> AsyncIterator[Client]:  # fmt: skip
    app = build_app(sessions=db_sessions, config=clinic_config, live=FakeLive(), secret=SECRET,
                    clock=lambda: NOW, password_cost=FAST_COST)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_the_operator_who_took_the_call_opens_one_case(
    client: Client, db_sessions: async_sessionmaker[AsyncSession], call: tuple[int, int],
) -> None:
    call_id, recording_id = call
    op101 = await operator(db_sessions, "op101")
    first = await client.post(URL, headers=op101,
                              json={"call_id": "F1", "note": "rude at the reception"})
    assert first.status == 201, await first.text()
    body = await first.json()
    assert body["opened"] is True
    again = await client.post(URL, headers=op101, json={"call_id": "F1"})
    assert again.status == 200
    assert await again.json() == {"case_id": body["case_id"], "opened": False}

    async with db_sessions() as session:
        (case,) = await session.scalars(select(Complaint))
        linked = list(await session.scalars(select(ComplaintRecording.recording_id)))
    assert (case.id, case.call_id, case.topic, case.opened_at) == (
        body["case_id"], call_id, "therapy", NOW)
    assert case.summary == "Flagged as a complaint by operator op101: rude at the reception"
    assert linked == [recording_id]


async def test_another_operator_or_an_unknown_call_is_refused(
    client: Client, db_sessions: async_sessionmaker[AsyncSession], call: tuple[int, int],
) -> None:
    op102 = await operator(db_sessions, "op102")
    other = await client.post(URL, headers=op102, json={"call_id": "F1"})
    assert other.status == 409
    assert "only the operator who took the call" in (await other.json())["error"]
    op101 = await operator(db_sessions, "op101")
    unknown = await client.post(URL, headers=op101, json={"call_id": "F2"})
    assert unknown.status == 409
    assert "not in the account yet" in (await unknown.json())["error"]
    async with db_sessions() as session:
        assert list(await session.scalars(select(Complaint))) == []


@pytest.mark.parametrize("body", [{}, {"call_id": ""}, {"call_id": 5}, {"call_id": "x" * 65},
                                  {"call_id": "F1", "note": 3},
                                  {"call_id": "F1", "note": "x" * 2001}, [1]])
async def test_bad_bodies_say_why(client: Client, db_sessions: async_sessionmaker[AsyncSession],
                                  body: object) -> None:
    op101 = await operator(db_sessions, "op101")
    response = await client.post(URL, headers=op101, json=body)
    assert response.status == 400
    assert "error" in await response.json()


async def test_an_operator_user_not_in_the_config_is_refused(
    client: Client, accounts: dict[Role, Account]
) -> None:
    response = await client.post(URL, json={"call_id": "F1"},
                                 headers={"Authorization":
                                          f"Bearer {accounts[Role.OPERATOR].token}"})
    assert response.status == 409
    assert "no operator with this id" in (await response.json())["error"]


@pytest.mark.parametrize("role", [Role.MANAGER, Role.QUALITY, Role.ADMIN])
async def test_only_operators_reach_it(client: Client, accounts: dict[Role, Account],
                                       role: Role) -> None:
    response = await client.post(URL, json={"call_id": "F1"},
                                 headers={"Authorization": f"Bearer {accounts[role].token}"})
    assert response.status == 403
