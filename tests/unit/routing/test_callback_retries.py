"""Every attempt outcome ends in one next state; retries are counted and spaced within hours."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from clinicall.db.models.enums import CallbackReason, CallbackState
from clinicall.routing.callback_jobs import JobReason, JobState
from clinicall.routing.callback_policy import policy_for
from clinicall.routing.callback_retries import (
    COUNTED,
    NO_WINDOW,
    AttemptOutcome,
    Transition,
    after_attempt,
)
from clinicall.routing.hours import OpeningHours
from clinicall.settings.models import Callbacks, Hours

KYIV = ZoneInfo("Europe/Kyiv")
ALL_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS = OpeningHours.from_config(
    Hours.model_validate({"weekly": {d: ["08:00-20:00"] for d in ALL_DAYS}}), KYIV)
POLICY = policy_for(Callbacks(), None)  # 3 attempts, 5 minutes apart


def kyiv(d: int, h: int, mi: int = 0) -> datetime:
    return datetime(2026, 6, d, h, mi, tzinfo=KYIV)


TEN = kyiv(1, 10)


def after(outcome: AttemptOutcome, attempts_before: int, now: datetime = TEN,
          hours: OpeningHours = HOURS) -> Transition:
    return after_attempt(outcome, attempts_before=attempts_before, now=now, hours=hours,
                         patient_zone=KYIV, policy=POLICY)  # fmt: skip


def test_the_job_states_and_reasons_are_the_stores() -> None:
    assert {s.value for s in JobState} == {s.value for s in CallbackState}
    assert {r.value for r in JobReason} == {r.value for r in CallbackReason}


def test_answered_is_done_and_counts_the_attempt() -> None:
    assert after(AttemptOutcome.ANSWERED, 1) == Transition(JobState.DONE, 2, None, "answered")


def test_the_patient_calling_in_cancels_without_an_attempt() -> None:
    assert after(AttemptOutcome.CALLED_IN, 1) == Transition(JobState.CANCELLED, 1, None,
                                                            "called_in")


@pytest.mark.parametrize("outcome", sorted(COUNTED))
def test_each_unreached_outcome_counts_and_retries_after_the_spacing(
    outcome: AttemptOutcome
) -> None:
    assert after(outcome, 0) == Transition(JobState.PENDING, 1, kyiv(1, 10, 5), outcome.value)
    assert after(outcome, 1) == Transition(JobState.PENDING, 2, kyiv(1, 10, 5), outcome.value)


@pytest.mark.parametrize("outcome", sorted(COUNTED))
def test_the_last_attempt_fails_the_job(outcome: AttemptOutcome) -> None:
    assert after(outcome, 2) == Transition(JobState.FAILED, 3, None, outcome.value)


def test_a_three_try_job_is_dialled_three_times_then_failed() -> None:
    now, attempts, states = kyiv(1, 10), 0, []
    for _ in range(5):
        step = after(AttemptOutcome.NO_ANSWER, attempts, now)
        states.append(step.state)
        if step.due_at is None:
            break
        now, attempts = step.due_at, step.attempts
    assert states == [JobState.PENDING, JobState.PENDING, JobState.FAILED]
    assert now == kyiv(1, 10, 10)


def test_an_operator_who_misses_the_whisper_costs_the_patient_no_attempt() -> None:
    assert after(AttemptOutcome.OPERATOR_MISSED, 2) == Transition(
        JobState.PENDING, 2, kyiv(1, 10), "operator_missed")


def test_a_retry_that_would_fall_after_hours_waits_for_the_next_opening() -> None:
    # 19:52 + 5 min = 19:57, inside the 5-minute closing margin; the patient day starts at 09:00
    assert after(AttemptOutcome.BUSY, 0, kyiv(1, 19, 52)).due_at == kyiv(2, 9)


def test_the_spacing_is_the_policys() -> None:
    policy = replace(POLICY, spacing=timedelta(minutes=30), attempts=5)
    step = after_attempt(AttemptOutcome.BUSY, attempts_before=3, now=kyiv(1, 10), hours=HOURS,
                         patient_zone=KYIV, policy=policy)  # fmt: skip
    assert step == Transition(JobState.PENDING, 4, kyiv(1, 10, 30), "busy")


def test_no_calling_window_left_fails_the_job_saying_so() -> None:
    closed = OpeningHours.from_config(Hours.model_validate({"weekly": {d: [] for d in ALL_DAYS}}),
                                      KYIV)  # fmt: skip
    assert after(AttemptOutcome.NO_ANSWER, 0, hours=closed) == Transition(
        JobState.FAILED, 1, None, NO_WINDOW)
