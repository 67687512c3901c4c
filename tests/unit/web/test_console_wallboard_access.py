"""The wallboard's routes: every role may open it, nobody else; its socket refuses another
site's page; the kiosk URL opens only with the config's token."""

from __future__ import annotations

import pytest
from aiohttp import WSServerHandshakeError, web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import Role
from clinicall.settings.models import ClinicConfig
from clinicall.web import build_app

from .web_fixtures import FAST_COST, NOW, SECRET, Account, FakeLive, log_in

Client = TestClient[web.Request, web.Application]
TOKEN = "a-wall-screen-token-0123456789"


@pytest.mark.parametrize("role", list(Role))
async def test_every_role_opens_the_wallboard_and_gets_a_state(
    client: Client, accounts: dict[Role, Account], role: Role
) -> None:
    await log_in(client, accounts[role])
    page = await client.get("/wallboard")
    assert page.status == 200
    assert 'data-socket="/ws/wallboard"' in await page.text()
    async with client.ws_connect("/ws/wallboard") as ws:
        state = (await ws.receive_json(timeout=5))["full"]  # a whole state first
    assert state["queues"][0]["queue"] == "ultrasound"
    assert {"waiting", "longest_wait_s", "service_level", "abandoned", "missed",
            "level"} <= set(state["queues"][0])


async def test_the_wallboard_needs_a_login(client: Client) -> None:
    page = await client.get("/wallboard", allow_redirects=False)
    assert (page.status, page.headers["Location"]) == (303, "/login?next=/wallboard")
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect("/ws/wallboard")
    assert refused.value.status == 401  # a socket is not sent to the login page


async def test_the_socket_refuses_another_sites_page(
    client: Client, accounts: dict[Role, Account]
) -> None:
    await log_in(client, accounts[Role.MANAGER])
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect("/ws/wallboard", origin="https://evil.example")
    assert refused.value.status == 403


@pytest.fixture
async def kiosk_client(
    db_sessions: async_sessionmaker[AsyncSession], clinic_config: ClinicConfig
) -> Client:
    console = clinic_config.console.model_copy(update={"kiosk_token": TOKEN})
    config = clinic_config.model_copy(update={"console": console})
    app = build_app(sessions=db_sessions, config=config, live=FakeLive(), secret=SECRET,
                    clock=lambda: NOW, password_cost=FAST_COST)
    return TestClient(TestServer(app))


@pytest.mark.parametrize("query", ["", "?token=", "?token=a-wall-screen-token-012345678"])
async def test_the_kiosk_is_not_found_without_its_token(
    kiosk_client: Client, query: str
) -> None:
    async with kiosk_client:
        for path in ("/kiosk/wallboard", "/kiosk/ws"):
            assert (await kiosk_client.get(path + query)).status == 404


async def test_the_kiosk_opens_with_its_token(kiosk_client: Client) -> None:
    async with kiosk_client:
        page = await kiosk_client.get(f"/kiosk/wallboard?token={TOKEN}")
        assert page.status == 200
        assert "/logout" not in await page.text()
        async with kiosk_client.ws_connect(f"/kiosk/ws?token={TOKEN}") as ws:
            assert "queues" in (await ws.receive_json(timeout=5))["full"]


async def test_without_a_configured_token_there_is_no_kiosk(client: Client) -> None:
    assert (await client.get("/kiosk/wallboard?token=")).status == 404
