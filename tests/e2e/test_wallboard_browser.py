"""The wallboard in a real browser, fed by the controller's live state: pushes repaint it with
no request from the page, a closed socket is marked stale and reconnects (its new socket starts
from a whole state, then deltas), the kiosk URL works
with its token only.  (The real-Asterisk version: test_wallboard_asterisk.py.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from clinicall.controller.facts import MemberSeen, MemberState, QueueJoined, QueueLeft
from clinicall.controller.tracking.live import LiveState
from clinicall.db import create_engine, session_factory
from clinicall.settings import load_config
from clinicall.web import build_app
from clinicall.web.i18n import tr
from clinicall.web.wallboard_push import PUSH

from .console_fixtures import EXAMPLE, FAST_COST, KIOSK_TOKEN, SECRET, Requests, add_users, log_in


def joined(n: int) -> QueueJoined:
    return QueueJoined(key=f"j{n}", at=datetime.now(UTC), call_id=f"c{n}", channel_id=f"c{n}",
                       queue="gynecology")


@pytest.fixture
async def live_server(sqlite_db_url: str) -> AsyncIterator[tuple[TestServer, LiveState]]:
    engine = create_engine(sqlite_db_url)
    await add_users(session_factory(engine))
    config = load_config(EXAMPLE)
    console = config.console.model_copy(update={"kiosk_token": KIOSK_TOKEN})
    config = config.model_copy(update={"console": console})
    live = LiveState()
    app = build_app(sessions=session_factory(engine), config=config, live=live,
                    secret=SECRET, password_cost=FAST_COST)
    server = TestServer(app)
    await server.start_server()
    yield server, live
    await server.close()
    await engine.dispose()


async def tile(page: Any, queue: str, field: str) -> str:
    return str(await page.inner_text(f'[data-queue="{queue}"] [data-field="{field}"]'))


async def test_pushes_repaint_the_board_without_a_request(
    browser: Any, live_server: tuple[TestServer, LiveState], tmp_path: Path
) -> None:
    server, live = live_server
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        await log_in(page, server, "oleh", "/wallboard")
        await page.wait_for_selector("#feed.live")
        assert await tile(page, "gynecology", "waiting") == "0"
        requests = Requests(page)
        live.apply(joined(1))
        live.apply(joined(2))
        await page.wait_for_function(
            """() => document.querySelector('[data-queue="gynecology"] [data-field="waiting"]')
                     .textContent === "2" """, timeout=5000)
        live.apply(MemberSeen(key="m", at=datetime.now(UTC), queue="gynecology",
                              member="PJSIP/op102", member_name="Iryna",
                              state=MemberState.IDLE, paused=True, pause_reason="lunch"))
        row = page.locator('tr[data-member="PJSIP/op102"]')
        await row.locator(".st-paused").wait_for(timeout=5000)
        assert "lunch" in await row.inner_text()
        live.apply(QueueLeft(key="l1", at=datetime.now(UTC), call_id="c1", channel_id="c1",
                             queue="gynecology"))
        await page.wait_for_function(
            """() => document.querySelector('[data-queue="gynecology"] [data-field="waiting"]')
                     .textContent === "1" """, timeout=5000)
        assert requests.urls == []  # every change came over the socket
    except Exception:
        await page.screenshot(path=str(tmp_path / "wallboard-failure.png"), full_page=True)
        raise


async def test_a_dropped_socket_is_marked_stale_and_reconnects(
    browser: Any, live_server: tuple[TestServer, LiveState], tmp_path: Path
) -> None:
    server, live = live_server
    page = await browser.new_page()
    try:
        await log_in(page, server, "maria", "/wallboard")
        await page.wait_for_selector("#feed.live")
        sockets: list[Any] = []
        frames: list[str] = []

        def opened(ws: Any) -> None:
            sockets.append(ws)
            ws.on("framereceived", lambda payload: frames.append(str(payload)))

        page.on("websocket", opened)
        await server.app[PUSH].close_all()  # the server drops every wallboard
        await page.wait_for_selector("#feed.stale", timeout=5000)
        assert await page.inner_text("#feed") == tr("uk", "stale")  # the clinic's language
        await page.wait_for_selector("#feed.live", timeout=10000)  # back after ~1 s
        assert len(sockets) == 1  # one new socket, not a request loop
        live.apply(joined(3))
        await page.wait_for_function(
            """() => document.querySelector('[data-queue="gynecology"] [data-field="waiting"]')
                     .textContent === "1" """, timeout=5000)
        # the new socket starts from a whole state; the join came as a delta
        assert frames[0].startswith('{"full": '), frames[:1]
        assert any(f.startswith('{"delta": {') and '"queues"' in f for f in frames[1:])
    except Exception:
        await page.screenshot(path=str(tmp_path / "wallboard-failure.png"), full_page=True)
        raise


async def test_the_kiosk_url_needs_its_token(
    browser: Any, live_server: tuple[TestServer, LiveState]
) -> None:
    server, live = live_server
    page = await browser.new_page()
    wrong = await page.goto(str(server.make_url("/kiosk/wallboard?token=guess")))
    assert wrong.status == 404
    await page.goto(str(server.make_url(f"/kiosk/wallboard?token={KIOSK_TOKEN}")))
    await page.wait_for_selector("#feed.live")
    live.apply(joined(4))
    await page.wait_for_function(
        """() => document.querySelector('[data-queue="gynecology"] [data-field="waiting"]')
                 .textContent === "1" """, timeout=5000)
    assert await page.locator("form[action='/logout']").count() == 0  # nobody is signed in
