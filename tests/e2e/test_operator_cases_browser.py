"""The operator's page in a real browser, with the real desk (``controller.desk``) on the live
state: the screen-pop lists the caller's open callbacks and complaints (not settled ones, not
other numbers'), and "Callbacks of my queues" lists the open jobs of the operator's queues only,
read from ``/api/callbacks`` with the number masked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from store_writes import writing

from clinicall.controller.desk import OperatorDesk
from clinicall.controller.facts import MemberRung, MemberSeen, MemberState, QueueJoined
from clinicall.controller.port import OriginateRequest, OriginateResult, QueueStatus
from clinicall.controller.tracking.live import LiveState
from clinicall.db import create_engine, session_factory
from clinicall.db.callbacks import CallbackStore
from clinicall.db.models import CallbackReason, ComplaintState, Role
from clinicall.recordings import complaints
from clinicall.settings import load_config
from clinicall.web import build_app
from clinicall.web.i18n import LANG_COOKIE
from clinicall.web.users import add_user

from .console_fixtures import EXAMPLE, FAST_COST, PASSWORD, SECRET, log_in

ANNA, IVAN = "+380501112233", "+380671112233"


@dataclass
class IdleControl:
    """The engine port of a desk nobody logs in or out with in this test."""

    async def originate(self, request: OriginateRequest) -> OriginateResult:
        raise NotImplementedError

    async def queue_member_add(self, queue: str, member: str, *, name: str = "",
                               paused: bool = False, penalty: int = 0) -> None:
        raise NotImplementedError

    async def queue_member_remove(self, queue: str, member: str) -> None:
        raise NotImplementedError

    async def queue_member_pause(self, member: str, *, paused: bool, reason: str = "",
                                 queue: str | None = None) -> None:
        raise NotImplementedError

    async def queue_status(self) -> tuple[QueueStatus, ...]:
        return ()

    async def hangup(self, channel_id: str, *, cause: int = 16) -> None:
        raise NotImplementedError

    async def set_call_data(self, channel_id: str, name: str, value: str) -> None:
        raise NotImplementedError

    async def offer_callback(self, channel_id: str) -> None:
        raise NotImplementedError


@dataclass
class Jobs:
    gynecology_anna: int
    universal_ivan: int
    pediatrics_ivan: int
    complaint_anna: int


@pytest.fixture
async def desk_server(sqlite_db_url: str) -> AsyncIterator[tuple[TestServer, LiveState, Jobs]]:
    engine = create_engine(sqlite_db_url)
    sessions = session_factory(engine)
    await add_user(sessions, "op102", Role.OPERATOR, PASSWORD, cost=FAST_COST)
    store = CallbackStore(sessions, owner="t", lease=timedelta(minutes=3))
    at = datetime.now(UTC) - timedelta(hours=1)

    async def job(phone: str, queue: str) -> int:
        return await store.add_job(phone=phone, queue=queue, reason=CallbackReason.MISSED,
                                   arrived_at=at, due_at=at, now=at)

    jobs_made = (await job(ANNA, "gynecology"), await job(IVAN, "universal"),
                 await job(IVAN, "pediatrics"))  # op102 is not in pediatrics
    config = load_config(EXAMPLE)
    async with writing(sessions) as session:
        case = await complaints.open_case(session, config.complaints, summary="Rude on the phone",
                                          now=at, phone=ANNA, topic="staff")
        closed = await complaints.open_case(session, config.complaints, summary="Old one",
                                            now=at, phone=ANNA)
        closed.state = ComplaintState.RESOLVED
        await complaints.open_case(session, config.complaints, summary="Ivan's", now=at,
                                   phone=IVAN)
        case_id = case.id
    live = LiveState()
    desk = OperatorDesk(IdleControl(), live, lambda op: f"PJSIP/{op}", country_code="380")
    app = build_app(sessions=sessions, config=config, live=live, secret=SECRET,
                    password_cost=FAST_COST, desk=desk)
    server = TestServer(app)
    await server.start_server()
    yield server, live, Jobs(*jobs_made, case_id)
    await server.close()
    await engine.dispose()


async def test_the_pop_shows_open_cases_and_the_list_shows_my_queues_callbacks(
    browser: Any, desk_server: tuple[TestServer, LiveState, Jobs], tmp_path: Path
) -> None:
    server, live, jobs = desk_server
    now = datetime.now(UTC)
    live.apply(MemberSeen(key="m", at=now, queue="gynecology", member="PJSIP/op102",
                          member_name="op102", state=MemberState.IDLE, paused=False))
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    await context.add_cookies([{"name": LANG_COOKIE, "value": "en",
                                "url": str(server.make_url("/"))}])
    page = await context.new_page()
    try:
        await log_in(page, server, "op102", "/operator")
        await page.wait_for_selector("#feed.live")
        listed = page.locator("#my-callbacks tbody tr[data-job]")
        await listed.first.wait_for(timeout=5000)
        rows = {int(await r.get_attribute("data-job")): await r.inner_text()
                for r in await listed.all()}
        assert set(rows) == {jobs.gynecology_anna, jobs.universal_ivan}
        assert "***233" in rows[jobs.gynecology_anna]  # masked for operators
        assert ANNA not in rows[jobs.gynecology_anna]

        live.apply(QueueJoined(key="j", at=now, call_id="c1", channel_id="c1",
                               queue="gynecology", caller_number=ANNA))
        live.apply(MemberRung(key="r", at=now, call_id="c1", channel_id="c1",
                              queue="gynecology", member="PJSIP/op102", member_name="op102"))
        await page.locator("#pop").wait_for(state="visible", timeout=5000)
        callbacks = await page.locator("#pop-callbacks li").all_inner_texts()
        assert len(callbacks) == 1
        assert f"Callback #{jobs.gynecology_anna}" in callbacks[0]
        assert "gynecology" in callbacks[0]
        assert "pending" in callbacks[0]
        cases = await page.locator("#pop-complaints li").all_inner_texts()
        assert len(cases) == 1
        assert f"Complaint #{jobs.complaint_anna}" in cases[0]
        assert "Rude on the phone" in cases[0]
        assert "staff" in cases[0]
    except Exception:
        await page.screenshot(path=str(tmp_path / "operator-cases-failure.png"),
                              full_page=True)
        raise
