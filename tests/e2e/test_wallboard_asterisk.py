"""The wallboard on the real Asterisk 22 and the real controller (``clinicall.app.running``,
as ``clinicall run`` starts it): a patient calls, the IVR routes them to gynecology, and the
waiting counter on an open wallboard changes with no request from the page; it goes back
when the patient hangs up."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from clinicall.app import Running, running
from clinicall.sandbox.errors import SandboxUnavailable
from clinicall.sandbox.rootfs import ensure_root
from clinicall.settings import load_config
from clinicall.simclinic.clinic import SimulatedClinic
from clinicall.web import build_app

from .console_fixtures import EXAMPLE, FAST_COST, SECRET, Requests, add_users, log_in

pytestmark = pytest.mark.asterisk
SKIP_ENV = "CLINICALL_SKIP_ASTERISK"
ENGLISH_NUMBER = "+380441234568"  # fixes the language: no language menu
TUESDAY_10_KYIV = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # the IVR's clock: the clinic is open


@pytest.fixture(scope="module")
def asterisk_root() -> Path:
    try:
        return ensure_root(progress=lambda line: print(line, flush=True))
    except SandboxUnavailable as exc:
        if os.environ.get(SKIP_ENV) == "1":
            pytest.skip(f"{SKIP_ENV}=1 and the Asterisk sandbox is unavailable: {exc}")
        pytest.fail(f"The real-Asterisk sandbox cannot run here: {exc}", pytrace=False)


@pytest.fixture
async def clinic(asterisk_root: Path, chromium_path: Path) -> AsyncIterator[SimulatedClinic]:
    async with SimulatedClinic.run(load_config(EXAMPLE), root=asterisk_root,
                                   name="wallboard") as clinic:
        for op in clinic.config.operators:
            await clinic.set_operator(op.id, "noanswer")  # the patient stays in the queue
        yield clinic


@pytest.fixture
async def console(clinic: SimulatedClinic, tmp_path: Path) -> AsyncIterator[TestServer]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'clinicall.db'}"
    parts: Running
    async with running(clinic.config, db_url=url, now=lambda: TUESDAY_10_KYIV,
                       queue_log=clinic.asterisk.queue_log_path) as parts:
        await parts.engine.wait_up(10)
        await add_users(parts.sessions)
        app = build_app(sessions=parts.sessions, config=clinic.config, live=parts.tracker.live,
                        health=parts.engine.health, account=parts.tracker.health,
                        secret=SECRET, password_cost=FAST_COST)
        server = TestServer(app)
        await server.start_server()
        yield server
        await server.close()


async def test_a_patient_joining_a_queue_is_pushed_to_the_wallboard(
    browser: Any, clinic: SimulatedClinic, console: TestServer, tmp_path: Path
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    waiting = '[data-queue="gynecology"] [data-field="waiting"]'
    frames: list[object] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda frame: frames.append(frame)))
    try:
        await log_in(page, console, "oleh", "/wallboard")
        await page.wait_for_selector("#feed.live")
        assert await page.inner_text(waiting) == "0"
        requests = Requests(page)
        before = len(frames)
        call = await clinic.call(digits="1w2", number=ENGLISH_NUMBER, hold_s=60)
        await clinic.tracer.wait_for(call, "QueueCallerJoin", timeout=30)
        await page.wait_for_function(
            f"() => document.querySelector('{waiting}').textContent === '1'", timeout=5000)
        ringing = page.locator('#operators .st-ringing')
        await ringing.first.wait_for(timeout=10000)  # the queue rings an operator for them
        await clinic.hang_up(call)
        await page.wait_for_function(
            f"() => document.querySelector('{waiting}').textContent === '0'", timeout=10000)
        assert requests.urls == []  # no request at all while the numbers changed
        assert len(frames) - before >= 2  # the pushes that carried the changes
    except Exception:
        await page.screenshot(path=str(tmp_path / "wallboard-asterisk-failure.png"),
                              full_page=True)
        raise
