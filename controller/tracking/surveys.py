"""Post-call survey answers into the store, linked to the exact call they rate.

The survey runs on the call's own channel after its operator hung up, so the call is already in
the account (its IVR outcome was journaled before the queue): the answers are written against
it by its engine id.  One row per answered question (``survey_answers``), with the queue,
operator and route the engine named and whether the survey was complete; a second survey of the
same call (a transfer that came back) replaces the first.  The hourly sums of the call's hour
are marked changed in the same transaction (``StoreWriter``), so the reports see the answers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.calltypes import AnsweredCall, SurveyOutcome
from clinicall.db.models import Call, SurveyAnswer, SurveyQuestion
from clinicall.db.writer import StoreWriter


class CallNotInStore(LookupError):
    """The call the survey rates is not in the store (yet)."""


async def write_survey(
    session: AsyncSession,
    call_key: str,
    answered: AnsweredCall,
    outcome: SurveyOutcome,
    at: datetime,
) -> int:
    """Replace the call's survey answers with ``outcome``'s; returns the rows written.

    Raises :class:`CallNotInStore` when no call has ``call_key``.
    """
    call = await session.scalar(select(Call).where(Call.call_key == call_key))
    if call is None:
        raise CallNotInStore(call_key)
    scores = [(SurveyQuestion.CSAT, outcome.csat), (SurveyQuestion.NPS, outcome.nps)]
    rows = [
        SurveyAnswer(
            call_id=call.id, question=question, score=score, answered_at=at,
            queue=answered.queue[:64] or None, operator=answered.operator[:128] or None,
            route=answered.route[:64] or None,
            complete=outcome.complete,
        )
        for question, score in scores
        if score is not None
    ]  # fmt: skip
    async with StoreWriter(session) as writer:
        await session.execute(delete(SurveyAnswer).where(SurveyAnswer.call_id == call.id))
        session.add_all(rows)
        writer.instants_changed([call.started_at])
    return len(rows)
