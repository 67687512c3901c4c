"""The survey, demand and staffing reports' counts: from the rows, or from their hourly sums.

Each report adds up *facts*: a group of counters (``clinicall.db.models.analytics_rollups``
names them) at an instant.  Read from the rows, a fact is one call (survey, demand) or one
queue attempt (staffing) at its own instant; read from the hourly sums, it is one stored group
at the start of its UTC hour, with its local-time keys computed in SQL.  A report takes its
whole UTC hours from the sums and the minutes at its edges from the rows (``reports.rollup``'s
plan), so a year reads a few thousand rows.  Both ways build the same facts from the same
rows (:func:`survey_facts` …), which is what makes the sums exact: ``rollup`` stores the facts
of whole hours, grouped by :func:`sum_hours`, in the same pass as the KPI sums, and drops them
with the KPI sums when a writer marks their hour changed (docs/store.md).

Local time: ``week`` is (ISO weekday, local hour), ``day`` and ``hour`` the KPI reports' labels
(``reports.timebuckets``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from clinicall.db.changes import hour_of
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
from clinicall.reports import analytics_sums
from clinicall.reports import timebuckets as tb

AGREED = "survey:1"  # the IVR step of a patient who agreed to the survey
NONE = "none"
DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class Fact:
    """Counters of one group (``dims``) at an instant; ``when`` its local-time keys."""

    dims: tuple[Any, ...]
    counts: dict[str, int]
    at: datetime | None = None
    when: tuple[Any, ...] = ()


Facts = Callable[[AsyncSession, datetime, datetime], Awaitable[list[Fact]]]


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


async def survey_facts(session: AsyncSession, lo: datetime, hi: datetime) -> list[Fact]:
    """Per call started in [lo, hi): its answers (under the queue, operator and route they
    name) and, for an inbound call an operator answered, its due survey (under its last
    answered attempt, ``due_agreed`` when the patient agreed in the IVR, else ``due_other``:
    due only where the queue always asks)."""
    out: list[Fact] = []
    answers: dict[int, tuple[datetime, tuple[str, str, str], dict[str, int]]] = {}
    rows = await session.execute(
        select(SurveyAnswer.call_id, SurveyAnswer.question, SurveyAnswer.score,
               SurveyAnswer.queue, SurveyAnswer.operator, SurveyAnswer.route,
               SurveyAnswer.complete, Call.started_at)
        .join(Call, Call.id == SurveyAnswer.call_id)
        .where(Call.started_at >= lo, Call.started_at < hi)
    )  # fmt: skip
    for call_id, question, score, queue, operator, route, complete, started in rows:
        _, _, counts = answers.setdefault(
            call_id, (_aware(started), (queue or "", operator or "", route or ""),
                      {"answered": 1, "partial": 0}))  # fmt: skip
        if not complete:
            counts["partial"] = 1
        name = f"csat_{score}" if question == SurveyQuestion.CSAT else f"nps_{score}"
        counts[name] = counts.get(name, 0) + 1
    out += [Fact(dims, counts, at) for at, dims, counts in answers.values()]
    attempts = await session.execute(
        select(Call.id, Call.started_at, Call.ivr_path, Call.route, QueueAttempt.queue,
               QueueAttempt.agent)
        .join(QueueAttempt, QueueAttempt.call_id == Call.id)
        .where(Call.started_at >= lo, Call.started_at < hi,
               Call.direction == Direction.INBOUND,
               QueueAttempt.outcome == QueueOutcome.ANSWERED)
        .order_by(Call.id, QueueAttempt.connected_at, QueueAttempt.id)
    )  # fmt: skip
    last: dict[int, Fact] = {}
    for call_id, started, path, route, queue, agent in attempts:
        agreed = AGREED in (path or "").split("/")
        last[call_id] = Fact((queue or "", agent or "", route or ""),
                             {"due_agreed" if agreed else "due_other": 1}, _aware(started))
    return out + list(last.values())


async def demand_facts(session: AsyncSession, lo: datetime, hi: datetime) -> list[Fact]:
    """Per inbound call started in [lo, hi): topic, specialty (its first queue), key path,
    whether an operator answered, missed, self-served, miss cause; repeated within 24 h."""
    calls = (await session.execute(
        select(Call.id, Call.started_at, Call.route, Call.ivr_path, Call.missed, Call.miss_cause,
               Call.ivr_outcome, Call.repeat_gap_ms)
        .where(Call.started_at >= lo, Call.started_at < hi,
               Call.direction == Direction.INBOUND)
    )).all()  # fmt: skip
    attempts = await session.execute(
        select(QueueAttempt.call_id, QueueAttempt.queue, QueueAttempt.outcome)
        .join(Call, Call.id == QueueAttempt.call_id)
        .where(Call.started_at >= lo, Call.started_at < hi,
               Call.direction == Direction.INBOUND)
        .order_by(QueueAttempt.call_id, QueueAttempt.joined_at, QueueAttempt.id)
    )  # fmt: skip
    first: dict[int, str] = {}
    answered: set[int] = set()
    for call_id, queue, outcome in attempts:
        first.setdefault(call_id, queue)
        if outcome == QueueOutcome.ANSWERED:
            answered.add(call_id)
    return [
        Fact((route or NONE, first.get(cid, NONE), path or "", int(cid in answered),
              int(bool(missed)), int(outcome == IvrOutcome.SELF_SERVED),
              str(cause) if cause else ""),
             {"calls": 1, "repeated": int(gap is not None and gap <= DAY_MS)}, _aware(started))
        for cid, started, route, path, missed, cause, outcome, gap in calls
    ]  # fmt: skip


async def staffing_facts(session: AsyncSession, lo: datetime, hi: datetime) -> list[Fact]:
    """Per queue attempt joined in [lo, hi) that the PBX did not cut: offered; its talk when
    answered and its wait when it has an outcome, in whole milliseconds; abandoned."""
    rows = await session.execute(
        select(QueueAttempt.queue, QueueAttempt.joined_at, QueueAttempt.outcome,
               QueueAttempt.wait_s, QueueAttempt.talk_s)
        .where(QueueAttempt.joined_at >= lo, QueueAttempt.joined_at < hi)
    )  # fmt: skip
    out: list[Fact] = []
    for queue, joined, outcome, wait, talk in rows:
        if outcome == QueueOutcome.CUT:
            continue
        counts = {"offered": 1}
        if outcome == QueueOutcome.ANSWERED and talk is not None:
            counts |= {"talk_n": 1, "talk_ms": round(talk * 1000)}
        if wait is not None and outcome is not None:
            counts |= {"wait_n": 1, "wait_ms": round(wait * 1000),
                       "abandons": int(outcome == QueueOutcome.ABANDONED)}
        out.append(Fact((queue,), counts, _aware(joined)))
    return out


@dataclass(frozen=True, slots=True)
class Kind:
    """One report's facts: how they are read from the rows and where their sums are kept."""

    table: Table
    dims: tuple[str, ...]
    sums: tuple[str, ...]
    facts: Facts


SURVEY = Kind(survey_hours, SURVEY_DIMS, SURVEY_SUMS, survey_facts)
DEMAND = Kind(demand_hours, DEMAND_DIMS, DEMAND_SUMS, demand_facts)
STAFFING = Kind(staffing_hours, STAFFING_DIMS, STAFFING_SUMS, staffing_facts)
KINDS = (SURVEY, DEMAND, STAFFING)


async def sum_hours(session: AsyncSession, key: str, lo: datetime, hi: datetime) -> None:
    """Store the facts of the whole hours [lo, hi) as hourly sums of ``key`` (uncommitted):
    the database sums them in one statement per table (``reports.analytics_sums``, which
    spells each fact's rule in SQL), so no call crosses into Python."""
    await analytics_sums.sum_span(session, key, lo, hi)


async def sum_hours_from_facts(session: AsyncSession, key: str, lo: datetime,
                               hi: datetime) -> None:  # fmt: skip
    """:func:`sum_hours` through the Python facts, one call at a time: the reference the
    tests hold the set-wise statements to."""
    for kind in KINDS:
        grouped: defaultdict[tuple[Any, ...], dict[str, int]] = defaultdict(dict)
        for fact in await kind.facts(session, lo, hi):
            assert fact.at is not None
            into = grouped[(hour_of(fact.at), *fact.dims)]
            for name, value in fact.counts.items():
                into[name] = into.get(name, 0) + value
        rows = [{"settings_key": key, "hour": group[0],
                 **dict(zip(kind.dims, group[1:], strict=True)),
                 **{name: counts.get(name, 0) for name in kind.sums}}
                for group, counts in grouped.items()]  # fmt: skip
        for start in range(0, len(rows), 5000):
            await session.execute(kind.table.insert(), rows[start : start + 5000])


def local_keys(at: datetime, zone: ZoneInfo, time_keys: Sequence[str]) -> tuple[Any, ...]:
    """The local-time keys of one instant, computed in Python (a fact read from the rows)."""
    out: list[Any] = []
    for key in time_keys:
        if key == "week":
            local = at.astimezone(zone)
            out += [local.isoweekday(), local.hour]
        elif key == "day":
            out.append(tb.local_day_of(at, zone))
        else:
            out.append(tb.local_hour_of(at, zone))
    return tuple(out)


def _sql_time(time_keys: Sequence[str], at_s: ColumnElement[int],
              segments: list[tb.Segment]) -> list[ColumnElement[Any]]:  # fmt: skip
    exprs: list[ColumnElement[Any]] = []
    for key in time_keys:
        if key == "week":  # local hours since Thursday 1970-01-01 00:00, within the week
            exprs.append(tb.local_hour_bucket(at_s, segments) % 168)
        elif key == "day":
            exprs.append(tb.local_day_bucket(at_s, segments))
        else:
            exprs += [tb.local_hour_bucket(at_s, segments), tb.offset_expr(at_s, segments)]
    return exprs


def _labels(time_keys: Sequence[str], values: Sequence[Any]) -> tuple[Any, ...]:
    out: list[Any] = []
    i = 0
    for key in time_keys:
        if key == "week":
            bucket = int(values[i])
            out += [(bucket // 24 + 3) % 7 + 1, bucket % 24]  # 1970-01-01 was a Thursday
            i += 1
        elif key == "day":
            out.append(tb.day_label(int(values[i])))
            i += 1
        else:
            out.append(tb.hour_label(int(values[i]), int(values[i + 1])))
            i += 2
    return tuple(out)


async def read_sums(session: AsyncSession, kind: Kind, key: str, hours: tuple[int, int],
                    dims: Sequence[str], time_keys: Sequence[str],
                    segments: list[tb.Segment]) -> list[Fact]:  # fmt: skip
    """The sums of ``key`` over the hours [h0, h1), grouped by ``dims`` and local time."""
    table = kind.table
    times = _sql_time(time_keys, table.c.hour * tb.HOUR, segments)
    groups = [*[table.c[d] for d in dims], *times]
    query = (select(*groups, *[func.sum(table.c[s]).label(s) for s in kind.sums])
             .where(table.c.settings_key == key, table.c.hour >= hours[0],
                    table.c.hour < hours[1])
             .group_by(*groups))  # fmt: skip
    n = len(dims)
    return [Fact(tuple(row[:n]), {s: int(row._mapping[s]) for s in kind.sums},
                 when=_labels(time_keys, row[n : len(groups)]))
            for row in (await session.execute(query)).all()]  # fmt: skip


async def read_rows(session: AsyncSession, kind: Kind, spans: Sequence[tuple[datetime, datetime]],
                    dims: Sequence[str], time_keys: Sequence[str],
                    zone: ZoneInfo) -> list[Fact]:  # fmt: skip
    """The facts of ``spans`` read from the rows, keyed like :func:`read_sums`."""
    index = [kind.dims.index(d) for d in dims]
    out: list[Fact] = []
    for lo, hi in spans:
        for fact in await kind.facts(session, lo, hi):
            assert fact.at is not None
            out.append(Fact(tuple(fact.dims[i] for i in index), fact.counts,
                            when=local_keys(fact.at, zone, time_keys)))
    return out


__all__ = ["DEMAND", "KINDS", "STAFFING", "SURVEY", "Fact", "Kind", "local_keys",
           "read_rows", "read_sums", "sum_hours", "sum_hours_from_facts"]
