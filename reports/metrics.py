"""Prometheus metrics: live queue gauges and today's KPIs from the store.

``KpiCollector`` is a custom collector: on each scrape it reads the live state (calls waiting,
longest wait, operators available/paused per queue) through the small ``LiveState`` protocol
(the controller's tracking implements it), and today's counters per queue from the store,
cached for ``ttl_s`` seconds so a tight scrape interval does not re-run the SQL.  The store
part is refreshed by ``refresh()`` (async) because a collector's ``collect()`` is synchronous.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from datetime import time as dtime
from typing import Protocol

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import QueueAttempt, QueueOutcome
from reports.settings import KpiSettings

#: Upper bounds (s) of the wait histogram's buckets.
WAIT_BUCKETS = (5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)


@dataclass(frozen=True, slots=True)
class QueueLive:
    waiting: int
    longest_wait_s: float
    available: int
    paused: int


class LiveState(Protocol):
    """What the metrics need from the controller's live view, per queue."""

    def queues_live(self) -> Mapping[str, QueueLive]: ...


@dataclass(frozen=True, slots=True)
class TodayQueue:
    offered: int
    answered: int
    abandoned: int
    bucket_counts: tuple[int, ...]  # cumulative counts of answered waits ≤ each bound
    wait_sum_s: float


async def today_by_queue(session: AsyncSession, settings: KpiSettings,
                         now: datetime) -> dict[str, TodayQueue]:
    """Offered/answered/abandoned and the answered-wait histogram per queue since local
    midnight (abandons here include short ones: a live counter, not the KPI)."""
    zone = settings.zone
    local = now.astimezone(zone)
    midnight = datetime.combine(local.date(), dtime(), zone)
    qa = QueueAttempt
    answered = qa.outcome == QueueOutcome.ANSWERED.value
    cols = [func.sum(case((answered & (qa.wait_s <= b), 1), else_=0)) for b in WAIT_BUCKETS]
    rows = (await session.execute(
        select(qa.queue, func.count(),
               func.sum(case((answered, 1), else_=0)),
               func.sum(case((qa.outcome == QueueOutcome.ABANDONED.value, 1), else_=0)),
               func.sum(case((answered, qa.wait_s), else_=0.0)), *cols)
        .where(qa.joined_at >= midnight, qa.joined_at <= now).group_by(qa.queue))).all()
    out: dict[str, TodayQueue] = {}
    for row in rows:
        out[row[0]] = TodayQueue(int(row[1]), int(row[2] or 0), int(row[3] or 0),
                                 tuple(int(v or 0) for v in row[5:]), float(row[4] or 0))
    return out


class KpiCollector(Collector):
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: KpiSettings,
                 live: LiveState | None = None, ttl_s: float = 5.0) -> None:
        self.sessions = sessions
        self.settings = settings
        self.live = live
        self.ttl_s = ttl_s
        self._today: dict[str, TodayQueue] = {}
        self._fetched = float("-inf")

    async def refresh(self, now: datetime | None = None) -> None:
        """Re-read today's counters unless they are younger than ``ttl_s``."""
        if time.monotonic() - self._fetched < self.ttl_s:
            return
        async with self.sessions() as session:
            self._today = await today_by_queue(session, self.settings,
                                               now or datetime.now().astimezone())
        self._fetched = time.monotonic()

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily
                                  | HistogramMetricFamily]:
        yield from self._live_metrics()
        offered = CounterMetricFamily("clinicall_queue_offered", "Calls that joined the queue "
                                      "today (local day)", labels=["queue"])
        answered = CounterMetricFamily("clinicall_queue_answered", "Calls connected to an "
                                       "operator today", labels=["queue"])
        abandoned = CounterMetricFamily("clinicall_queue_abandoned", "Callers who hung up "
                                        "while waiting today (short abandons included)",
                                        labels=["queue"])
        waits = HistogramMetricFamily("clinicall_queue_answer_wait_seconds", "Wait of answered "
                                      "calls today", labels=["queue"])
        for queue, t in sorted(self._today.items()):
            offered.add_metric([queue], t.offered)
            answered.add_metric([queue], t.answered)
            abandoned.add_metric([queue], t.abandoned)
            buckets = [(str(b), float(c)) for b, c in zip(WAIT_BUCKETS, t.bucket_counts,
                                                          strict=True)]
            buckets.append(("+Inf", float(t.answered)))
            waits.add_metric([queue], buckets, sum_value=t.wait_sum_s)
        yield from (offered, answered, abandoned, waits)

    def _live_metrics(self) -> Iterator[GaugeMetricFamily]:
        if self.live is None:
            return
        state = self.live.queues_live()
        families = {
            "waiting": GaugeMetricFamily("clinicall_queue_waiting", "Calls waiting now",
                                         labels=["queue"]),
            "longest": GaugeMetricFamily("clinicall_queue_longest_wait_seconds",
                                         "Longest current wait", labels=["queue"]),
            "available": GaugeMetricFamily("clinicall_queue_operators_available",
                                           "Operators logged in and not paused",
                                           labels=["queue"]),
            "paused": GaugeMetricFamily("clinicall_queue_operators_paused",
                                        "Operators logged in and paused", labels=["queue"]),
        }
        for queue, q in sorted(state.items()):
            families["waiting"].add_metric([queue], q.waiting)
            families["longest"].add_metric([queue], q.longest_wait_s)
            families["available"].add_metric([queue], q.available)
            families["paused"].add_metric([queue], q.paused)
        yield from families.values()
