"""Announced wait estimates stored beside the waits that followed, and the estimator's error
next to the engine's own, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from callback_fakes import QUEUE, TUESDAY_10_KYIV, Sessions, write_call

from clinicall.db.wait_estimates import record_estimate
from clinicall.reports.wait_estimates import (
    JOINED_WITHIN,
    EstimateAccuracy,
    EstimateError,
    estimate_accuracy,
    estimate_report,
)

T0 = TUESDAY_10_KYIV
JOINED = timedelta(seconds=10)  # write_call: joined 10 s, connected 20 s after the call


async def announce(sessions: Sessions, key: str, at: datetime, estimate: float | None,
                   engine: float | None, queue: str = QUEUE) -> None:  # fmt: skip
    async with sessions.begin() as session:
        await record_estimate(session, call_key=key, queue=queue, announced_at=at,
                              estimate_s=estimate, engine_estimate_s=engine)


async def accuracy(sessions: Sessions) -> EstimateAccuracy:
    async with sessions() as session:
        return await estimate_accuracy(session, start=T0, end=T0 + timedelta(hours=1))


async def test_errors_of_both_estimators_over_the_answered_waits(db_sessions: Sessions) -> None:
    for i in range(10):  # ten answered calls; each announced 2 s after joining: 8 s followed
        at = T0 + timedelta(minutes=i)
        await write_call(db_sessions, f"a{i}", at, caller=f"+38050111110{i}", answered=True)
        await announce(db_sessions, f"a{i}", at + JOINED + timedelta(seconds=2),
                       estimate=8.0 + i, engine=8.0 + 10 * i)
    got = await accuracy(db_sessions)
    # ours: errors 0..9, median 4.5, p90 nearest rank the 9th: 8; engine: 0, 10, ..., 90
    assert got == EstimateAccuracy(EstimateError(10, 4.5, 8.0), EstimateError(10, 45.0, 80.0))


async def test_abandoned_callers_and_missing_estimates_are_not_measured(
    db_sessions: Sessions,
) -> None:
    await write_call(db_sessions, "gone", T0, caller="+380501111111")  # abandoned
    await announce(db_sessions, "gone", T0 + JOINED, estimate=60.0, engine=30.0)
    await write_call(db_sessions, "kept", T0, caller="+380502222222", answered=True)
    await announce(db_sessions, "kept", T0 + JOINED, estimate=None, engine=16.0)  # nobody in
    await announce(db_sessions, "kept", T0 + JOINED, estimate=12.0, engine=None,
                   queue="other")  # another queue's announcement: no attempt there
    got = await accuracy(db_sessions)
    assert got == EstimateAccuracy(EstimateError(), EstimateError(1, 6.0, 6.0))


async def test_an_announcement_as_the_caller_joins_is_measured_against_that_stay(
    db_sessions: Sessions,
) -> None:
    """``callbacks.announce_wait``: said before the caller joins (joined 10 s after the call,
    announced at 7 s: 13 s to the answer at 20 s); a stay that begins more than
    ``JOINED_WITHIN`` after an announcement is not the one it was made for."""
    await write_call(db_sessions, "join", T0, caller="+380501111111", answered=True)
    await announce(db_sessions, "join", T0 + timedelta(seconds=7), estimate=10.0, engine=None)
    later = T0 + timedelta(minutes=2)
    await write_call(db_sessions, "later", later, caller="+380502222222", answered=True)
    await announce(db_sessions, "later", later + JOINED - JOINED_WITHIN - timedelta(seconds=1),
                   estimate=10.0, engine=None)
    assert await accuracy(db_sessions) == EstimateAccuracy(EstimateError(1, 3.0, 3.0),
                                                           EstimateError())


async def test_outside_the_period_is_left_out(db_sessions: Sessions) -> None:
    await write_call(db_sessions, "late", T0 + timedelta(hours=1), caller="+380501111111",
                     answered=True)
    await announce(db_sessions, "late", T0 + timedelta(hours=1) + JOINED, 5.0, 5.0)
    assert await accuracy(db_sessions) == EstimateAccuracy(EstimateError(), EstimateError())


async def test_bad_values_are_refused(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        with pytest.raises(ValueError, match="negative"):
            await record_estimate(session, call_key="k", queue=QUEUE, announced_at=T0,
                                  estimate_s=-1.0, engine_estimate_s=None)
        with pytest.raises(ValueError, match="aware"):
            await record_estimate(session, call_key="k", queue=QUEUE,
                                  announced_at=datetime(2026, 1, 1), estimate_s=1.0,
                                  engine_estimate_s=None)


async def test_the_report_section_puts_the_baseline_beside_clinicall(
    db_sessions: Sessions,
) -> None:
    await write_call(db_sessions, "a", T0, caller="+380501111111", answered=True)
    await announce(db_sessions, "a", T0 + JOINED, estimate=12.5, engine=None)
    async with db_sessions() as session:
        report = await estimate_report(session, start=T0, end=T0 + timedelta(hours=1),
                                       timezone="Europe/Kyiv")
    assert report.section("estimates").rows == [
        {"estimator": "clinicall", "measured": 1, "median_error_s": 2.5, "p90_error_s": 2.5},
        {"estimator": "engine", "measured": 0, "median_error_s": None, "p90_error_s": None},
    ]
