"""The survey, demand and staffing hourly sums of a span, summed by the database in one
statement per table (``INSERT … SELECT … GROUP BY``).

``reports.analytics_hours`` defines each report's *facts* in Python (``survey_facts`` …) and
reads the minutes at a period's edges through them.  Summing a year of whole hours that way
carried every call through Python (a minute per database); these statements build the same
groups and counters from the same rows inside the database, so a store with no sums is summed
in seconds.  The two must agree to the row: the reports' tests and ``bench/bench_reports.py``
compare a report read from these sums with the same report read from the facts.

How each Python rule is spelled in SQL, where it is not obvious:

- ``x or ""`` / ``x or "none"`` (an empty text counts as missing): ``COALESCE`` for
  ``""``, a ``CASE`` for ``"none"``.
- A call's *first* queue is its attempt with the earliest (join, id) (a correlated lookup per
  call); its survey's attempt the last answered one by (connect, id) (``row_number()`` over
  the call's answered attempts, NULLs placed as each database sorts them in the Python path's
  ``ORDER BY``).
- The answers of one call name the same conversation; the call's group is its first answer's
  (lowest id).
- Durations become whole milliseconds with the database's ``round`` (``sqlexpr``); Python's
  ``round`` differs only at an exact half millisecond, which the engines never report (they
  report whole seconds, Asterisk, or milliseconds, FreeSWITCH).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from clinicall.db import sqlexpr as sf
from clinicall.db.models import (
    Call,
    Direction,
    IvrOutcome,
    QueueAttempt,
    QueueOutcome,
    SurveyAnswer,
    SurveyQuestion,
    demand_hours,
    staffing_hours,
    survey_hours,
)
from clinicall.db.models.analytics_rollups import (
    DEMAND_DIMS,
    DEMAND_SUMS,
    STAFFING_DIMS,
    STAFFING_SUMS,
    SURVEY_DIMS,
    SURVEY_SUMS,
)
from clinicall.reports import timebuckets as tb

AGREED = "/survey:1/"  # ``reports.analytics_hours.AGREED`` as one step of a '/'-joined path
NONE = "none"
DAY_MS = 24 * 3600 * 1000
CSAT_SCORES = range(1, 6)
NPS_SCORES = range(11)


def _text(value: ColumnElement[Any] | Any) -> ColumnElement[str]:
    """A column read as plain text (an enum column's stored value, no Python enum check)."""
    return type_coerce(value, String())


def _or_empty(value: Any) -> ColumnElement[str]:
    return func.coalesce(_text(value), literal("", String()))


def _one_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _hour(column: Any, dialect: str) -> ColumnElement[int]:
    return tb.epoch_seconds(column, dialect) // tb.HOUR


def _contains(haystack: ColumnElement[str], needle: str, dialect: str) -> ColumnElement[bool]:
    """Case-sensitive substring test (SQLite's LIKE ignores ASCII case)."""
    found = (func.instr(haystack, needle) if dialect == "sqlite"
             else func.strpos(haystack, needle))  # fmt: skip
    return found > 0


async def sum_span(session: AsyncSession, key: str, lo: datetime, hi: datetime) -> None:
    """Insert the survey, demand and staffing sums of ``key`` for the whole hours [lo, hi)
    (uncommitted; the caller has dropped any earlier sums of these hours)."""
    dialect = (await session.connection()).dialect.name
    for table, names, query in (
        (survey_hours, (*SURVEY_DIMS, *SURVEY_SUMS), _survey(lo, hi, dialect)),
        (demand_hours, (*DEMAND_DIMS, *DEMAND_SUMS), _demand(lo, hi, dialect)),
        (staffing_hours, (*STAFFING_DIMS, *STAFFING_SUMS), _staffing(lo, hi, dialect)),
    ):
        keyed = select(literal(key, String()).label("settings_key"), *query.subquery().c)
        await session.execute(
            table.insert().from_select(["settings_key", "hour", *names], keyed))


def _staffing(lo: datetime, hi: datetime, dialect: str) -> Select[Any]:
    """``analytics_hours.staffing_facts`` summed per (hour of join, queue)."""
    qa = QueueAttempt
    rows = select(
        _hour(qa.joined_at, dialect).label("hour"), qa.queue.label("queue"),
        _text(qa.outcome).label("outcome"), qa.wait_s.label("wait"), qa.talk_s.label("talk"),
    ).where(qa.joined_at >= lo, qa.joined_at < hi,
            or_(qa.outcome.is_(None), qa.outcome != QueueOutcome.CUT)).subquery()  # fmt: skip
    r = rows.c
    talked = and_(r.outcome == QueueOutcome.ANSWERED.value, r.talk.is_not(None))
    waited = and_(r.wait.is_not(None), r.outcome.is_not(None))
    return select(
        r.hour, r.queue,
        func.count().label("offered"),
        func.sum(_one_if(talked)).label("talk_n"),
        func.sum(case((talked, sf.seconds_as_ms(r.talk, dialect)), else_=0)).label("talk_ms"),
        func.sum(_one_if(waited)).label("wait_n"),
        func.sum(case((waited, sf.seconds_as_ms(r.wait, dialect)), else_=0)).label("wait_ms"),
        func.sum(_one_if(and_(waited, r.outcome == QueueOutcome.ABANDONED.value))
                 ).label("abandons"),
    ).group_by(r.hour, r.queue)  # fmt: skip


def _inbound_calls(lo: datetime, hi: datetime) -> ColumnElement[bool]:
    return and_(Call.started_at >= lo, Call.started_at < hi,
                Call.direction == Direction.INBOUND)


def _demand(lo: datetime, hi: datetime, dialect: str) -> Select[Any]:
    """``analytics_hours.demand_facts`` summed per (hour of start, the call's groups)."""
    qa = QueueAttempt
    first_queue = (select(qa.queue).where(qa.call_id == Call.id)
                   .order_by(qa.joined_at, qa.id).limit(1).scalar_subquery())  # fmt: skip
    answered = (select(qa.id).where(qa.call_id == Call.id, qa.outcome == QueueOutcome.ANSWERED)
                .exists())  # fmt: skip
    route = _text(Call.route)
    rows = select(
        _hour(Call.started_at, dialect).label("hour"),
        case((or_(route.is_(None), route == ""), literal(NONE, String())),
             else_=route).label("topic"),
        func.coalesce(first_queue, literal(NONE, String())).label("specialty"),
        _or_empty(Call.ivr_path).label("path"),
        _one_if(answered).label("answered"),
        _one_if(Call.missed.is_(True)).label("missed"),
        _one_if(Call.ivr_outcome == IvrOutcome.SELF_SERVED).label("self_served"),
        _or_empty(Call.miss_cause).label("cause"),
        _one_if(Call.repeat_gap_ms <= DAY_MS).label("repeated"),
    ).where(_inbound_calls(lo, hi)).subquery()
    r = rows.c
    groups = [r.hour, *[r[d] for d in DEMAND_DIMS]]
    return select(*groups, func.count().label("calls"),
                  func.sum(r.repeated).label("repeated")).group_by(*groups)


def _survey(lo: datetime, hi: datetime, dialect: str) -> Select[Any]:
    """``analytics_hours.survey_facts`` summed per (hour of start, queue, operator, route):
    the answered surveys of each call and the due survey of each answered inbound call."""
    sa = SurveyAnswer

    def first(value: Any) -> ColumnElement[str]:  # the value of the call's first answer
        return func.first_value(_or_empty(value)).over(partition_by=sa.call_id,
                                                        order_by=sa.id)

    answered_rows = select(
        _hour(Call.started_at, dialect).label("hour"), sa.call_id.label("call_id"),
        first(sa.queue).label("queue"),
        first(sa.operator).label("operator"),
        first(sa.route).label("route"),
        _one_if(sa.complete.is_not(True)).label("incomplete"),
        _text(sa.question).label("question"), sa.score.label("score"),
    ).join(Call, Call.id == sa.call_id).where(
        Call.started_at >= lo, Call.started_at < hi).subquery()  # fmt: skip
    r = answered_rows.c
    csat = r.question == SurveyQuestion.CSAT.value
    scores = [
        *[func.sum(_one_if(and_(csat, r.score == n))).label(f"csat_{n}") for n in CSAT_SCORES],
        *[func.sum(_one_if(and_(~csat, r.score == n))).label(f"nps_{n}") for n in NPS_SCORES],
    ]
    by_answers = select(
        r.hour, r.queue, r.operator, r.route,
        literal(0, Integer()).label("due_agreed"), literal(0, Integer()).label("due_other"),
        func.count(r.call_id.distinct()).label("answered"),
        func.count(case((r.incomplete == 1, r.call_id)).distinct()).label("partial"),
        *scores,
    ).group_by(r.hour, r.queue, r.operator, r.route)  # fmt: skip

    qa = QueueAttempt
    last = select(
        _hour(Call.started_at, dialect).label("hour"),
        _or_empty(qa.queue).label("queue"), _or_empty(qa.agent).label("operator"),
        _or_empty(Call.route).label("route"),
        _one_if(_contains("/" + _or_empty(Call.ivr_path) + "/", AGREED, dialect)
                ).label("agreed"),
        func.row_number().over(partition_by=Call.id,
                               order_by=(qa.connected_at.desc(), qa.id.desc())).label("nth"),
    ).join(qa, qa.call_id == Call.id).where(
        _inbound_calls(lo, hi),
        # ``|| ''`` keeps SQLite from reading every answered attempt of the store through the
        # outcome index: the calls of the span, then their attempts, is the short way.
        _text(qa.outcome) + "" == QueueOutcome.ANSWERED.value).subquery()  # fmt: skip
    d = last.c
    zero = [literal(0, Integer()).label(name) for name in SURVEY_SUMS[2:]]
    by_due = select(
        d.hour, d.queue, d.operator, d.route,
        func.sum(d.agreed).label("due_agreed"), func.sum(1 - d.agreed).label("due_other"),
        *zero,
    ).where(d.nth == 1).group_by(d.hour, d.queue, d.operator, d.route)  # fmt: skip
    both = union_all(by_answers, by_due).subquery()
    groups = [both.c.hour, *[both.c[name] for name in SURVEY_DIMS]]
    return select(*groups, *[func.sum(both.c[name]).label(name) for name in SURVEY_SUMS]
                  ).group_by(*groups)


__all__ = ["sum_span"]
