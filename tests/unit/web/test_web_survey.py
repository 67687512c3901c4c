"""The post-call survey's figures on /metrics (today's) and /api/survey (a period)."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from store_writes import writing

from clinicall.db.models import (
    Call,
    Direction,
    QueueAttempt,
    QueueOutcome,
    Role,
    SurveyAnswer,
    SurveyQuestion,
)

from .web_fixtures import NOW, Account, seed_today

Client = TestClient[web.Request, web.Application]


async def seed_surveys(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Today: op103 (therapy) rated 4 / NPS 10 and 2 / NPS 6; op101 (ultrasound) due, silent.
    Yesterday: one more answer, not counted."""
    rows = [("S1", "therapy", "op103", (4, 10), NOW - timedelta(hours=2)),
            ("S2", "therapy", "op103", (2, 6), NOW - timedelta(hours=1)),
            ("S3", "ultrasound", "op101", None, NOW - timedelta(hours=1)),
            ("S4", "therapy", "op103", (1, 0), NOW - timedelta(days=1))]  # fmt: skip
    async with writing(sessions) as session:
        for key, queue, agent, scores, at in rows:
            call = Call(call_key=key, direction=Direction.INBOUND, started_at=at,
                        ivr_path="main:1/survey:1", route=queue)  # fmt: skip
            call.queue_attempts.append(QueueAttempt(
                channel_id=key, queue=queue, joined_at=at, connected_at=at, agent=agent,
                outcome=QueueOutcome.ANSWERED))  # fmt: skip
            session.add(call)
            await session.flush()
            for question, score in zip((SurveyQuestion.CSAT, SurveyQuestion.NPS),
                                       scores or (), strict=False):  # fmt: skip
                session.add(SurveyAnswer(call_id=call.id, question=question, score=score,
                                         answered_at=at, queue=queue, operator=agent,
                                         route=queue))  # fmt: skip


def bearer(account: Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.token}"}


async def test_metrics_carry_todays_survey_per_queue_operator_and_route(
    client: Client, accounts: dict[Role, Account],
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await seed_surveys(db_sessions)
    text = await (await client.get("/metrics", headers=bearer(accounts[Role.MANAGER]))).text()
    for sample in ('clinicall_survey_due_total{queue="therapy"} 2.0',
                   'clinicall_survey_answered_total{queue="therapy"} 2.0',
                   'clinicall_survey_csat_mean{queue="therapy"} 3.0',
                   'clinicall_survey_nps{queue="therapy"} 0.0',  # 50 % promoters, 50 % detractors
                   'clinicall_survey_nps_answers_total{queue="therapy"} 2.0',
                   'clinicall_survey_csat_score_total{queue="therapy",score="4"} 1.0',
                   'clinicall_survey_csat_score_total{queue="therapy",score="1"} 0.0',
                   'clinicall_survey_response_rate_percent{queue="ultrasound"} 0.0',
                   'clinicall_survey_csat_mean_by_operator{operator="op103"} 3.0',
                   'clinicall_survey_due_by_operator_total{operator="op101"} 1.0',
                   'clinicall_survey_csat_mean_by_route{route="therapy"} 3.0',
                   'clinicall_survey_due_by_route_total{route="ultrasound"} 1.0'):
        assert sample in text.splitlines(), sample
    assert 'clinicall_survey_csat_mean{queue="ultrasound"}' not in text  # no answer: no mean


async def test_api_survey_groups_a_period(
    client: Client, accounts: dict[Role, Account],
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await seed_surveys(db_sessions)
    yesterday = (NOW - timedelta(days=1)).date().isoformat()
    today = NOW.date().isoformat()
    response = await client.get(f"/api/survey?from={yesterday}&to={today}&by=operator",
                                headers=bearer(accounts[Role.QUALITY]))  # fmt: skip
    assert response.status == 200, await response.text()
    rows = {r["operator"]: r for r in (await response.json())["sections"]["survey"]["rows"]}
    assert (rows["op103"]["csat_answers"], rows["op103"]["csat_mean"]) == (3, 2.333)
    assert (rows["op103"]["nps"], rows["op103"]["nps_answers"]) == (-33.33, 3)
    bad = await client.get(f"/api/survey?from={today}&by=doctor",
                           headers=bearer(accounts[Role.QUALITY]))  # fmt: skip
    assert bad.status == 400
    assert "cannot group the survey by 'doctor'" in (await bad.json())["error"]
    operator = await client.get(f"/api/survey?from={today}",
                                headers=bearer(accounts[Role.OPERATOR]))
    assert operator.status == 403


async def test_api_demand_serves_every_demand_table(
    client: Client, accounts: dict[Role, Account],
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await seed_today(db_sessions)  # therapy 3 calls, pediatrics 1, at 13:xx local, a Wednesday
    today = NOW.date().isoformat()
    response = await client.get(f"/api/demand?from={today}",
                                headers=bearer(accounts[Role.MANAGER]))  # fmt: skip
    assert response.status == 200, await response.text()
    heatmap = (await response.json())["sections"]["heatmap"]["rows"]
    assert [(r["specialty"], r["weekday"], r["hour"], r["calls"]) for r in heatmap] == [
        ("pediatrics", 3, 13, 1), ("therapy", 3, 13, 3)]
    bad = await client.get(f"/api/demand?from={today}&by=queue",
                           headers=bearer(accounts[Role.MANAGER]))  # fmt: skip
    assert bad.status == 400


async def test_api_staffing_advises_from_a_window(
    client: Client, accounts: dict[Role, Account],
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await seed_today(db_sessions)  # therapy: 2 answered, 1 abandoned after 40 s
    today = NOW.date().isoformat()
    response = await client.get(f"/api/staffing?from={today}&sl=80&t=20",
                                headers=bearer(accounts[Role.MANAGER]))  # fmt: skip
    assert response.status == 200, await response.text()
    sections = (await response.json())["sections"]
    about = {r["queue"]: r for r in sections["assumptions"]["rows"]}
    # censored fit: waits 10 + 30 + 40 s over one abandon
    assert (about["therapy"]["abandons"], about["therapy"]["patience_s"]) == (1, 80.0)
    assert about["pediatrics"]["patience_s"] is None  # nobody abandoned: Erlang C stands
    for bad in ("sl=180", "t=abc", "max_abandon=-1"):
        response = await client.get(f"/api/staffing?from={today}&{bad}",
                                    headers=bearer(accounts[Role.MANAGER]))  # fmt: skip
        assert response.status == 400, bad
