"""In a real browser: a manager logs in and reads the seeded numbers; an operator is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy.ext.asyncio import AsyncEngine
from store_writes import writing

from clinicall.controller.facts import QueueJoined
from clinicall.controller.tracking.live import LiveState
from clinicall.db import create_engine, session_factory
from clinicall.db.models import Call, Direction, MissCause, QueueAttempt, QueueOutcome, Role
from clinicall.settings import load_config
from clinicall.web import build_app
from clinicall.web.cookies import COOKIE_NAME, LOGIN_CSRF_COOKIE
from clinicall.web.i18n import LANG_COOKIE, tr
from clinicall.web.passwords import PasswordCost
from clinicall.web.users import add_user

from .console_fixtures import Requests, log_in

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "clinic.example.yaml"
NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
PASSWORD = "browser-test pass"
FAST_COST = PasswordCost(time_cost=1, memory_kib=1024, parallelism=1)  # tests only


@dataclass(frozen=True, slots=True)
class QueueNow:
    waiting: int
    longest_wait_s: float
    available: int
    paused: int
    in_call: int


class StillLive:
    def snapshot(self, now: datetime) -> dict[str, QueueNow]:
        return {"gynecology": QueueNow(6, 128.5, 1, 2, 4)}


async def _seed(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    for name, role in (("maria", Role.MANAGER), ("oleh", Role.OPERATOR)):
        await add_user(sessions, name, role, PASSWORD, cost=FAST_COST)
    start = NOW - timedelta(hours=3)
    waits = [(12.0, QueueOutcome.ANSWERED), (45.0, QueueOutcome.ANSWERED),
             (15.0, QueueOutcome.ANSWERED), (90.0, QueueOutcome.ABANDONED)]
    async with writing(sessions) as session:
        for n, (wait, outcome) in enumerate(waits):
            at = start + timedelta(minutes=7 * n)
            missed = outcome is not QueueOutcome.ANSWERED
            call = Call(call_key=f"E{n}", direction=Direction.INBOUND, started_at=at,
                        caller=f"+38050111222{n}", missed=missed,
                        miss_cause=MissCause.ABANDONED if missed else None)
            call.queue_attempts.append(QueueAttempt(
                channel_id=f"EU{n}", queue="gynecology", joined_at=at, outcome=outcome,
                wait_s=wait, left_at=at + timedelta(seconds=wait),
                connected_at=None if missed else at + timedelta(seconds=wait)))
            session.add(call)


@pytest.fixture
async def server(sqlite_db_url: str) -> AsyncIterator[TestServer]:
    engine = create_engine(sqlite_db_url)
    await _seed(engine)
    app = build_app(sessions=session_factory(engine), config=load_config(EXAMPLE),
                    live=StillLive(), secret=b"e2e-secret-" * 4, clock=lambda: NOW,
                    password_cost=FAST_COST)
    server = TestServer(app)
    await server.start_server()
    yield server
    await server.close()
    await engine.dispose()


async def english(page: Any, server: TestServer) -> None:
    """These tests read the English words: the user picked English (the clinic's is uk)."""
    await page.context.add_cookies([{"name": LANG_COOKIE, "value": "en",
                                     "url": str(server.make_url("/"))}])


async def _log_in(page: Any, server: TestServer, name: str) -> None:
    await english(page, server)
    await page.goto(str(server.make_url("/")))
    assert page.url.endswith("/login")
    await page.fill("input[name=username]", name)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")


async def test_manager_sees_the_seeded_numbers(
    browser: Any, server: TestServer, tmp_path: Path
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await _log_in(page, server, "maria")
    await page.wait_for_selector("text=Queues today")
    cell = page.locator

    async def text(attr: str, key: str) -> str:
        return str(await cell(f'[data-{attr}="{key}"]').inner_text())

    assert await text("kpi", "gynecology:offered") == "4"
    assert await text("kpi", "gynecology:answered") == "3"
    assert await text("kpi", "gynecology:abandoned") == "1"
    assert await text("kpi", "gynecology:service_level") == "50.0 %"  # 12 s and 15 s ≤ 20 s
    assert await text("kpi", "gynecology:asa") == "24.0 s"
    assert await text("kpi", "calls:missed") == "1"
    assert await text("live", "gynecology:waiting") == "6"
    assert await text("live", "gynecology:longest_wait_s") == "128.5 s"
    assert "Медичний центр" in await page.title()
    await page.wait_for_selector("#feed.live")  # the first push: the same text as the page
    assert (await page.inner_text("#updated")).startswith("updated ")
    assert await text("kpi", "gynecology:asa") == "24.0 s"
    assert await text("kpi", "calls:missed_rate") == "25.0 %"
    assert await text("live", "gynecology:longest_wait_s") == "128.5 s"
    shot = tmp_path / "dashboard.png"
    await page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")


@pytest.fixture
async def live_server(sqlite_db_url: str) -> AsyncIterator[tuple[TestServer, LiveState]]:
    engine = create_engine(sqlite_db_url)
    await _seed(engine)
    live = LiveState()
    app = build_app(sessions=session_factory(engine), config=load_config(EXAMPLE), live=live,
                    secret=b"e2e-secret-" * 4, password_cost=FAST_COST)
    server = TestServer(app)
    await server.start_server()
    yield server, live
    await server.close()
    await engine.dispose()


async def test_the_dashboard_is_pushed_not_polled(
    browser: Any, live_server: tuple[TestServer, LiveState], tmp_path: Path
) -> None:
    server, live = live_server
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    waiting = '[data-live="gynecology:waiting"]'
    try:
        await page.context.add_cookies([{"name": LANG_COOKIE, "value": "ru",
                                         "url": str(server.make_url("/"))}])
        await log_in(page, server, "maria", "/")
        await page.wait_for_selector("#feed.live")
        assert await page.inner_text("#feed") == tr("ru", "live")
        assert "Гинекология" in await page.inner_text("main")  # the queue's Russian name
        assert await page.inner_text(waiting) == "0"
        requests = Requests(page)
        for n in (1, 2):
            live.apply(QueueJoined(key=f"j{n}", at=datetime.now(UTC), call_id=f"c{n}",
                                   channel_id=f"c{n}", queue="gynecology"))
        await page.wait_for_function(
            f"() => document.querySelector('{waiting}').textContent === '2'", timeout=5000)
        assert (await page.inner_text("#updated")).startswith(tr("ru", "updated") + " ")
        assert requests.urls == []  # the change came over the socket, no request
    except Exception:
        await page.screenshot(path=str(tmp_path / "dashboard-push-failure.png"), full_page=True)
        raise


async def test_operator_is_refused_the_dashboard(browser: Any, server: TestServer) -> None:
    page = await browser.new_page()
    await _log_in(page, server, "oleh")
    await page.wait_for_url("**/operator")  # an operator's home is their desk
    await page.goto(str(server.make_url("/")))
    await page.wait_for_selector("text=Not allowed")
    assert "Your role (operator) may not open this page." in await page.inner_text("main")
    response = await page.goto(str(server.make_url("/api/kpi")))
    assert response.status == 403
    response = await page.goto(str(server.make_url("/api/live")))
    assert response.status == 200


async def test_wrong_password_stays_on_the_login_page(browser: Any, server: TestServer) -> None:
    page = await browser.new_page()
    await english(page, server)
    await page.goto(str(server.make_url("/login")))
    await page.fill("input[name=username]", "maria")
    await page.fill("input[name=password]", "not it")
    await page.click("button[type=submit]")
    await page.wait_for_selector("text=Wrong user name or password.")
    names = [cookie["name"] for cookie in await page.context.cookies()]
    assert sorted(names) == sorted([LOGIN_CSRF_COOKIE, LANG_COOKIE])  # no session


async def test_log_out_ends_the_session_for_a_copied_cookie(
    browser: Any, server: TestServer
) -> None:
    page = await browser.new_page()
    await _log_in(page, server, "maria")
    await page.wait_for_selector("text=Queues today")
    session = [c for c in await page.context.cookies() if c["name"] == COOKIE_NAME]
    assert len(session) == 1
    await page.click("form[action='/logout'] button")
    await page.wait_for_selector("input[name=username]")
    assert page.url.endswith("/login")
    other = await browser.new_context()  # another browser holding a copy of the old cookie
    await other.add_cookies(session)
    replay = await other.new_page()
    await replay.goto(str(server.make_url("/")))
    assert replay.url.endswith("/login")
    await other.close()
