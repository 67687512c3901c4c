"""The call-centre KPIs of a period, computed in SQL over the store.

KPI definitions (docs/kpi.md; this text is the contract, the README repeats it):

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
  same value on SQLite and PostgreSQL (the database counts each distinct wait per group, or
  reads them counted per block of hours (``reports.wait_counts``), and a running sum of those
  counts finds the rank: in Python, over each group's counts that PostgreSQL gathers into
  arrays in wait order, or that SQLite returns in (group, wait) order).
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
  ``unreturned_after_min`` minutes (a late return is still unreturned).  The delay from the
  end to the return is kept on the call row (``return_delay_ms``, see
  :mod:`clinicall.db.call_links`): a report reads it instead of searching later calls.
- Repeat-call rate within 24 h / 7 days = inbound calls with a known caller that the same
  caller followed with another inbound call within 24 h / 7 days (start to start) / inbound
  calls with a known caller (the gap to the next call is the call row's ``repeat_gap_ms``).
- CSAT = mean CSAT score (1–5); NPS = % of NPS answers 9–10 minus % 0–6; both from
  ``SurveyAnswer`` of the calls of the period.
- Durations are summed in whole milliseconds (exact, so equal on both databases); seconds
  are reported to the millisecond and percentages to 0.01.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from itertools import accumulate
from typing import Any, TypeVar

from sqlalchemy import (
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    case,
    func,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from clinicall.db import sqlexpr as sf
from clinicall.db.models import (
    Call,
    Direction,
    IvrOutcome,
    MissCause,
    QueueAttempt,
    QueueOutcome,
    SurveyAnswer,
    SurveyQuestion,
    kpi_call_hours,
    kpi_queue_hours,
    kpi_wait_counts,
)
from clinicall.db.models.rollups import metric_names
from clinicall.reports import grouping as grp
from clinicall.reports import rollup, summing, wait_counts
from clinicall.reports import timebuckets as tb
from clinicall.reports.resolution import resolution_counts, section_from_sums
from clinicall.reports.settings import KpiSettings, kpi_settings
from clinicall.reports.sums import SortKey, Sums
from clinicall.reports.table import Column, Report, Section, Value, normalize, ratio
from clinicall.settings.models import ClinicConfig

Progress = Callable[[str], None]

QUEUE_METRICS = [
    Column("offered", "count", "queue attempts joined"),
    Column("answered", "count", "connected to an operator"),
    Column("abandoned", "count", "hung up while waiting, wait ≥ short_abandon_s"),
    Column("short_abandoned", "count", "hung up while waiting, wait < short_abandon_s"),
    Column("timeout", "count", "left by max wait"),
    Column("exit_key", "count", "left by a key (overflow or callback)"),
    Column("empty", "count", "no operator could take the call"),
    Column("cut", "count", "ended by the PBX (stop, restart, crash) while waiting"),
    Column("in_queue", "count", "no outcome yet"),
    Column("abandon_rate", "%", "abandoned / (offered − short_abandoned − cut)"),
    Column("service_level", "%", "answered within T / (offered − short_abandoned − cut)"),
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


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _counter(run: summing.Run | None) -> Callable[[ColumnElement[bool]], ColumnElement[int]]:
    """How a statement counts the rows meeting a condition: ``count(*) FILTER`` for a span
    read as ``run`` says (SQLite: a run of hours summed, or a period read from its rows;
    cheaper per row than a sum of CASE, bench/README.md), else as the reading statements
    always have."""
    if run is None:
        return _count_if
    return lambda condition: func.count().filter(condition)


def _sum_if(condition: ColumnElement[bool], value: Any) -> ColumnElement[int]:
    return func.sum(case((condition, value), else_=0))


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
    hourly_sums: bool = True,
) -> Report:
    """The KPIs of [start, end) grouped by ``by`` (see the module docstring for definitions).

    Sections: ``queues`` (queue attempts, grouped by all of ``by``), ``calls`` (clinic level,
    grouped by ``by`` without ``queue``), ``topics`` (IVR route counts, grouped by the time
    keys of ``by`` and the route) and ``resolution`` (first-contact resolution from the
    operators' dispositions, grouped as ``calls``; :mod:`reports.resolution`).  Whole hours
    are read from the hourly sums, which are first brought up to date (:mod:`reports.rollup`)
    and committed (when they were current already, one read finds it and the report goes on
    in the same transaction); the rest from the rows.  A period with a long run of hours
    never summed (``rollup.Coverage.rows_pay``: a store just migrated) is read from its rows
    instead, its hours left to the keeper.
    ``hourly_sums=False`` reads every row instead: the same numbers, slower (a check).
    """
    settings = kpi_settings(config)
    keys = grp.parse_by(by)
    start, end = _utc(start), _utc(end)
    connection = await session.connection()
    ctx = _Context(settings, keys, start, end, connection.dialect.name)
    if not hourly_sums:
        ctx.plan = rollup.Plan([(start, end)], None)
    step = progress or (lambda _what: None)
    wrote = False
    if ctx.plan.hours is not None:
        step("hourly sums")
        found = await _sums_coverage(session, ctx)
        if found.rows_pay:  # left to the keeper: this report reads the rows
            ctx.plan = rollup.Plan([(start, end)], None)
        elif not found.current:
            await _bring_up_to_date(session, ctx)
            wrote = True
    if ctx.plan.hours is None and ctx.dialect == "sqlite":
        ctx.queue_run, ctx.call_run = await _runs(session, start, end, hourly=False)
    if ctx.dialect == "sqlite":
        wrote = await _sqlite_statistics(session) or wrote
    if wrote:  # else the sums were current: the reads go on in the same transaction (no
        await session.commit()  # COMMIT, and no new BEGIN and pool check-out after it)
        ctx.configured = False  # (SET LOCAL ends with the transaction)
    if ctx.dialect == "postgresql" and not ctx.configured:
        await session.execute(select(*_report_settings(ctx)))
    if ctx.call_run is not None and ctx.call_run.scan and not await _writing(session):
        step("queue attempts, wait percentiles and calls, side by side")
        queues, (calls, topics, resolution) = await _sections_side_by_side(session, ctx)
    else:
        step("queue attempts and wait percentiles")
        queues = await _queue_and_percentiles(session, ctx)
        step("calls, missed calls, IVR topics and first-contact resolution")
        calls, topics, resolution = await _call_sections(session, ctx)
    return Report(start, end, settings.timezone, keys,
                  {"queues": queues, "calls": calls, "topics": topics,
                   "resolution": resolution})


async def _queue_and_percentiles(session: AsyncSession, ctx: _Context) -> Section:
    queues, ranked = await _queue_section(session, ctx)
    await _fill_percentiles(session, ctx, queues, ranked)
    return queues


async def _writing(session: AsyncSession) -> bool:
    """Whether the session's SQLite connection holds uncommitted writes (its caller's): a
    second connection would not see them, so the report then reads on this one alone."""
    driver = (await (await session.connection()).get_raw_connection()).driver_connection
    return driver is not None and bool(driver.in_transaction)


async def _sections_side_by_side(session: AsyncSession, ctx: _Context
                                 ) -> tuple[Section, tuple[Section, Section, Section]]:
    """The queue section on ``session`` and the call sections on a second connection at
    the same time: a long period read from its rows on SQLite (a store just migrated: its
    hours left to the keeper).  Each connection runs its statements in a thread of its own
    and SQLite works outside the GIL, so the two share the cores: a year's rows take about
    3.1 s of CPU either way, and the wall time of the longer of the two when a core is free
    (bench/README.md, issue 16).  It reads no less consistently than one connection:
    SQLite's driver begins no transaction for a read, so each statement reads its own
    snapshot either way (docs/store.md)."""
    engine = (await session.connection()).engine
    async with AsyncSession(engine) as other, asyncio.TaskGroup() as group:
        calls = group.create_task(_call_sections(other, ctx))
        queues = await _queue_and_percentiles(session, ctx)
    return queues, calls.result()


async def update_hourly_sums(session: AsyncSession, *, start: datetime, end: datetime,
                             config: ClinicConfig | KpiSettings) -> int:
    """Bring the hourly sums of the whole hours in [start, end) up to date for these
    thresholds, and commit (what a report does first); returns how many hours were summed."""
    start, end = _utc(start), _utc(end)
    connection = await session.connection()
    ctx = _Context(kpi_settings(config), [], start, end, connection.dialect.name)
    summed = 0
    if ctx.plan.hours is not None:
        found = await _sums_coverage(session, ctx)
        if not found.current:
            summed = await _bring_up_to_date(session, ctx)
    await session.commit()
    return summed


#: The tables whose statistics a report's plans depend on (SQLite).
STATISTICS_TABLES = ("calls", "queue_attempts")


async def _sqlite_statistics(session: AsyncSession) -> bool:
    """Without statistics SQLite's planner skips the covering indexes (2-5x slower at a
    year).  Sampled (``analysis_limit``), ANALYZE costs a few milliseconds, which was a
    sixth of a day's report: it runs when a table has no statistics yet or has more than
    doubled since (its largest id against the row count the statistics hold).  Two
    statements: the check's round trips were a millisecond of a day's report.  Returns
    whether it ran ANALYZE (a write to commit)."""
    has_statistics, *largest = (await session.execute(text(
        "SELECT (SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'), "
        + ", ".join(f"(SELECT max(id) FROM {table})" for table in STATISTICS_TABLES)))).one()
    analyzed: dict[str, int] = {}
    if has_statistics:
        analyzed = {str(table): int(rows or 0) for table, rows in await session.execute(text(
            "SELECT tbl, max(CAST(stat AS INTEGER)) FROM sqlite_stat1 GROUP BY tbl"))}
    for table, top in zip(STATISTICS_TABLES, largest, strict=True):
        if table not in analyzed or int(top or 0) > 2 * analyzed[table]:
            await session.execute(text("ANALYZE"))
            return True
    return False


#: PostgreSQL's memory for one sort or hash of a report's transaction.  The default (4 MB)
#: sent a month's wait counts (67 k rows) to an external merge on disk; the largest sort a
#: report makes, summing a year's hours, fits here.
REPORT_WORK_MEM = "64MB"


def _report_settings(ctx: _Context) -> list[ColumnElement[Any]]:
    """PostgreSQL settings for the rest of a report's transaction (``SET LOCAL``): in-memory
    sorts (``REPORT_WORK_MEM``); no JIT, which compiles the reads' short aggregates for
    longer than they run; and, for a report grouped by local day or hour, a plan made for
    each statement's values.  As expressions, so that one statement sets them all, and the
    check that the sums are current can carry them (one round trip for both).

    The reads are prepared statements (asyncpg), planned for their values five times and
    then, by default, once for any values.  Grouped by day or hour, the percentiles read
    the hours' wait counts, as many as the period has hours, which a plan for any period
    cannot know: for a month (38 k counts) it sorted them by group, 43 ms, where the plan
    for the month's values hashes them, 25 ms (bench/README.md, issue 16).  Any other
    grouping reads the fewest blocks that tile the period, a few thousand counts at most,
    and there the plan for any values did as well (the year's, replanned every time, took
    more CPU)."""
    plans = "force_custom_plan" if "day" in ctx.keys or "hour" in ctx.keys else "auto"
    return [func.set_config("jit", "off", True),
            func.set_config("work_mem", REPORT_WORK_MEM, True),
            func.set_config("plan_cache_mode", plans, True)]


async def _sums_coverage(session: AsyncSession, ctx: _Context) -> rollup.Coverage:
    """How far the period's sums are current (``rollup.coverage``; not current while a wait
    block is missing: it is built under the lock by :func:`_bring_up_to_date`, since an hour
    of it could be changing and only the lock holder may drop blocks for a changed hour).
    On PostgreSQL the check also applies the report's settings (:func:`_report_settings`);
    when the sums are not current, JIT is given back to the summing that may follow (the
    reads' settings are applied again after its commit, or before reading the rows)."""
    assert ctx.plan.hours is not None
    postgresql = ctx.dialect == "postgresql"
    found = await rollup.coverage(session, ctx.settings_key, ctx.plan.hours,
                                  also=_report_settings(ctx) if postgresql else ())
    if found.current and not await wait_counts.blocks_built(session, ctx.settings_key,
                                                             *ctx.plan.hours):
        found = replace(found, blocks=False)
    ctx.configured = postgresql and found.current
    if postgresql and not found.current:
        await session.execute(text("SET LOCAL jit TO DEFAULT"))
    return found


async def _bring_up_to_date(session: AsyncSession, ctx: _Context) -> int:
    """The hourly sums of the period's whole hours, found not current by
    :func:`_sums_coverage`, made current (uncommitted); returns how many hours were summed.
    On PostgreSQL the transaction sorts in memory (the check set ``work_mem``); SQLite has
    nothing to set."""
    assert ctx.plan.hours is not None

    async def sum_hours(lo: datetime, hi: datetime) -> tuple[Sums, Sums]:
        return await _sum_hours(session, ctx, lo, hi)

    summed = await rollup.bring_up_to_date(session, ctx.settings_key, ctx.plan.hours,
                                           sum_hours)
    await wait_counts.build_blocks(session, ctx.settings_key, *ctx.plan.hours)
    return summed


_T = TypeVar("_T")

#: The reports' statements, built once per shape (keys, thresholds, offsets, and which parts
#: the period has) with the period's bounds as bound parameters, so that a report does not
#: build them again, nor make SQLAlchemy compute their cache keys (memoized on the
#: statement): that was about a fifth of a warm day's CPU in the client (bench/README.md,
#: issue 16).  A few dozen shapes at most in practice; the oldest is dropped past the bound.
_BUILT: OrderedDict[tuple[Hashable, Hashable], Any] = OrderedDict()
_BUILT_MAX = 256


def _bounds(name: str) -> tuple[Any, Any]:
    """A span's two bound parameters, ``{name}lo`` and ``{name}hi``."""
    return bindparam(f"{name}lo"), bindparam(f"{name}hi")


def _hour_bounds() -> tuple[Any, Any]:
    return bindparam("h0", type_=Integer), bindparam("h1", type_=Integer)


class _Context:
    def __init__(self, settings: KpiSettings, keys: list[str], start: datetime, end: datetime,
                 dialect: str) -> None:
        self.settings = settings
        self.settings_key = rollup.settings_key(settings)
        self.keys = keys
        self.start = start
        self.end = end
        self.dialect = dialect
        self.segments = tb.offset_segments(settings.zone, start, end)
        self.plan = rollup.plan(self.segments, start, end)
        self.configured = False  # the transaction has the report's settings (PostgreSQL)
        # How a period read from the rows reads them (SQLite): by a full scan when long.
        self.queue_run: summing.Run | None = None
        self.call_run: summing.Run | None = None
        # What the statements are built from, besides the values bound at execution: the
        # thresholds (the settings key hashes them) and the offsets' pieces.
        self.shape = (dialect, self.settings_key,
                      tuple((int(seg.start.timestamp()) if i else 0, seg.offset_s)
                            for i, seg in enumerate(self.segments)))

    def cached(self, what: Hashable, build: Callable[[], _T]) -> _T:
        """The statement ``what`` of this report's shape, built once (:data:`_BUILT`)."""
        key = (self.shape, what)
        found = _BUILT.get(key)
        if found is None:
            found = _BUILT[key] = build()
            if len(_BUILT) > _BUILT_MAX:
                _BUILT.popitem(last=False)
        else:
            _BUILT.move_to_end(key)
        return found

    def grouping(self, keys: Sequence[str], *, at: Any = None, at_s: Any = None,
                 queue: Any | None, route: Any) -> grp.Grouping:
        """Group expressions over rows whose instant is the datetime column ``at`` (or
        ``at_s``, epoch seconds)."""
        if at_s is None:
            at_s = tb.epoch_seconds(at, self.dialect)
        return grp.build(keys, at_s=at_s, queue=queue, route=route, segments=self.segments,
                         queue_names=self.settings.queue_names)

    def labels(self, keys: Sequence[str], *, queue: bool) -> grp.Grouping:
        """The grouping of ``keys`` that labels and orders a section's rows (queue-level
        rows, or clinic-level with ``queue=False``), built once per shape and queue names."""
        names = tuple(sorted(self.settings.queue_names.items()))
        if queue:
            return self.cached(("labels", tuple(keys), True, names), lambda: self.grouping(
                keys, at=QueueAttempt.joined_at, queue=QueueAttempt.queue, route=Call.route))
        return self.cached(("labels", tuple(keys), False, names), lambda: self.grouping(
            keys, at=Call.started_at, queue=None, route=Call.route))

    @property
    def call_keys(self) -> list[str]:
        return [k for k in self.keys if k != "queue"]


def _keyed(grouping: grp.Grouping, columns: list[ColumnElement[Any]],
           source: Select[Any]) -> tuple[Select[Any], list[Any], list[Any]]:
    """``source`` with the group expressions labelled k0…, as a subquery; its key columns."""
    labelled = [e.label(f"k{i}") for i, e in enumerate(grouping.exprs)]
    inner = source.add_columns(*labelled, *columns)
    sub = inner.subquery()
    key_cols = [sub.c[f"k{i}"] for i in range(len(labelled))]
    return select(*key_cols), key_cols, [sub.c[c.key] for c in columns if c.key]


async def _collect(session: AsyncSession, ctx: _Context, keys: Sequence[str],
                   raw: Callable[[Sequence[str], Any, Any], list[Select[Any]]],
                   table: Table, *, queue: bool, run: summing.Run | None) -> Sums:
    """The counters of the period grouped by ``keys``: the raw spans of the plan through the
    ``raw`` queries (given the bound parameters of a span's bounds; reading them as ``run``
    says), the whole hours from the hourly sums in ``table``; each statement built once per
    shape (``_Context.cached``)."""
    what = (table.name, tuple(keys))
    hours, nkeys = ctx.cached(("hours", *what), lambda: _hours_query(ctx, keys, table, queue))
    sums = Sums()
    if ctx.plan.raw:
        for query in ctx.cached(("raw", *what, run), lambda: raw(keys, *_bounds(""))):
            for lo, hi in ctx.plan.raw:
                rows = (await session.execute(query, {"lo": lo, "hi": hi})).all()
                sums.add_rows(rows, nkeys)
    if ctx.plan.hours is not None:
        h0, h1 = ctx.plan.hours
        sums.add_rows((await session.execute(hours, {"h0": h0, "h1": h1})).all(), nkeys)
    return sums


def _hours_query(ctx: _Context, keys: Sequence[str], table: Table, queue: bool
                 ) -> tuple[Select[Any], int]:
    """The hourly sums of ``table`` for the hours [h0, h1) (bound parameters), per group;
    and how many key columns come first."""
    grouping = ctx.grouping(keys, at_s=table.c.hour * tb.HOUR, route=table.c.route,
                            queue=table.c.queue if queue else None)
    labelled = [e.label(f"k{i}") for i, e in enumerate(grouping.exprs)]
    h0, h1 = _hour_bounds()

    def summed(column: Any) -> ColumnElement[Any]:
        if column.name.endswith("_max"):
            return func.max(column)
        if ctx.dialect == "postgresql" and isinstance(column.type, Integer):
            # sum(bigint) is a numeric: read as Decimal, a few thousand a day's report
            # (about a millisecond of its client's CPU); the sums fit a bigint.
            return sf.as_int(func.sum(column))
        return func.sum(column)

    return select(*labelled, *[summed(table.c[name]).label(name)
                               for name in metric_names(table)]
                  ).where(table.c.settings_key == ctx.settings_key, table.c.hour >= h0,
                          table.c.hour < h1).group_by(*labelled), len(labelled)


#: The keys of the hourly sums' rows: the queue sums', the call sums'.
QUEUE_HOUR_KEYS = ["utc_hour", "queue", "route"]
CALL_HOUR_KEYS = ["utc_hour", "route"]


async def _sum_hours(session: AsyncSession, ctx: _Context, lo: datetime, hi: datetime,
                     ) -> tuple[Sums, Sums]:
    """The hourly sums of [lo, hi) (whole hours), as ``rollup`` stores them.

    The statements are those that read a period's edges.  On SQLite they are grouped on the
    stored hour's text, count by ``FILTER``, and a long run is read by a full scan instead
    of the time index (``reports.summing.Run``); the survey answers are then read
    from their own table, a quarter of the calls' rows, each finding its call by its key,
    instead of from every call of the run.  A year's queue counts took 1.9-2.1 s of CPU so
    far, 1.6 s so; the call counts 2.4-2.5 s, 1.7; the survey counts 1.0-1.1 s, 0.36
    (bench/README.md).  PostgreSQL keeps the reading statements as they are: there the same
    changes (``date_trunc('hour')``, ``FILTER``) saved nothing measurable, the survey counts
    took longer, and its planner picks the scan by itself."""
    queues, calls = Sums(), Sums()
    queue_run = call_run = None
    if ctx.dialect == "sqlite":
        queue_run, call_run = await _runs(session, lo, hi, hourly=True)
    query = _hour_numbered(_queue_counts(ctx, QUEUE_HOUR_KEYS, lo, hi, run=queue_run), ctx)
    queues.add_rows((await session.execute(query)).all(), 3)
    for query in (_call_counts(ctx, CALL_HOUR_KEYS, lo, hi, run=call_run),
                  _survey_counts(ctx, CALL_HOUR_KEYS, lo, hi, run=call_run)):
        calls.add_rows((await session.execute(_hour_numbered(query, ctx))).all(), 2)
    return queues, calls


async def _runs(session: AsyncSession, lo: datetime, hi: datetime, *, hourly: bool
                ) -> tuple[summing.Run, summing.Run]:
    """How the queue attempts and the calls of [lo, hi) are read on SQLite (``summing.Run``):
    summed per hour (``hourly``) or by the report's keys."""
    return (await summing.Run.of(session, QueueAttempt.joined_at, lo, hi, hourly=hourly),
            await summing.Run.of(session, Call.started_at, lo, hi, hourly=hourly))


def _hour_numbered(counted: Select[Any], ctx: _Context) -> Select[Any]:
    """A SQLite summing statement's rows with their first key, the stored hour's text, as
    the hour number (once per group, not per row); PostgreSQL's as they are."""
    if ctx.dialect != "sqlite":
        return counted
    sub = counted.subquery()
    return select(summing.hour_number(sub.c.k0).label("k0"),
                  *[c for c in sub.c if c.key != "k0"])


def _run_grouping(ctx: _Context, keys: Sequence[str], run: summing.Run | None, *, at: Any,
                  queue: Any | None, route: Any) -> grp.Grouping:
    """The grouping of a counting statement: the report's, or an hourly run's stored hour
    with the queue (when ``queue``) and route (``keys``: ``QUEUE_HOUR_KEYS`` or
    ``CALL_HOUR_KEYS``)."""
    if run is None or not run.hourly:
        return ctx.grouping(keys, at=at, queue=queue, route=route)
    assert list(keys) == (QUEUE_HOUR_KEYS if queue is not None else CALL_HOUR_KEYS)
    exprs = [run.hour(at), *([queue] if queue is not None else []), route]
    return grp.Grouping(list(keys), exprs, [1] * len(exprs), {})


# -- queues ----------------------------------------------------------------------------------

def _queue_counts(ctx: _Context, keys: Sequence[str], lo: datetime, hi: datetime,
                  *, run: summing.Run | None = None) -> Select[Any]:
    """The queue attempts joined in [lo, hi), counted per group of ``keys`` (read as ``run``
    says: summed per stored hour, :func:`_sum_hours`, or a period read from its rows)."""
    s = ctx.settings
    qa = QueueAttempt
    count_if = _counter(run)
    # A period read by a full scan without the route: the attempts alone in the outer
    # loop, each call found by its key for its direction (``_inbound_attempts``), and the
    # queue not read from its index (whose order the planner took for the grouping, with a
    # row lookup per attempt: 1.5 s of a year's CPU against 1.1; bench/README.md).
    alone = run is not None and run.scan and not run.hourly and "route" not in keys
    grouping = _run_grouping(ctx, keys, run, at=qa.joined_at,
                             queue=summing.unindexed(qa.queue) if alone else qa.queue,
                             route=Call.route if "route" in keys else literal(None))
    joined = run.at(qa.joined_at) if run is not None else qa.joined_at
    sl_whens = [(qa.queue == q, literal(float(t))) for q, t in s.queue_service_level_s.items()]
    threshold = (case(*sl_whens, else_=literal(float(s.service_level_s))) if sl_whens
                 else literal(float(s.service_level_s)))
    source = _inbound_attempts(
        select().select_from(qa).where(joined >= lo, joined < hi), correlated=alone)
    base, key_cols, (outcome, wait, talk, sl_t) = _keyed(
        grouping,
        [qa.outcome.label("outcome"), qa.wait_s.label("wait"), qa.talk_s.label("talk"),
         threshold.label("sl_t")],
        source,
    )
    answered = outcome == QueueOutcome.ANSWERED.value
    abandoned = outcome == QueueOutcome.ABANDONED.value
    return base.add_columns(
        func.count().label("offered"),
        count_if(answered).label("answered"),
        count_if(abandoned).label("abandoned_all"),
        count_if(and_(abandoned, wait < s.short_abandon_s)).label("short"),
        count_if(outcome == QueueOutcome.TIMEOUT.value).label("timeout"),
        count_if(outcome == QueueOutcome.EXIT_KEY.value).label("exit_key"),
        count_if(outcome == QueueOutcome.EMPTY.value).label("empty"),
        count_if(outcome == QueueOutcome.CUT.value).label("cut"),
        count_if(outcome.is_(None)).label("in_queue"),
        count_if(and_(answered, wait <= sl_t)).label("in_sl"),
        _sum_if(answered, sf.seconds_as_ms(wait, ctx.dialect)).label("wait_ms"),
        count_if(and_(answered, wait.is_not(None))).label("wait_n"),
        _sum_if(answered, sf.seconds_as_ms(talk, ctx.dialect)).label("talk_ms"),
        count_if(and_(answered, talk.is_not(None))).label("talk_n"),
        func.max(case((answered, wait))).label("wait_max"),
    ).group_by(*key_cols)


def _inbound_attempts(source: Select[Any], *, correlated: bool = False) -> Select[Any]:
    """Only the queue attempts of inbound calls: a callee of a call clinicall placed (a
    reminder's patient who pressed 0) is not offered to the queue by a caller (docs/kpi.md,
    "calls clinicall places").  ``correlated``: each attempt's call looked up by a scalar
    subquery instead of a join, which keeps the attempts in SQLite's outer loop (given a
    join it may scan the calls instead, 4.6 s of a year's CPU)."""
    if correlated:
        direction = (select(Call.direction).where(Call.id == QueueAttempt.call_id)
                     .scalar_subquery())
        return source.where(direction == Direction.INBOUND.value)
    return source.join(Call, Call.id == QueueAttempt.call_id).where(
        Call.direction == Direction.INBOUND.value)


async def _queue_section(session: AsyncSession, ctx: _Context
                         ) -> tuple[Section, list[tuple[SortKey, int]]]:
    """The ``queues`` section, its percentiles left empty; and each row's group key and
    count of answered waits, which :func:`_fill_percentiles` ranks and checks against."""
    grouping = ctx.labels(ctx.keys, queue=True)
    sums = await _collect(session, ctx, ctx.keys,
                          lambda k, lo, hi: [_queue_counts(ctx, k, lo, hi, run=ctx.queue_run)],
                          kpi_queue_hours, queue=True, run=ctx.queue_run)
    section = Section("queues", grouping.columns(), QUEUE_METRICS)
    ranked: list[tuple[SortKey, int]] = []
    for sort, key, m in sums.ordered_items(grouping):
        offered, short_n = int(m.get("offered") or 0), int(m.get("short") or 0)
        abandoned = int(m.get("abandoned_all") or 0) - short_n
        cut = int(m.get("cut") or 0)
        counted = offered - short_n - cut
        wait_n, talk_n = int(m.get("wait_n") or 0), int(m.get("talk_n") or 0)
        out: dict[str, Value] = grouping.labels(key)
        out.update(
            offered=offered,
            answered=int(m.get("answered") or 0),
            abandoned=abandoned,
            short_abandoned=short_n,
            timeout=int(m.get("timeout") or 0),
            exit_key=int(m.get("exit_key") or 0),
            empty=int(m.get("empty") or 0),
            cut=cut,
            in_queue=int(m.get("in_queue") or 0),
            abandon_rate=ratio(abandoned, counted),
            service_level=ratio(int(m.get("in_sl") or 0), counted),
            asa=normalize(int(m["wait_ms"]) / wait_n / 1000, "s") if wait_n else None,
            wait_p50=None,
            wait_p90=None,
            wait_max=normalize(m.get("wait_max"), "s"),
            aht_talk=normalize(int(m["talk_ms"]) / talk_n / 1000, "s") if talk_n else None,
        )
        ranked.append((sort, wait_n))
        section.rows.append(out)
    return section, ranked


async def _fill_percentiles(session: AsyncSession, ctx: _Context, section: Section,
                            ranked: list[tuple[SortKey, int]]) -> None:
    """p50/p90 of answered waits, nearest rank, from counts: the database counts each
    distinct wait per group (waits are whole seconds: a few hundred values a group) and a
    running sum over those counts in wait order finds the ranks.

    Only inbound calls' waits count.  With hourly sums, the whole hours' waits are read
    already counted (``reports.wait_counts``: inbound answered waits per block of hours,
    queue, route and wait) and the minutes at the edges counted from the rows, joined with
    their calls.  Without them (every row read), the join with ``calls`` per wait was half of
    a year's time on SQLite: outbound calls rarely queue (docs/kpi.md, "calls clinicall
    places"), so the waits are first ranked from the queue attempts alone (the covering
    index) and kept when each group's count of waits equals the section's ``wait_n`` (the
    inbound answered waits): a superset of the same size is the same set.  Otherwise, or when
    grouped by route (a column of the call), they are ranked again with the join.  A section
    with no answered wait (``wait_n`` 0 in every row) has nothing to rank: no query.
    ``ranked``: each row's group key and ``wait_n``."""
    expected = dict(ranked)
    if not any(expected.values()):  # no answered wait to rank (no query)
        return
    found: dict[SortKey, dict[str, Value]] | None = None
    if ctx.plan.hours is not None:
        found, _ = await _ranked_waits(session, ctx, *_counted_waits(ctx))
    elif "route" not in ctx.keys:
        found, totals = await _ranked_waits(session, ctx, *_counted_period(ctx, False))
        if totals != {key: n for key, n in expected.items() if n}:
            found = None
    if found is None:
        found, _ = await _ranked_waits(session, ctx, *_counted_period(ctx, True))
    for done, (key, _) in zip(section.rows, ranked, strict=True):
        done.update(found.get(key, {}))


#: What :func:`_ranked_waits` is given: the counts' name in ``_Context.cached``, how to build
#: them (columns k0…, ``wait``, ``n``), and the values of their bound parameters.
Counted = tuple[Hashable, Callable[[], Select[Any]], dict[str, Any]]


def _counted_rows(ctx: _Context, lo: Any, hi: Any, *, inbound_only: bool) -> Select[Any]:
    """The answered waits of the attempts joined in [lo, hi), counted per (group, wait):
    columns k0…, ``wait``, ``n``."""
    qa = QueueAttempt
    grouping = ctx.grouping(ctx.keys, at=qa.joined_at, queue=qa.queue,
                            route=Call.route if "route" in ctx.keys else literal(None))
    source = select().select_from(qa).where(
        qa.joined_at >= lo, qa.joined_at < hi,
        qa.outcome == QueueOutcome.ANSWERED.value, qa.wait_s.is_not(None))
    if inbound_only:
        source = _inbound_attempts(source)
    base, key_cols, (wait,) = _keyed(grouping, [qa.wait_s.label("wait")], source)
    return base.add_columns(wait, func.count().label("n")).group_by(*key_cols, wait)


def _counted_period(ctx: _Context, inbound_only: bool) -> Counted:
    """The period's answered waits counted from the rows (:func:`_counted_rows`)."""
    return (("rows", tuple(ctx.keys), inbound_only),
            lambda: _counted_rows(ctx, *_bounds(""), inbound_only=inbound_only),
            {"lo": ctx.start, "hi": ctx.end})


def _counted_waits(ctx: _Context) -> Counted:
    """The period's inbound answered waits counted per (group, wait): the whole hours from
    ``kpi_wait_counts`` (hours when grouped by local day or hour, else the fewest blocks
    that tile them), the edges from the rows."""
    assert ctx.plan.hours is not None
    h0, h1 = ctx.plan.hours
    ranges = ([(1, h0, h1)] if "day" in ctx.keys or "hour" in ctx.keys
              else wait_counts.tiling(h0, h1))
    values: dict[str, Any] = {}
    for i, (_, lo, hi) in enumerate(ranges):
        values[f"w{i}lo"], values[f"w{i}hi"] = lo, hi
    for i, (edge_lo, edge_hi) in enumerate(ctx.plan.raw):
        values[f"r{i}lo"], values[f"r{i}hi"] = edge_lo, edge_hi
    spans = tuple(span for span, _, _ in ranges)

    def build() -> Select[Any]:
        t = kpi_wait_counts.c
        grouping = ctx.grouping(ctx.keys, at_s=t.hour * tb.HOUR, queue=t.queue, route=t.route)
        labelled = [e.label(f"k{i}") for i, e in enumerate(grouping.exprs)]
        bound = [(span, bindparam(f"w{i}lo", type_=Integer), bindparam(f"w{i}hi", type_=Integer))
                 for i, span in enumerate(spans)]
        summed = (select(*labelled, t.wait_s.label("wait"), func.sum(t.n).label("n"))
                  .where(wait_counts.where(ctx.settings_key, bound))
                  .group_by(*labelled, t.wait_s))
        if not ctx.plan.raw:
            return summed
        parts = union_all(*[_counted_rows(ctx, *_bounds(f"r{i}"), inbound_only=True)
                            for i in range(len(ctx.plan.raw))], summed).subquery()
        keys = [parts.c[f"k{i}"] for i in range(len(labelled))]
        return (select(*keys, parts.c.wait, func.sum(parts.c.n).label("n"))
                .group_by(*keys, parts.c.wait))

    return ("waits", tuple(ctx.keys), spans, len(ctx.plan.raw)), build, values


async def _ranked_waits(session: AsyncSession, ctx: _Context, what: Hashable,
                        counted: Callable[[], Select[Any]], values: dict[str, Any]
                        ) -> tuple[dict[SortKey, dict[str, Value]], dict[SortKey, int]]:
    """The p50/p90 of each group (by its ``grouping.sort_key``) and how many waits each
    group ranked, from the waits ``counted`` per (group, wait) (columns k0…, ``wait``, ``n``;
    built once per shape as ``what``, executed with ``values``).

    PostgreSQL returns each group's counts as arrays in wait order (:func:`_ranked_query`);
    SQLite's windows cost 2 µs a row each (most of a day's percentiles, more than reading
    the counts), and it has no arrays, so there the counts are read in (group, wait) order.
    Either way each group's running count finds its ranks here.  The same ranks: nearest
    rank, ⌈p·n/100⌉."""
    if ctx.dialect == "postgresql":
        query, nkeys = ctx.cached(("ranked", what), lambda: _ranked_query(counted()))
        return _ranks_found((await session.execute(query, values)).all(), nkeys)
    ordered, nkeys = ctx.cached(("ordered", what), lambda: _ordered(counted()))
    rows = (await session.execute(ordered, values)).all()
    found: dict[SortKey, dict[str, Value]] = {}
    totals: dict[SortKey, int] = {}
    first = 0
    while first < len(rows):
        group = tuple(rows[first][:nkeys])
        last, total = first, 0
        while last < len(rows) and tuple(rows[last][:nkeys]) == group:
            total += int(rows[last][-1])
            last += 1
        ranks = {p: (total * p + 99) // 100 for p in PERCENTILES}  # ⌈p·total/100⌉, integers
        at: dict[str, Value] = {}
        upto = 0
        for row in rows[first:last]:
            before, upto = upto, upto + int(row[-1])
            for p, rank in ranks.items():
                if before < rank <= upto:
                    at[f"wait_p{p}"] = normalize(float(row[nkeys]), "s")
        key = grp.sort_key(group)
        found[key], totals[key] = at, total
        first = last
    return found, totals


PERCENTILES = (50, 90)


def _ordered(counted: Select[Any]) -> tuple[Select[Any], int]:
    """The counts in (group, wait) order (SQLite), and how many key columns they have."""
    nkeys = len(counted.selected_columns) - 2
    return counted.order_by(*list(counted.selected_columns)[: nkeys + 1]), nkeys


def _ranked_query(counted: Select[Any]) -> tuple[Select[Any], int]:
    """Each group's counted waits as two arrays in wait order, the waits and their counts
    (PostgreSQL), from which :func:`_ranks_found` finds the ranks; and how many key columns
    come first.  Both arrays are ordered by the wait, distinct within a group (the counts
    are grouped by it), so they pair up element by element.

    A running sum by window functions found the ranks in SQL before: the counts sorted by
    group and wait, two windows over every count, two rows a group returned.  That was three
    quarters of the backend's time in a warm day's report (4.0 ms of the statement's 5 on
    the generated year) and two thirds in a month (37 ms): the arrays take 2.2 and 22 ms,
    and the client's running sum over them (``itertools.accumulate``, ``bisect``) is far
    under a millisecond."""
    counts = counted.subquery("wait_counts")
    nkeys = len(counted.selected_columns) - 2
    keys = [counts.c[f"k{i}"] for i in range(nkeys)]
    wait = counts.c.wait
    query = select(*keys, func.array_agg(aggregate_order_by(wait, wait)).label("waits"),
                   func.array_agg(aggregate_order_by(sf.as_int(counts.c.n), wait)).label("ns"))
    return (query.group_by(*keys) if keys else query), nkeys


def _ranks_found(rows: Sequence[Any], nkeys: int
                 ) -> tuple[dict[SortKey, dict[str, Value]], dict[SortKey, int]]:
    """:func:`_ranked_waits`' answer from the rows of :func:`_ranked_query` (the keys, then
    the waits and their counts in wait order): the rank r of a group of n waits is at the
    first wait whose running count reaches r."""
    found: dict[SortKey, dict[str, Value]] = {}
    totals: dict[SortKey, int] = {}
    for row in rows:
        waits, counts = row[nkeys], row[nkeys + 1]
        if not waits:  # no group keys and no wait: one row of nulls
            continue
        running = list(accumulate(counts))
        total = running[-1]
        key = grp.sort_key(row[:nkeys])
        totals[key] = total
        found[key] = {f"wait_p{p}": normalize(float(waits[bisect_left(
            running, (total * p + 99) // 100)]), "s")  # ⌈p·total/100⌉, integers
            for p in PERCENTILES}
    return found, totals


# -- calls (clinic level) --------------------------------------------------------------------

def _inbound_between(lo: datetime, hi: datetime, run: summing.Run | None = None) -> Select[Any]:
    started = run.at(Call.started_at) if run is not None else Call.started_at
    return select().select_from(Call).where(
        started >= lo, started < hi, Call.direction == Direction.INBOUND.value)


def _call_counts(ctx: _Context, keys: Sequence[str], lo: datetime, hi: datetime,
                 *, run: summing.Run | None = None) -> Select[Any]:
    """The inbound calls started in [lo, hi), counted per group of ``keys`` (read as ``run``
    says: summed per stored hour, :func:`_sum_hours`, or a period read from its rows);
    returns and repeats from the links kept on each call (``clinicall.db.call_links``)."""
    s = ctx.settings
    count_if = _counter(run)
    grouping = _run_grouping(ctx, keys, run, at=Call.started_at, queue=None, route=Call.route)
    base, key_cols, (missed, cause, outcome, caller, delay, gap, disposition) = _keyed(
        grouping, [
            Call.missed.label("missed"), Call.miss_cause.label("cause"),
            Call.ivr_outcome.label("outcome"), Call.caller.label("caller"),
            Call.return_delay_ms.label("delay"), Call.repeat_gap_ms.label("gap"),
            Call.disposition.label("disposition"),
        ], _inbound_between(lo, hi, run))
    is_missed = missed.is_(True)
    in_horizon = and_(is_missed, delay <= int(s.return_horizon_h * HOUR_MS))
    return base.add_columns(
        func.count().label("inbound"),
        count_if(outcome == IvrOutcome.SELF_SERVED.value).label("self_served"),
        count_if(is_missed).label("missed"),
        *[count_if(and_(is_missed, cause == c)).label(f"cause_{c}") for c in CAUSES],
        count_if(and_(is_missed, delay <= int(s.unreturned_after_min * 60_000))
                  ).label("in_time"),
        count_if(in_horizon).label("ttc_n"),
        _sum_if(in_horizon, delay).label("ttc_sum"),
        count_if(caller.is_not(None)).label("known_callers"),
        count_if(gap <= 24 * HOUR_MS).label("rep24"),
        count_if(gap <= 7 * 24 * HOUR_MS).label("rep7"),
        func.max(case((in_horizon, delay))).label("ttc_max"),
        *resolution_counts(disposition, caller, gap),  # first-contact resolution
    ).group_by(*key_cols)


def _survey_counts(ctx: _Context, keys: Sequence[str], lo: datetime, hi: datetime,
                   *, run: summing.Run | None = None) -> Select[Any]:
    """The survey answers of the inbound calls started in [lo, hi), per group of ``keys``
    (read as ``run`` says: summed per stored hour, :func:`_sum_hours`, or a period read from
    its rows; a scanning run reads the answers and finds each one's call, instead of
    reading every call of the span)."""
    count_if = _counter(run)
    grouping = _run_grouping(ctx, keys, run, at=Call.started_at, queue=None, route=Call.route)
    if run is not None and run.scan:
        started = run.at(Call.started_at)
        source = select().select_from(SurveyAnswer).join(
            Call, SurveyAnswer.call_id == Call.id).where(
            started >= lo, started < hi, Call.direction == Direction.INBOUND.value)
    else:
        source = _inbound_between(lo, hi, run).join(SurveyAnswer,
                                                    SurveyAnswer.call_id == Call.id)
    base, key_cols, (question, score) = _keyed(
        grouping, [SurveyAnswer.question.label("question"), SurveyAnswer.score.label("score")],
        source)
    csat = question == SurveyQuestion.CSAT.value
    nps = question == SurveyQuestion.NPS.value
    return base.add_columns(
        count_if(csat).label("csat_n"),
        _sum_if(csat, score).label("csat_sum"),
        count_if(nps).label("nps_n"),
        count_if(and_(nps, score >= 9)).label("promoters"),
        count_if(and_(nps, score <= 6)).label("detractors"),
    ).group_by(*key_cols)


async def _call_sections(session: AsyncSession, ctx: _Context
                         ) -> tuple[Section, Section, Section]:
    """The ``calls`` section (clinic level, grouped by ``by`` without ``queue``), the
    ``topics`` section (grouped by the time keys of ``by`` and the route) and the
    ``resolution`` section (grouped as ``calls``), from the calls counted once by both sets
    of keys."""
    call_keys = ctx.call_keys
    topic_keys = [k for k in ctx.keys if k in ("day", "hour")] + ["route"]
    both = call_keys + ([] if "route" in call_keys else ["route"])
    grouping = ctx.labels(both, queue=False)
    call_grouping = ctx.labels(call_keys, queue=False)
    topic_grouping = ctx.labels(topic_keys, queue=False)

    def raw(keys: Sequence[str], lo: Any, hi: Any) -> list[Select[Any]]:
        return [_call_counts(ctx, keys, lo, hi, run=ctx.call_run),
                _survey_counts(ctx, keys, lo, hi, run=ctx.call_run)]

    counted = await _collect(session, ctx, both, raw, kpi_call_hours, queue=False,
                             run=ctx.call_run)
    # Added up by the fewer keys, unless they are all of them (then the counts as they are).
    calls_sums = counted if call_keys == both else Sums()
    topic_sums = counted if topic_keys == both else Sums()
    if calls_sums is not counted or topic_sums is not counted:
        for key, m in counted:
            if calls_sums is not counted:
                calls_sums.add(grouping.part(key, call_keys), m)
            if topic_sums is not counted:
                topic_sums.add(grouping.part(key, topic_keys), m)
    calls = Section("calls", call_grouping.columns(), CALL_METRICS)
    for key, m in calls_sums.ordered(call_grouping):
        calls.rows.append(_call_row(call_grouping.labels(key), m))
    topics = Section("topics", topic_grouping.columns(), TOPIC_METRICS)
    for key, m in topic_sums.ordered(topic_grouping):
        out = topic_grouping.labels(key)
        out.update(calls=int(m.get("inbound") or 0), self_served=int(m.get("self_served") or 0),
                   missed=int(m.get("missed") or 0))
        topics.rows.append(out)
    return calls, topics, section_from_sums(call_grouping, calls_sums)


def _call_row(labels: dict[str, Value], m: dict[str, Any]) -> dict[str, Value]:
    inbound = int(m.get("inbound") or 0)
    missed_n = int(m.get("missed") or 0)
    in_time = int(m.get("in_time") or 0)
    ttc_n = int(m.get("ttc_n") or 0)
    known = int(m.get("known_callers") or 0)
    csat_n = int(m.get("csat_n") or 0)
    nps_n = int(m.get("nps_n") or 0)
    out = dict(labels)
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
    return out
