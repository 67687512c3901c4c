"""How far the announced wait estimates were from the waits that followed (docs/callbacks.md,
"Estimated wait"; docs/kpi.md).

For each announcement of a period whose caller was then answered in that queue, the wait that
followed is ``connected_at - announced_at``, to the first answer after it in a stay that was
under way when it was made or began within ``JOINED_WITHIN`` after it (an announcement as the
caller joins comes just before the stay; an offer the caller declined, just before their
return to the queue).  The absolute errors of clinicall's
estimate and of the engine's own (Asterisk's moving-average ``Holdtime``, the baseline) give
a median and a p90 (nearest rank) each, over the announcements that have that estimate.
Callers who hung up first have no wait to compare with and are left out (their wait is
censored), so the count says how many announcements were measured.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.db.models import Call, QueueAttempt, WaitEstimate
from clinicall.reports.callbacks import nearest_rank
from clinicall.reports.table import Column, Report, Section, normalize

#: How soon after an announcement a stay may begin and still be the one it was made for.
JOINED_WITHIN = timedelta(seconds=60)


#: How soon after an announcement a stay may begin and still be the one it was made for.
JOINED_WITHIN = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class EstimateError:
    """Absolute error of one estimator, in seconds, over ``count`` measured announcements."""

    count: int = 0
    median_s: float | None = None
    p90_s: float | None = None


@dataclass(frozen=True, slots=True)
class EstimateAccuracy:
    clinicall: EstimateError
    engine: EstimateError


def _error(errors: list[float]) -> EstimateError:
    if not errors:
        return EstimateError()
    return EstimateError(len(errors), statistics.median(errors), nearest_rank(errors, 0.9))


async def estimate_accuracy(session: AsyncSession, *, start: datetime,
                            end: datetime) -> EstimateAccuracy:  # fmt: skip
    rows = (await session.execute(
        select(WaitEstimate.id, WaitEstimate.announced_at, WaitEstimate.estimate_s,
               WaitEstimate.engine_estimate_s, QueueAttempt.joined_at,
               QueueAttempt.connected_at)
        .join(Call, Call.call_key == WaitEstimate.call_key)
        .join(QueueAttempt, (QueueAttempt.call_id == Call.id)
              & (QueueAttempt.queue == WaitEstimate.queue))
        .where(WaitEstimate.announced_at >= start, WaitEstimate.announced_at < end,
               QueueAttempt.connected_at >= WaitEstimate.announced_at))).all()  # fmt: skip
    # each announcement against the first answer after it, in a stay it was made in or that
    # began right after it (announced as the caller joined, or before a declined offer's
    # return to the queue)
    followed: dict[int, tuple[float | None, float | None, float]] = {}
    for key, announced, estimate, engine_estimate, joined, connected in rows:
        if connected is None or joined > announced + JOINED_WITHIN:
            continue
        actual = (connected - announced).total_seconds()
        if key not in followed or actual < followed[key][2]:
            followed[key] = (estimate, engine_estimate, actual)
    ours = [abs(e - actual) for e, _, actual in followed.values() if e is not None]
    engine = [abs(e - actual) for _, e, actual in followed.values() if e is not None]
    return EstimateAccuracy(_error(ours), _error(engine))


async def estimate_report(session: AsyncSession, *, start: datetime, end: datetime,
                          timezone: str) -> Report:  # fmt: skip
    """``clinicall report --section estimates``: one row per estimator, clinicall's first."""
    accuracy = await estimate_accuracy(session, start=start, end=end)
    section = Section("estimates", [Column("estimator", "", "clinicall, or the engine's own "
                                           "moving average (the baseline)")], [
        Column("measured", "count", "announcements whose caller was then answered"),
        Column("median_error_s", "s", "median absolute error against the wait that followed"),
        Column("p90_error_s", "s", "90th percentile (nearest rank) absolute error"),
    ])  # fmt: skip
    for name, error in (("clinicall", accuracy.clinicall), ("engine", accuracy.engine)):
        section.rows.append({"estimator": name, "measured": error.count,
                             "median_error_s": normalize(error.median_s, "s"),
                             "p90_error_s": normalize(error.p90_s, "s")})
    return Report(start, end, timezone, [], {"estimates": section})
