"""How far the announced wait estimates were from the waits that followed (docs/callbacks.md,
"Estimated wait"; docs/kpi.md).

For each announcement of a period whose caller was then answered from the same queue attempt,
the wait that followed is ``connected_at - announced_at``.  The absolute errors of clinicall's
estimate and of the engine's own (Asterisk's moving-average ``Holdtime``, the baseline) give
a median and a p90 (nearest rank) each, over the announcements that have that estimate.
Callers who hung up first have no wait to compare with and are left out (their wait is
censored), so the count says how many announcements were measured.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.db.models import Call, QueueAttempt, WaitEstimate
from clinicall.reports.callbacks import nearest_rank


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
        select(WaitEstimate.announced_at, WaitEstimate.estimate_s,
               WaitEstimate.engine_estimate_s, QueueAttempt.connected_at)
        .join(Call, Call.call_key == WaitEstimate.call_key)
        .join(QueueAttempt, (QueueAttempt.call_id == Call.id)
              & (QueueAttempt.queue == WaitEstimate.queue))
        .where(WaitEstimate.announced_at >= start, WaitEstimate.announced_at < end,
               QueueAttempt.joined_at <= WaitEstimate.announced_at,
               QueueAttempt.connected_at >= WaitEstimate.announced_at))).all()  # fmt: skip
    ours: list[float] = []
    engine: list[float] = []
    for announced, estimate, engine_estimate, connected in rows:
        if connected is None:  # excluded by the query; the column itself is nullable
            continue
        actual = (connected - announced).total_seconds()
        if estimate is not None:
            ours.append(abs(estimate - actual))
        if engine_estimate is not None:
            engine.append(abs(engine_estimate - actual))
    return EstimateAccuracy(_error(ours), _error(engine))
