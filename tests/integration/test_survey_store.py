"""Post-call survey answers reach the store against the exact call, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from store_writes import writing

from clinicall.calltypes import AnsweredCall, SurveyOutcome
from clinicall.controller.tracking.surveys import CallNotInStore, write_survey
from clinicall.db.changes import hour_of
from clinicall.db.models import Call, Direction, SurveyAnswer, SurveyQuestion
from clinicall.db.models.rollups import kpi_changed_hours

STARTED = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
AT = datetime(2026, 11, 24, 9, 5, tzinfo=UTC)  # an hour later: the answers' own time
ANSWERED = AnsweredCall(language="en", queue="therapy", operator="op103", route="test_results")



async def _call(sessions: async_sessionmaker[AsyncSession], key: str) -> int:
    async with writing(sessions) as session:
        call = Call(call_key=key, direction=Direction.INBOUND, started_at=STARTED)
        session.add(call)
        await session.flush()
        return call.id


async def _answers(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[object, ...]]:
    async with sessions() as session:
        rows = await session.execute(
            select(SurveyAnswer.call_id, SurveyAnswer.question, SurveyAnswer.score,
                   SurveyAnswer.queue, SurveyAnswer.operator, SurveyAnswer.route,
                   SurveyAnswer.complete).order_by(SurveyAnswer.call_id, SurveyAnswer.question)
        )  # fmt: skip
        return [tuple(r) for r in rows]


async def test_answers_are_linked_to_call_queue_operator_and_route(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    other = await _call(db_sessions, "1700000000.1")
    call = await _call(db_sessions, "1700000000.2")
    async with db_sessions.begin() as session:
        written = await write_survey(session, "1700000000.2", ANSWERED,
                                     SurveyOutcome(4, 10, True), AT)  # fmt: skip
    assert written == 2
    assert await _answers(db_sessions) == [
        (call, SurveyQuestion.CSAT, 4, "therapy", "op103", "test_results", True),
        (call, SurveyQuestion.NPS, 10, "therapy", "op103", "test_results", True),
    ]
    assert other != call


async def test_a_partial_survey_is_marked_and_a_second_one_replaces_the_first(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    call = await _call(db_sessions, "1700000000.3")
    async with db_sessions.begin() as session:
        await write_survey(session, "1700000000.3", ANSWERED, SurveyOutcome(2, 7, True), AT)
    async with db_sessions.begin() as session:
        await write_survey(session, "1700000000.3", ANSWERED, SurveyOutcome(5, None, False), AT)
    assert await _answers(db_sessions) == [
        (call, SurveyQuestion.CSAT, 5, "therapy", "op103", "test_results", False),
    ]


async def test_the_call_hour_is_marked_for_the_reports(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _call(db_sessions, "1700000000.4")
    async with db_sessions.begin() as session:
        await session.execute(delete(kpi_changed_hours))
    async with db_sessions.begin() as session:
        await write_survey(session, "1700000000.4", ANSWERED, SurveyOutcome(3, 3, True), AT)
    async with db_sessions() as session:
        hours = list(await session.scalars(select(kpi_changed_hours.c.hour)))
    assert hours == [hour_of(STARTED)]  # the call's hour (the reports sum by it), not AT's


async def test_a_survey_of_an_unknown_call_is_refused(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions.begin() as session:
        with pytest.raises(CallNotInStore):
            await write_survey(session, "nope", ANSWERED, SurveyOutcome(3, 3, True), AT)
    assert await _answers(db_sessions) == []
