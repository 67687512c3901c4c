"""The callback jobs' JSON API: who may read and cancel, whose numbers are shown whole, bad
input answered with a clear 400, an unknown job 404, a settled job 409."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.callbacks import CallbackStore
from clinicall.db.models import CallbackReason, Role

from .web_fixtures import NOW, Account

Client = TestClient[web.Request, web.Application]
ANNA = "+380501112233"


@pytest.fixture
async def job(db_sessions: async_sessionmaker[AsyncSession]) -> int:
    store = CallbackStore(db_sessions, owner="t", lease=timedelta(minutes=3))
    made = NOW - timedelta(minutes=1)  # today, before the app's clock
    return await store.add_job(phone=ANNA, queue="therapy", reason=CallbackReason.MISSED,
                               arrived_at=made, due_at=made, now=made)  # fmt: skip


def bearer(account: Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.token}"}


@pytest.mark.parametrize(("role", "phone"), [
    (Role.MANAGER, ANNA), (Role.ADMIN, ANNA), (Role.OPERATOR, "***233"),
])  # fmt: skip
async def test_the_desk_reads_jobs_with_numbers_per_role(
    client: Client, accounts: dict[Role, Account], job: int, role: Role, phone: str
) -> None:
    response = await client.get("/api/callbacks?state=pending", headers=bearer(accounts[role]))
    assert response.status == 200
    [listed] = (await response.json())["jobs"]
    assert (listed["id"], listed["state"], listed["phone"]) == (job, "pending", phone)
    one = await client.get(f"/api/callbacks/{job}", headers=bearer(accounts[role]))
    body = await one.json()
    assert (body["job"]["phone"], body["attempts"]) == (phone, [])


async def test_quality_may_not_read_and_operators_may_not_cancel(
    client: Client, accounts: dict[Role, Account], job: int
) -> None:
    quality = await client.get("/api/callbacks", headers=bearer(accounts[Role.QUALITY]))
    assert quality.status == 403
    cancel = await client.post(f"/api/callbacks/{job}/cancel",
                               headers=bearer(accounts[Role.OPERATOR]))  # fmt: skip
    assert cancel.status == 403


async def test_a_manager_cancels_an_open_job_once(
    client: Client, accounts: dict[Role, Account], job: int
) -> None:
    manager = bearer(accounts[Role.MANAGER])
    first = await client.post(f"/api/callbacks/{job}/cancel", headers=manager)
    assert (first.status, await first.json()) == (200, {"cancelled": job})
    again = await client.post(f"/api/callbacks/{job}/cancel", headers=manager)
    assert again.status == 409
    missing = await client.post("/api/callbacks/999/cancel", headers=manager)
    assert missing.status == 404


async def test_the_queue_filter_lists_only_the_jobs_of_those_queues(
    client: Client, accounts: dict[Role, Account], job: int,
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    store = CallbackStore(db_sessions, owner="t", lease=timedelta(minutes=3))
    made = NOW - timedelta(minutes=2)
    other = await store.add_job(phone="+380671112233", queue="pediatrics", now=made,
                                reason=CallbackReason.MISSED, arrived_at=made, due_at=made)
    operator = bearer(accounts[Role.OPERATOR])

    async def listed(query: str) -> list[int]:
        response = await client.get(f"/api/callbacks?{query}", headers=operator)
        assert response.status == 200
        return [j["id"] for j in (await response.json())["jobs"]]

    assert await listed("state=pending&queue=therapy") == [job]
    assert await listed("queue=pediatrics,gynecology") == [other]
    assert await listed("state=pending&queue=therapy,pediatrics") == [job, other]


@pytest.mark.parametrize("query", ["state=lost", "limit=0", "limit=x", "limit=501",
                                   "queue=" + ",".join(["q"] * 51)])
async def test_bad_queries_are_400_with_the_reason(
    client: Client, accounts: dict[Role, Account], query: str
) -> None:
    response = await client.get(f"/api/callbacks?{query}",
                                headers=bearer(accounts[Role.MANAGER]))  # fmt: skip
    assert response.status == 400
    assert "error" in await response.json()


async def test_metrics_carry_todays_callback_figures(
    client: Client, accounts: dict[Role, Account], job: int
) -> None:
    manager = bearer(accounts[Role.MANAGER])
    assert (await client.post(f"/api/callbacks/{job}/cancel", headers=manager)).status == 200
    lines = (await (await client.get("/metrics", headers=manager)).text()).splitlines()
    assert 'clinicall_callback_jobs_total{cause="missed"} 1.0' in lines
    assert "clinicall_callback_missed_unreturned 0.0" in lines
    assert not any(line.startswith("clinicall_callback_success_ratio") for line in lines)
