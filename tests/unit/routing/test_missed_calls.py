"""One job per number and queue: which missed calls make jobs, merge, or are skipped."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from clinicall.db.models.enums import MissCause
from clinicall.routing.callable_numbers import Refusal
from clinicall.routing.callback_jobs import CallbackJob, JobReason, JobState
from clinicall.routing.callback_policy import policy_for
from clinicall.routing.missed_calls import (
    Action,
    Intake,
    MissedCall,
    SkipReason,
    intake,
    settled_by_answer,
)
from clinicall.settings.models import Callbacks

T0 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
POLICY = policy_for(Callbacks(), None)
PHONE = "+380501234567"


def at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


def missed(cause: str = "abandoned", *, caller: str | None = "0501234567", queue: str = "lab",
           minute: int = 0, topic: bool = True) -> MissedCall:
    return MissedCall(caller=caller, queue=queue, arrived_at=at(minute), cause=cause,
                      topic_chosen=topic)  # fmt: skip


def job(job_id: int = 7, *, queue: str | None = "lab", minute: int = 0,
        state: JobState = JobState.PENDING, reason: JobReason = JobReason.MISSED,
        phone: str = PHONE) -> CallbackJob:
    return CallbackJob(id=job_id, phone=phone, queue=queue, reason=reason, arrived_at=at(minute),
                       due_at=at(minute), state=state)  # fmt: skip


def decide(call: MissedCall, jobs: tuple[CallbackJob, ...] = (),
           answered: datetime | None = None) -> Intake:
    return intake(call, open_jobs=jobs, last_answered_at=answered, country_code="380",
                  policy=POLICY)


def test_the_causes_are_the_stores() -> None:
    assert POLICY.missed_causes <= {c.value for c in MissCause}


@pytest.mark.parametrize("cause", ["abandoned", "hangup_ivr", "timeout", "failed", "afterhours"])
def test_each_default_cause_creates_a_job_for_the_normalized_number(cause: str) -> None:
    assert decide(missed(cause, minute=3)) == Intake(Action.CREATE, phone=PHONE, arrived_at=at(3))


@pytest.mark.parametrize("cause", ["empty", "engine", "selfserved"])
def test_other_causes_make_no_job_by_default(cause: str) -> None:
    assert decide(missed(cause)) == Intake(Action.SKIP, skip=SkipReason.CAUSE)


def test_a_caller_who_left_for_the_offer_and_hung_up_unbooked_is_returned_as_an_abandon(
) -> None:  # fmt: skip
    """The offer booked a job: nothing more; it did not (the patient hung up during the
    offer): the call is returned like an abandon in the queue, so only if abandons are."""
    booked = replace(missed("exitkey", minute=3), offer_booked=True)
    assert decide(booked) == Intake(Action.SKIP, skip=SkipReason.CAUSE)
    unbooked = missed("exitkey", minute=3)
    assert decide(unbooked) == Intake(Action.CREATE, phone=PHONE, arrived_at=at(3))
    no_abandons = replace(POLICY, missed_causes=POLICY.missed_causes - {"abandoned"})
    assert intake(unbooked, open_jobs=(), last_answered_at=None, country_code="380",
                  policy=no_abandons).skip == SkipReason.CAUSE  # fmt: skip


def test_the_causes_are_configurable() -> None:
    policy = replace(POLICY, missed_causes=frozenset({"empty"}))
    call = missed("empty")
    assert intake(call, open_jobs=(), last_answered_at=None, country_code="380",
                  policy=policy).action == Action.CREATE  # fmt: skip
    assert intake(missed("abandoned"), open_jobs=(), last_answered_at=None, country_code="380",
                  policy=policy).skip == SkipReason.CAUSE  # fmt: skip


def test_an_ivr_hang_up_before_choosing_a_topic_makes_no_job() -> None:
    assert decide(missed("hangup_ivr", topic=False)) == Intake(Action.SKIP,
                                                               skip=SkipReason.NO_TOPIC)
    assert decide(missed("abandoned", topic=False)).action == Action.CREATE


@pytest.mark.parametrize(("caller", "refusal"), [
    (None, Refusal.HIDDEN), ("anonymous", Refusal.HIDDEN), ("112", Refusal.SHORT),
    ("0900123456", Refusal.BLOCKED), ("ext-201", Refusal.NOT_A_NUMBER),
])  # fmt: skip
def test_an_uncallable_number_makes_no_job_and_says_why(caller: str | None,
                                                        refusal: Refusal) -> None:
    assert decide(missed(caller=caller)) == Intake(Action.SKIP, skip=SkipReason.NOT_CALLABLE,
                                                   refusal=refusal)


def test_a_patient_who_got_through_since_gets_no_job() -> None:
    call = missed(minute=5)
    assert decide(call, answered=at(6)).skip == SkipReason.GOT_THROUGH
    assert decide(call, answered=at(5)).skip == SkipReason.GOT_THROUGH
    assert decide(call, answered=at(4)).action == Action.CREATE  # answered before: no matter


def test_a_second_missed_call_merges_keeping_the_earliest_arrival() -> None:
    pending = job(minute=2)
    assert decide(missed(minute=9), (pending,)) == Intake(Action.MERGE, phone=PHONE, job_id=7,
                                                         arrived_at=at(2))
    # a late-told earlier call moves the job's place forward
    assert decide(missed(minute=1), (pending,)).arrived_at == at(1)


def test_a_claimed_job_merges_too_and_the_earliest_of_two_is_kept() -> None:
    jobs = (job(8, minute=4, state=JobState.CLAIMED), job(9, minute=3))
    assert decide(missed(minute=9), jobs).job_id == 9


@pytest.mark.parametrize("other", [
    job(queue="cardiology"), job(state=JobState.DONE), job(state=JobState.FAILED),
    job(state=JobState.CANCELLED), job(reason=JobReason.REMINDER), job(phone="+380671112233"),
])  # fmt: skip
def test_a_job_of_another_queue_number_purpose_or_a_settled_one_does_not_merge(
    other: CallbackJob
) -> None:
    assert decide(missed(minute=9), (other,)).action == Action.CREATE


def test_a_requested_callback_and_a_missed_call_share_one_job() -> None:
    assert decide(missed(), (job(reason=JobReason.REQUESTED),)).action == Action.MERGE


def test_an_answered_call_settles_the_numbers_open_jobs_in_every_queue() -> None:
    jobs = [job(1, queue="lab"), job(2, queue="cardiology", state=JobState.CLAIMED),
            job(3, queue=None), job(4, reason=JobReason.REMINDER), job(5, state=JobState.DONE),
            job(6, minute=30), job(7, phone="+380671112233")]  # fmt: skip
    assert settled_by_answer(jobs, phone=PHONE, answered_at=at(10)) == [1, 2, 3]
