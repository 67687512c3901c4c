"""Prometheus metrics: live queue gauges, and today's KPIs from the store.

``KpiCollector`` is a custom collector: on each scrape it reads the live state (calls waiting,
longest wait, operators available/paused per queue) through the small ``LiveState`` protocol
(the controller's tracking implements it), and today's KPIs (local midnight to now, from
``reports.kpi.compute``, so the same numbers as the exports and ``/api/kpi``) with the
answered-wait histogram per queue, cached for ``ttl_s`` seconds so a tight scrape interval does
not re-run the SQL.  The store part is refreshed by ``refresh()`` (async) because a collector's
``collect()`` is synchronous.

Counts of today are counters (they restart at local midnight, which Prometheus reads as a
reset); rates, means and percentiles are gauges; waits of answered calls are a histogram.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
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

from clinicall.db.models import Call, Direction, QueueAttempt, QueueOutcome
from clinicall.reports.callbacks import CallbackFigures, callback_figures
from clinicall.reports.kpi import CAUSES, compute
from clinicall.reports.settings import KpiSettings
from clinicall.reports.survey import compute_survey
from clinicall.reports.table import Report, Value
from clinicall.reports.wait_estimates import EstimateAccuracy, estimate_accuracy

#: Upper bounds (s) of the wait histogram's buckets.
WAIT_BUCKETS = (5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)


@dataclass(frozen=True, slots=True)
class QueueLive:
    waiting: int
    longest_wait_s: float
    available: int
    paused: int


@dataclass(frozen=True, slots=True)
class LinkLive:
    """The engine link now (the engine port's health)."""

    engine: str
    up: bool
    reconnects: int
    last_event_age_s: float | None  # None: no event yet
    call_connections_dropped: int = 0  # closed before their session: the pending budget
    call_connections_malformed: int = 0  # closed before their session: not the protocol
    call_connections_refused: int = 0  # closed before their session: address not allowed
    call_connections_timed_out: int = 0  # closed before their session: no environment in time


@dataclass(frozen=True, slots=True)
class AccountLive:
    """The call account now."""

    store_up: bool
    pending: int  # facts in memory, not yet written
    ivr_unconfirmed: int  # IVR sessions the engine never reported (since start)


class LiveState(Protocol):
    """What the metrics need from the controller's live view: per queue, the link, the
    account."""

    def queues_live(self) -> Mapping[str, QueueLive]: ...

    def link_live(self) -> LinkLive | None: ...

    def account_live(self) -> AccountLive | None: ...


#: Today's KPI columns served per queue: report column → (metric name, help).
QUEUE_COUNTERS = {
    "offered": ("clinicall_queue_offered", "Calls that joined the queue today (local day)"),
    "answered": ("clinicall_queue_answered", "Calls connected to an operator today"),
    "abandoned": ("clinicall_queue_abandoned", "Callers who hung up while waiting today, "
                  "wait ≥ short_abandon_s"),
    "short_abandoned": ("clinicall_queue_short_abandoned", "Callers who hung up while "
                        "waiting today, wait < short_abandon_s"),
    "timeout": ("clinicall_queue_timeout", "Calls that left the queue by max wait today"),
    "exit_key": ("clinicall_queue_exit_key", "Calls that left the queue by a key today"),
    "cut": ("clinicall_queue_cut", "Waiting calls the PBX ended today (stop, restart, crash)"),
}
QUEUE_GAUGES = {
    "service_level": ("clinicall_queue_service_level_percent", "Answered within the queue's "
                      "T / (offered − short abandons − cut), today"),
    "abandon_rate": ("clinicall_queue_abandon_rate_percent", "Abandoned / (offered − short "
                     "abandons − cut), today"),
    "asa": ("clinicall_queue_asa_seconds", "Mean wait of answered calls today"),
    "wait_p90": ("clinicall_queue_wait_p90_seconds", "90th percentile wait of answered "
                 "calls today (nearest rank)"),
    "aht_talk": ("clinicall_queue_aht_talk_seconds", "Mean talk time of answered calls "
                 "today (no wrap-up)"),
}
CALL_COUNTERS = {
    "inbound": ("clinicall_calls_inbound", "Inbound calls today"),
    "self_served": ("clinicall_calls_self_served", "Inbound calls the IVR answered itself "
                    "today"),
    "returned_in_time": ("clinicall_calls_returned_in_time", "Missed calls of today returned "
                         "within unreturned_after_min"),
}
CALL_GAUGES = {
    "unreturned": ("clinicall_calls_unreturned", "Missed calls of today not returned within "
                   "unreturned_after_min (falls as calls are returned)"),
    "missed_rate": ("clinicall_calls_missed_rate_percent", "Missed / inbound, today"),
    "repeat_24h_rate": ("clinicall_calls_repeat_24h_percent", "Calls of today followed by "
                        "another from the caller within 24 h"),
    "time_to_callback_mean": ("clinicall_calls_time_to_callback_seconds", "Mean time to "
                              "return a missed call of today, within the horizon"),
}


#: Today's post-call survey per queue, operator and route (docs/kpi.md, Survey).
SURVEY_COUNTERS = {
    "due": ("clinicall_survey_due", "Answered calls of today due a survey (agreed, or the "
            "queue always asks)"),
    "answered": ("clinicall_survey_answered", "Surveys of today's calls with an answer"),
    "partial": ("clinicall_survey_partial", "Surveys of today's calls left unfinished"),
    "csat_answers": ("clinicall_survey_csat_answers", "CSAT answers of today's calls"),
    "nps_answers": ("clinicall_survey_nps_answers", "NPS answers of today's calls"),
}
SURVEY_GAUGES = {
    "response_rate": ("clinicall_survey_response_rate_percent", "Answered / due, today"),
    "csat_mean": ("clinicall_survey_csat_mean", "Mean CSAT (1-5) of today's calls"),
    "nps": ("clinicall_survey_nps", "NPS of today's calls: % 9-10 minus % 0-6"),
}


@dataclass(frozen=True, slots=True)
class WaitHistogram:
    count: int
    bucket_counts: tuple[int, ...]  # cumulative counts of answered waits ≤ each bound
    sum_s: float


async def today_wait_histograms(session: AsyncSession, start: datetime, now: datetime
                                ) -> dict[str, WaitHistogram]:
    """The answered-wait histogram per queue of the attempts joined in [start, now]."""
    qa = QueueAttempt
    answered = qa.outcome == QueueOutcome.ANSWERED.value
    cols = [func.sum(case((answered & (qa.wait_s <= b), 1), else_=0)) for b in WAIT_BUCKETS]
    rows = (await session.execute(
        select(qa.queue, func.sum(case((answered, 1), else_=0)),
               func.sum(case((answered, qa.wait_s), else_=0.0)), *cols)
        .join(Call, Call.id == qa.call_id)
        .where(qa.joined_at >= start, qa.joined_at <= now,
               Call.direction == Direction.INBOUND.value)  # docs/kpi.md: inbound calls only
        .group_by(qa.queue))).all()
    return {row[0]: WaitHistogram(int(row[1] or 0), tuple(int(v or 0) for v in row[3:]),
                                  float(row[2] or 0)) for row in rows}


class KpiCollector(Collector):
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: KpiSettings,
                 live: LiveState | None = None, ttl_s: float = 5.0) -> None:
        self.sessions = sessions
        self.settings = settings
        self.live = live
        self.ttl_s = ttl_s
        self._report: Report | None = None
        self._surveys: dict[str, Report] = {}
        self._waits: dict[str, WaitHistogram] = {}
        self._callbacks: CallbackFigures | None = None
        self._estimates: EstimateAccuracy | None = None
        self._fetched = float("-inf")

    async def refresh(self, now: datetime | None = None) -> None:
        """Re-read today's KPIs unless they are younger than ``ttl_s``."""
        if time.monotonic() - self._fetched < self.ttl_s:
            return
        now = now or datetime.now().astimezone()
        local = now.astimezone(self.settings.zone)
        midnight = datetime.combine(local.date(), dtime(), self.settings.zone)
        async with self.sessions() as session:
            self._report = await compute(session, start=midnight, end=now, by="queue",
                                         config=self.settings)
            self._waits = await today_wait_histograms(session, midnight, now)
            self._surveys = {
                by: await compute_survey(session, start=midnight, end=now, by=by,
                                         timezone=self.settings.timezone,
                                         always=self.settings.survey_always,
                                         settings=self.settings)
                for by in ("queue", "operator", "route")
            }  # fmt: skip
            self._callbacks = await callback_figures(
                session, start=midnight, end=now,
                unreturned_after=timedelta(minutes=self.settings.unreturned_after_min))
            self._estimates = await estimate_accuracy(session, start=midnight, end=now)
        self._fetched = time.monotonic()

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily
                                  | HistogramMetricFamily]:
        yield from self._live_metrics()
        if self._report is None:
            return
        queues = self._report.section("queues").rows
        yield from _families(queues, QUEUE_COUNTERS, CounterMetricFamily, "queue")
        yield from _families(queues, QUEUE_GAUGES, GaugeMetricFamily, "queue")
        waits = HistogramMetricFamily("clinicall_queue_answer_wait_seconds", "Wait of answered "
                                      "calls today", labels=["queue"])
        for queue, w in sorted(self._waits.items()):
            buckets = [(str(b), float(c)) for b, c in zip(WAIT_BUCKETS, w.bucket_counts,
                                                          strict=True)]
            buckets.append(("+Inf", float(w.count)))
            waits.add_metric([queue], buckets, sum_value=w.sum_s)
        yield waits
        calls = self._report.section("calls").rows
        yield from _families(calls, CALL_COUNTERS, CounterMetricFamily, None)
        yield from _families(calls, CALL_GAUGES, GaugeMetricFamily, None)
        missed = CounterMetricFamily("clinicall_calls_missed", "Inbound calls today that "
                                     "reached no operator and were not self-served, by cause",
                                     labels=["cause"])
        for row in calls:
            for cause in CAUSES:
                missed.add_metric([cause], float(row[f"missed_{cause}"] or 0))
        yield missed
        topics = CounterMetricFamily("clinicall_ivr_topic_calls", "Inbound calls today by the "
                                     "IVR topic chosen", labels=["route"])
        for row in self._report.section("topics").rows:
            topics.add_metric([str(row["route"] or "none")], float(row["calls"] or 0))
        yield topics
        yield from self._survey_metrics()
        if self._callbacks is not None:
            yield from _callback_metrics(self._callbacks)
        if self._estimates is not None:
            yield from _estimate_metrics(self._estimates)

    def _survey_metrics(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        for by, report in self._surveys.items():
            rows = report.section("survey").rows
            suffix = "" if by == "queue" else f"_by_{by}"
            counters = {k: (n + suffix, h) for k, (n, h) in SURVEY_COUNTERS.items()}
            gauges = {k: (n + suffix, h) for k, (n, h) in SURVEY_GAUGES.items()}
            yield from _families(rows, counters, CounterMetricFamily, by)
            yield from _families(rows, gauges, GaugeMetricFamily, by)
            scores = CounterMetricFamily(f"clinicall_survey_csat_score{suffix}", "CSAT answers "
                                         "of today's calls by score", labels=[by, "score"])
            for row in rows:
                for n in range(1, 6):
                    scores.add_metric([str(row[by]), str(n)], float(row[f"csat_{n}"] or 0))
            yield scores

    def _live_metrics(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
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
        yield from _link_metrics(self.live.link_live())
        yield from _account_metrics(self.live.account_live())


def _callback_metrics(figures: CallbackFigures) -> Iterator[GaugeMetricFamily
                                                            | CounterMetricFamily]:
    """Today's callback figures (reports.callbacks); a figure with no data yet is left out."""
    jobs = CounterMetricFamily("clinicall_callback_jobs", "Callback jobs made today, by the "
                               "missed call's cause or the job's reason", labels=["cause"])
    for cause, count in figures.jobs_by_cause.items():
        jobs.add_metric([cause], float(count))
    yield jobs
    first = GaugeMetricFamily("clinicall_callback_first_attempt_seconds", "From the patient's "
                              "call to the first attempt, today's jobs", labels=["quantile"])
    for quantile, value in (("0.5", figures.first_attempt_p50_s),
                            ("0.9", figures.first_attempt_p90_s)):  # fmt: skip
        if value is not None:
            first.add_metric([quantile], value)
    yield first
    for name, text, value in (
        ("clinicall_callback_attempts_per_job", "Attempts per settled job made today",
         figures.attempts_per_job),
        ("clinicall_callback_success_ratio", "Done over settled (done, failed) jobs made today",
         figures.success_rate),
    ):  # fmt: skip
        if value is not None:
            yield GaugeMetricFamily(name, text, value=value)
    yield GaugeMetricFamily("clinicall_callback_missed_unreturned", "Missed calls today not "
                            "returned within unreturned_after_min",
                            value=float(figures.missed_unreturned))
    reminders = CounterMetricFamily("clinicall_reminders", "Appointment reminders settled "
                                    "today, by the patient's answer or unreached",
                                    labels=["result"])  # fmt: skip
    for result, count in figures.reminders_by_result.items():
        reminders.add_metric([result], float(count))
    yield reminders


def _estimate_metrics(accuracy: EstimateAccuracy) -> Iterator[GaugeMetricFamily]:
    """Today's wait-estimate error (reports.wait_estimates): clinicall's and the engine's
    moving average as the baseline; a figure with no measured announcement is left out."""
    error = GaugeMetricFamily("clinicall_wait_estimate_error_seconds", "Absolute error of "
                              "today's announced waits against the waits that followed",
                              labels=["estimator", "quantile"])
    for estimator, figures in (("clinicall", accuracy.clinicall), ("engine", accuracy.engine)):
        for quantile, value in (("0.5", figures.median_s), ("0.9", figures.p90_s)):
            if value is not None:
                error.add_metric([estimator, quantile], value)
    yield error


def _account_metrics(
    books: AccountLive | None,
) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
    if books is None:
        return
    yield GaugeMetricFamily("clinicall_store_up", "1 while the call account's writes reach "
                            "the store", value=1.0 if books.store_up else 0.0)
    yield GaugeMetricFamily("clinicall_account_pending_facts", "Facts kept in memory, not yet "
                            "written to the store", value=float(books.pending))
    yield CounterMetricFamily("clinicall_ivr_sessions_unconfirmed", "IVR sessions the PBX never "
                              "reported: kept apart, not counted as calls",
                              value=float(books.ivr_unconfirmed))


def _link_metrics(link: LinkLive | None) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
    if link is None:
        return
    up = GaugeMetricFamily("clinicall_engine_up", "1 while the link to the PBX is up",
                           labels=["engine"])
    up.add_metric([link.engine], 1.0 if link.up else 0.0)
    reconnects = CounterMetricFamily("clinicall_engine_reconnects", "Times the link to the PBX "
                                     "came back after a loss", labels=["engine"])
    reconnects.add_metric([link.engine], float(link.reconnects))
    yield up
    yield reconnects
    for name, help_text, value in (
        ("clinicall_engine_call_connections_dropped", "Call connections (FastAGI) dropped "
         "while still sending their environment, for a newer one: the budget of such "
         "connections was full", link.call_connections_dropped),
        ("clinicall_engine_call_connections_malformed", "Call connections (FastAGI) closed "
         "because their environment was not the protocol's", link.call_connections_malformed),
        ("clinicall_engine_call_connections_refused", "Call connections (FastAGI) closed on "
         "connect because their address is not allowed", link.call_connections_refused),
        ("clinicall_engine_call_connections_timed_out", "Call connections (FastAGI) closed "
         "because their environment did not come within the environment timeout",
         link.call_connections_timed_out),
    ):
        family = CounterMetricFamily(name, help_text, labels=["engine"])
        family.add_metric([link.engine], float(value))
        yield family
    if link.last_event_age_s is not None:
        age = GaugeMetricFamily("clinicall_engine_last_event_age_seconds",
                                "Seconds since the PBX last sent an event", labels=["engine"])
        age.add_metric([link.engine], link.last_event_age_s)
        yield age


Family = type[CounterMetricFamily] | type[GaugeMetricFamily]


def _families(rows: list[dict[str, Value]], spec: Mapping[str, tuple[str, str]],
              kind: Family, label: str | None,
              ) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
    """One metric family per report column of ``spec``; a sample per row (labelled by the
    row's ``label`` column), none where the value is empty (no answered call: no ASA)."""
    for column, (name, help_text) in spec.items():
        family = kind(name, help_text, labels=[label] if label else [])
        for row in rows:
            value = row[column]
            if value is not None:
                family.add_metric([str(row[label])] if label else [], float(value))
        yield family
