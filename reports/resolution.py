"""First-contact resolution from the operators' dispositions: the ``resolution`` section.

The definition is docs/kpi.md's: of the inbound calls of the period (by start) that an
operator marked after the call (``Call.disposition``, ``console.dispositions``; docs/console.md),
FCR = those marked ``resolved`` / those marked with anything but ``wrong_number`` (a wrong number
was never a request to resolve).  Beside it, the share of calls marked ``resolved`` whose caller
called again within 24 h (``repeat_gap_ms``): where the operators' word and the repeat-call
proxy disagree.  Only the two disposition ids ``resolved`` and ``wrong_number`` have a meaning
here; a clinic's other ids count as marked and unresolved.

Dispositions are written after the call; the writer marks the call's hour changed
(``clinicall.db.writer``), so the KPI report keeps these counters in its hourly call sums
(``kpi_call_hours``) and builds the section from them (:func:`section_from_sums`), grouped as
the ``calls`` section (``by`` without ``queue``).  The counters are defined here
(:func:`resolution_counts`) and counted with the report's other call counters, from the sums
or, for the minutes at a period's edges and with ``hourly_sums=False``, from the rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func
from sqlalchemy.sql.elements import ColumnElement

from clinicall.reports import grouping as grp
from clinicall.reports.sums import Sums
from clinicall.reports.table import Column, Section, ratio

RESOLVED, WRONG_NUMBER = "resolved", "wrong_number"
DAY_MS = 24 * 3_600_000

RESOLUTION_METRICS = [
    Column("dispositioned", "count", "inbound calls an operator marked after the call"),
    Column("resolved", "count", "of them marked resolved"),
    Column("wrong_number", "count", "of them marked wrong number"),
    Column("fcr", "%", "resolved / (marked − wrong number): first-contact resolution"),
    Column("resolved_repeat_24h_rate", "%",
           "calls marked resolved whose caller called again within 24 h"),
]


def resolution_counts(disposition: ColumnElement[Any], caller: ColumnElement[Any],
                      gap: ColumnElement[Any]) -> list[ColumnElement[Any]]:
    """The counters :func:`section_from_sums` is built from, over the inbound calls of a
    group: their ``Call.disposition``, ``Call.caller`` and ``Call.repeat_gap_ms``."""
    resolved = disposition == RESOLVED
    return [
        _count_if(disposition.is_not(None)).label("dispositioned"),
        _count_if(resolved).label("resolved"),
        _count_if(disposition == WRONG_NUMBER).label("wrong_number"),
        _count_if(and_(resolved, caller.is_not(None))).label("resolved_known"),
        _count_if(and_(resolved, gap <= DAY_MS)).label("resolved_rep24"),
    ]


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.sum(case((condition, 1), else_=0))


def section_from_sums(grouping: grp.Grouping, sums: Sums) -> Section:
    """The section from counters summed per group (``dispositioned`` … ``resolved_rep24``,
    as :func:`resolution_counts` names them; the KPI report adds them up with its hourly call
    sums):
    a group with no marked call has no row, but without group keys there is always one."""
    section = Section("resolution", grouping.columns(), RESOLUTION_METRICS)
    groups = [(key, m) for key, m in sums.ordered(grouping) if m.get("dispositioned")]
    if not grouping.exprs and not groups:
        groups = [((), {})]
    for key, m in groups:
        marked, resolved = int(m.get("dispositioned", 0)), int(m.get("resolved", 0))
        wrong = int(m.get("wrong_number", 0))
        out = grouping.labels(key)
        out.update(dispositioned=marked, resolved=resolved, wrong_number=wrong,
                   fcr=ratio(resolved, marked - wrong),
                   resolved_repeat_24h_rate=ratio(int(m.get("resolved_rep24", 0)),
                                                  int(m.get("resolved_known", 0))))
        section.rows.append(out)
    return section
