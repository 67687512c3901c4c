"""The reports page's survey, demand and staffing sections against hand-worked figures.

Three therapy calls (Kyiv time): Monday 29 June 10:15 and 10:40, both answered by op103 and
surveyed (CSAT 4 and NPS 10; CSAT 2 and the patient hung up), and Tuesday 11:05, abandoned
after 60 s.  op103 was logged in to therapy on that Monday 09:00-12:00.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from store_writes import writing

from clinicall.db.models import (
    Agent,
    AgentSession,
    Call,
    Direction,
    QueueAttempt,
    QueueOutcome,
    Role,
    SurveyAnswer,
    SurveyQuestion,
)
from clinicall.web.i18n import LANG_COOKIE

from .web_fixtures import Account, log_in

Client = TestClient[web.Request, web.Application]
KYIV = ZoneInfo("Europe/Kyiv")
MONDAY = datetime(2026, 6, 29, tzinfo=KYIV)
PERIOD = "/reports?from=2026-06-29&to=2026-07-01"


def _call(n: int, at: datetime, wait: float, talk: float | None) -> Call:
    answered = talk is not None
    call = Call(call_key=f"S{n}", direction=Direction.INBOUND, started_at=at, route="therapy",
                ivr_path="main:1/appointments:4/survey:1", missed=not answered)  # fmt: skip
    call.queue_attempts.append(QueueAttempt(
        channel_id=f"S{n}", queue="therapy", joined_at=at, wait_s=wait, talk_s=talk,
        outcome=QueueOutcome.ANSWERED if answered else QueueOutcome.ABANDONED,
        connected_at=at + timedelta(seconds=wait) if answered else None,
        agent="op103" if answered else None))  # fmt: skip
    return call


async def _seed(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with writing(sessions) as session:
        first = _call(1, MONDAY + timedelta(hours=10, minutes=15), 10.0, 120.0)
        second = _call(2, MONDAY + timedelta(hours=10, minutes=40), 20.0, 60.0)
        abandoned = _call(3, MONDAY + timedelta(days=1, hours=11, minutes=5), 60.0, None)
        agent = Agent(interface="op103")
        session.add_all([first, second, abandoned, agent])
        await session.flush()
        for call, question, score, complete in [
            (first, SurveyQuestion.CSAT, 4, True),
            (first, SurveyQuestion.NPS, 10, True),
            (second, SurveyQuestion.CSAT, 2, False),
        ]:
            session.add(
                SurveyAnswer(
                    call_id=call.id,
                    question=question,
                    score=score,
                    answered_at=call.started_at,
                    queue="therapy",
                    operator="op103",
                    route="therapy",
                    complete=complete,
                )
            )
        session.add(AgentSession(agent_id=agent.id, queue="therapy",
                                 login_at=MONDAY + timedelta(hours=9),
                                 logout_at=MONDAY + timedelta(hours=12)))  # fmt: skip


def _cell(page: str, key: str) -> str:
    found = re.search(rf'<td data-report="{re.escape(key)}"[^>]*>([^<]*)</td>', page)
    assert found, key
    return found.group(1)


async def test_survey_heatmap_and_staffing_on_the_reports_page(
    client: Client, accounts: dict[Role, Account], db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    await _seed(db_sessions)
    client.session.cookie_jar.update_cookies({LANG_COOKIE: "en"})
    await log_in(client, accounts[Role.MANAGER])
    response = await client.get(PERIOD)
    assert response.status == 200
    page = await response.text()
    survey = {
        c: _cell(page, f"survey:therapy:{c}")
        for c in ("due", "answered", "response_rate", "partial", "csat_mean", "nps_answers", "nps")
    }
    assert survey == {"due": "2", "answered": "2", "response_rate": "100.0 %", "partial": "1",
                      "csat_mean": "3.0", "nps_answers": "1", "nps": "100.0"}  # fmt: skip
    assert '"data": [0.0, 1.0, 0.0, 1.0, 0.0]' in page.replace("&quot;", '"')  # CSAT 2 and 4
    assert (_cell(page, "heat:1:10"), _cell(page, "heat:2:11"), _cell(page, "heat:1:11")) == (
        "2", "1", "")  # fmt: skip
    assert 'data-report="heat:1:10" class="heat-5"' in page
    monday_10 = "staff:therapy:1:10"
    assert _cell(page, f"{monday_10}:offered_per_h") == "0.5"  # 2 calls over 4 weeks
    assert _cell(page, f"{monday_10}:aht_s") == "95.0 s"  # (120 + 60) / 2 + 5 s wrap-up
    assert _cell(page, f"{monday_10}:agents_erlang_a") == "1"
    assert _cell(page, f"{monday_10}:logged_in") == "0.25"  # 1 hour of 4 weeks' Mondays
    assert _cell(page, f"{monday_10}:staffed") == "under"
    assert 'class="staffed-under"' in page
    assert "Erlang C does not and so advises more" in page
    # the survey's and staffing's queue names in the page's language (en), not the clinic's
    rows = re.findall(r'<tr[^>]*><th scope="row">([^<]*)</th>', page)
    assert "General practice" in rows
    assert "Терапія" not in rows
