"""Staffing advice: operators needed per queue and hour of week, by Erlang A and Erlang C.

From the queue attempts of a history window (whole weeks are best; ``weeks`` = its days / 7):

- *offered* per hour of week: the attempts that joined the queue in that local hour of the
  week, divided by ``weeks`` (the mean of the same hour over the window: the forecast);
- *AHT*: the queue's mean talk time of answered attempts, plus its configured wrap-up
  (``queues.<id>.wrapup_s``: the operator is busy then too);
- *patience*: fitted from the abandons, censored: every caller who waited is one observation
  of patience, exact for those who hung up and a lower bound for those answered (or moved on)
  first.  For exponential patience the maximum-likelihood mean is total waiting time / number
  of abandons; with no abandon in the window the patience is unknown and Erlang A is not
  applied (Erlang C's advice stands);
- *operators needed*: the fewest N whose predicted service level (answered within the queue's
  T / offered) reaches the target and whose abandon probability stays under ``max_abandon``;
- *logged in*: the mean number of operators logged in to the queue in that hour of the week
  (``agent_sessions``: login to logout, overlapping the hour, over the window), and the hour
  marked ``under`` (fewer than Erlang A needs), ``over`` (a whole operator or more beyond it)
  or ``ok``; empty when the store holds no logins of the queue.

Assumptions, stated with every report: Poisson arrivals at the forecast rate within the hour,
exponential handle times and patience, operators dedicated to the queue, first come first
served, the hour in steady state.  Erlang C ignores abandons and so advises more operators.
"""

from __future__ import annotations

import functools
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.db.models import AgentSession
from clinicall.reports.analytics_hours import STAFFING
from clinicall.reports.analytics_read import collect
from clinicall.reports.erlang import erlang_a_performance, erlang_c_performance
from clinicall.reports.settings import kpi_settings
from clinicall.reports.table import Column, Report, Section, Value
from clinicall.settings.models import ClinicConfig

MAX_AGENTS = 200
ASSUMPTIONS = ("Poisson arrivals at the forecast rate; exponential handle time (talk + wrap-up) "
               "and patience; operators dedicated to the queue; first come, first served; "
               "each hour in steady state; Erlang C: nobody abandons.")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Target:
    """Service level ``sl`` (0-1) within ``t_s`` seconds (None: the queue's own), and the
    highest acceptable abandon probability (Erlang A only)."""

    sl: float = 0.8
    t_s: float | None = 20.0
    max_abandon: float = 1.0


def fit_patience(waits: list[tuple[float, bool]]) -> float | None:
    """Mean patience (s) by censored exponential MLE from (wait, abandoned) pairs; None when
    nobody abandoned (the patience is then only known to be long)."""
    abandons = sum(1 for _, gave_up in waits if gave_up)
    if not abandons:
        return None
    return sum(w for w, _ in waits) / abandons


def agents_needed(rate: float, aht: float, patience: float | None, t: float,
                  target: Target) -> int | None:  # fmt: skip
    """The fewest operators meeting ``target`` (Erlang A, or Erlang C without a patience);
    None when not even MAX_AGENTS would."""
    if rate <= 0:
        return 0
    # Operators answer at most N / AHT calls a second, so the share answered (within t or
    # not) is at most N / load: fewer than sl·load operators never reach the target.  Erlang C
    # needs N > load besides (else its queue grows without bound).
    start = math.floor(target.sl * rate * aht)
    if patience is None:
        start = max(start, math.floor(rate * aht) + 1)
    for agents in range(start, MAX_AGENTS + 1):
        if patience is None:
            perf = erlang_c_performance(rate, aht, agents, t)
        else:
            perf = erlang_a_performance(rate, aht, patience, agents, t)
        if perf.service_level >= target.sl and perf.abandon_probability <= target.max_abandon:
            return agents
    return None


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


HOUR = timedelta(hours=1)


async def logged_in_by_hour(session: AsyncSession, start: datetime, end: datetime,
                            zone: ZoneInfo) -> dict[tuple[str, int, int], float]:  # fmt: skip
    """Per (queue, ISO weekday, local hour): operator-hours logged in over [start, end)."""
    out: defaultdict[tuple[str, int, int], float] = defaultdict(float)
    rows = await session.execute(
        select(AgentSession.queue, AgentSession.login_at, AgentSession.logout_at)
        .where(AgentSession.login_at < end,
               or_(AgentSession.logout_at.is_(None), AgentSession.logout_at > start))
    )  # fmt: skip
    for queue, login, logout in rows:
        a, b = max(_aware(login), start), min(_aware(logout) if logout else end, end)
        while a < b:
            local = a.astimezone(zone)
            bucket_end = min(b, (a.replace(minute=0, second=0, microsecond=0) + HOUR))
            out[(queue, local.isoweekday(), local.hour)] += (bucket_end - a) / HOUR
            a = bucket_end
    return out


@dataclass(slots=True)
class _Queue:
    joins: defaultdict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))
    sums: Counter[str] = field(default_factory=Counter)  # STAFFING_SUMS of the window

    @property
    def patience(self) -> float | None:
        """:func:`fit_patience` from the window's summed waits and abandons."""
        abandons = self.sums["abandons"]
        return self.sums["wait_ms"] / 1000 / abandons if abandons else None


async def compute_staffing(session: AsyncSession, *, start: datetime, end: datetime,
                           config: ClinicConfig, target: Target = Target(),
                           hourly_sums: bool = True) -> Report:  # fmt: skip
    """The ``staffing`` section (per queue and hour of week with calls) and ``assumptions``
    (per queue: the fitted AHT and patience and what they rest on), from [start, end); whole
    hours from the hourly sums (``reports.analytics_read``), or every row with
    ``hourly_sums=False``."""
    weeks = (end - start).total_seconds() / (7 * 86400)
    zone = config.clinic.zone
    queues: defaultdict[str, _Queue] = defaultdict(_Queue)
    facts = await collect(session, STAFFING, start=start, end=end, zone=zone,
                          settings=kpi_settings(config) if hourly_sums else None,
                          dims=("queue",), time_keys=("week",))  # fmt: skip
    for fact in facts:
        q = queues[str(fact.dims[0])]
        q.joins[fact.when] += fact.counts["offered"]
        q.sums.update(fact.counts)
    staffing = Section("staffing", [Column("queue"), Column("weekday", "", "ISO, 1 = Monday"),
                                    Column("hour", "", "local hour 0-23")], [
        Column("offered_per_h", "count", "forecast: mean of this hour over the window"),
        Column("aht_s", "s", "talk + wrap-up"), Column("patience_s", "s", "fitted"),
        Column("t_s", "s", "service level threshold"),
        Column("agents_erlang_a", "count"), Column("sl_erlang_a", "%"),
        Column("abandon_erlang_a", "%"),
        Column("agents_erlang_c", "count"), Column("sl_erlang_c", "%"),
        Column("logged_in", "count", "mean operators logged in to the queue in this hour"),
        Column("staffed", "", "under / ok / over, against Erlang A"),
    ])  # fmt: skip
    about = Section("assumptions", [Column("queue")], [
        Column("weeks", "", "history window in weeks"), Column("offered", "count"),
        Column("answered_talks", "count"), Column("aht_s", "s"),
        Column("abandons", "count"), Column("waits", "count"), Column("patience_s", "s"),
        Column("target_sl", "%"), Column("max_abandon", "%"), Column("model"),
    ])  # fmt: skip
    logged = await logged_in_by_hour(session, start, end, zone)
    known = {queue for queue, _, _ in logged}
    for queue in sorted(queues):
        q = queues[queue]
        configured = config.queues.get(queue)
        wrapup = configured.wrapup_s if configured is not None else 0
        t = target.t_s if target.t_s is not None else (
            configured.service_level_s if configured is not None else 20)  # fmt: skip
        talks = q.sums["talk_n"]
        aht = (q.sums["talk_ms"] / 1000 / talks if talks else 0.0) + wrapup
        patience = q.patience
        about.rows.append(_about(queue, q, weeks, aht, patience, target))
        if aht <= 0:
            continue
        for (weekday, hour), joins in sorted(q.joins.items()):
            if not joins:
                continue
            rate = joins / weeks / 3600.0
            row = _advice(queue, weekday, hour, rate, aht, patience, t, target)
            if queue in known:
                _compare(row, logged.get((queue, weekday, hour), 0.0) / weeks)
            staffing.rows.append(row)
    return Report(start, end, config.clinic.timezone, [], {"staffing": staffing,
                                                            "assumptions": about})


def _about(queue: str, q: _Queue, weeks: float, aht: float, patience: float | None,
           target: Target) -> dict[str, Value]:  # fmt: skip
    return {"queue": queue, "weeks": round(weeks, 3), "offered": q.sums["offered"],
            "answered_talks": q.sums["talk_n"], "aht_s": round(aht, 3),
            "abandons": q.sums["abandons"], "waits": q.sums["wait_n"],
            "patience_s": None if patience is None else round(patience, 3),
            "target_sl": round(100 * target.sl, 2),
            "max_abandon": round(100 * target.max_abandon, 2),
            "model": ASSUMPTIONS if patience is not None else
            ASSUMPTIONS + " No abandon in the window: patience unknown, Erlang A not applied."}


def _compare(row: dict[str, Value], logged_in: float) -> None:
    needed = row["agents_erlang_a"]
    row["logged_in"] = round(logged_in, 3)
    if isinstance(needed, int):
        row["staffed"] = ("under" if logged_in < needed else
                          "over" if logged_in >= needed + 1 else "ok")  # fmt: skip


def _advice(queue: str, weekday: int, hour: int, rate: float, aht: float,
            patience: float | None, t: float, target: Target) -> dict[str, Value]:  # fmt: skip
    by_a, by_c, sl_a, abandon_a, sl_c = _models(rate, aht, patience, t, target)
    return {
        "queue": queue, "weekday": weekday, "hour": hour,
        "offered_per_h": round(rate * 3600, 3), "aht_s": round(aht, 3),
        "patience_s": None if patience is None else round(patience, 3), "t_s": t,
        "agents_erlang_a": by_a, "agents_erlang_c": by_c,
        "sl_erlang_a": sl_a, "abandon_erlang_a": abandon_a, "sl_erlang_c": sl_c,
        "logged_in": None, "staffed": None,
    }  # fmt: skip


@functools.lru_cache(maxsize=4096)
def _models(rate: float, aht: float, patience: float | None, t: float, target: Target
            ) -> tuple[int | None, int | None, float | None, float | None, float | None]:
    """Operators needed by Erlang A and C, and what they achieve: pure, so hours of a window
    with the same forecast (a common case: few calls an hour) are worked out once."""
    by_c = agents_needed(rate, aht, None, t, target)
    by_a = agents_needed(rate, aht, patience, t, target) if patience is not None else by_c
    sl_a = abandon_a = sl_c = None
    if by_a is not None and patience is not None:
        perf = erlang_a_performance(rate, aht, patience, by_a, t)
        sl_a = round(100 * perf.service_level, 2)
        abandon_a = round(100 * perf.abandon_probability, 2)
    if by_c is not None:
        sl_c = round(100 * erlang_c_performance(rate, aht, by_c, t).service_level, 2)
    return by_a, by_c, sl_a, abandon_a, sl_c
