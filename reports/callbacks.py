"""Callback figures of a period (docs/callbacks.md, "Figures"; docs/kpi.md for the returned
missed calls): jobs made by cause, time from the patient's call to the first attempt (p50 and
p90, nearest rank), attempts per settled job, success rate, and the missed calls not returned
within ``unreturned_after_min``.

A job belongs to the period it was made in.  Its cause is the missed call's (``abandoned``,
``hangup_ivr``, ...) for a missed-call job, else its reason (``requested``, ``manual``,
``reminder``).  The success rate is done jobs over settled ones (done, failed); a cancelled
job (the patient got through, or staff) is neither.  Computed from the rows, for a day or a
few (the ``/metrics`` collector asks for today).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.db.models import (
    Appointment,
    Call,
    Callback,
    CallbackAttempt,
    CallbackState,
    Direction,
)
from clinicall.reports.table import Column, Report, Section, normalize


@dataclass(frozen=True, slots=True)
class CallbackFigures:
    jobs_by_cause: dict[str, int] = field(default_factory=dict)
    first_attempt_p50_s: float | None = None
    first_attempt_p90_s: float | None = None
    attempts_per_job: float | None = None  # over settled jobs (done, failed)
    success_rate: float | None = None  # done / (done + failed)
    missed_unreturned: int = 0  # missed calls not returned within the threshold
    #: Appointment reminders answered in the period, by what the patient answered
    #: (confirmed, cancelled, operator, no_input, hangup) or ``unreached`` (docs/reminders.md).
    reminders_by_result: dict[str, int] = field(default_factory=dict)


def nearest_rank(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` in (0, 1]) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


async def callback_figures(session: AsyncSession, *, start: datetime, end: datetime,
                           unreturned_after: timedelta) -> CallbackFigures:  # fmt: skip
    first_attempt = (select(func.min(CallbackAttempt.started_at))
                     .where(CallbackAttempt.callback_id == Callback.id).scalar_subquery())
    rows = (await session.execute(
        select(Callback.reason, Call.miss_cause, Callback.state, Callback.attempts,
               Callback.arrived_at, first_attempt)
        .outerjoin(Call, Call.id == Callback.origin_call_id)
        .where(Callback.created_at >= start, Callback.created_at < end))).all()  # fmt: skip
    causes: Counter[str] = Counter()
    waits: list[float] = []
    settled: list[tuple[str, int]] = []
    for reason, cause, state, attempts, arrived, first in rows:
        causes[str(cause) if reason == "missed" and cause else str(reason)] += 1
        if first is not None:
            waits.append(max(0.0, (first - arrived).total_seconds()))
        if state in (CallbackState.DONE.value, CallbackState.FAILED.value):
            settled.append((str(state), int(attempts)))
    done = sum(1 for state, _ in settled if state == CallbackState.DONE.value)
    limit_ms = int(unreturned_after.total_seconds() * 1000)
    unreturned = await session.scalar(select(func.count()).select_from(Call).where(
        Call.direction == Direction.INBOUND.value, Call.missed.is_(True),
        Call.started_at >= start, Call.started_at < end,
        or_(Call.return_delay_ms.is_(None), Call.return_delay_ms > limit_ms)))
    reminders = (await session.execute(
        select(Appointment.reminder_result, func.count())
        .where(Appointment.reminder_at >= start, Appointment.reminder_at < end,
               Appointment.reminder_result.is_not(None))
        .group_by(Appointment.reminder_result))).all()  # fmt: skip
    return CallbackFigures(
        reminders_by_result={str(result): int(count) for result, count in sorted(reminders)},
        jobs_by_cause=dict(sorted(causes.items())),
        first_attempt_p50_s=nearest_rank(waits, 0.5),
        first_attempt_p90_s=nearest_rank(waits, 0.9),
        attempts_per_job=sum(a for _, a in settled) / len(settled) if settled else None,
        success_rate=done / len(settled) if settled else None,
        missed_unreturned=int(unreturned or 0),
    )


#: The summary row of ``clinicall report --section callbacks`` (one row for the period).
SUMMARY_COLUMNS = [
    Column("jobs", "count", "callback jobs made in the period (every cause)"),
    Column("first_attempt_p50", "s", "median time from the patient's call to the first attempt"),
    Column("first_attempt_p90", "s", "90th percentile (nearest rank) of the same"),
    Column("attempts_per_job", "", "attempts per settled job (done, failed)"),
    Column("success_rate", "%", "done / (done + failed)"),
    Column("missed_unreturned", "count", "missed calls not returned within "
           "unreturned_after_min"),
]  # fmt: skip


async def callback_report(session: AsyncSession, *, start: datetime, end: datetime,
                          timezone: str, unreturned_after: timedelta) -> Report:  # fmt: skip
    """``clinicall report --section callbacks`` and ``GET /api/reports/callbacks``: the figures
    as three tables: ``callbacks`` (the summary row), ``callback_causes`` (jobs per cause) and
    ``reminders`` (reminder calls per result)."""
    figures = await callback_figures(session, start=start, end=end,
                                     unreturned_after=unreturned_after)  # fmt: skip
    summary = Section("callbacks", [], SUMMARY_COLUMNS)
    rate = figures.success_rate
    summary.rows.append({
        "jobs": sum(figures.jobs_by_cause.values()),
        "first_attempt_p50": normalize(figures.first_attempt_p50_s, "s"),
        "first_attempt_p90": normalize(figures.first_attempt_p90_s, "s"),
        "attempts_per_job": normalize(figures.attempts_per_job),
        "success_rate": normalize(None if rate is None else 100 * rate, "%"),
        "missed_unreturned": figures.missed_unreturned,
    })
    causes = Section("callback_causes", [Column("cause", "", "the missed call's cause, or the "
                                                "job's reason (requested, manual, reminder)")],
                     [Column("jobs", "count", "callback jobs made in the period")])  # fmt: skip
    causes.rows += [{"cause": c, "jobs": n} for c, n in figures.jobs_by_cause.items()]
    reminders = Section("reminders", [Column("result", "", "confirmed, cancelled, operator, "
                                             "no_input, hangup or unreached")],
                        [Column("appointments", "count", "reminders settled in the period")])
    reminders.rows += [{"result": r, "appointments": n}
                       for r, n in figures.reminders_by_result.items()]  # fmt: skip
    return Report(start, end, timezone, [], {"callbacks": summary, "callback_causes": causes,
                                             "reminders": reminders})  # fmt: skip
