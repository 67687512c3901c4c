"""A whole simulated clinic day through the real IVR and the real call account, in seconds.

Each patient of the day (``simclinic.day``) is answered by the real menu interpreter
(``ivr.interpreter.run_ivr``, against a :class:`PatientPort` in virtual time); the calls it hands
to a queue go to the fake engine's queues (``simclinic.floor``); everything the engine would
tell the account (the channel opened and closed, the queue facts, the operators' log-ins) and
the IVR's outcome of every call go to a real :class:`CallTracker` writing a real store, in the
order of their virtual instants, with the tracker's clock on virtual time too.  The account then
holds the day as if it had happened, and ``clinicall report`` reads it like any other day.

Beside the account, the run keeps the simulation's own ground truth (:class:`DayRun`), which
``simclinic.day_kpis`` turns into the day's KPIs without the store.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.calltypes import CallInfo
from clinicall.controller.facts import ChannelClosed, ChannelOpened, Fact
from clinicall.controller.port import ReconcileBatch
from clinicall.controller.tracking.config import TrackingConfig
from clinicall.controller.tracking.tracker import CallTracker
from clinicall.ivr.interpreter import run_ivr
from clinicall.ivr.plan import IvrPlan
from clinicall.settings.models import ClinicConfig
from clinicall.simclinic.day import SimPatient, hour_starts
from clinicall.simclinic.day_kpis import CallTruth
from clinicall.simclinic.floor import NORMAL_CLEARING, Floor, FloorAttempt, Staffing
from clinicall.simclinic.patient_port import PatientPort

ENGINE = "simulated"


class SimRecord:
    """The fake engine's durable record: the operators' log-ins and log-outs of the day (what
    Asterisk's queue_log holds), read once by the tracker's ``reconcile``."""

    def __init__(self, run: str) -> None:
        #: Its own cursor per run: a store holding several simulated days resumes none of them.
        self.record_name = f"simulated-day:{run}"
        self.facts: list[Fact] = []

    async def reconcile(self, cursor: Mapping[str, Any] | None) -> ReconcileBatch:
        start = int((cursor or {}).get("read", 0))
        return ReconcileBatch(self.facts[start:], {"read": len(self.facts)})


@dataclass(slots=True)
class DayRun:
    """What the run did: the simulation's ground truth and how fast it went."""

    day: date
    start: datetime  # local midnight, UTC
    end: datetime
    calls: list[CallTruth] = field(default_factory=list)
    attempts: list[FloorAttempt] = field(default_factory=list)
    simulated_s: float = 0.0  # first arrival to the last fact
    wall_s: float = 0.0

    @property
    def speed(self) -> float:
        """Simulated seconds per wall second."""
        return self.simulated_s / self.wall_s if self.wall_s > 0 else float("inf")


class _VirtualClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


async def run_day(config: ClinicConfig, patients: Sequence[SimPatient], *, day: date,
                  staffing: Staffing, sessions: async_sessionmaker[AsyncSession],
                  call_prefix: str) -> DayRun:  # fmt: skip
    """Run the day's ``patients`` through the IVR, the fake queues and the account (see the
    module docstring); ``call_prefix`` makes the call ids of this run its own."""
    wall = time.perf_counter()
    starts = hour_starts(day, config.clinic.zone)
    day_start = starts[0]
    floor = Floor(config, day_start, [_ms(s - day_start) for s in starts], staffing)
    plan = IvrPlan.compile(config)
    timeline: list[tuple[int, int, object]] = []  # (ms, order, Fact or IVR outcome)
    outcomes: dict[str, str] = {}
    for patient in patients:
        call_id = f"{call_prefix}-{patient.index:05d}"
        info = CallInfo(call_id=call_id, channel_id=call_id, caller_number=patient.caller,
                        caller_name="", dialled_number=patient.dialled, engine=ENGINE)
        port = PatientPort(patient, info)
        arrived = _ms(patient.arrival - day_start)
        outcome = await run_ivr(port, config, now=_fixed(patient.arrival), plan=plan)
        ended = arrived + round(port.elapsed_s * 1000)
        outcomes[call_id] = outcome.outcome
        timeline.append((arrived, 0, ChannelOpened(
            key=f"{call_id}:open", at=patient.arrival, call_id=call_id, channel_id=call_id,
            caller_number=patient.caller, caller_name="", dialled=patient.dialled)))
        timeline.append((ended, 1, (info, outcome, patient.arrival)))
        if port.request is not None:
            floor.enqueue(ended, call_id, patient.caller, port.request,
                          patient.patience_s, patient.handle_s)  # fmt: skip
        else:
            timeline.append((ended, 2, ChannelClosed(
                key=f"{call_id}:close", at=floor.at(ended), call_id=call_id,
                channel_id=call_id, cause=NORMAL_CLEARING)))
    floor.run()
    record = SimRecord(call_prefix)
    for at, order, fact in floor.facts:
        if fact.durable:
            record.facts.append(fact)
        else:
            timeline.append((at, 3 + order, fact))
    timeline.sort(key=lambda item: (item[0], item[1]))
    clock = _VirtualClock(day_start)
    tracker = CallTracker(sessions, record, TrackingConfig.from_clinic(config), clock=clock)
    for at, _, item in timeline:
        clock.at = floor.at(at)
        if isinstance(item, tuple):
            info, outcome, started = item
            await tracker.record_ivr(info, outcome, started)
        else:
            assert isinstance(item, Fact)
            tracker.handle_fact(item)
    await tracker.flush()
    await tracker.reconcile()
    run = DayRun(day, day_start, starts[-1])
    run.attempts = [a for a in floor.attempts
                    if day_start <= floor.at(a.joined_ms) < run.end]  # fmt: skip
    last: dict[str, FloorAttempt] = {}
    for attempt in floor.attempts:
        last[attempt.call_id] = attempt
    for patient in patients:
        call_id = f"{call_prefix}-{patient.index:05d}"
        stay = last.get(call_id)
        run.calls.append(CallTruth(call_id, outcomes[call_id],
                                   stay is not None and stay.outcome == "answered",
                                   stay.outcome if stay else None))  # fmt: skip
    if timeline:
        run.simulated_s = (timeline[-1][0] - timeline[0][0]) / 1000
    run.wall_s = time.perf_counter() - wall
    return run


def _fixed(moment: datetime) -> Callable[[], datetime]:
    """The clinic's clock during one IVR session: the call's arrival (opening hours)."""
    return lambda: moment


def _ms(delta: timedelta) -> int:
    return round(delta.total_seconds() * 1000)

