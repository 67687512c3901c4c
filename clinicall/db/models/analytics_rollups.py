"""Hourly sums of the survey, demand and staffing reports (``reports.analytics_hours``).

Kept exactly like the KPI sums beside them (``clinicall.db.models.rollups``): per *settings
key* and whole UTC hour, dropped when a writer marks the hour changed and summed again by the
next report or by the keeper, so a year of these reports reads thousands of rows, not every
call.  Their groups hold no clinic config (no local time, no menu, no survey mode): a report
turns the UTC hour into local time and reads the config when it adds the groups up.

- ``survey_hours``: per hour of the call's start, queue, operator and route of the rated
  conversation: surveys due (patient agreed, or not: then due only in an ``always`` queue),
  answered, partial, and the count of each CSAT and NPS score;
- ``demand_hours``: per hour of the inbound call's start, topic, specialty, key path, whether
  answered, missed, self-served, and the miss cause: calls and calls repeated within 24 h;
- ``staffing_hours``: per hour of the queue attempt's join and queue (attempts the PBX cut
  left out): offered, answered talks and their total, waits with an outcome and their total,
  abandons;
- ``analytics_hours_built``: which hours these three are summed for, per settings key.  Their
  own marks, apart from the KPI sums' (``kpi_hours_built``): a KPI report sums only the KPI
  sums it reads, and a survey, demand or staffing report only these (migration 0022).  A
  changed hour drops both families' sums and marks together.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table

from clinicall.db.models.base import Base

SURVEY_DIMS = ("queue", "operator", "route")
SURVEY_SUMS = ("due_agreed", "due_other", "answered", "partial",
               *[f"csat_{n}" for n in range(1, 6)], *[f"nps_{n}" for n in range(11)])  # fmt: skip
DEMAND_DIMS = ("topic", "specialty", "path", "answered", "missed", "self_served", "cause")
DEMAND_SUMS = ("calls", "repeated")
STAFFING_DIMS = ("queue",)
STAFFING_SUMS = ("offered", "talk_n", "talk_ms", "wait_n", "wait_ms", "abandons")


def _keys() -> list[Column[int] | Column[str]]:
    return [Column("settings_key", String(16), nullable=False),
            Column("hour", Integer, nullable=False)]  # fmt: skip


survey_hours = Table(
    "survey_hours", Base.metadata, *_keys(),
    Column("queue", String(64), nullable=False),
    Column("operator", String(128), nullable=False),
    Column("route", String(64), nullable=False),
    *[Column(name, BigInteger, nullable=False) for name in SURVEY_SUMS],
    Index(None, "settings_key", "hour"),
)

demand_hours = Table(
    "demand_hours", Base.metadata, *_keys(),
    Column("topic", String(64), nullable=False),
    Column("specialty", String(64), nullable=False),
    Column("path", String(255), nullable=False),
    Column("answered", Integer, nullable=False),
    Column("missed", Integer, nullable=False),
    Column("self_served", Integer, nullable=False),
    Column("cause", String(16), nullable=False),
    *[Column(name, BigInteger, nullable=False) for name in DEMAND_SUMS],
    Index(None, "settings_key", "hour"),
)

staffing_hours = Table(
    "staffing_hours", Base.metadata, *_keys(),
    Column("queue", String(64), nullable=False),
    *[Column(name, BigInteger, nullable=False) for name in STAFFING_SUMS],
    Index(None, "settings_key", "hour"),
)

analytics_hours_built = Table(
    "analytics_hours_built", Base.metadata,
    Column("settings_key", String(16), primary_key=True),
    Column("hour", Integer, primary_key=True),  # hours since 1970-01-01 00:00 UTC
)

ANALYTICS_TABLES = (survey_hours, demand_hours, staffing_hours)
