"""Were the simulated day's missed calls called back in time: per missed call, and per queue.

Each missed call of the day (the simulation's own: reached no operator, not self-served) is
followed to what the product did with it: the intake's decision in the store
(``callback_intake``: a job made, merged into one, or skipped with its reason) and the job's
state, then the fake engine's own record of the callback calls it placed
(``sim_control.Dial``): when the job was first dialled and whether the patient answered.

The target (docs/callbacks.md) is the first attempt ``first_attempt_min`` (10) after the call,
within the calling window: the clinic open, ``closing_margin_min`` before closing, the
patient's own clock inside ``patient_day``.  The simulation measures the scheduler's part of
it: a call is **on time** when its first dial came at most ``first_attempt_min`` after the
first instant a callback could start once the call was missed (``routing.callback_schedule.
earliest_call`` from the call's end: the end itself during the window, else the window's next
opening).  A call missed after the day's last window is **carried** to the next day's first
window: its job must be due then.  The delay after the call's *start* (what the callbacks
report measures, waits included) is given beside it, and :func:`callback_differences` checks
the day's ``clinicall report --section callbacks`` against the engine's own dials.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.db.models import Call, Callback, CallbackIntake
from clinicall.reports.table import Report, Value, normalize
from clinicall.routing.callback_policy import policy_for
from clinicall.routing.callback_schedule import earliest_call
from clinicall.routing.hours import OpeningHours
from clinicall.routing.patient_time import patient_zone
from clinicall.settings.models import ClinicConfig
from clinicall.simclinic.day_kpis import CallTruth
from clinicall.simclinic.sim_control import Dial

#: The per-queue figures, in print order.
RETURN_KPIS = ("missed", "jobs", "merged", "skipped", "dialled", "delay_p50", "delay_p90",
               "delay_max", "after_call_p50", "answered", "on_time", "late",
               "carried")  # fmt: skip
ALL = "all"
NO_QUEUE = "-"  # a call missed before it chose a queue: the front desk serves its job


@dataclass(frozen=True, slots=True)
class Return:
    """One missed call of the day and what the callback scheduler made of it."""

    call_id: str
    queue: str | None  # the job's queue, else the queue the call last waited in
    arrived: datetime
    missed_at: datetime  # the call's end
    decision: str | None  # create | merge | skip; None: never taken in
    reason: str | None  # why skipped
    job: int | None
    job_state: str | None
    job_due: datetime | None
    window: datetime | None  # the first instant after the miss a callback may start
    first_dial: datetime | None
    answered: bool  # the job's callback reached the patient
    target: timedelta  # first_attempt_min

    @property
    def due_by(self) -> datetime | None:
        return self.window + self.target if self.window is not None else None

    def on_time(self) -> bool:
        return self.first_dial is not None and self.due_by is not None \
            and self.first_dial <= self.due_by


async def read_returns(session: AsyncSession, config: ClinicConfig, calls: Iterable[CallTruth],
                       dials: Sequence[Dial]) -> list[Return]:  # fmt: skip
    """Every missed call of ``calls`` with the intake's decision, its job and its dials."""
    missed = [c for c in calls if c.missed]
    rows = (await session.execute(
        select(Call.call_key, CallbackIntake.action, CallbackIntake.reason, Callback.id,
               Callback.queue, Callback.state, Callback.due_at)
        .outerjoin(CallbackIntake, CallbackIntake.call_id == Call.id)
        .outerjoin(Callback, Callback.id == CallbackIntake.callback_id)
        .where(Call.call_key.in_([c.call_id for c in missed])))).all()  # fmt: skip
    by_key = {row[0]: row[1:] for row in rows}
    first: dict[str, datetime] = {}
    reached: set[str] = set()
    for dial in dials:
        first[dial.job] = min(first.get(dial.job, dial.at), dial.at)
        if dial.answered:
            reached.add(dial.job)
    zone = config.clinic.zone
    hours = OpeningHours.from_config(config.hours, zone)
    out = []
    for call in missed:
        decision, reason, job, job_queue, state, due = by_key.get(call.call_id, (None,) * 6)
        queue = job_queue if job is not None else call.queue
        policy = policy_for(config.callbacks, queue)
        ended = call.ended or call.arrived
        assert ended is not None
        assert call.arrived is not None
        window = earliest_call(ended, hours=hours, patient_zone=patient_zone(call.caller, zone),
                               policy=policy)  # fmt: skip
        key = str(job) if job is not None else ""
        out.append(Return(call.call_id, queue, call.arrived, ended, decision, reason, job,
                          str(state) if state is not None else None, due, window,
                          first.get(key), key in reached, policy.first_attempt))  # fmt: skip
    return out


def _seconds(deltas: list[float], share: float | None) -> Value:
    """The nearest-rank percentile (``share``; None: the largest) of ``deltas``, in s."""
    if not deltas:
        return None
    ordered = sorted(deltas)
    index = len(ordered) - 1 if share is None else max(1, math.ceil(share * len(ordered))) - 1
    return normalize(ordered[index], "s")


def return_kpis(returns: Iterable[Return], day_end: datetime) -> dict[str, dict[str, Value]]:
    """Per queue (:data:`NO_QUEUE` for the calls missed before choosing one) and for ``all``:
    the figures of :data:`RETURN_KPIS`.  ``delay``: from the first instant the call could be
    returned (its end, or the window's next opening) to its first dial; ``after_call``: from
    the call's start, as the callbacks report counts.  ``late``: missed within the day's
    windows and not dialled on time (never dialled included); ``carried``: missed after the
    day's last window, called back the next day."""
    by: defaultdict[str, list[Return]] = defaultdict(list)
    for item in returns:
        by[item.queue or NO_QUEUE].append(item)
        by[ALL].append(item)
    out = {}
    for queue in sorted(by, key=lambda q: (q == ALL, q)):
        items = by[queue]
        dialled = [r for r in items if r.first_dial is not None]
        delays = [(r.first_dial - r.window).total_seconds() for r in dialled
                  if r.first_dial is not None and r.window is not None]  # fmt: skip
        after_call = [(r.first_dial - r.arrived).total_seconds()
                      for r in dialled if r.first_dial is not None]  # fmt: skip
        in_day = [r for r in items if r.decision != "skip" and r.window is not None
                  and r.window < day_end]  # fmt: skip
        out[queue] = {
            "missed": len(items),
            "jobs": sum(1 for r in items if r.decision == "create"),
            "merged": sum(1 for r in items if r.decision == "merge"),
            "skipped": sum(1 for r in items if r.decision == "skip"),
            "dialled": len(dialled),
            "delay_p50": _seconds(delays, 0.5),
            "delay_p90": _seconds(delays, 0.9),
            "delay_max": _seconds(delays, None),
            "after_call_p50": _seconds(after_call, 0.5),
            "answered": len({r.job for r in items if r.answered}),
            "on_time": sum(1 for r in in_day if r.on_time()),
            "late": sum(1 for r in in_day if not r.on_time()),
            "carried": sum(1 for r in items if r.decision != "skip"
                           and (r.window is None or r.window >= day_end)),
        }  # fmt: skip
    return out


def callback_differences(returns: Iterable[Return],
                         report: Report) -> list[str]:  # fmt: skip
    """The callbacks report's jobs and first-attempt p50 and p90 (from each job's place, the
    arrival of its earliest call) against the same worked out from the engine's dials; one
    line per difference."""
    jobs: dict[int, list[Return]] = defaultdict(list)
    for item in returns:
        if item.job is not None:
            jobs[item.job].append(item)
    made = sum(1 for items in jobs.values() if any(r.decision == "create" for r in items))
    waits = []
    for items in jobs.values():
        dial = min((r.first_dial for r in items if r.first_dial is not None), default=None)
        if dial is not None:
            waits.append(max(0.0, (dial - min(r.arrived for r in items)).total_seconds()))
    ours: Mapping[str, Value] = {"jobs": made, "first_attempt_p50": _seconds(waits, 0.5),
                                 "first_attempt_p90": _seconds(waits, 0.9)}  # fmt: skip
    rows = report.section("callbacks").rows
    theirs = rows[0] if rows else {}
    return [f"callbacks {kpi}: simulation {value}, report {theirs.get(kpi)}"
            for kpi, value in ours.items() if value != theirs.get(kpi)]
