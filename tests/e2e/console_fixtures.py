"""What the console's browser tests share: users, the app on a test server, logging in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import Role
from clinicall.web.passwords import PasswordCost
from clinicall.web.users import add_user

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "clinic.example.yaml"
PASSWORD = "browser-test pass"
FAST_COST = PasswordCost(time_cost=1, memory_kib=1024, parallelism=1)  # tests only
SECRET = b"e2e-secret-" * 4
KIOSK_TOKEN = "kiosk-token-for-the-wall-screen"


async def add_users(sessions: async_sessionmaker[AsyncSession]) -> None:
    for name, role in (("maria", Role.MANAGER), ("oleh", Role.OPERATOR), ("adam", Role.ADMIN)):
        await add_user(sessions, name, role, PASSWORD, cost=FAST_COST)


async def log_in(page: Any, server: TestServer, name: str, path: str = "/") -> None:
    await page.goto(str(server.make_url(path)))
    await page.fill("input[name=username]", name)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")


class Requests:
    """Every HTTP request a page makes (a WebSocket's frames are not requests)."""

    def __init__(self, page: Any) -> None:
        self.urls: list[str] = []
        page.on("request", lambda request: self.urls.append(request.url))
