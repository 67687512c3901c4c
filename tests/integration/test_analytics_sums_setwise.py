"""The survey, demand and staffing sums the database computes in one statement per table
(``reports.analytics_sums``) are the rows the Python facts give (``sum_hours_from_facts``),
on SQLite and PostgreSQL, over the cases where SQL and Python spell a rule differently: empty
and missing texts, a call's first queue and its last answered attempt, attempts the PBX cut or
still waiting, partial and outbound surveys, paths that only look like an agreed survey, waits
in fractions of a second.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import (
    Call,
    Direction,
    IvrOutcome,
    MissCause,
    QueueAttempt,
    QueueOutcome,
    SurveyAnswer,
    SurveyQuestion,
)
from clinicall.db.models.analytics_rollups import ANALYTICS_TABLES
from clinicall.db.writer import StoreWriter
from clinicall.reports.analytics_hours import sum_hours, sum_hours_from_facts

Sessions = async_sessionmaker[AsyncSession]
T0 = datetime(2026, 11, 9, 7, tzinfo=UTC)


def _call(n: int, minutes: float, **fields: Any) -> Call:
    values: dict[str, Any] = {
        "call_key": f"c{n}", "direction": Direction.INBOUND, "caller": f"+3805000{n:05d}",
        "started_at": T0 + timedelta(minutes=minutes), "ivr_path": "main:1", "route": "therapy",
        "ivr_outcome": IvrOutcome.QUEUE, "missed": False}
    values.update(fields)
    return Call(id=n, **values)


def _attempt(n: int, call: Call, queue: str, after_s: float, outcome: QueueOutcome | None,
             *, wait_s: float | None = 12.0, talk_s: float | None = None,
             connected_s: float | None = None, agent: str | None = None) -> QueueAttempt:
    joined = call.started_at + timedelta(seconds=after_s)
    return QueueAttempt(
        id=n, call_id=call.id, channel_id=f"ch{n}", queue=queue, joined_at=joined,
        connected_at=None if connected_s is None else joined + timedelta(seconds=connected_s),
        outcome=outcome, wait_s=wait_s, talk_s=talk_s, agent=agent)


def _answer(n: int, call: Call, question: SurveyQuestion, score: int, *, complete: bool = True,
            queue: str | None = "therapy", operator: str | None = "op1",
            route: str | None = "therapy") -> SurveyAnswer:
    return SurveyAnswer(id=n, call_id=call.id, question=question, score=score,
                        answered_at=call.started_at + timedelta(minutes=5), queue=queue,
                        operator=operator, route=route, complete=complete)


def _store() -> list[Any]:
    rows: list[Any] = []
    plain = _call(1, 0, ivr_path="main:1/survey:1")
    rows += [plain, _attempt(1, plain, "therapy", 10, QueueOutcome.ANSWERED, wait_s=12.25,
                             talk_s=61.5, connected_s=12.25, agent="op1"),
             _answer(1, plain, SurveyQuestion.CSAT, 5), _answer(2, plain, SurveyQuestion.NPS, 9)]
    # Overflowed: first queue ultrasound (timeout), answered in universal, then a second
    # answered attempt later (a transfer back): the survey is the last answered one's.
    moved = _call(2, 20, route="", ivr_path=None)
    rows += [moved,
             _attempt(2, moved, "ultrasound", 5, QueueOutcome.TIMEOUT, wait_s=180.0),
             _attempt(3, moved, "universal", 190, QueueOutcome.ANSWERED, wait_s=3.0,
                      talk_s=40.0, connected_s=3.0, agent="op2"),
             _attempt(4, moved, "therapy", 400, QueueOutcome.ANSWERED, wait_s=1.0,
                      talk_s=None, connected_s=1.0, agent=None),
             _answer(3, moved, SurveyQuestion.CSAT, 2, complete=False, queue=None,
                     operator=None, route=None)]
    # Missed: abandoned, cut by the PBX, one still waiting; a path that is not an agreement.
    gone = _call(3, 40, missed=True, miss_cause=MissCause.ABANDONED, repeat_gap_ms=3_600_000,
                 ivr_path="main:1/SURVEY:1/survey:10")
    rows += [gone, _attempt(5, gone, "pediatrics", 5, QueueOutcome.ABANDONED, wait_s=3.5),
             _attempt(6, gone, "pediatrics", 60, QueueOutcome.CUT, wait_s=2.0),
             _attempt(7, gone, "pediatrics", 90, None, wait_s=None)]
    served = _call(4, 70, ivr_outcome=IvrOutcome.SELF_SERVED, route=None, caller=None,
                   repeat_gap_ms=24 * 3_600_000 + 1)
    after = _call(5, 75, missed=True, miss_cause=MissCause.AFTER_HOURS, route="appointments",
                  repeat_gap_ms=24 * 3_600_000)
    # An outbound call (a callback): its answers count, its attempt is not a due survey.
    out = _call(6, 130, direction=Direction.OUTBOUND, route=None, ivr_path="survey:1")
    rows += [served, after, out,
             _attempt(8, out, "therapy", 2, QueueOutcome.ANSWERED, wait_s=0.125, talk_s=9.0,
                      connected_s=0.125, agent="op1"),
             _answer(4, out, SurveyQuestion.NPS, 0), _answer(5, out, SurveyQuestion.CSAT, 1)]
    # Just past the span: summed by neither.
    late = _call(7, 180)
    rows += [late, _attempt(9, late, "therapy", 1, QueueOutcome.ANSWERED, talk_s=5.0,
                            connected_s=12.0, agent="op1")]
    return rows


async def _contents(session: AsyncSession, key: str) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    for table in ANALYTICS_TABLES:
        columns = [c for c in table.columns if c.name != "settings_key"]
        rows = (await session.execute(
            select(*columns).where(table.c.settings_key == key))).all()  # fmt: skip
        out[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return out


async def test_setwise_sums_are_the_facts_sums(db_sessions: Sessions) -> None:
    async with db_sessions() as session, session.begin(), StoreWriter(session):
        session.add_all(_store())
    lo, hi = T0, T0 + timedelta(hours=3)
    async with db_sessions() as session, session.begin():
        await sum_hours(session, "setwise", lo, hi)
        await sum_hours_from_facts(session, "facts", lo, hi)
    async with db_sessions() as session:
        setwise, facts = await _contents(session, "setwise"), await _contents(session, "facts")
    assert all(facts.values())  # every table has groups
    assert setwise == facts
