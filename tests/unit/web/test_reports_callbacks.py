"""The callback figures on the reports page and ``GET /api/reports/callbacks``, against a
hand-worked day: two patients missed on Monday 29 June (Kyiv), one called back and reached 3
minutes after the call (done, 1 attempt), one tried twice and never reached (failed)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import (
    Call,
    Callback,
    CallbackAttempt,
    CallbackReason,
    CallbackState,
    Direction,
    MissCause,
    Role,
)
from clinicall.db.writer import StoreWriter
from clinicall.web.i18n import LANG_COOKIE

from .web_fixtures import Account, log_in

Client = TestClient[web.Request, web.Application]
KYIV = ZoneInfo("Europe/Kyiv")
TEN = datetime(2026, 6, 29, 10, tzinfo=KYIV)
DAY = "from=2026-06-29&to=2026-06-29"


async def _seed(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session, StoreWriter(session) as writer:
        for n, (phone, state, tries) in enumerate(
                [("+380501111111", CallbackState.DONE, 1),
                 ("+380502222222", CallbackState.FAILED, 2)], 1):  # fmt: skip
            at = TEN + timedelta(minutes=n)
            call = Call(call_key=f"M{n}", direction=Direction.INBOUND, caller=phone,
                        started_at=at, ended_at=at, missed=True,
                        miss_cause=MissCause.ABANDONED)  # fmt: skip
            session.add(call)
            await session.flush()
            job = Callback(phone=phone, reason=CallbackReason.MISSED, origin_call_id=call.id,
                           queue="therapy", created_at=at, arrived_at=at, due_at=at,
                           state=state, attempts=tries,
                           completed_at=at + timedelta(minutes=4))  # fmt: skip
            session.add(job)
            await session.flush()
            writer.call_changed(Direction.INBOUND, phone, None, at)
            writer.callbacks_changed([call.id])  # the done job returns its missed call
            for t in range(1, tries + 1):
                session.add(CallbackAttempt(
                    callback_id=job.id, number=t, key=f"cb{job.id}-{t}",
                    call_id=f"cb-{job.id}-{t}", owner="c1",
                    started_at=at + timedelta(minutes=3 * t), outcome="answered"))  # fmt: skip


async def test_the_callback_figures_on_the_page_and_in_the_api(
    client: Client, accounts: dict[Role, Account], db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    await _seed(db_sessions)
    client.session.cookie_jar.update_cookies({LANG_COOKIE: "en"})
    await log_in(client, accounts[Role.MANAGER])
    page = await (await client.get(f"/reports?{DAY}")).text()
    cells = dict(re.findall(r'<td data-report="(callback[^"]*)"[^>]*>([^<]*)</td>', page))
    assert cells == {
        "callbacks:jobs": "2", "callbacks:first_attempt_p50": "180.0 s",
        "callbacks:first_attempt_p90": "180.0 s", "callbacks:attempts_per_job": "1.5",
        "callbacks:success_rate": "50.0 %",
        "callbacks:missed_unreturned": "1",  # the failed job's call; the done one at +4 min
        "callback_causes:abandoned": "2",
    }  # fmt: skip
    response = await client.get(f"/api/reports/callbacks?{DAY}")
    assert response.status == 200
    sections = (await response.json())["sections"]
    assert sections["callbacks"]["rows"] == [{
        "jobs": 2, "first_attempt_p50": 180.0, "first_attempt_p90": 180.0,
        "attempts_per_job": 1.5, "success_rate": 50.0, "missed_unreturned": 1}]  # fmt: skip
    assert (await client.get("/api/reports/callbacks?from=2026-06-30&to=2026-06-29")).status == 400


async def test_operators_do_not_get_the_callback_figures(
    client: Client, accounts: dict[Role, Account]
) -> None:
    await log_in(client, accounts[Role.OPERATOR])
    response = await client.get(f"/api/reports/callbacks?{DAY}")
    assert response.status == 403
