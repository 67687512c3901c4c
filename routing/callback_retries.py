"""What an attempt's outcome does to its job: try again later, done, failed or cancelled.

Every outcome the engine can report ends in exactly one next state, so a job never stays
claimed and is never dialled again once settled (the failure of the queue modules the issue
names: re-calling until max retries because a callback is never marked done).  Busy, no
answer, rejected and failed each count as an attempt (``callbacks.attempts``); the next one
is ``spacing_min`` later and, like every attempt, only within the calling window
(:func:`clinicall.routing.callback_schedule.earliest_call`).  An operator who does not take
the whisper is not the patient's attempt: the job goes back to its place in line uncounted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from clinicall.routing.callback_jobs import JobState
from clinicall.routing.callback_policy import CallbackPolicy
from clinicall.routing.callback_schedule import earliest_call
from clinicall.routing.hours import OpeningHours


class AttemptOutcome(StrEnum):
    """How one attempt ended (stored as the job's ``result``)."""

    ANSWERED = "answered"  # the patient answered and was put through to the operator
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    REJECTED = "rejected"  # the patient declined the call
    FAILED = "failed"  # the network could not place it (congestion, unreachable number)
    OPERATOR_MISSED = "operator_missed"  # the reserved operator did not answer: not dialled
    CALLED_IN = "called_in"  # the patient called in and was answered meanwhile


#: Outcomes that use up one of the job's attempts.
COUNTED = frozenset({AttemptOutcome.NO_ANSWER, AttemptOutcome.BUSY, AttemptOutcome.REJECTED,
                     AttemptOutcome.FAILED})  # fmt: skip
#: The result of a job that could not be placed in any calling window again.
NO_WINDOW = "no_window"


@dataclass(frozen=True, slots=True)
class Transition:
    """The job after an attempt: its state, attempts made, next due time (pending only) and
    the result to store."""

    state: JobState
    attempts: int
    due_at: datetime | None
    result: str


def after_attempt(
    outcome: AttemptOutcome,
    *,
    attempts_before: int,
    now: datetime,
    hours: OpeningHours,
    patient_zone: ZoneInfo,
    policy: CallbackPolicy,
) -> Transition:
    """The next state of a job whose attempt ended with ``outcome`` at ``now``."""
    if outcome == AttemptOutcome.ANSWERED:
        return Transition(JobState.DONE, attempts_before + 1, None, outcome.value)
    if outcome == AttemptOutcome.CALLED_IN:
        return Transition(JobState.CANCELLED, attempts_before, None, outcome.value)
    counted = outcome in COUNTED
    attempts = attempts_before + 1 if counted else attempts_before
    if attempts >= policy.attempts:
        return Transition(JobState.FAILED, attempts, None, outcome.value)
    retry_at = now + policy.spacing if counted else now
    due = earliest_call(retry_at, hours=hours, patient_zone=patient_zone, policy=policy)
    if due is None:
        return Transition(JobState.FAILED, attempts, None, NO_WINDOW)
    return Transition(JobState.PENDING, attempts, due, outcome.value)
