"""The post-call survey's figures: CSAT, NPS and the response rate, grouped as asked.

Definitions (docs/kpi.md, "Survey"):

- a survey is *due* for an inbound call an operator answered when the patient agreed in the IVR
  (``survey:1`` in the call's path) or the queue that answered it surveys every patient
  (``survey: always``, from the clinic config the report is run with);
- *answered*: the call has at least one answer; response rate = answered / due;
- CSAT mean of the 1–5 answers, with how many answers gave each score;
- NPS = % of 0–10 answers that are 9–10 (promoters) minus % that are 0–6 (detractors), with the
  number of answers (a score over few answers says little);
- *partial*: answered surveys the patient did not finish (hung up, ``#`` or silence).

A survey belongs to the period of its call's start, and to the queue, operator and route of
the conversation it rates (the answers name them; a due survey takes its answering queue
attempt's).  ``by`` is any of ``queue``, ``operator``, ``route``, ``day``, ``hour`` (local).
The rows are few (one or two per answered call), so they are read and summed here in Python:
exactly the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.db.models import Call, Direction, QueueAttempt, QueueOutcome, SurveyAnswer
from clinicall.db.models import SurveyQuestion as Q
from clinicall.reports.grouping import BadGroupingError
from clinicall.reports.table import Column, Report, Section, Value, ratio
from clinicall.reports.timebuckets import local_day_of, local_hour_of

KEYS = ("queue", "operator", "route", "day", "hour")
AGREED = "survey:1"
PROMOTER, DETRACTOR = 9, 6  # 9-10 promote; 0-6 detract

METRICS = [
    Column("due", "count", "answered calls whose patient agreed or whose queue always asks"),
    Column("answered", "count", "surveys with at least one answer"),
    Column("response_rate", "%", "answered / due"),
    Column("partial", "count", "answered surveys left unfinished"),
    Column("csat_answers", "count"),
    Column("csat_mean", "score", "mean of the 1-5 answers"),
    *[Column(f"csat_{n}", "count", f"answers of {n}") for n in range(1, 6)],
    Column("nps_answers", "count"),
    Column("promoters", "count", "answers of 9-10"),
    Column("passives", "count", "answers of 7-8"),
    Column("detractors", "count", "answers of 0-6"),
    Column("nps", "score", "% promoters - % detractors"),
]


def parse_keys(by: Sequence[str] | str) -> list[str]:
    items = by.split(",") if isinstance(by, str) else list(by)
    keys: list[str] = []
    for item in (i.strip().lower() for i in items):
        item = {"specialty": "queue", "topic": "route"}.get(item, item)
        if not item or item in keys:
            continue
        if item not in KEYS:
            raise BadGroupingError(f"cannot group the survey by {item!r}: choose from "
                                   f"{', '.join(KEYS)}")  # fmt: skip
        keys.append(item)
    return keys


@dataclass(slots=True)
class _Sums:
    due: int = 0
    answered: set[int] = field(default_factory=set)
    partial: set[int] = field(default_factory=set)
    csat: list[int] = field(default_factory=list)
    nps: list[int] = field(default_factory=list)

    def row(self) -> dict[str, Value]:
        csat, nps = self.csat, self.nps
        promoters = sum(1 for s in nps if s >= PROMOTER)
        detractors = sum(1 for s in nps if s <= DETRACTOR)
        nps_value = (None if not nps else
                     round(100.0 * (promoters - detractors) / len(nps), 2))  # fmt: skip
        out: dict[str, Value] = {
            "due": self.due, "answered": len(self.answered),
            "response_rate": ratio(len(self.answered), self.due),
            "partial": len(self.partial), "csat_answers": len(csat),
            "csat_mean": round(sum(csat) / len(csat), 3) if csat else None,
            "nps_answers": len(nps), "promoters": promoters,
            "passives": len(nps) - promoters - detractors, "detractors": detractors,
            "nps": nps_value,
        }  # fmt: skip
        out |= {f"csat_{n}": csat.count(n) for n in range(1, 6)}
        return out


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _key(keys: Sequence[str], zone: ZoneInfo, started: datetime, queue: str | None,
         operator: str | None, route: str | None) -> tuple[str, ...]:  # fmt: skip
    at = _aware(started)
    values = {"queue": queue or "", "operator": operator or "", "route": route or "",
              "day": local_day_of(at, zone), "hour": local_hour_of(at, zone)}  # fmt: skip
    return tuple(values[k] for k in keys)


async def compute_survey(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    by: Sequence[str] | str,
    timezone: str,
    always: Collection[str] = (),
) -> Report:
    """The ``survey`` section for calls started in [start, end); ``always``: the queues whose
    survey mode is ``always`` (their answered calls are due without the IVR's question)."""
    keys = parse_keys(by)
    zone = ZoneInfo(timezone)
    sums: defaultdict[tuple[str, ...], _Sums] = defaultdict(_Sums)
    answers = await session.execute(
        select(SurveyAnswer.call_id, SurveyAnswer.question, SurveyAnswer.score,
               SurveyAnswer.queue, SurveyAnswer.operator, SurveyAnswer.route,
               SurveyAnswer.complete, Call.started_at)
        .join(Call, Call.id == SurveyAnswer.call_id)
        .where(Call.started_at >= start, Call.started_at < end)
    )  # fmt: skip
    for call_id, question, score, queue, operator, route, complete, started in answers:
        group = sums[_key(keys, zone, started, queue, operator, route)]
        group.answered.add(call_id)
        if not complete:
            group.partial.add(call_id)
        (group.csat if question == Q.CSAT else group.nps).append(score)
    attempts = await session.execute(
        select(Call.id, Call.started_at, Call.ivr_path, Call.route, QueueAttempt.queue,
               QueueAttempt.agent, QueueAttempt.connected_at)
        .join(QueueAttempt, QueueAttempt.call_id == Call.id)
        .where(Call.started_at >= start, Call.started_at < end,
               Call.direction == Direction.INBOUND,
               QueueAttempt.outcome == QueueOutcome.ANSWERED)
        .order_by(Call.id, QueueAttempt.connected_at)
    )  # fmt: skip
    last: dict[int, tuple[datetime, str | None, str | None, str, str | None]] = {}
    for call_id, started, path, route, queue, agent, _ in attempts:
        agreed = AGREED in (path or "").split("/")
        if agreed or queue in always:
            last[call_id] = (started, path, route, queue, agent)  # the last answered attempt
    for started, _, route, queue, agent in last.values():
        sums[_key(keys, zone, started, queue, agent, route)].due += 1
    section = Section("survey", [Column(k, "time" if k == "hour" else "") for k in keys],
                      METRICS)  # fmt: skip
    for key in sorted(sums):
        section.rows.append({**dict(zip(keys, key, strict=True)), **sums[key].row()})
    return Report(start, end, timezone, keys, {"survey": section})
