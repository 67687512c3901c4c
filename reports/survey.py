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
Whole hours are read from the survey's hourly sums, the edges from the rows
(``reports.analytics_hours``); a due survey counts under its call's last answered attempt.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.reports.analytics_hours import SURVEY
from clinicall.reports.analytics_read import collect
from clinicall.reports.grouping import BadGroupingError
from clinicall.reports.settings import KpiSettings
from clinicall.reports.table import Column, Report, Section, Value, ratio

KEYS = ("queue", "operator", "route", "day", "hour")
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
    counts: Counter[str] = field(default_factory=Counter)

    def row(self) -> dict[str, Value]:
        c = self.counts
        csat = {n: c[f"csat_{n}"] for n in range(1, 6)}
        nps = {n: c[f"nps_{n}"] for n in range(11)}
        csat_n, nps_n = sum(csat.values()), sum(nps.values())
        promoters = sum(v for n, v in nps.items() if n >= PROMOTER)
        detractors = sum(v for n, v in nps.items() if n <= DETRACTOR)
        nps_value = (None if not nps_n else
                     round(100.0 * (promoters - detractors) / nps_n, 2))  # fmt: skip
        csat_sum = sum(n * v for n, v in csat.items())
        out: dict[str, Value] = {
            "due": self.due, "answered": c["answered"],
            "response_rate": ratio(c["answered"], self.due),
            "partial": c["partial"], "csat_answers": csat_n,
            "csat_mean": round(csat_sum / csat_n, 3) if csat_n else None,
            "nps_answers": nps_n, "promoters": promoters,
            "passives": nps_n - promoters - detractors, "detractors": detractors,
            "nps": nps_value,
        }  # fmt: skip
        out |= {f"csat_{n}": csat[n] for n in range(1, 6)}
        return out


async def compute_survey(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    by: Sequence[str] | str,
    timezone: str,
    always: Collection[str] = (),
    settings: KpiSettings | None = None,
) -> Report:
    """The ``survey`` section for calls started in [start, end); ``always``: the queues whose
    survey mode is ``always`` (their answered calls are due without the IVR's question).
    With the clinic's ``settings`` whole hours are read from the hourly sums
    (``reports.analytics_read``); without, every row is read."""
    keys = parse_keys(by)
    zone = ZoneInfo(timezone)
    dims = ["queue", *[k for k in keys if k in ("operator", "route")]]
    time_keys = [k for k in keys if k in ("day", "hour")]
    facts = await collect(session, SURVEY, start=start, end=end, zone=zone, settings=settings,
                          dims=dims, time_keys=time_keys)  # fmt: skip
    sums: defaultdict[tuple[str, ...], _Sums] = defaultdict(_Sums)
    for fact in facts:
        named = {**dict(zip(dims, fact.dims, strict=True)),
                 **dict(zip(time_keys, fact.when, strict=True))}  # fmt: skip
        c = fact.counts
        due = c.get("due_agreed", 0) + (c.get("due_other", 0) if named["queue"] in always else 0)
        answers = {n: v for n, v in c.items() if v and not n.startswith("due_")}
        if due or answers:  # a survey not due in a queue that never asks is no row
            group = sums[tuple(named[k] for k in keys)]
            group.due += due
            group.counts.update(answers)
    section = Section("survey", [Column(k, "time" if k == "hour" else "") for k in keys],
                      METRICS)  # fmt: skip
    for key in sorted(sums):
        section.rows.append({**dict(zip(keys, key, strict=True)), **sums[key].row()})
    return Report(start, end, timezone, keys, {"survey": section})
