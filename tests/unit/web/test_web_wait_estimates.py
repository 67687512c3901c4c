"""/metrics carries today's wait-estimate error: clinicall's and the engine's baseline."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import Call, Direction, QueueAttempt, QueueOutcome, Role
from clinicall.db.wait_estimates import record_estimate
from clinicall.db.writer import StoreWriter

from .web_fixtures import NOW, Account

Client = TestClient[web.Request, web.Application]


async def test_metrics_carry_the_estimate_error_of_both_estimators(
    client: Client, accounts: dict[Role, Account], db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    joined = NOW - timedelta(minutes=10)
    async with db_sessions.begin() as session, StoreWriter(session) as writer:
        call = Call(call_key="w1", direction=Direction.INBOUND, started_at=joined,
                    answered_at=joined + timedelta(seconds=100))
        call.queue_attempts.append(QueueAttempt(
            channel_id="w1-ch", queue="therapy", joined_at=joined,
            connected_at=joined + timedelta(seconds=100), outcome=QueueOutcome.ANSWERED))
        session.add(call)
        writer.call_changed(Direction.INBOUND, None, None, joined, [joined])
        await record_estimate(session, call_key="w1", queue="therapy", announced_at=joined,
                              estimate_s=130.0, engine_estimate_s=40.0)
    headers = {"Authorization": f"Bearer {accounts[Role.MANAGER].token}"}
    lines = (await (await client.get("/metrics", headers=headers)).text()).splitlines()
    for estimator, error in (("clinicall", "30.0"), ("engine", "60.0")):
        for quantile in ("0.5", "0.9"):
            assert (f'clinicall_wait_estimate_error_seconds{{estimator="{estimator}",'
                    f'quantile="{quantile}"}} {error}') in lines
