"""The obvious way to compute a report: load the period's rows into Python and count.

It follows the KPI definitions of ``clinicall.reports.kpi`` line by line with no SQL
cleverness, so it is the reference the benchmark checks the SQL version against, and times as
the alternative.  A test oracle, not product code: it lives beside the benchmark.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.db.models import (
    Call,
    Callback,
    CallbackState,
    Direction,
    IvrOutcome,
    QueueAttempt,
    QueueOutcome,
    SurveyAnswer,
    SurveyQuestion,
)
from clinicall.reports import grouping as grp
from clinicall.reports import kpi
from clinicall.reports import timebuckets as tb
from clinicall.reports.resolution import RESOLUTION_METRICS
from clinicall.reports.resolution import RESOLVED as RESOLUTION_DONE
from clinicall.reports.resolution import WRONG_NUMBER as RESOLUTION_WRONG
from clinicall.reports.settings import KpiSettings, kpi_settings
from clinicall.reports.table import Report, Section, Value, normalize, ratio
from clinicall.settings.models import ClinicConfig

NEVER = datetime.max.replace(tzinfo=UTC)


def _ms(at: datetime) -> int:
    return round(at.timestamp() * 1000)


def _labels(keys: Sequence[str], s: KpiSettings, *, at: datetime, queue: str | None,
            route: str | None) -> tuple[tuple[Any, ...], dict[str, Value]]:
    order: list[Any] = []
    out: dict[str, Value] = {}
    for key in keys:
        if key == "queue":
            order.append(queue)
            out["queue"] = queue
            out["queue_name"] = s.queue_names.get(queue or "", queue)
        elif key == "route":
            order.append(route)
            out["route"] = route
        elif key == "day":
            out["day"] = tb.local_day_of(at, s.zone)
            order.append(out["day"])
        else:
            out["hour"] = tb.local_hour_of(at, s.zone)
            order.append(int(at.timestamp()) // tb.HOUR)
    return grp.sort_key(order), out


def _nearest_rank(values: list[float], p: int) -> float:
    return sorted(values)[math.ceil(p * len(values) / 100) - 1]


async def compute_naive(session: AsyncSession, *, start: datetime, end: datetime,
                        by: Sequence[str] | str = (),
                        config: ClinicConfig | KpiSettings) -> Report:
    s = kpi_settings(config)
    keys = grp.parse_by(by)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    return Report(start, end, s.timezone, keys, {
        "queues": await _queues(session, s, keys, start, end),
        "calls": await _calls(session, s, [k for k in keys if k != "queue"], start, end),
        "topics": await _topics(session, s, [k for k in keys if k in ("day", "hour")] + ["route"],
                                start, end),
        "resolution": await _resolution(session, s, [k for k in keys if k != "queue"], start,
                                        end),
    })


def _columns(keys: list[str], s: KpiSettings) -> grp.Grouping:
    return grp.Grouping(keys, [], [2 if k == "hour" else 1 for k in keys], s.queue_names)


async def _queues(session: AsyncSession, s: KpiSettings, keys: list[str], start: datetime,
                  end: datetime) -> Section:
    rows = (await session.execute(
        select(QueueAttempt.joined_at, QueueAttempt.queue, QueueAttempt.outcome,
               QueueAttempt.wait_s, QueueAttempt.talk_s, Call.route)
        .join(Call, Call.id == QueueAttempt.call_id)
        .where(QueueAttempt.joined_at >= start, QueueAttempt.joined_at < end,
               Call.direction == Direction.INBOUND))).all()
    groups: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    labels: dict[tuple[Any, ...], dict[str, Value]] = {}
    for r in rows:
        key, label = _labels(keys, s, at=r.joined_at, queue=r.queue, route=r.route)
        groups[key].append(r)
        labels[key] = label
    section = Section("queues", _columns(keys, s).columns(), kpi.QUEUE_METRICS)
    for key in sorted(groups):
        g = groups[key]
        ans = [r for r in g if r.outcome == QueueOutcome.ANSWERED]
        aband = [r for r in g if r.outcome == QueueOutcome.ABANDONED]
        short = [r for r in aband if r.wait_s is not None and r.wait_s < s.short_abandon_s]
        cut = sum(r.outcome == QueueOutcome.CUT for r in g)
        counted = len(g) - len(short) - cut
        waits = [r.wait_s for r in ans if r.wait_s is not None]
        talks = [r.talk_s for r in ans if r.talk_s is not None]
        in_sl = [r for r in ans if r.wait_s is not None
                 and r.wait_s <= s.service_level_for(r.queue)]
        out = dict(labels[key])
        out.update(
            offered=len(g), answered=len(ans), abandoned=len(aband) - len(short),
            short_abandoned=len(short),
            timeout=sum(r.outcome == QueueOutcome.TIMEOUT for r in g),
            exit_key=sum(r.outcome == QueueOutcome.EXIT_KEY for r in g),
            empty=sum(r.outcome == QueueOutcome.EMPTY for r in g),
            cut=cut,
            in_queue=sum(r.outcome is None for r in g),
            abandon_rate=ratio(len(aband) - len(short), counted),
            service_level=ratio(len(in_sl), counted),
            asa=normalize(sum(round(w * 1000) for w in waits) / len(waits) / 1000, "s")
            if waits else None,
            wait_p50=normalize(_nearest_rank(waits, 50), "s") if waits else None,
            wait_p90=normalize(_nearest_rank(waits, 90), "s") if waits else None,
            wait_max=normalize(max(waits), "s") if waits else None,
            aht_talk=normalize(sum(round(t * 1000) for t in talks) / len(talks) / 1000, "s")
            if talks else None,
        )
        section.rows.append(out)
    if not keys and not groups:
        section.rows.append(_empty_queue_row())
    return section


def _empty_queue_row() -> dict[str, Value]:
    row: dict[str, Value] = {c.name: 0 for c in kpi.QUEUE_METRICS if c.unit == "count"}
    row.update({c.name: None for c in kpi.QUEUE_METRICS if c.unit != "count"})
    return row


async def _calls(session: AsyncSession, s: KpiSettings, keys: list[str], start: datetime,
                 end: datetime) -> Section:
    horizon = timedelta(hours=s.return_horizon_h)
    calls = (await session.execute(select(Call).where(
        Call.started_at >= start, Call.started_at < end + max(horizon, timedelta(days=7)))
    )).scalars().all()
    answered_ids = set((await session.execute(
        select(QueueAttempt.call_id).join(Call, Call.id == QueueAttempt.call_id).where(
            QueueAttempt.connected_at.is_not(None), Call.started_at >= start,
            Call.started_at < end + horizon))).scalars().all())
    done: dict[int | None, list[datetime | None]] = defaultdict(list)
    for cb in (await session.execute(select(Callback).where(
            Callback.state == CallbackState.DONE, Callback.completed_at.is_not(None)))).scalars():
        done[cb.origin_call_id].append(cb.completed_at)
    surveys = defaultdict(list)
    for a in (await session.execute(select(SurveyAnswer).join(Call).where(
            Call.started_at >= start, Call.started_at < end))).scalars():
        surveys[a.call_id].append(a)
    contacts: dict[str, list[datetime]] = defaultdict(list)  # number -> reached at (sorted)
    inbound_by_caller: dict[str, list[datetime]] = defaultdict(list)
    for c in calls:
        if c.direction == Direction.INBOUND and c.caller:
            inbound_by_caller[c.caller].append(c.started_at)
            if c.id in answered_ids:
                contacts[c.caller].append(c.started_at)
        elif c.direction == Direction.OUTBOUND and c.dialled and c.answered_at is not None:
            contacts[c.dialled].append(c.started_at)
    for lists in (contacts, inbound_by_caller):
        for v in lists.values():
            v.sort()
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for c in calls:
        if c.direction != Direction.INBOUND or not start <= c.started_at < end:
            continue
        key, label = _labels(keys, s, at=c.started_at, queue=None, route=c.route)
        g = groups.setdefault(key, {"_labels": label})
        g["inbound"] = g.get("inbound", 0) + 1
        g["self_served"] = g.get("self_served", 0) + (c.ivr_outcome == IvrOutcome.SELF_SERVED)
        if c.caller:
            g["known"] = g.get("known", 0) + 1
            later = inbound_by_caller[c.caller]
            i = bisect_right(later, c.started_at)
            gap = _ms(later[i]) - _ms(c.started_at) if i < len(later) else None
            if gap is not None and gap <= 24 * 3_600_000:
                g["rep24"] = g.get("rep24", 0) + 1
            if gap is not None and gap <= 7 * 24 * 3_600_000:
                g["rep7"] = g.get("rep7", 0) + 1
        for a in surveys.get(c.id, []):
            name = "csat" if a.question == SurveyQuestion.CSAT else "nps"
            g[f"{name}_n"] = g.get(f"{name}_n", 0) + 1
            g[f"{name}_sum"] = g.get(f"{name}_sum", 0) + a.score
            g["prom"] = g.get("prom", 0) + (name == "nps" and a.score >= 9)
            g["detr"] = g.get("detr", 0) + (name == "nps" and a.score <= 6)
        if not c.missed:
            continue
        g["missed"] = g.get("missed", 0) + 1
        g[f"cause_{c.miss_cause}"] = g.get(f"cause_{c.miss_cause}", 0) + 1
        firsts = [t for t in done.get(c.id, []) if t is not None]
        later = contacts.get(c.caller or "", [])
        i = bisect_right(later, c.started_at)
        if i < len(later):
            firsts.append(later[i])
        if firsts:
            delta = _ms(min(firsts)) - _ms(c.ended_at or c.started_at)
            if delta <= s.unreturned_after_min * 60_000:
                g["in_time"] = g.get("in_time", 0) + 1
            if delta <= s.return_horizon_h * 3_600_000:
                g["ttc_n"] = g.get("ttc_n", 0) + 1
                g["ttc_sum"] = g.get("ttc_sum", 0) + delta
                g["ttc_max"] = max(g.get("ttc_max", delta), delta)
    section = Section("calls", _columns(keys, s).columns(), kpi.CALL_METRICS)
    if not keys and not groups:
        groups[()] = {"_labels": {}}
    for key in sorted(groups):
        g = groups[key]
        missed = g.get("missed", 0)
        out = dict(g["_labels"])
        ttc_n = g.get("ttc_n", 0)
        out.update(
            inbound=g.get("inbound", 0), self_served=g.get("self_served", 0), missed=missed,
            **{f"missed_{c}": g.get(f"cause_{c}", 0) for c in kpi.CAUSES},
            missed_rate=ratio(missed, g.get("inbound", 0)),
            returned_in_time=g.get("in_time", 0), unreturned=missed - g.get("in_time", 0),
            time_to_callback_mean=normalize(g["ttc_sum"] / ttc_n / 1000, "s") if ttc_n else None,
            time_to_callback_max=normalize(g["ttc_max"] / 1000, "s") if ttc_n else None,
            repeat_24h_rate=ratio(g.get("rep24", 0), g.get("known", 0)),
            repeat_7d_rate=ratio(g.get("rep7", 0), g.get("known", 0)),
            csat=normalize(g["csat_sum"] / g["csat_n"], "%") if g.get("csat_n") else None,
            csat_answers=g.get("csat_n", 0),
            nps=(normalize(100.0 * (g["prom"] - g["detr"]) / g["nps_n"], "%")
                 if g.get("nps_n") else None),
            nps_answers=g.get("nps_n", 0),
        )
        section.rows.append(out)
    return section


async def _topics(session: AsyncSession, s: KpiSettings, keys: list[str], start: datetime,
                  end: datetime) -> Section:
    rows = (await session.execute(select(Call.started_at, Call.route, Call.missed,
                                         Call.ivr_outcome).where(
        Call.started_at >= start, Call.started_at < end,
        Call.direction == Direction.INBOUND))).all()
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in rows:
        key, label = _labels(keys, s, at=r.started_at, queue=None, route=r.route)
        g = groups.setdefault(key, {"_labels": label, "calls": 0, "self_served": 0, "missed": 0})
        g["calls"] += 1
        g["self_served"] += r.ivr_outcome == IvrOutcome.SELF_SERVED
        g["missed"] += bool(r.missed)
    section = Section("topics", _columns(keys, s).columns(), kpi.TOPIC_METRICS)
    for key in sorted(groups):
        g = groups[key]
        out = dict(g["_labels"])
        out.update(calls=g["calls"], self_served=g["self_served"], missed=g["missed"])
        section.rows.append(out)
    return section


async def _resolution(session: AsyncSession, s: KpiSettings, keys: list[str], start: datetime,
                      end: datetime) -> Section:
    """docs/kpi.md's first-contact resolution, from the calls marked after the call; the
    repeat within 24 h from the caller's next inbound call, found here by searching."""
    calls = (await session.execute(select(
        Call.started_at, Call.route, Call.caller, Call.disposition).where(
        Call.started_at >= start, Call.started_at < end + timedelta(days=1),
        Call.direction == Direction.INBOUND))).all()
    by_caller: dict[str, list[datetime]] = defaultdict(list)
    for c in calls:
        if c.caller:
            by_caller[c.caller].append(c.started_at)
    for v in by_caller.values():
        v.sort()
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for c in calls:
        if c.disposition is None or not start <= c.started_at < end:
            continue
        key, label = _labels(keys, s, at=c.started_at, queue=None, route=c.route)
        g = groups.setdefault(key, {"_labels": label, "marked": 0, "resolved": 0, "wrong": 0,
                                    "known": 0, "rep24": 0})
        g["marked"] += 1
        g["wrong"] += c.disposition == RESOLUTION_WRONG
        if c.disposition == RESOLUTION_DONE:
            g["resolved"] += 1
            if c.caller:
                g["known"] += 1
                later = by_caller[c.caller]
                i = bisect_right(later, c.started_at)
                g["rep24"] += i < len(later) and (
                    _ms(later[i]) - _ms(c.started_at) <= 24 * 3_600_000)
    section = Section("resolution", _columns(keys, s).columns(), RESOLUTION_METRICS)
    if not keys and not groups:
        groups[()] = {"_labels": {}, "marked": 0, "resolved": 0, "wrong": 0, "known": 0,
                      "rep24": 0}
    for key in sorted(groups):
        g = groups[key]
        out = dict(g["_labels"])
        out.update(dispositioned=g["marked"], resolved=g["resolved"], wrong_number=g["wrong"],
                   fcr=ratio(g["resolved"], g["marked"] - g["wrong"]),
                   resolved_repeat_24h_rate=ratio(g["rep24"], g["known"]))
        section.rows.append(out)
    return section
