"""Fixtures for the web tests: the example clinic, one user per role, and a test client on
the real application (aiohttp's TestServer/TestClient, no plugin)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import Role
from clinicall.settings import load_config
from clinicall.settings.models import ClinicConfig
from clinicall.web import build_app
from clinicall.web.users import add_user

from .web_fixtures import (
    EXAMPLE,
    FAST_COST,
    NOW,
    SECRET,
    Account,
    FakeAccount,
    FakeHealth,
    FakeLive,
)


@pytest.fixture(scope="session")
def clinic_config() -> ClinicConfig:
    return load_config(EXAMPLE)


@pytest.fixture
async def accounts(db_sessions: async_sessionmaker[AsyncSession]) -> dict[Role, Account]:
    made: dict[Role, Account] = {}
    for role in Role:
        name, password = f"{role.value}1", f"pw-{role.value}-correct horse"
        new = await add_user(db_sessions, name, role, password, with_token=True,
                             cost=FAST_COST)
        assert new.api_token is not None
        made[role] = Account(name, password, role, new.api_token)
    return made


@pytest.fixture
def health() -> FakeHealth:
    return FakeHealth()


@pytest.fixture
def account() -> FakeAccount:
    return FakeAccount()


@pytest.fixture
async def client(
    db_sessions: async_sessionmaker[AsyncSession], clinic_config: ClinicConfig,
    health: FakeHealth, account: FakeAccount,
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = build_app(sessions=db_sessions, config=clinic_config, live=FakeLive(), secret=SECRET,
                    clock=lambda: NOW, health=health, account=account, password_cost=FAST_COST)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client
