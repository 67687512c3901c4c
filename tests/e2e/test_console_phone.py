"""Every console page on a 390 px wide phone: no sideways scroll (wide tables scroll inside
their own box instead), and every field has a label."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from clinicall.controller.facts import MemberSeen, MemberState, QueueJoined
from clinicall.controller.tracking.live import LiveState
from clinicall.db import create_engine, session_factory
from clinicall.db.models import Role
from clinicall.settings import load_config
from clinicall.web import build_app
from clinicall.web.i18n import LANG_COOKIE, LANGUAGES
from clinicall.web.users import add_user

from .console_fixtures import EXAMPLE, FAST_COST, PASSWORD, SECRET, add_users, log_in

PHONE = {"width": 390, "height": 844}
PAGES = {"maria": ["/", "/reports", "/wallboard", "/account"],
         "op102": ["/operator", "/wallboard"], "adam": ["/admin"]}


@pytest.fixture
async def server(sqlite_db_url: str) -> AsyncIterator[TestServer]:
    engine = create_engine(sqlite_db_url)
    sessions = session_factory(engine)
    await add_users(sessions)
    await add_user(sessions, "op102", Role.OPERATOR, PASSWORD, cost=FAST_COST)
    live = LiveState()
    now = datetime.now(UTC)
    live.apply(QueueJoined(key="j", at=now, call_id="c", channel_id="c", queue="gynecology"))
    live.apply(MemberSeen(key="m", at=now, queue="gynecology", member="PJSIP/op102",
                          member_name="op102", state=MemberState.IDLE, paused=True,
                          pause_reason="paperwork"))
    app = build_app(sessions=sessions, config=load_config(EXAMPLE), live=live, secret=SECRET,
                    password_cost=FAST_COST)
    server = TestServer(app)
    await server.start_server()
    yield server
    await server.close()
    await engine.dispose()


UNLABELLED = """() => [...document.querySelectorAll("input, select, textarea")]
  .filter(el => el.type !== "hidden" && !el.labels.length && !el.getAttribute("aria-label"))
  .map(el => el.name || el.id)"""


async def _every_field_is_labelled(page: Any) -> None:
    assert await page.evaluate(UNLABELLED) == [], page.url


async def _no_sideways_scroll(page: Any) -> None:
    widths = await page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{page.url}: {widths[0]} px wide on a {widths[1]} px screen"


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_no_page_scrolls_sideways_at_390_px(
    browser: Any, server: TestServer, tmp_path: Path, lang: str
) -> None:
    for user, paths in PAGES.items():
        context = await browser.new_context(viewport=PHONE)
        await context.add_cookies([{"name": LANG_COOKIE, "value": lang,
                                    "url": str(server.make_url("/"))}])
        page = await context.new_page()
        try:
            await page.goto(str(server.make_url("/login")))
            await _no_sideways_scroll(page)
            await log_in(page, server, user, paths[0])
            for path in paths:
                await page.goto(str(server.make_url(path)))
                await page.wait_for_load_state("networkidle")
                await _no_sideways_scroll(page)
                await _every_field_is_labelled(page)
        except Exception:
            await page.screenshot(path=str(tmp_path / f"phone-{user}-{lang}.png"),
                                  full_page=True)
            raise
        finally:
            await context.close()
