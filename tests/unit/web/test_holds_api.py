"""Manual legal holds over HTTP on the real application and a real SQLite store: a manager or
a quality reviewer holds a recording and releases it, each step audited in the hash chain;
retention keeps the held recording and takes it once released; bad requests say why."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import (
    Recording,
    RecordingAccess,
    RecordingAction,
    RecordingHold,
    Role,
    User,
)
from clinicall.recordings import retention
from clinicall.recordings.audit import verify
from clinicall.settings.models import ClinicConfig
from clinicall.web import build_app

from .web_fixtures import FAST_COST, NOW, SECRET, Account, FakeLive

Client = TestClient[web.Request, web.Application]
OLD = NOW - timedelta(days=400)  # far past quality's 90 days
POLICY = retention.Policy({"quality": 90}, 30)


@pytest.fixture
async def recording(db_sessions: async_sessionmaker[AsyncSession]) -> int:
    async with db_sessions.begin() as session:
        row = Recording(call_key="H1", path="2025/10/30/1.orig.ogg", format="ogg",
                        size_bytes=10, sha256="d" * 64, started_at=OLD, imported_at=OLD)
        session.add(row)
        await session.flush()
        return row.id


@pytest.fixture
async def client(db_sessions: async_sessionmaker[AsyncSession], clinic_config: ClinicConfig,
                 recording: int) -> AsyncIterator[Client]:
    app = build_app(sessions=db_sessions, config=clinic_config, live=FakeLive(), secret=SECRET,
                    clock=lambda: NOW, password_cost=FAST_COST)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def bearer(account: Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.token}"}


async def due(sessions: async_sessionmaker[AsyncSession]) -> list[int]:
    return [item.recording_id for item in (await retention.plan(sessions, POLICY, NOW)).due]


async def test_a_hold_keeps_the_recording_until_released_and_both_are_audited(
    client: Client, accounts: dict[Role, Account], recording: int,
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert await due(db_sessions) == [recording]
    url = f"/api/recordings/{recording}/hold"
    held = await client.post(url, headers=bearer(accounts[Role.MANAGER]),
                             json={"reason": "lawsuit 2026-114"})
    assert held.status == 201, await held.text()
    body = await held.json()
    assert (body["recording_id"], body["reason"], body["released_at"]) == (
        recording, "lawsuit 2026-114", None)
    assert await due(db_sessions) == []

    again = await client.post(url, headers=bearer(accounts[Role.QUALITY]),
                              json={"reason": "also"})
    assert again.status == 409
    assert "already held" in (await again.json())["error"]

    released = await client.post(url + "/release", headers=bearer(accounts[Role.QUALITY]),
                                 json={"reason": "case closed"})
    assert released.status == 200, await released.text()
    assert (await released.json())["released_at"] == NOW.isoformat()
    assert await due(db_sessions) == [recording]
    twice = await client.post(url + "/release", headers=bearer(accounts[Role.QUALITY]),
                              json={"reason": "again"})
    assert twice.status == 409

    async with db_sessions() as session:
        rows = list(await session.scalars(select(RecordingAccess).order_by(RecordingAccess.id)))
        holds = list(await session.scalars(select(RecordingHold)))
        users = {name: uid for name, uid in await session.execute(select(User.username, User.id))}
    assert [(r.action, r.reason, r.user_id) for r in rows] == [
        (RecordingAction.HOLD, "lawsuit 2026-114", users[accounts[Role.MANAGER].username]),
        (RecordingAction.HOLD, "case closed", users[accounts[Role.QUALITY].username])]
    assert [r.detail for r in rows] == [f"hold {holds[0].id} set",
                                        f"hold {holds[0].id} released"]
    assert (await verify(db_sessions)).intact


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "  "}, {"reason": 5},
                                  {"reason": "x" * 256}, [1]])
async def test_a_hold_needs_a_reason(client: Client, accounts: dict[Role, Account],
                                     recording: int, body: object) -> None:
    response = await client.post(f"/api/recordings/{recording}/hold",
                                 headers=bearer(accounts[Role.MANAGER]), json=body)
    assert response.status == 400
    assert "error" in await response.json()


@pytest.mark.parametrize("rid", ["999", "abc", "1e3"])
async def test_no_such_recording_is_not_found(client: Client, accounts: dict[Role, Account],
                                              rid: str) -> None:
    response = await client.post(f"/api/recordings/{rid}/hold",
                                 headers=bearer(accounts[Role.MANAGER]), json={"reason": "x"})
    assert response.status == 404


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.ADMIN])
async def test_operators_and_admins_may_not_hold(client: Client, accounts: dict[Role, Account],
                                                 recording: int, role: Role) -> None:
    response = await client.post(f"/api/recordings/{recording}/hold",
                                 headers=bearer(accounts[role]), json={"reason": "x"})
    assert response.status == 403


async def test_the_open_holds_are_listed_with_who_and_why_until_released(
    client: Client, accounts: dict[Role, Account], recording: int,
) -> None:
    manager, quality = bearer(accounts[Role.MANAGER]), bearer(accounts[Role.QUALITY])
    empty = await client.get("/api/holds", headers=quality)
    assert (empty.status, await empty.json()) == (200, {"holds": []})
    url = f"/api/recordings/{recording}/hold"
    assert (await client.post(url, headers=manager, json={"reason": "regulator"})).status == 201
    listed = (await (await client.get("/api/holds", headers=quality)).json())["holds"]
    assert [(h["recording_id"], h["held_by"], h["reason"], h["held_at"], h["call_key"])
            for h in listed] == [(recording, accounts[Role.MANAGER].username, "regulator",
                                  NOW.isoformat(), "H1")]
    released = await client.post(url + "/release", headers=quality, json={"reason": "done"})
    assert released.status == 200
    after = await client.get("/api/holds", headers=manager)
    assert (await after.json()) == {"holds": []}


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.ADMIN])
async def test_operators_and_admins_may_not_list_holds(
    client: Client, accounts: dict[Role, Account], role: Role,
) -> None:
    response = await client.get("/api/holds", headers=bearer(accounts[role]))
    assert response.status == 403
