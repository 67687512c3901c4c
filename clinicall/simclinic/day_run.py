"""A whole simulated clinic day through the real IVR and the real call account, in seconds.

Each patient of the day (``simclinic.day``) is answered by the real menu interpreter
(``ivr.interpreter.run_ivr``, against a :class:`PatientPort` in virtual time); the calls it hands
to a queue go to the fake engine's queues (``simclinic.floor``); everything the engine would
tell the account (the channel opened and closed, the queue facts, the operators' log-ins) and
the IVR's outcome of every call go to a real :class:`CallTracker` writing a real store, in the
order of their virtual instants (``simclinic.timeline``), with the tracker's clock on virtual
time too.  The account then holds the day as if it had happened, and ``clinicall report``
reads it like any other day.

A patient who agreed to the post-call survey is handed back when the operator hangs up, and
the real survey flow (``ivr.survey.run_survey``) runs on a :class:`SurveyPort`; the answers go
to the account as the controller sends them (``CallTracker.record_survey``).  With
``callbacks.enabled`` the product's callback scheduler runs through the day
(``simclinic.day_callbacks``): the run steps the floor instant by instant and lets the
scheduler act between instants, on the store as the account wrote it by then.

Beside the account, the run keeps the simulation's own ground truth (:class:`DayRun`), which
``simclinic.day_kpis`` turns into the day's KPIs without the store.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.calltypes import AnsweredCall, CallInfo, IvrOutcome, SurveyOutcome
from clinicall.controller.facts import ChannelClosed, ChannelOpened, Fact, QueueAnswered
from clinicall.controller.port import ReconcileBatch
from clinicall.controller.tracking.config import TrackingConfig
from clinicall.controller.tracking.tracker import CallTracker
from clinicall.ivr import prompts
from clinicall.ivr.interpreter import run_ivr
from clinicall.ivr.plan import IvrPlan
from clinicall.ivr.survey import run_survey
from clinicall.settings.models import ClinicConfig
from clinicall.simclinic.day import SimPatient, hour_starts
from clinicall.simclinic.day_callbacks import DayCallbacks, at_or_after
from clinicall.simclinic.day_kpis import CallTruth
from clinicall.simclinic.floor import NORMAL_CLEARING, Floor, FloorAttempt, HandedBack, Staffing
from clinicall.simclinic.patient_port import PatientPort
from clinicall.simclinic.sim_control import Dial
from clinicall.simclinic.survey_port import CSAT, NPS, SurveyPort, SurveyTruth
from clinicall.simclinic.timeline import (
    ACCOUNT_WRITE,
    CHANNEL_CLOSED,
    CHANNEL_OPENED,
    FLOOR,
    Timeline,
)

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
    #: The answered calls handed back for the post-call survey (the surveys due).
    handed_back: list[HandedBack] = field(default_factory=list)
    surveys: list[SurveyTruth] = field(default_factory=list)
    #: The callback calls the fake engine placed (empty without ``callbacks.enabled``).
    dials: list[Dial] = field(default_factory=list)
    scheduler_rounds: int = 0
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


@dataclass(frozen=True, slots=True)
class _IvrDone:
    info: CallInfo
    outcome: IvrOutcome
    started: datetime


@dataclass(frozen=True, slots=True)
class _Surveyed:
    info: CallInfo
    outcome: SurveyOutcome


class _Day:
    """The run's moving parts and the state the steps share."""

    def __init__(self, config: ClinicConfig, patients: Sequence[SimPatient], *, day: date,
                 staffing: Staffing, sessions: async_sessionmaker[AsyncSession],
                 call_prefix: str) -> None:  # fmt: skip
        self.config, self.call_prefix, self.day = config, call_prefix, day
        starts = hour_starts(day, config.clinic.zone)
        self.start, self.end = starts[0], starts[-1]
        self.floor = Floor(config, self.start, [_ms(s - self.start) for s in starts], staffing)
        self.plan = IvrPlan.compile(config)
        self.feed = Timeline()
        self.record = SimRecord(call_prefix)
        self.clock = _VirtualClock(self.start)
        self.now_ms = 0
        self.last_told: int | None = None  # the instant of the account's last item
        self.tracker = CallTracker(sessions, self.record, TrackingConfig.from_clinic(config),
                                   clock=self.clock)  # fmt: skip
        self.patients = {self.call_id(p): p for p in patients}
        self.outcomes: dict[str, IvrOutcome] = {}
        self.ended: dict[str, datetime] = {}
        self.answered: set[str] = set()
        self.surveys: list[SurveyTruth] = []
        self._facts_read = self._handed_read = 0
        self._questions = _survey_sounds(self.plan)
        self.callbacks = DayCallbacks(
            config, self.floor, clock=self.clock, now_ms=lambda: self.now_ms, sessions=sessions,
            patients={p.caller: p for p in reversed(patients)},  # the first call of a number
            call_prefix=call_prefix) if config.callbacks.enabled else None  # fmt: skip

    def call_id(self, patient: SimPatient) -> str:
        return f"{self.call_prefix}-{patient.index:05d}"

    async def run_ivr(self) -> None:
        """Every patient through the IVR at their arrival (it needs nothing but the call)."""
        offer = frozenset(names[prompts.SURVEY_OFFER] for names in self.plan.names.values()
                          if prompts.SURVEY_OFFER in names)  # fmt: skip
        for call_id, patient in self.patients.items():
            info = _call_info(call_id, patient)
            port = PatientPort(patient, info, survey_offer=offer)
            arrived = _ms(patient.arrival - self.start)
            outcome = await run_ivr(port, self.config, now=_fixed(patient.arrival),
                                    plan=self.plan)  # fmt: skip
            ended = arrived + round(port.elapsed_s * 1000)
            self.outcomes[call_id] = outcome
            self.feed.push(arrived, CHANNEL_OPENED, ChannelOpened(
                key=f"{call_id}:open", at=patient.arrival, call_id=call_id, channel_id=call_id,
                caller_number=patient.caller, caller_name="", dialled=patient.dialled))
            self.feed.push(ended, ACCOUNT_WRITE, _IvrDone(info, outcome, patient.arrival))
            if port.request is not None:
                self.floor.enqueue(ended, call_id, patient.caller, port.request,
                                   patient.patience_s, patient.handle_s)  # fmt: skip
            else:
                self.feed.push(ended, CHANNEL_CLOSED, self._closed(call_id, ended))

    async def run(self) -> None:
        """Instant by instant: the floor's events, the attempts they woke, the account, then
        a scheduler round if one is due (see ``simclinic.day_callbacks``)."""
        while (at := self._next_instant()) is not None:
            self.now_ms, self.clock.at = at, self.floor.at(at)
            self.floor.run_until(at)
            if self.callbacks is not None:
                await self.callbacks.settle()
            missed = await self._tell(at)
            freed = {queue for ms, queue in self.floor.freed if ms <= at}
            self.floor.freed = [item for item in self.floor.freed if item[0] > at]
            if self.callbacks is not None and self.callbacks.wanted(
                    self.clock.at, missed=missed, freed=freed):
                await self.tracker.flush()  # the round reads the account as of now
                await self.callbacks.round()
                await self._tell(at)
        if self.callbacks is not None:
            await self.callbacks.close()
        await self.tracker.flush()
        await self.tracker.reconcile()

    def _next_instant(self) -> int | None:
        instants = [t for t in (self.floor.next_at(), self.feed.next_at()) if t is not None]
        if self.callbacks is not None:
            due = self.callbacks.next_due(self.clock.at)
            if due is not None and due < self.end:
                instants.append(at_or_after(due, self.start))
        return min(instants, default=None)

    async def _tell(self, at: int) -> bool:
        """Hand the account everything up to ``at``; True when a missed inbound call ended."""
        await self._take_floor_output()
        missed = False
        for ms, item in self.feed.until(at):
            self.clock.at, self.last_told = self.floor.at(ms), ms
            if isinstance(item, _IvrDone):
                await self.tracker.record_ivr(item.info, item.outcome, item.started)
            elif isinstance(item, _Surveyed):
                await self.tracker.record_survey(item.info, item.outcome)
            else:
                assert isinstance(item, Fact)
                self.tracker.handle_fact(item)
                missed = self._note(item) or missed
        self.clock.at = self.floor.at(at)
        return missed

    def _note(self, fact: Fact) -> bool:
        """Keep the calls' ends; True for a missed inbound call's end."""
        if isinstance(fact, QueueAnswered):
            self.answered.add(fact.call_id)
        elif isinstance(fact, ChannelClosed) and fact.call_id in self.outcomes:
            self.ended[fact.call_id] = fact.at
            outcome = self.outcomes[fact.call_id].outcome
            return fact.call_id not in self.answered and outcome != "selfserved"
        return False

    async def _take_floor_output(self) -> None:
        """The floor's new facts into the feed (durable ones into the record), and the survey
        of each call handed back."""
        facts = self.floor.facts
        for at, order, fact in facts[self._facts_read:]:
            if fact.durable:
                self.record.facts.append(fact)
            else:
                self.feed.push(at, FLOOR + order, fact)
        self._facts_read = len(facts)
        handed = self.floor.handed_back
        for back in handed[self._handed_read:]:
            await self._survey(back)
        self._handed_read = len(handed)

    async def _survey(self, back: HandedBack) -> None:
        """The post-call survey of a call handed back: the real flow, the patient's keys."""
        patient, outcome = self.patients[back.call_id], self.outcomes[back.call_id]
        info = dataclasses.replace(_call_info(back.call_id, patient), answered=AnsweredCall(
            language=outcome.language, queue=back.queue, operator=back.member,
            route=outcome.route or ""))
        port = SurveyPort(info, patient.afterwards, self._questions)
        result = await run_survey(port, self.plan, language=outcome.language)
        ended = back.at_ms + round(port.elapsed_s * 1000)
        self.feed.push(ended, ACCOUNT_WRITE, _Surveyed(info, result))
        self.feed.push(ended, CHANNEL_CLOSED, self._closed(back.call_id, ended))
        self.surveys.append(SurveyTruth(back.call_id, back.queue, back.member,
                                        port.keyed.get(CSAT), port.keyed.get(NPS)))

    def _closed(self, call_id: str, at_ms: int) -> ChannelClosed:
        return ChannelClosed(key=f"{call_id}:close", at=self.floor.at(at_ms), call_id=call_id,
                             channel_id=call_id, cause=NORMAL_CLEARING)

    def truth(self) -> DayRun:
        run = DayRun(self.day, self.start, self.end)
        run.attempts = [a for a in self.floor.attempts
                        if self.start <= self.floor.at(a.joined_ms) < run.end]  # fmt: skip
        last: dict[str, FloorAttempt] = {}
        for attempt in self.floor.attempts:
            last[attempt.call_id] = attempt
        for call_id, patient in self.patients.items():
            stay = last.get(call_id)
            run.calls.append(CallTruth(
                call_id, self.outcomes[call_id].outcome,
                stay is not None and stay.outcome == "answered", stay.outcome if stay else None,
                caller=patient.caller, arrived=patient.arrival,
                ended=self.ended.get(call_id), queue=stay.queue if stay else None))
        run.handed_back = list(self.floor.handed_back)
        run.surveys = list(self.surveys)
        if self.callbacks is not None:
            run.dials = list(self.callbacks.control.dials)
            run.scheduler_rounds = self.callbacks.rounds
        return run


def _call_info(call_id: str, patient: SimPatient) -> CallInfo:
    """The call as the engine names it when it hands it over."""
    return CallInfo(call_id=call_id, channel_id=call_id, caller_number=patient.caller,
                    caller_name="", dialled_number=patient.dialled, engine=ENGINE)


async def run_day(config: ClinicConfig, patients: Sequence[SimPatient], *, day: date,
                  staffing: Staffing, sessions: async_sessionmaker[AsyncSession],
                  call_prefix: str) -> DayRun:  # fmt: skip
    """Run the day's ``patients`` through the IVR, the fake queues and the account (see the
    module docstring); ``call_prefix`` makes the call ids of this run its own."""
    wall = time.perf_counter()
    state = _Day(config, patients, day=day, staffing=staffing, sessions=sessions,
                 call_prefix=call_prefix)  # fmt: skip
    await state.run_ivr()
    first = state.feed.next_at()
    await state.run()
    run = state.truth()
    if first is not None and state.last_told is not None:
        run.simulated_s = (state.last_told - first) / 1000
    run.wall_s = time.perf_counter() - wall
    return run


def _survey_sounds(plan: IvrPlan) -> dict[str, str]:
    """The survey's two questions by their sound names, in every language."""
    out = {}
    for names in plan.names.values():
        for key, question in ((prompts.SURVEY_CSAT, CSAT), (prompts.SURVEY_NPS, NPS)):
            if key in names:
                out[names[key]] = question
    return out


def _fixed(moment: datetime) -> Callable[[], datetime]:
    """The clinic's clock during one IVR session: the call's arrival (opening hours)."""
    return lambda: moment


def _ms(delta: timedelta) -> int:
    return round(delta.total_seconds() * 1000)
