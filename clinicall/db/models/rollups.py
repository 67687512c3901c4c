"""Hourly sums of the KPIs, so a report of a month or a year reads a few thousand rows.

The reports (``reports.rollup``) fill these tables from the calls, queue attempts and survey
answers of whole UTC hours, one set of rows per *settings key* (the KPI thresholds in force:
short abandon, service level per queue, unreturned minutes), and read them back summed into
the report's groups.  They are a cache, exactly re-derivable from the rows they sum:

- ``kpi_hours_built``: which hours the KPI sums (these tables) are summed for, per settings
  key (an hour with no calls too); the survey, demand and staffing sums have their own marks
  (``analytics_rollups.analytics_hours_built``);
- ``kpi_queue_hours``: per hour, queue and IVR route, the queue attempts' counters;
- ``kpi_call_hours``: per hour and IVR route, the inbound calls' counters and survey answers;
- ``kpi_wait_counts``: the answered waits of inbound calls counted per (block of hours,
  queue, IVR route, wait): the wait percentiles rank these counts.  A block of ``span`` 1 is
  one hour, summed from the rows with the other hourly sums; blocks of ``WAIT_SPANS[1:]``
  hours (aligned on multiples of their span) are summed from the hours' counts when a report
  over a period holding them first needs them; ``kpi_wait_blocks`` marks those built;
- ``kpi_changed_hours``: hours whose rows changed since they were summed.  Every writer of
  calls, queue attempts, callback jobs or survey answers marks the hours it touched
  (``clinicall.db.changes``), in its own transaction; the next report drops those hours' sums
  and sums them again.

Counters are named as the report's SQL labels them (``QUEUE_SUMS`` …), so one list drives the
tables, the summing query and the reading query.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, String, Table

from clinicall.db.models.analytics_rollups import ANALYTICS_TABLES, analytics_hours_built
from clinicall.db.models.base import Base
from clinicall.db.models.enums import MissCause

QUEUE_SUMS = ("offered", "answered", "abandoned_all", "short", "timeout", "exit_key", "empty",
              "cut", "in_queue", "in_sl", "wait_ms", "wait_n", "talk_ms", "talk_n")
QUEUE_MAXES = ("wait_max",)
CAUSE_SUMS = tuple(f"cause_{c.value}" for c in MissCause)
CALL_SUMS = ("inbound", "self_served", "missed", *CAUSE_SUMS, "in_time", "ttc_n", "ttc_sum",
             "known_callers", "rep24", "rep7")
RESOLUTION_SUMS = ("dispositioned", "resolved", "wrong_number", "resolved_known",
                   "resolved_rep24")
SURVEY_SUMS = ("csat_n", "csat_sum", "nps_n", "promoters", "detractors")
CALL_MAXES = ("ttc_max",)

kpi_hours_built = Table(
    "kpi_hours_built", Base.metadata,
    Column("settings_key", String(16), primary_key=True),
    Column("hour", Integer, primary_key=True),  # hours since 1970-01-01 00:00 UTC
)

kpi_changed_hours = Table(
    "kpi_changed_hours", Base.metadata,
    Column("hour", Integer, primary_key=True),
)

kpi_queue_hours = Table(
    "kpi_queue_hours", Base.metadata,
    Column("settings_key", String(16), nullable=False),
    Column("hour", Integer, nullable=False),
    Column("queue", String(64), nullable=False),
    Column("route", String(64)),
    *[Column(name, BigInteger, nullable=False) for name in QUEUE_SUMS],
    Column("wait_max", Float),
    Index(None, "settings_key", "hour"),
)

kpi_call_hours = Table(
    "kpi_call_hours", Base.metadata,
    Column("settings_key", String(16), nullable=False),
    Column("hour", Integer, nullable=False),
    Column("route", String(64)),
    *[Column(name, BigInteger, nullable=False)
      for name in (*CALL_SUMS, *SURVEY_SUMS, *RESOLUTION_SUMS)],
    Column("ttc_max", BigInteger),
    Index(None, "settings_key", "hour"),
)

#: The blocks of hours the wait counts are kept for: an hour, a UTC day, 32 UTC days.
WAIT_SPANS = (1, 24, 768)

kpi_wait_counts = Table(
    "kpi_wait_counts", Base.metadata,
    Column("settings_key", String(16), nullable=False),
    Column("span", Integer, nullable=False),  # hours in the block
    Column("hour", Integer, nullable=False),  # its first hour, a multiple of span
    Column("queue", String(64), nullable=False),
    Column("route", String(64)),
    Column("wait_s", Float, nullable=False),
    Column("n", BigInteger, nullable=False),
    # covering: a report reads a period's counts from the index alone
    Index(None, "settings_key", "span", "hour", "queue", "route", "wait_s", "n"),
)

kpi_wait_blocks = Table(
    "kpi_wait_blocks", Base.metadata,
    Column("settings_key", String(16), primary_key=True),
    Column("span", Integer, primary_key=True),
    Column("hour", Integer, primary_key=True),
)


def metric_names(table: Table) -> list[str]:
    """The counter columns of an hourly-sums table (all but its keys)."""
    return [c.name for c in table.columns
            if c.name not in ("settings_key", "hour", "queue", "route")]


#: Every table of hourly sums of both families (KPI; survey, demand and staffing), their
#: built marks last: what a changed hour drops, and what emptying them all empties (a built
#: mark left without its sums would be read as an hour with no calls).
HOURLY_SUM_TABLES = (kpi_queue_hours, kpi_call_hours, *ANALYTICS_TABLES, kpi_wait_counts,
                     kpi_wait_blocks, analytics_hours_built, kpi_hours_built)
