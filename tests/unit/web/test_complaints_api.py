"""Complaint cases: the steps in order with their deadlines from the config, calls and their
recordings linked, overdue cases flagged in the list and counted on /metrics."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from store_writes import writing

from clinicall.db.models import (
    Call,
    Complaint,
    ComplaintRecording,
    ComplaintState,
    Direction,
    Recording,
    Role,
)
from clinicall.recordings import complaints
from clinicall.settings.models import Complaints

from .web_fixtures import NOW, Account

Client = TestClient[web.Request, web.Application]
RULES = Complaints(acknowledge_within_hours=24, resolve_within_days=5)


def bearer(account: Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.token}"}


async def test_a_case_takes_each_step_in_order_to_its_deadlines(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions.begin() as session:
        case = await complaints.open_case(session, RULES, summary="rude operator", now=NOW)
        assert case.acknowledge_due_at == NOW + timedelta(hours=24)
        assert case.due_at == NOW + timedelta(days=5)
        case_id = case.id
    steps = [ComplaintState.ACKNOWLEDGED, ComplaintState.INVESTIGATING,
             ComplaintState.RESOLVED, ComplaintState.REVIEWED]
    async with db_sessions.begin() as session:
        with pytest.raises(complaints.CaseError, match="cannot become resolved"):
            await complaints.advance(session, case_id, ComplaintState.RESOLVED, now=NOW,
                                     note="x")
    for i, step in enumerate(steps, 1):
        async with db_sessions.begin() as session:
            note = "apology and a free visit" if step is ComplaintState.RESOLVED else ""
            case = await complaints.advance(session, case_id, step,
                                            now=NOW + timedelta(hours=i), note=note)
    assert case.state is ComplaintState.REVIEWED
    assert case.acknowledged_at == NOW + timedelta(hours=1)
    assert case.resolved_at == NOW + timedelta(hours=3)
    assert case.resolution == "apology and a free visit"
    assert case.reviewed_at == NOW + timedelta(hours=4)


async def test_resolving_needs_the_decision(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    async with db_sessions.begin() as session:
        case = await complaints.open_case(session, RULES, summary="late", now=NOW)
        for step in (ComplaintState.ACKNOWLEDGED, ComplaintState.INVESTIGATING):
            await complaints.advance(session, case.id, step, now=NOW)
        with pytest.raises(complaints.CaseError, match="needs the decision"):
            await complaints.advance(session, case.id, ComplaintState.RESOLVED, now=NOW)


async def test_linking_a_call_links_its_recordings(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with writing(db_sessions) as session:
        call = Call(call_key="C1", direction=Direction.INBOUND, caller="+380671112233",
                    started_at=NOW, missed=False)
        session.add(call)
        await session.flush()
        call_id = call.id
    async with db_sessions.begin() as session:
        for n in range(2):
            session.add(Recording(call_id=call_id, call_key="C1", path=f"p{n}", format="ogg",
                                  size_bytes=1, sha256="d" * 64, started_at=NOW,
                                  imported_at=NOW))
    async with db_sessions.begin() as session:
        case = await complaints.open_case(session, RULES, summary="x", now=NOW, call_id=call_id)
        case_id = case.id
    async with db_sessions.begin() as session:
        assert await complaints.link_call(session, case_id, call_id, now=NOW) == 0  # idempotent
    async with db_sessions() as session:
        linked = list(await session.scalars(select(ComplaintRecording.recording_id).where(
            ComplaintRecording.complaint_id == case_id)))
    assert len(linked) == 2


async def test_overdue_cases_are_flagged_and_counted_on_metrics(
    client: Client, accounts: dict[Role, Account], db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    manager = bearer(accounts[Role.MANAGER])
    async with db_sessions.begin() as session:
        await complaints.open_case(session, RULES, summary="old, never acknowledged",
                                   now=NOW - timedelta(days=2))
        late = await complaints.open_case(session, RULES, summary="acknowledged, not resolved",
                                          now=NOW - timedelta(days=6))
        await complaints.advance(session, late.id, ComplaintState.ACKNOWLEDGED, now=NOW)
    made = await client.post("/api/complaints", headers=manager,
                             json={"summary": "from a review site", "topic": "wait"})
    assert made.status == 201
    assert (await made.json())["overdue"] is False

    listed = (await (await client.get("/api/complaints", headers=manager)).json())["complaints"]
    assert {c["summary"]: c["overdue"] for c in listed} == {
        "old, never acknowledged": True, "acknowledged, not resolved": True,
        "from a review site": False}
    metrics = await (await client.get("/metrics", headers=manager)).text()
    assert 'clinicall_complaints_overdue{deadline="acknowledge"} 1.0' in metrics
    assert 'clinicall_complaints_overdue{deadline="resolve"} 1.0' in metrics


async def test_state_changes_over_http_and_refusals(
    client: Client, accounts: dict[Role, Account], db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    quality = bearer(accounts[Role.QUALITY])
    made = await (await client.post("/api/complaints", headers=quality,
                                    json={"summary": "no call back"})).json()
    url = f"/api/complaints/{made['id']}/state"
    skipped = await client.post(url, headers=quality, json={"state": "reviewed"})
    assert skipped.status == 400
    assert "cannot become reviewed" in (await skipped.json())["error"]
    moved = await client.post(url, headers=quality, json={"state": "acknowledged"})
    assert (await moved.json())["state"] == "acknowledged"
    assert (await client.post(url, headers=quality, json={"state": "closed"})).status == 400
    assert (await client.post("/api/complaints", headers=quality, json={})).status == 400
    no_call = await client.post("/api/complaints", headers=quality,
                                json={"summary": "s", "call_id": 999999})
    assert (no_call.status, (await no_call.json())["error"]) == (400, "no call 999999")
    attach = await client.post(f"/api/complaints/{made['id']}/calls", headers=quality,
                               json={"call_id": 999999})
    assert attach.status == 400
    missing_case = await client.post("/api/complaints/999999/calls", headers=quality,
                                     json={"call_id": 1})
    assert missing_case.status == 404
    operator = bearer(accounts[Role.OPERATOR])
    assert (await client.get("/api/complaints", headers=operator)).status == 403
    assert (await client.post(url, headers=operator, json={"state": "x"})).status == 403
    async with db_sessions() as session:
        case = await session.get(Complaint, made["id"])
        assert case is not None
        assert case.state is ComplaintState.ACKNOWLEDGED
