"""The call-centre KPIs of a period, computed in SQL over the store.

KPI definitions (DESIGN.md; this text is the contract, the README repeats it):

- offered: queue attempts joined. answered: connected to an operator.
- abandoned: the caller hung up while waiting; a short abandon (wait < ``short_abandon_s``,
  default 5 s) is counted apart and left out of the abandon rate and service level.
- timeout / exit: left the queue by max wait or by key (to overflow or callback).
- wait: join → connect for answered, join → leave otherwise. ASA = mean wait of answered; also
  p50, p90, max.
- service level SL(T) = answered within T seconds / (offered − short abandons).
- missed call (clinic level): an inbound call that reached no operator and was not self-served;
  by cause (hung up in IVR, abandoned in queue, timeout, after hours, failed); unreturned missed
  call: no successful callback within the configured minutes (10 by default). Time to callback.
- AHT = talk + wrap-up; repeat-call rate within 24 h / 7 days (first-contact resolution proxy);
  CSAT (mean 1–5) and NPS (% 9–10 minus % 0–6) from the post-call survey.

How each is computed here, precisely:

- The period is [start, end): a queue attempt belongs to it by its join time, a call by its
  start.  Groups (``by``) are queue, route (IVR topic), local day, local hour (clinic time
  zone, exact across DST: see :mod:`reports.timebuckets`).
- ``abandoned`` counts only abandons with wait ≥ ``short_abandon_s`` (or an unknown wait);
  ``short_abandoned`` the others.  abandon rate = abandoned / (offered − short_abandoned).
  ``empty`` = no operator could take the call; ``in_queue`` = no outcome yet.
- SL: "within T" is wait ≤ T, with T = the queue's ``service_level_s`` (``kpi.service_level_s``
  for a queue not in the config), taken per attempt, so a row mixing queues is still exact.
- Percentiles are nearest-rank over answered waits: p = the ⌈p·n/100⌉-th smallest wait, the
  same value on SQLite and PostgreSQL (computed by a window function on both).
- AHT is the mean talk time (connect → complete) of answered attempts.  Wrap-up is not stored
  per call (the queue's configured ``wrapup_s`` is a pause, not measured work), so **AHT here
  is talk only**; the column is named ``aht_talk_s`` to say so.
- Missed calls are inbound calls with ``Call.missed`` (the controller sets it and its cause);
  causes as stored in ``MissCause`` (exitkey and empty included).
- A missed call is *returned* at the earliest of: a later inbound call from the same number
  that an operator answered (its start), an answered outbound call to that number (its
  start), or a ``done`` Callback created from the call (its completion).  Time to callback =
  that instant − the missed call's end (its start when the end is unknown), counted when
  within ``return_horizon_h`` (24 h).  *Unreturned* = missed calls with no return within
  ``unreturned_after_min`` minutes (a late return is still unreturned).
- Repeat-call rate within 24 h / 7 days = inbound calls with a known caller that the same
  caller followed with another inbound call within 24 h / 7 days (start to start) / inbound
  calls with a known caller.
- CSAT = mean CSAT score (1–5); NPS = % of NPS answers 9–10 minus % 0–6; both from
  ``SurveyAnswer`` of the calls of the period.
- Durations are summed in whole milliseconds (exact, so equal on both databases); seconds
  are reported to the millisecond and percentages to 0.01.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, null, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from clinicall.db.models import (
    Call,
    Callback,
    CallbackState,
    Direction,
    IvrOutcome,
    MissCause,
    QueueAttempt,
    QueueOutcome,
    SurveyAnswer,
    SurveyQuestion,
)
from clinicall.settings.models import ClinicConfig
from reports import grouping as grp
from reports import sqlfuncs as sf
from reports import timebuckets as tb
from reports.settings import KpiSettings, kpi_settings
from reports.table import Column, Report, Section, Value, normalize, ratio

Progress = Callable[[str], None]

QUEUE_METRICS = [
    Column("offered", "count", "queue attempts joined"),
    Column("answered", "count", "connected to an operator"),
    Column("abandoned", "count", "hung up while waiting, wait ≥ short_abandon_s"),
    Column("short_abandoned", "count", "hung up while waiting, wait < short_abandon_s"),
    Column("timeout", "count", "left by max wait"),
    Column("exit_key", "count", "left by a key (overflow or callback)"),
    Column("empty", "count", "no operator could take the call"),
    Column("in_queue", "count", "no outcome yet"),
    Column("abandon_rate", "%", "abandoned / (offered − short_abandoned)"),
    Column("service_level", "%", "answered within T / (offered − short_abandoned)"),
    Column("asa", "s", "mean wait of answered"),
    Column("wait_p50", "s", "nearest-rank median wait of answered"),
    Column("wait_p90", "s", "nearest-rank 90th percentile wait of answered"),
    Column("wait_max", "s", "longest wait of answered"),
    Column("aht_talk", "s", "mean talk time of answered (no wrap-up stored)"),
]

CAUSES = [c.value for c in MissCause]
CALL_METRICS = [
    Column("inbound", "count", "inbound calls"),
    Column("self_served", "count", "answered by the IVR itself"),
    Column("missed", "count", "reached no operator, not self-served"),
    *[Column(f"missed_{c}", "count", f"missed calls, cause {c}") for c in CAUSES],
    Column("missed_rate", "%", "missed / inbound"),
    Column("returned_in_time", "count", "missed calls returned within unreturned_after_min"),
    Column("unreturned", "count", "missed calls not returned within unreturned_after_min"),
    Column("time_to_callback_mean", "s", "mean time to return, returns within the horizon"),
    Column("time_to_callback_max", "s", "longest time to return within the horizon"),
    Column("repeat_24h_rate", "%", "calls followed by another from the caller within 24 h"),
    Column("repeat_7d_rate", "%", "calls followed by another from the caller within 7 days"),
    Column("csat", "score", "mean CSAT answer (1–5)"),
    Column("csat_answers", "count", "CSAT answers"),
    Column("nps", "score", "% promoters (9–10) − % detractors (0–6)"),
    Column("nps_answers", "count", "NPS answers"),
]

TOPIC_METRICS = [
    Column("calls", "count", "inbound calls that chose this topic"),
    Column("self_served", "count", "of them answered by the IVR"),
    Column("missed", "count", "of them missed"),
]

HOUR_MS = 3_600_000
#: From this period length on, repeats and returns are one window pass over the period and
#: the days after it; below it, one indexed search per call costs less than reading those
#: days (the two give the same numbers: tests and the benchmark check both).
ONE_PASS_FROM = timedelta(days=7)
_KEY_LABEL = re.compile(r"k\d+")


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("report bounds must be aware datetimes")
    return at.astimezone(UTC)


async def compute(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    by: Sequence[str] | str = (),
    config: ClinicConfig | KpiSettings,
    progress: Progress | None = None,
) -> Report:
    """The KPIs of [start, end) grouped by ``by`` (see the module docstring for definitions).

    Sections: ``queues`` (queue attempts, grouped by all of ``by``), ``calls`` (clinic level,
    grouped by ``by`` without ``queue``) and ``topics`` (IVR route counts, grouped by the time
    keys of ``by`` and the route).
    """
    settings = kpi_settings(config)
    keys = grp.parse_by(by)
    start, end = _utc(start), _utc(end)
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        # JIT compiles these short aggregates for longer than they run (1.4 s of 3 s).
        await session.execute(text("SET LOCAL jit = off"))
        # The window queries sort a year of calls by number: in memory, not in 4 MB runs.
        await session.execute(text("SET LOCAL work_mem = '256MB'"))
    ctx = _Context(settings, keys, start, end, connection.dialect.name)
    step = progress or (lambda _what: None)
    step("queue attempts")
    queues = await _queue_section(session, ctx)
    step("wait percentiles")
    await _fill_percentiles(session, ctx, queues)
    step("calls and missed calls")
    calls = await _call_section(session, ctx)
    step("IVR topics")
    topics = await _topic_section(session, ctx)
    return Report(start, end, settings.timezone, keys,
                  {"queues": queues, "calls": calls, "topics": topics})


class _Context:
    def __init__(self, settings: KpiSettings, keys: list[str], start: datetime, end: datetime,
                 dialect: str) -> None:
        self.settings = settings
        self.keys = keys
        self.start = start
        self.end = end
        self.dialect = dialect
        self.segments = tb.offset_segments(settings.zone, start, end)

    def grouping(self, *, at: Any, queue: Any | None, route: Any,
                 keys: Sequence[str] | None = None) -> grp.Grouping:
        return grp.build(keys if keys is not None else self.keys, at=at, queue=queue,
                         route=route, segments=self.segments, dialect=self.dialect,
                         queue_names=self.settings.queue_names)


def _keyed(grouping: grp.Grouping, columns: list[ColumnElement[Any]],
           source: Select[Any], *, materialized: bool = False,
           ) -> tuple[Select[Any], list[Any], list[Any]]:
    """``source`` with the group expressions labelled k0…, as a subquery; its key columns.

    ``materialized``: as a MATERIALIZED CTE, for columns that are correlated subqueries used
    by several aggregates; a plain subquery is inlined and each use re-runs the subquery.
    """
    labelled = [e.label(f"k{i}") for i, e in enumerate(grouping.exprs)]
    inner = source.add_columns(*labelled, *columns)
    sub = (inner.cte("rows").prefix_with("MATERIALIZED") if materialized
           else inner.subquery())
    key_cols = [sub.c[f"k{i}"] for i in range(len(labelled))]
    return select(*key_cols), key_cols, [sub.c[c.key] for c in columns if c.key]


# -- queues ----------------------------------------------------------------------------------

async def _queue_section(session: AsyncSession, ctx: _Context) -> Section:
    s = ctx.settings
    qa = QueueAttempt
    route = Call.route if "route" in ctx.keys else literal(None)
    grouping = ctx.grouping(at=qa.joined_at, queue=qa.queue, route=route)
    sl_whens = [(qa.queue == q, literal(float(t))) for q, t in s.queue_service_level_s.items()]
    threshold = (case(*sl_whens, else_=literal(float(s.service_level_s))) if sl_whens
                 else literal(float(s.service_level_s)))
    source = select().select_from(qa).where(qa.joined_at >= ctx.start, qa.joined_at < ctx.end)
    if "route" in ctx.keys:
        source = source.join(Call, Call.id == qa.call_id)
    base, key_cols, (outcome, wait, talk, sl_t) = _keyed(
        grouping,
        [qa.outcome.label("outcome"), qa.wait_s.label("wait"), qa.talk_s.label("talk"),
         threshold.label("sl_t")],
        source,
    )
    answered = outcome == QueueOutcome.ANSWERED.value
    abandoned = outcome == QueueOutcome.ABANDONED.value
    short = and_(abandoned, wait < s.short_abandon_s)
    query = base.add_columns(
        func.count().label("offered"),
        _count_if(answered).label("answered"),
        _count_if(abandoned).label("abandoned_all"),
        _count_if(short).label("short"),
        _count_if(outcome == QueueOutcome.TIMEOUT.value).label("timeout"),
        _count_if(outcome == QueueOutcome.EXIT_KEY.value).label("exit_key"),
        _count_if(outcome == QueueOutcome.EMPTY.value).label("empty"),
        _count_if(outcome.is_(None)).label("in_queue"),
        _count_if(and_(answered, wait <= sl_t)).label("in_sl"),
        func.sum(case((answered, sf.seconds_as_ms(wait, ctx.dialect)))).label("wait_ms"),
        _count_if(and_(answered, wait.is_not(None))).label("wait_n"),
        func.max(case((answered, wait))).label("wait_max"),
        func.sum(case((answered, sf.seconds_as_ms(talk, ctx.dialect)))).label("talk_ms"),
        _count_if(and_(answered, talk.is_not(None))).label("talk_n"),
    ).group_by(*key_cols)
    section = Section("queues", grouping.columns(), QUEUE_METRICS)
    nkeys = len(key_cols)
    rows = (await session.execute(query)).all()
    for row in sorted(rows, key=lambda r: grouping.order(r[:nkeys])):
        m = row._mapping
        offered, short_n = int(m["offered"] or 0), int(m["short"] or 0)
        counted = offered - short_n
        wait_n, talk_n = int(m["wait_n"] or 0), int(m["talk_n"] or 0)
        out: dict[str, Value] = grouping.labels(row[:nkeys])
        out.update(
            offered=offered,
            answered=int(m["answered"] or 0),
            abandoned=int(m["abandoned_all"] or 0) - short_n,
            short_abandoned=short_n,
            timeout=int(m["timeout"] or 0),
            exit_key=int(m["exit_key"] or 0),
            empty=int(m["empty"] or 0),
            in_queue=int(m["in_queue"] or 0),
            abandon_rate=ratio(int(m["abandoned_all"] or 0) - short_n, counted),
            service_level=ratio(int(m["in_sl"] or 0), counted),
            asa=normalize(int(m["wait_ms"]) / wait_n / 1000, "s") if wait_n else None,
            wait_p50=None,
            wait_p90=None,
            wait_max=normalize(m["wait_max"], "s"),
            aht_talk=normalize(int(m["talk_ms"]) / talk_n / 1000, "s") if talk_n else None,
        )
        out["_key"] = repr(grp.sort_key(row[:nkeys]))
        section.rows.append(out)
    return section


async def _fill_percentiles(session: AsyncSession, ctx: _Context, section: Section) -> None:
    qa = QueueAttempt
    route = Call.route if "route" in ctx.keys else literal(None)
    grouping = ctx.grouping(at=qa.joined_at, queue=qa.queue, route=route)
    source = select().select_from(qa).where(
        qa.joined_at >= ctx.start, qa.joined_at < ctx.end,
        qa.outcome == QueueOutcome.ANSWERED.value, qa.wait_s.is_not(None))
    if "route" in ctx.keys:
        source = source.join(Call, Call.id == qa.call_id)
    labelled = [e.label(f"k{i}") for i, e in enumerate(grouping.exprs)]
    inner = source.add_columns(*labelled, qa.wait_s.label("wait")).subquery()
    keys = [inner.c[f"k{i}"] for i in range(len(labelled))]
    ranked = select(
        *keys, inner.c.wait,
        func.row_number().over(partition_by=keys or None, order_by=inner.c.wait).label("rn"),
        func.count().over(partition_by=keys or None).label("n"),
    ).subquery()
    rkeys = [ranked.c[f"k{i}"] for i in range(len(labelled))]
    p50 = (ranked.c.n * 50 + 99) // 100  # integer division: ⌈n·p/100⌉
    p90 = (ranked.c.n * 90 + 99) // 100
    query = select(*rkeys, ranked.c.wait, ranked.c.rn, p50.label("r50"), p90.label("r90")).where(
        (ranked.c.rn == p50) | (ranked.c.rn == p90))
    by_key = {row["_key"]: row for row in section.rows}
    nkeys = len(rkeys)
    for row in (await session.execute(query)).all():
        target = by_key[repr(grp.sort_key(row[:nkeys]))]
        rn, wait = int(row.rn), normalize(row.wait, "s")
        if rn == int(row.r50):
            target["wait_p50"] = wait
        if rn == int(row.r90):
            target["wait_p90"] = wait
    for done in section.rows:
        del done["_key"]


# -- calls (clinic level) --------------------------------------------------------------------

def _call_keys(ctx: _Context) -> list[str]:
    return [k for k in ctx.keys if k != "queue"]


def _inbound_in_period(ctx: _Context) -> Select[Any]:
    return select().select_from(Call).where(
        Call.started_at >= ctx.start, Call.started_at < ctx.end,
        Call.direction == Direction.INBOUND.value)


async def _call_section(session: AsyncSession, ctx: _Context) -> Section:
    grouping = ctx.grouping(at=Call.started_at, queue=None, route=Call.route,
                            keys=_call_keys(ctx))
    section = Section("calls", grouping.columns(), CALL_METRICS)
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}

    def merge(result: Sequence[Any]) -> None:
        n = len(grouping.exprs)
        for row in result:
            key = grouping.order(row[:n])
            rows.setdefault(key, {"_labels": grouping.labels(row[:n])}).update(
                {k: v for k, v in row._mapping.items() if not _KEY_LABEL.fullmatch(k)})

    base, key_cols, (missed, cause, outcome) = _keyed(
        grouping, [Call.missed.label("missed"), Call.miss_cause.label("cause"),
                   Call.ivr_outcome.label("outcome")], _inbound_in_period(ctx))
    is_missed = missed.is_(True)
    merge((await session.execute(base.add_columns(
        func.count().label("inbound"),
        _count_if(outcome == IvrOutcome.SELF_SERVED.value).label("self_served"),
        _count_if(is_missed).label("missed"),
        *[_count_if(and_(is_missed, cause == c)).label(f"cause_{c}") for c in CAUSES],
    ).group_by(*key_cols))).all())
    if ctx.end - ctx.start < ONE_PASS_FROM:
        merge(await _returns_by_lookup(session, ctx, grouping))
        merge(await _repeats_by_lookup(session, ctx, grouping))
    else:
        merge(await _returns(session, ctx, grouping))
        merge(await _repeats(session, ctx, grouping))
    merge(await _surveys(session, ctx, grouping))

    for key in sorted(rows):
        m = rows[key]
        inbound = int(m.get("inbound") or 0)
        missed_n = int(m.get("missed") or 0)
        in_time = int(m.get("in_time") or 0)
        ttc_n = int(m.get("ttc_n") or 0)
        known = int(m.get("known_callers") or 0)
        csat_n = int(m.get("csat_n") or 0)
        nps_n = int(m.get("nps_n") or 0)
        out: dict[str, Value] = dict(m["_labels"])
        out.update(
            inbound=inbound,
            self_served=int(m.get("self_served") or 0),
            missed=missed_n,
            **{f"missed_{c}": int(m.get(f"cause_{c}") or 0) for c in CAUSES},
            missed_rate=ratio(missed_n, inbound),
            returned_in_time=in_time,
            unreturned=missed_n - in_time,
            time_to_callback_mean=(normalize(int(m["ttc_sum"]) / ttc_n / 1000, "s")
                                   if ttc_n else None),
            time_to_callback_max=(normalize(int(m["ttc_max"]) / 1000, "s") if ttc_n else None),
            repeat_24h_rate=ratio(int(m.get("rep24") or 0), known),
            repeat_7d_rate=ratio(int(m.get("rep7") or 0), known),
            csat=normalize(int(m["csat_sum"]) / csat_n, "%") if csat_n else None,
            csat_answers=csat_n,
            nps=(normalize(100.0 * (int(m["promoters"]) - int(m["detractors"])) / nps_n, "%")
                 if nps_n else None),
            nps_answers=nps_n,
        )
        section.rows.append(out)
    return section


def _returns_window(ctx: _Context) -> Select[Any]:
    """Each missed call of the period with the first later contact of its number, in one pass.

    A *contact* of a number is an inbound call from it that an operator answered, or an
    answered outbound call to it.  The missed calls and the contacts (up to a horizon and a
    day past the period, where every return search ends) are one stream partitioned by number
    and ordered by start, latest first; a running MIN of the contacts' starts then gives, at a
    missed call, the earliest contact at or after its start.  Peers (same start) are in the
    running frame, so a contact at the very same instant shows as ``first = start``: those
    rare rows fall back to the exact per-call search (:func:`_first_contact_lookup`).
    """
    reach = ctx.end + timedelta(hours=ctx.settings.return_horizon_h, days=2)
    answered_attempt = select(QueueAttempt.id).where(
        QueueAttempt.call_id == Call.id, QueueAttempt.connected_at.is_not(None)).exists()
    no_id, no_end, no_route = (null().cast(c.type) for c in (Call.id, Call.ended_at, Call.route))
    inbound = select(Call.caller.label("number"), Call.started_at.label("at"),
                     Call.started_at.label("contact_at"), no_id.label("id"),
                     no_end.label("ended_at"), no_route.label("route")).where(
        Call.started_at >= ctx.start, Call.started_at < reach,
        Call.direction == Direction.INBOUND.value, Call.caller.is_not(None), answered_attempt)
    outbound = select(Call.dialled, Call.started_at, Call.started_at, no_id, no_end, no_route
                      ).where(
        Call.started_at >= ctx.start, Call.started_at < reach,
        Call.direction == Direction.OUTBOUND.value, Call.dialled.is_not(None),
        Call.answered_at.is_not(None))
    missed = _inbound_in_period(ctx).add_columns(
        Call.caller, Call.started_at, null().cast(Call.started_at.type), Call.id, Call.ended_at,
        Call.route).where(
        Call.missed.is_(True))
    stream = union_all(inbound, outbound, missed).subquery("stream")
    first = func.min(stream.c.contact_at).over(
        partition_by=stream.c.number, order_by=stream.c.at.desc()).label("first_at")
    return select(stream.c.id, stream.c.number, stream.c.at, stream.c.ended_at,
                  stream.c.route, first)


async def _returns(session: AsyncSession, ctx: _Context, grouping: grp.Grouping) -> Sequence[Any]:
    """Per group: missed calls returned within the minutes, and time-to-callback sums."""
    d = ctx.dialect
    s = ctx.settings
    ranked = _returns_window(ctx).subquery("ranked")
    r = ranked.c
    # Each search stops a day past the horizon (the horizon, counted from the missed call's
    # end, is checked exactly below; no call lasts a day).
    bound = sf.plus_seconds(r.at, int(s.return_horizon_h * 3600) + 86400, d)
    # The exact search, for the rare missed call with a contact at its very instant.
    first_in, first_out = _first_contacts(r.number, r.at, bound)
    exact_ms = sf.least(d, *(sf.never_if_null(sf.epoch_ms(x, d)) for x in (first_in, first_out)))
    contact_ms = case(
        (and_(r.first_at > r.at, r.first_at < bound), sf.epoch_ms(r.first_at, d)),
        (r.first_at == r.at, exact_ms),
        else_=literal(sf.NEVER_MS))
    returned_ms = sf.least(d, contact_ms, sf.never_if_null(sf.epoch_ms(_done_callback(r.id), d)))
    base_ms = sf.epoch_ms(func.coalesce(r.ended_at, r.at), d)
    grouping = ctx.grouping(at=r.at, queue=None, route=r.route, keys=_call_keys(ctx))
    source = select().select_from(ranked).where(r.id.is_not(None))
    query, key_cols, (delta,) = _keyed(grouping, [(returned_ms - base_ms).label("delta")],
                                       source, materialized=True)
    return list((await session.execute(_return_counts(query, delta, s).group_by(*key_cols))).all())


async def _repeats(session: AsyncSession, ctx: _Context, grouping: grp.Grouping) -> Sequence[Any]:
    """Per group: calls with a known caller, and those the caller followed within 24 h / 7 d.

    The next call of the same caller is LEAD() over the caller's inbound calls ordered by
    start (one pass over the period and the 7 days after it).  Two calls at the very same
    instant are peers, not "later": where LEAD meets one, the exact per-call search decides.
    """
    d = ctx.dialect
    reach = ctx.end + timedelta(days=7, seconds=1)
    calls = select(
        Call.caller, Call.started_at, Call.route,
        func.lead(Call.started_at).over(
            partition_by=Call.caller, order_by=Call.started_at).label("next_at"),
    ).where(Call.started_at >= ctx.start, Call.started_at < reach,
            Call.direction == Direction.INBOUND.value, Call.caller.is_not(None)
            ).subquery("caller_calls")
    c = calls.c
    exact_next = _next_inbound(c.caller, c.started_at, d)
    next_ms = case(
        (c.next_at > c.started_at, sf.epoch_ms(c.next_at, d)),
        (c.next_at == c.started_at, sf.never_if_null(sf.epoch_ms(exact_next, d))),
        else_=literal(sf.NEVER_MS))
    gap = next_ms - sf.epoch_ms(c.started_at, d)
    grouping = ctx.grouping(at=c.started_at, queue=None, route=c.route, keys=_call_keys(ctx))
    source = select().select_from(calls).where(c.started_at < ctx.end)
    query, key_cols, (gap_col,) = _keyed(grouping, [gap.label("gap")], source,
                                         materialized=True)
    return list((await session.execute(_repeat_counts(query, gap_col).group_by(*key_cols))).all())


async def _returns_by_lookup(session: AsyncSession, ctx: _Context,
                             grouping: grp.Grouping) -> Sequence[Any]:
    """``_returns`` by one indexed search per missed call: cheaper for a short period."""
    d = ctx.dialect
    s = ctx.settings
    # Each search stops a day past the horizon (an index range; the horizon, counted from the
    # missed call's end, is checked exactly below; no call lasts a day).
    bound = sf.plus_seconds(Call.started_at, int(s.return_horizon_h * 3600) + 86400, d)
    first_in, first_out = _first_contacts(Call.caller, Call.started_at, bound)
    done_callback = _done_callback(Call.id)
    returned_ms = sf.least(d, *(sf.never_if_null(sf.epoch_ms(x, d))
                                for x in (first_in, first_out, done_callback)))
    base_ms = sf.epoch_ms(func.coalesce(Call.ended_at, Call.started_at), d)
    source = _inbound_in_period(ctx).where(Call.missed.is_(True))
    query, key_cols, (delta,) = _keyed(grouping, [(returned_ms - base_ms).label("delta")],
                                       source, materialized=True)
    return list((await session.execute(_return_counts(query, delta, s).group_by(*key_cols))).all())


async def _repeats_by_lookup(session: AsyncSession, ctx: _Context,
                             grouping: grp.Grouping) -> Sequence[Any]:
    """``_repeats`` by one indexed search per call: cheaper for a short period."""
    d = ctx.dialect
    next_call = _next_inbound(Call.caller, Call.started_at, d)
    gap = sf.never_if_null(sf.epoch_ms(next_call, d)) - sf.epoch_ms(Call.started_at, d)
    source = _inbound_in_period(ctx).where(Call.caller.is_not(None))
    query, key_cols, (gap_col,) = _keyed(grouping, [gap.label("gap")], source,
                                         materialized=True)
    return list((await session.execute(_repeat_counts(query, gap_col).group_by(*key_cols))).all())


async def _surveys(session: AsyncSession, ctx: _Context, grouping: grp.Grouping) -> Sequence[Any]:
    source = _inbound_in_period(ctx).join(SurveyAnswer, SurveyAnswer.call_id == Call.id)
    query, key_cols, (question, score) = _keyed(
        grouping, [SurveyAnswer.question.label("question"), SurveyAnswer.score.label("score")],
        source)
    csat = question == SurveyQuestion.CSAT.value
    nps = question == SurveyQuestion.NPS.value
    query = query.add_columns(
        _count_if(csat).label("csat_n"),
        func.sum(case((csat, score), else_=0)).label("csat_sum"),
        _count_if(nps).label("nps_n"),
        _count_if(and_(nps, score >= 9)).label("promoters"),
        _count_if(and_(nps, score <= 6)).label("detractors"),
    ).group_by(*key_cols)
    return list((await session.execute(query)).all())


async def _topic_section(session: AsyncSession, ctx: _Context) -> Section:
    keys = [k for k in ctx.keys if k in ("day", "hour")] + ["route"]
    grouping = ctx.grouping(at=Call.started_at, queue=None, route=Call.route, keys=keys)
    base, key_cols, (missed, outcome) = _keyed(
        grouping, [Call.missed.label("missed"), Call.ivr_outcome.label("outcome")],
        _inbound_in_period(ctx))
    query = base.add_columns(
        func.count().label("calls"),
        _count_if(outcome == IvrOutcome.SELF_SERVED.value).label("self_served"),
        _count_if(missed.is_(True)).label("missed"),
    ).group_by(*key_cols)
    section = Section("topics", grouping.columns(), TOPIC_METRICS)
    n = len(key_cols)
    for row in sorted((await session.execute(query)).all(), key=lambda r: grouping.order(r[:n])):
        out = grouping.labels(row[:n])
        out.update(calls=int(row.calls), self_served=int(row.self_served),
                   missed=int(row.missed))
        section.rows.append(out)
    return section


def _first_contacts(number: Any, at: Any, bound: Any) -> tuple[Any, Any]:
    """The first answered inbound call from ``number`` and the first answered outbound call to
    it, after ``at`` and before ``bound`` (MIN, not ORDER BY … LIMIT 1: PostgreSQL would walk
    the started_at index for the latter)."""
    later_in = aliased(Call)
    later_out = aliased(Call)
    answered_attempt = select(QueueAttempt.id).where(
        QueueAttempt.call_id == later_in.id, QueueAttempt.connected_at.is_not(None)).exists()
    first_in = (select(func.min(later_in.started_at)).where(
        later_in.caller == number, later_in.started_at > at, later_in.started_at < bound,
        later_in.direction == Direction.INBOUND.value, answered_attempt).scalar_subquery())
    first_out = (select(func.min(later_out.started_at)).where(
        later_out.dialled == number, later_out.started_at > at, later_out.started_at < bound,
        later_out.direction == Direction.OUTBOUND.value, later_out.answered_at.is_not(None))
        .scalar_subquery())
    return first_in, first_out


def _done_callback(call_id: Any) -> Any:
    """When the first completed callback job created from the missed call ``call_id`` ended."""
    return (select(func.min(Callback.completed_at)).where(
        Callback.origin_call_id == call_id, Callback.state == CallbackState.DONE.value)
        .scalar_subquery())


def _return_counts(query: Select[Any], delta: Any, s: KpiSettings) -> Select[Any]:
    """Returned in time, and the time-to-callback count, sum and max within the horizon."""
    in_horizon = delta <= int(s.return_horizon_h * HOUR_MS)
    return query.add_columns(
        _count_if(delta <= int(s.unreturned_after_min * 60_000)).label("in_time"),
        _count_if(in_horizon).label("ttc_n"),
        func.sum(case((in_horizon, delta), else_=0)).label("ttc_sum"),
        func.max(case((in_horizon, delta))).label("ttc_max"),
    )


def _next_inbound(caller: Any, at: Any, dialect: str) -> Any:
    """The next inbound call from ``caller`` after ``at``, within 7 days and a second."""
    later = aliased(Call)
    return (select(func.min(later.started_at)).where(
        later.caller == caller, later.started_at > at,
        later.started_at < sf.plus_seconds(at, 7 * 86400 + 1, dialect),
        later.direction == Direction.INBOUND.value).scalar_subquery())


def _repeat_counts(query: Select[Any], gap: Any) -> Select[Any]:
    """Calls with a known caller, and those followed by another within 24 h / 7 days."""
    return query.add_columns(
        func.count().label("known_callers"),
        _count_if(gap <= 24 * HOUR_MS).label("rep24"),
        _count_if(gap <= 7 * 24 * HOUR_MS).label("rep7"),
    )
