"""Which missed calls become callback jobs, and when a new one merges into a pending job.

Every missed call from a callable number is called back exactly once (docs/callbacks.md,
"Missed calls"): a second missed call from the same number to the same queue adds no job but
merges into the open one, which keeps the earliest arrival (its place in line).  No job is made
when the patient got through since, or the call's cause is not one the clinic returns
(``callbacks.missed_causes``), or the patient hung up in the IVR before choosing a topic (they
may have dialled by mistake), or the number is not callable
(:mod:`clinicall.routing.callable_numbers`).  An answered call from the number settles its
open jobs (:func:`settled_by_answer`).  Reminders are appointments, not missed calls: they
neither merge nor settle.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from clinicall.routing.callable_numbers import Refusal, check_number
from clinicall.routing.callback_jobs import CallbackJob, JobReason
from clinicall.routing.callback_policy import CallbackPolicy

HANGUP_IVR = "hangup_ivr"
ABANDONED = "abandoned"
EXIT_KEY = "exitkey"


@dataclass(frozen=True, slots=True)
class MissedCall:
    """A call that reached no operator.  ``cause``: the store's ``MissCause`` value;
    ``topic_chosen``: the patient picked a route in the IVR before the call ended;
    ``offer_booked``: the in-queue offer stored a callback for it (cause ``exitkey``)."""

    caller: str | None  # as the engine presented it, not yet normalized
    queue: str | None
    arrived_at: datetime
    cause: str
    topic_chosen: bool
    offer_booked: bool = False


def returned_as(missed: MissedCall) -> str:
    """The cause the clinic's ``missed_causes`` are checked against.  A caller who left the
    queue into the callback offer (``exitkey``) and hung up without booking waited and
    reached no one, as one who hung up in the queue: an abandon, called back like one.  One
    who booked has their job already (the offer's), so ``exitkey`` stays (not returned by
    default)."""
    if missed.cause == EXIT_KEY and not missed.offer_booked:
        return ABANDONED
    return missed.cause


class Action(StrEnum):
    CREATE = "create"  # a new job
    MERGE = "merge"  # into an open job of the same number and queue
    SKIP = "skip"  # no job


class SkipReason(StrEnum):
    CAUSE = "cause"  # not a cause the clinic returns
    NO_TOPIC = "no_topic"  # hung up in the IVR before choosing anything
    NOT_CALLABLE = "not_callable"  # see ``refusal``
    GOT_THROUGH = "got_through"  # answered since the missed call


@dataclass(frozen=True, slots=True)
class Intake:
    """What to do with one missed call.  CREATE: a job for ``phone`` at ``arrived_at``;
    MERGE: job ``job_id`` now holds ``arrived_at`` (the earlier of the two); SKIP: ``skip``
    (and ``refusal`` for a number that is not callable)."""

    action: Action
    phone: str | None = None
    arrived_at: datetime | None = None
    job_id: int | None = None
    skip: SkipReason | None = None
    refusal: Refusal | None = None


def intake(
    missed: MissedCall,
    *,
    open_jobs: Iterable[CallbackJob],
    last_answered_at: datetime | None,
    country_code: str,
    policy: CallbackPolicy,
) -> Intake:
    """The decision for ``missed``.

    ``open_jobs``: the number's jobs the store holds (any state; only open, non-reminder jobs
    of the same queue merge); ``last_answered_at``: when a call from this number was last
    answered (None: never); ``country_code``: the clinic's, to complete national numbers.
    """
    if returned_as(missed) not in policy.missed_causes:
        return Intake(Action.SKIP, skip=SkipReason.CAUSE)
    if missed.cause == HANGUP_IVR and not missed.topic_chosen:
        return Intake(Action.SKIP, skip=SkipReason.NO_TOPIC)
    number = check_number(missed.caller, country_code=country_code, countries=policy.countries,
                          blocked_prefixes=policy.blocked_prefixes)  # fmt: skip
    if number.e164 is None:
        return Intake(Action.SKIP, skip=SkipReason.NOT_CALLABLE, refusal=number.refusal)
    if last_answered_at is not None and last_answered_at >= missed.arrived_at:
        return Intake(Action.SKIP, phone=number.e164, skip=SkipReason.GOT_THROUGH)
    same = [job for job in open_jobs if job.open and job.reason != JobReason.REMINDER
            and job.phone == number.e164 and job.queue == missed.queue]  # fmt: skip
    if same:
        job = min(same, key=lambda j: (j.arrived_at, j.id))
        return Intake(Action.MERGE, phone=number.e164, job_id=job.id,
                      arrived_at=min(job.arrived_at, missed.arrived_at))  # fmt: skip
    return Intake(Action.CREATE, phone=number.e164, arrived_at=missed.arrived_at)


def settled_by_answer(
    jobs: Iterable[CallbackJob], *, phone: str, answered_at: datetime
) -> list[int]:
    """The ids of the open jobs an answered call from ``phone`` (E.164) settles: every open
    job of the number, any queue, whose call came before the answer (the operator who
    answered can help or transfer; a reminder stays)."""
    return [job.id for job in jobs if job.open and job.reason != JobReason.REMINDER
            and job.phone == phone and job.arrived_at <= answered_at]  # fmt: skip
