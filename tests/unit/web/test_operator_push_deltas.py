"""The operator's socket sends a whole state once and then only what changed, like the
wallboard's: on a real application with a fake desk, a pause goes out as a patch that leaves
out what stayed (the operator, the other queues' rows), the patch applied to the first state
equals the whole state a reconnecting page gets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import Role
from clinicall.settings.models import ClinicConfig
from clinicall.web import build_app
from clinicall.web.operator_desk import OPERATOR_PUSH
from clinicall.web.state_delta import apply_patch
from clinicall.web.users import add_user

from .web_fixtures import FAST_COST, NOW, SECRET, Account, FakeLive, log_in

Client = TestClient[web.Request, web.Application]
PASSWORD = "pw-operator-correct horse"


@dataclass
class Membership:
    queue: str
    state: str = "available"
    paused: bool = False
    pause_reason: str = ""


@dataclass
class FakeDesk:
    """Only what the push reads: the operator's memberships and no call."""

    rows: list[Membership] = field(default_factory=lambda: [Membership("gynecology"),
                                                            Membership("universal")])

    def memberships(self, operator_id: str) -> list[Membership]:
        return self.rows

    async def log_in(self, operator_id: str, queue: str) -> None: ...
    async def log_out(self, operator_id: str, queue: str) -> None: ...
    async def pause(self, operator_id: str, *, paused: bool, reason: str = "") -> None: ...

    def call_now(self, operator_id: str) -> None:
        return None


@pytest.fixture
async def desk_client(
    db_sessions: async_sessionmaker[AsyncSession], clinic_config: ClinicConfig
) -> AsyncIterator[tuple[Client, FakeDesk, web.Application]]:
    await add_user(db_sessions, "op102", Role.OPERATOR, PASSWORD, cost=FAST_COST)
    desk = FakeDesk()
    app = build_app(sessions=db_sessions, config=clinic_config, live=FakeLive(), secret=SECRET,
                    clock=lambda: NOW, password_cost=FAST_COST, desk=desk)
    async with TestClient(TestServer(app)) as client:
        await log_in(client, Account("op102", PASSWORD, Role.OPERATOR, ""))
        yield client, desk, app


def row(state: dict[str, Any], queue: str) -> dict[str, Any]:
    return dict(next(q for q in state["queues"] if q["queue"] == queue))


async def test_a_pause_goes_out_as_a_delta_and_a_reconnect_gets_the_whole_state(
    desk_client: tuple[Client, FakeDesk, web.Application],
) -> None:
    client, desk, app = desk_client
    async with client.ws_connect("/ws/operator") as first:
        opened = await first.receive_json(timeout=5)
        assert set(opened) == {"full"}
        full = opened["full"]
        assert full["available"] is True
        assert full["operator"] == "op102"
        assert not row(full, "gynecology")["paused"]

        desk.rows[0].paused, desk.rows[0].pause_reason = True, "lunch"
        app[OPERATOR_PUSH].wake()
        message = await first.receive_json(timeout=5)
        assert set(message) == {"delta"}
        delta = message["delta"]
        assert "operator" not in delta  # what stayed is left out
        assert "available" not in delta
        now = apply_patch(full, delta)
        assert row(now, "gynecology")["paused"] is True
        assert row(now, "universal") == row(full, "universal")

        async with client.ws_connect("/ws/operator") as again:  # a page reconnecting
            whole = await again.receive_json(timeout=5)
        assert whole == {"full": now}
