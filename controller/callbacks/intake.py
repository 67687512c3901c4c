"""Missed-call intake: every missed call in the account becomes one job, a merge, or nothing.

It runs as a pass of the scheduler over the store rather than as a hook in the call account
(``controller.tracking``): a call is final only when the account has written it, and the
account also writes calls it learned late, from the engine's durable record after an outage
(docs/architecture.md); reading the written calls sees both, needs no change to the account's
batching, and the ``callback_intake`` table (one row per missed call, its primary key) makes
each decision exactly once across restarts and controllers.  The cost is one round's delay
(the scheduler's interval, a second by default) against a 10-minute target.

The decision itself is the pure policy's (``routing.missed_calls.intake``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from clinicall.controller.callbacks.jobs import as_policy_job
from clinicall.db.callbacks import CallbackStore, MissedCallRow
from clinicall.db.models import Callback, CallbackReason, CallbackState, MissCause
from clinicall.privacy import mask_number
from clinicall.routing.callable_numbers import check_number
from clinicall.routing.callback_policy import policy_for
from clinicall.routing.callback_schedule import first_attempt
from clinicall.routing.hours import OpeningHours
from clinicall.routing.missed_calls import Action, MissedCall, intake
from clinicall.routing.patient_time import patient_zone
from clinicall.settings.models import ClinicConfig

log = logging.getLogger(__name__)

#: A missed call's decision when no calling window comes within the hours' horizon.
NO_WINDOW = "no_window"
#: A call that left the queue into the callback offer (``exitkey``) is missed from the
#: moment it left, while the offer may still book a job or send the caller back to the queue
#: (then it is no longer missed).  The account's end of such a call is its hang-up, or the
#: end of that queue stay while the channel lives on, so it is decided only this long after:
#: longer than any offer lasts (prompts, two numbers typed, the confirmation).
OFFER_SETTLED = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class IntakeCounts:
    created: int = 0
    merged: int = 0
    skipped: int = 0


def queue_of(row: MissedCallRow, config: ClinicConfig) -> str | None:
    """The queue the call waited in, else the queue of the topic it chose in the IVR."""
    if row.queue is not None:
        return row.queue
    route = config.routes.get(row.route) if row.route is not None else None
    return route.queue if route is not None else None


async def take_in_missed(store: CallbackStore, config: ClinicConfig, *, now: datetime,
                         since: timedelta, country_code: str, hours: OpeningHours,
                         limit: int = 500) -> IntakeCounts:  # fmt: skip
    """Decide every missed call of the last ``since`` not decided yet (oldest first)."""
    created = merged = skipped = 0
    for row in await store.missed_calls(now - since, limit=limit):
        if row.cause == MissCause.EXIT_KEY and (row.ended_at is None
                                                or now - row.ended_at < OFFER_SETTLED):
            continue  # perhaps still in the callback offer: decided once it surely ended
        queue = queue_of(row, config)
        policy = policy_for(config.callbacks, queue)
        number = check_number(row.caller, country_code=country_code, countries=policy.countries,
                              blocked_prefixes=policy.blocked_prefixes)  # fmt: skip
        booked = row.cause == MissCause.EXIT_KEY and await store.offer_booked(
            row.call_id, queue=row.queue, phone=number.e164, since=row.started_at)
        missed = MissedCall(caller=row.caller, queue=queue, arrived_at=row.started_at,
                            cause=row.cause or "", topic_chosen=row.route is not None,
                            offer_booked=booked)  # fmt: skip
        open_jobs, answered = [], None
        if number.e164 is not None:
            open_jobs = [as_policy_job(j) for j in await store.open_jobs_of(number.e164)]
            answered = await store.last_answered_at(number.e164)
        decision = intake(missed, open_jobs=open_jobs, last_answered_at=answered,
                          country_code=country_code, policy=policy)  # fmt: skip
        if decision.action == Action.MERGE:
            await store.take_in(row.call_id, action="merge", now=now,
                                merge_into=decision.job_id, arrived_at=decision.arrived_at)
            merged += 1
            continue
        if decision.action == Action.SKIP or decision.phone is None:
            reason = decision.refusal or decision.skip
            await store.take_in(row.call_id, action="skip", now=now,
                                reason=str(reason) if reason else None)  # fmt: skip
            skipped += 1
            continue
        zone = patient_zone(decision.phone, config.clinic.zone)
        first = first_attempt(row.started_at, now, hours=hours, patient_zone=zone, policy=policy)
        if first is None:
            await store.take_in(row.call_id, action="skip", now=now, reason=NO_WINDOW)
            skipped += 1
            continue
        job = Callback(phone=decision.phone, queue=queue, reason=CallbackReason.MISSED,
                       origin_call_id=row.call_id, arrived_at=row.started_at,
                       priority=row.priority, language=row.language, created_at=now,
                       due_at=first.due_at, state=CallbackState.PENDING, attempts=0)
        if await store.take_in(row.call_id, action="create", now=now, create=job) is not None:
            created += 1
            log.info("callback job for %s (queue %s), due %s", mask_number(decision.phone),
                     queue, first.due_at.isoformat())  # fmt: skip
    return IntakeCounts(created, merged, skipped)
