"""The appointments' HTTP API: token-authenticated, role-checked, idempotent by the external
id; bad fields answered with a 400 naming each; tomorrow's list and the no-show risk."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.appointments import CONFIRMED, UNREACHED, AppointmentStore
from clinicall.db.models import Role

from .web_fixtures import NOW, Account

Client = TestClient[web.Request, web.Application]
ANNA = "+380501112233"


def bearer(account: Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.token}"}


def tomorrow() -> str:
    return (NOW + timedelta(days=1)).date().isoformat()


def booking(hour: str = "09:30") -> dict[str, str]:
    return {"phone": ANNA, "language": "uk", "doctor": "petrenko", "specialty": "ultrasound",
            "starts_at": f"{tomorrow()} {hour}"}


async def test_put_is_idempotent_by_the_external_id(client: Client,
                                                    accounts: dict[Role, Account]) -> None:
    manager = bearer(accounts[Role.MANAGER])
    first = await client.put("/api/appointments/B-1", json=booking(), headers=manager)
    assert first.status == 201
    body = await first.json()
    assert (body["result"], body["appointment"]["state"]) == ("created", "scheduled")
    assert body["appointment"]["starts_at"].startswith(f"{tomorrow()}T09:30:00")
    again = await client.put("/api/appointments/B-1", json=booking(), headers=manager)
    assert (again.status, (await again.json())["result"]) == (200, "unchanged")
    moved = await client.put("/api/appointments/B-1", json=booking("11:00"), headers=manager)
    assert (moved.status, (await moved.json())["result"]) == (200, "updated")
    listed = await client.get("/api/appointments", headers=manager)
    [one] = (await listed.json())["appointments"]
    assert (one["external_id"], one["phone"], one["starts_at"][11:16]) == ("B-1", ANNA, "11:00")


async def test_bad_fields_are_400_naming_each(client: Client,
                                              accounts: dict[Role, Account]) -> None:
    manager = bearer(accounts[Role.MANAGER])
    bad = {**booking(), "phone": "12", "doctor": "house"}
    response = await client.put("/api/appointments/B-2", json=bad, headers=manager)
    assert response.status == 400
    body = await response.json()
    assert sorted(body["fields"]) == ["doctor", "phone"]
    assert "E.164" in body["fields"]["phone"]
    not_json = await client.put("/api/appointments/B-2", data=b"[", headers=manager)
    assert not_json.status == 400
    bad_id = await client.put("/api/appointments/%20x", json=booking(), headers=manager)
    assert bad_id.status == 400
    bad_day = await client.get("/api/appointments?date=tomorrow", headers=manager)
    assert bad_day.status == 400


async def test_roles_and_the_token(client: Client, accounts: dict[Role, Account]) -> None:
    operator = bearer(accounts[Role.OPERATOR])
    assert (await client.put("/api/appointments/B-3", json=booking(),
                             headers=operator)).status == 403  # fmt: skip
    assert (await client.put("/api/appointments/B-3", json=booking(),
                             headers=bearer(accounts[Role.QUALITY]))).status == 403
    assert (await client.put("/api/appointments/B-3", json=booking())).status == 401
    assert (await client.put("/api/appointments/B-3", json=booking(),
                             headers={"Authorization": "Bearer wrong"})).status == 401
    admin = bearer(accounts[Role.ADMIN])
    assert (await client.put("/api/appointments/B-3", json=booking(), headers=admin)).status == 201
    read = await client.get("/api/appointments?risk=1", headers=operator)
    assert read.status == 200
    [one] = (await read.json())["appointments"]
    assert one["phone"] == "***233"  # operators see the number masked


@pytest.mark.parametrize("query", ["risk=2", "date=2026-13-01"])
async def test_bad_queries(client: Client, accounts: dict[Role, Account], query: str) -> None:
    response = await client.get(f"/api/appointments?{query}",
                                headers=bearer(accounts[Role.MANAGER]))  # fmt: skip
    assert response.status == 400
    assert "error" in await response.json()


async def test_metrics_count_todays_reminder_answers(
    client: Client, accounts: dict[Role, Account], db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    manager = bearer(accounts[Role.MANAGER])
    for external_id in ("B-4", "B-5", "B-6"):
        assert (await client.put(f"/api/appointments/{external_id}", json=booking(),
                                 headers=manager)).status == 201  # fmt: skip
    store = AppointmentStore(db_sessions)
    answered = NOW - timedelta(minutes=5)  # today, before the app's clock
    for external_id, result in (("B-4", CONFIRMED), ("B-5", CONFIRMED), ("B-6", UNREACHED)):
        row = await store.by_external_id(external_id)
        assert row is not None
        await store.record_answer(row.id, result, answered)
    lines = (await (await client.get("/metrics", headers=manager)).text()).splitlines()
    assert 'clinicall_reminders_total{result="confirmed"} 2.0' in lines
    assert 'clinicall_reminders_total{result="unreached"} 1.0' in lines
    assert not any('result="cancelled"' in line for line in lines)
