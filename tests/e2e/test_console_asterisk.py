"""The console on the real Asterisk 22 and the real controller (``clinicall.app.running``, as
``clinicall run`` starts it, with the same operator desk):

- wallboard: a patient calls, the IVR routes them to gynecology, and the waiting counter on an
  open wallboard changes with no request from the page; it goes back when they hang up;
- operator: op102 pauses with a reason (seen in the engine's queue status and on the
  wallboard), resumes, gets a
  real call routed to them with a screen-pop (IVR path in words, a previous call of the
  number), flags it as a complaint (a case linked to the call) and marks it resolved: the
  disposition and the caller's name are on the call; the call is then in the operator's own
  history, where flagging it again gives the same case."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select
from store_writes import writing

from clinicall.app import Running, operator_desk, running
from clinicall.controller.port import QueueMemberStatus
from clinicall.db.models import (
    Call,
    Complaint,
    ComplaintCall,
    Direction,
    MissCause,
    Role,
)
from clinicall.sandbox.errors import SandboxUnavailable
from clinicall.sandbox.rootfs import ensure_root
from clinicall.settings import load_config
from clinicall.simclinic.clinic import SimulatedClinic
from clinicall.web import build_app
from clinicall.web.i18n import LANG_COOKIE
from clinicall.web.users import add_user

from .console_fixtures import (
    EXAMPLE,
    FAST_COST,
    PASSWORD,
    SECRET,
    Requests,
    add_users,
    log_in,
)

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
                                   name="console") as clinic:
        for op in clinic.config.operators:
            await clinic.set_operator(op.id, "noanswer")  # the patient stays in the queue
        yield clinic


@pytest.fixture
async def running_parts(clinic: SimulatedClinic, tmp_path: Path) -> AsyncIterator[Running]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'clinicall.db'}"
    async with running(clinic.config, db_url=url, now=lambda: TUESDAY_10_KYIV,
                       queue_log=clinic.asterisk.queue_log_path) as parts:
        await parts.engine.wait_up(10)
        await add_users(parts.sessions)
        yield parts


@pytest.fixture
async def console(clinic: SimulatedClinic, running_parts: Running) -> AsyncIterator[TestServer]:
    parts = running_parts
    app = build_app(sessions=parts.sessions, config=clinic.config, live=parts.tracker.live,
                    health=parts.engine.health, account=parts.tracker.health,
                    secret=SECRET, password_cost=FAST_COST,
                    desk=operator_desk(clinic.config, parts))
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


PATIENT = "+380501112233"


async def _member(parts: Running, queue: str, operator_id: str) -> QueueMemberStatus:
    (status,) = [q for q in await parts.engine.control.queue_status() if q.queue == queue]
    return next(m for m in status.members if m.member_name == operator_id)


async def test_an_operator_pauses_and_gets_a_screen_pop_and_a_disposition(
    browser: Any, clinic: SimulatedClinic, running_parts: Running, console: TestServer,
    tmp_path: Path,
) -> None:
    parts = running_parts
    earlier = datetime.now(UTC) - timedelta(days=3)
    async with writing(parts.sessions) as session:
        session.add(Call(call_key="earlier-call", direction=Direction.INBOUND,
                         started_at=earlier, caller=PATIENT, route="gynecology",
                         missed=True, miss_cause=MissCause.ABANDONED))
    await add_user(parts.sessions, "op102", Role.OPERATOR, PASSWORD, cost=FAST_COST)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    await context.add_cookies([{"name": LANG_COOKIE, "value": "en",  # English words
                                "url": str(console.make_url("/"))}])
    page = await context.new_page()
    try:
        await log_in(page, console, "op102", "/operator")
        await page.wait_for_selector("#feed.live")
        await page.locator('#my-queues tr[data-queue="gynecology"]',
                           has_text="logged in").wait_for(timeout=10000)

        await page.select_option("#pause-reason", "lunch")
        await page.click("#pause")
        await page.locator("#pause-state", has_text="paused: Lunch").wait_for(timeout=5000)
        member = await _member(parts, "gynecology", "op102")
        assert (member.paused, member.pause_reason) == (True, "lunch")  # in the engine
        board = await context.new_page()  # and on the wallboard (the same session)
        await board.goto(str(console.make_url("/wallboard")))
        await board.locator("#operators tr", has_text="op102").locator(
            ".st-paused").wait_for(timeout=5000)
        assert "lunch" in await board.locator("#operators tr", has_text="op102").inner_text()
        await board.close()
        await page.click("#resume")
        await page.locator('#my-queues tr[data-queue="gynecology"]',
                           has_text="logged in").wait_for(timeout=5000)
        assert not (await _member(parts, "gynecology", "op102")).paused

        await clinic.set_operator("op102", "answer", ring_s=3, talk_s=4)
        call = await clinic.call(digits="1w2", number=ENGLISH_NUMBER, hold_s=40,
                                 caller=PATIENT)
        await clinic.tracer.wait_for(call, "AgentCalled", timeout=30)
        await page.locator("#pop").wait_for(state="visible", timeout=1000)  # within a second
        assert await page.inner_text('[data-pop="path"]') == "Appointments › Gynecology"
        assert await page.inner_text('[data-pop="number"]') == PATIENT
        assert await page.inner_text('[data-pop="language"]') == "en"
        assert "missed (abandoned)" in await page.inner_text("#pop-previous")

        await page.locator("#after-call").wait_for(state="visible", timeout=30000)
        await page.fill("#flag-note", "shouted at the front desk")  # the call just taken
        await page.click("#flag-complaint")
        await page.locator("#flag-done", has_text="Complaint case #").wait_for(timeout=20000)
        await page.click('button[data-disposition="resolved"]')
        await page.locator("#disposition-done", has_text="saved").wait_for(timeout=20000)
        async with parts.sessions() as session:
            stored = await session.scalar(select(Call).where(Call.call_key == call))
        assert stored is not None
        assert (stored.disposition, stored.disposition_by) == ("resolved", "op102")
        assert stored.caller_name == "Patient"
        async with parts.sessions() as session:
            case = await session.scalar(select(Complaint).join(
                ComplaintCall, ComplaintCall.complaint_id == Complaint.id).where(
                ComplaintCall.call_id == stored.id))
            assert case is not None
        assert case.summary.endswith(": shouted at the front desk")
        await page.click("#my-calls-refresh")  # the call is in their own history now
        taken = page.locator(f'#my-calls tr[data-call="{call}"]')
        await taken.locator("button.flag-call").click()  # flagged again: the same case
        await taken.locator("td", has_text=f"Complaint case #{case.id}").wait_for(timeout=5000)
    except Exception:
        await page.screenshot(path=str(tmp_path / "operator-asterisk-failure.png"),
                              full_page=True)
        raise


async def _listed(parts: Running, queue: str, operator_id: str) -> bool:
    (status,) = [q for q in await parts.engine.control.queue_status() if q.queue == queue]
    return any(m.member_name == operator_id for m in status.members)


async def test_an_operator_logs_out_of_a_queue_and_back_in_from_the_page(
    browser: Any, running_parts: Running, console: TestServer, tmp_path: Path,
) -> None:
    """Operators are dynamic members (no static ones in the generated queues.conf), so the
    engine takes the logout: its queue status no longer lists them, then lists them again."""
    parts = running_parts
    assert await _listed(parts, "gynecology", "op102")  # logged in at start
    await add_user(parts.sessions, "op102", Role.OPERATOR, PASSWORD, cost=FAST_COST)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    await context.add_cookies([{"name": LANG_COOKIE, "value": "en",
                                "url": str(console.make_url("/"))}])
    page = await context.new_page()
    row = '#my-queues tr[data-queue="gynecology"]'
    try:
        await log_in(page, console, "op102", "/operator")
        await page.wait_for_selector("#feed.live")
        await page.locator(row, has_text="logged in").wait_for(timeout=10000)
        await page.click(f'{row} button[data-action="out"]')
        await page.locator(row, has_text="logged out").wait_for(timeout=10000)
        assert await page.inner_text("#desk-error") == ""
        assert not await _listed(parts, "gynecology", "op102")  # the engine let them go
        assert await _listed(parts, "universal", "op102")  # one queue only
        await page.click(f'{row} button[data-action="in"]')
        await page.locator(row, has_text="logged in").wait_for(timeout=10000)
        assert await _listed(parts, "gynecology", "op102")
    except Exception:
        await page.screenshot(path=str(tmp_path / "logout-asterisk-failure.png"),
                              full_page=True)
        raise
