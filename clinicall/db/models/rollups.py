"""Hourly sums of the KPIs, so a report of a month or a year reads a few thousand rows.

The reports (``reports.rollup``) fill these tables from the calls, queue attempts and survey
answers of whole UTC hours, one set of rows per *settings key* (the KPI thresholds in force:
short abandon, service level per queue, unreturned minutes), and read them back summed into
the report's groups.  They are a cache, exactly re-derivable from the rows they sum:

- ``kpi_hours_built``: which hours are summed, per settings key (an hour with no calls too);
- ``kpi_queue_hours``: per hour, queue and IVR route, the queue attempts' counters;
- ``kpi_call_hours``: per hour and IVR route, the inbound calls' counters and survey answers;
- ``kpi_changed_hours``: hours whose rows changed since they were summed.  Every writer of
  calls, queue attempts, callback jobs or survey answers marks the hours it touched
  (``clinicall.db.changes``), in its own transaction; the next report drops those hours' sums
  and sums them again.

Counters are named as the report's SQL labels them (``QUEUE_SUMS`` …), so one list drives the
tables, the summing query and the reading query.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, String, Table

from clinicall.db.models.base import Base
from clinicall.db.models.enums import MissCause

QUEUE_SUMS = ("offered", "answered", "abandoned_all", "short", "timeout", "exit_key", "empty",
              "cut", "in_queue", "in_sl", "wait_ms", "wait_n", "talk_ms", "talk_n")
QUEUE_MAXES = ("wait_max",)
CAUSE_SUMS = tuple(f"cause_{c.value}" for c in MissCause)
CALL_SUMS = ("inbound", "self_served", "missed", *CAUSE_SUMS, "in_time", "ttc_n", "ttc_sum",
             "known_callers", "rep24", "rep7")
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
    *[Column(name, BigInteger, nullable=False) for name in (*CALL_SUMS, *SURVEY_SUMS)],
    Column("ttc_max", BigInteger),
    Index(None, "settings_key", "hour"),
)


def metric_names(table: Table) -> list[str]:
    """The counter columns of an hourly-sums table (all but its keys)."""
    return [c.name for c in table.columns
            if c.name not in ("settings_key", "hour", "queue", "route")]
