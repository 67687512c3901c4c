"""The day's peak hour, time-compressed, through the real controller and the sandbox Asterisk.

The patients of the day's busiest hour (``simclinic.day``) are placed as the demo places them
(``SimulatedClinic``: Local-channel patients that press their keys with ``SendDTMF``), at their
arrival offsets divided by ``speed``; the real controller runs the IVR over FastAGI and the
real call account reads AMI and queue_log into the store.  What Asterisk compresses is the
patients' side: arrivals, patience (a patient hangs up when it runs out before an operator
answers) and talk time (each simulated operator talks the mean handle time / ``speed``, as
``SIM_TALK_<id>`` sets it); Asterisk's own timers (prompts, ring, wrap-up, max waits) run at
their real length.  The operators are the config's, in their configured queues.

The ground truth is what Asterisk reported to the run's own AMI observer (``CallTrace``): the
queues each call joined, ``AgentConnect``'s and ``QueueCallerAbandon``'s hold times; the day's
report must give the same offered, answered, abandoned and short-abandoned calls and the same
waits per queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.app import build_engine
from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.record import QueueLogRecord
from clinicall.controller.service import Controller
from clinicall.controller.tracking.config import TrackingConfig
from clinicall.controller.tracking.tracker import CallTracker
from clinicall.settings.models import ClinicConfig
from clinicall.simclinic.calltrace import CallTrace
from clinicall.simclinic.clinic import SimulatedClinic
from clinicall.simclinic.day import SimPatient
from clinicall.simclinic.floor import FloorAttempt

#: How long a patient may take to get through the menus to a queue (real prompts play).
IVR_LIMIT_S = 120.0
#: A patient who hangs up in the menus stays this long after their last key.
IVR_HANGUP_S = 3
CALL_LIMIT_S = 900.0


@dataclass(slots=True)
class PeakRun:
    """The traces of the hour's calls and how long it took."""

    started: datetime
    traces: list[CallTrace] = field(default_factory=list)
    wall_s: float = 0.0
    simulated_s: float = 0.0

    @property
    def speed(self) -> float:
        return self.simulated_s / self.wall_s if self.wall_s > 0 else float("inf")

    def attempts(self) -> list[FloorAttempt]:
        """Each queue stay as the observer saw it, in the simulation's ground-truth form
        (whole seconds, as Asterisk counts them)."""
        out = []
        for trace in self.traces:
            for join in trace.named("QueueCallerJoin"):
                queue = join.get("Queue", "")
                attempt = FloorAttempt(trace.linkedid, queue, 0, 0)
                connect = [m for m in trace.named("AgentConnect") if m.get("Queue") == queue]
                gone = [m for m in trace.named("QueueCallerAbandon") if m.get("Queue") == queue]
                if connect:
                    attempt.outcome = "answered"
                    attempt.wait_ms = int(connect[0].get("HoldTime", "0")) * 1000
                    attempt.talk_ms = 0
                elif gone:
                    attempt.outcome = "abandoned"
                    attempt.wait_ms = int(gone[0].get("HoldTime", "0")) * 1000
                else:
                    attempt.outcome = "timeout"
                out.append(attempt)
        return out


def _joined_or_gone(message: Message, linkedid: str) -> bool:
    event = message.get("Event")
    return event == "QueueCallerJoin" or (event == "Hangup"
                                          and message.get("Uniqueid") == linkedid)


def _digits(patient: SimPatient) -> str:
    return "w".join(patient.keys)


async def run_peak_hour(config: ClinicConfig, patients: Sequence[SimPatient], *, root: Path,
                        sessions: async_sessionmaker[AsyncSession], speed: float,
                        open_at: datetime, handle_s: float,
                        progress: Callable[[str], None]) -> PeakRun:  # fmt: skip
    """Place ``patients`` (their arrivals relative to the first) through the real controller
    and the sandbox Asterisk; ``open_at`` is the IVR's clock (the peak hour's instant)."""
    async with SimulatedClinic.run(config, root=root, name="peak", progress=progress) as clinic:
        talk = max(1, round(handle_s / speed))
        for op in clinic.config.operators:
            await clinic.set_operator(op.id, "answer", talk_s=talk, ring_s=1)
        tracker = CallTracker(sessions, QueueLogRecord(clinic.asterisk.queue_log_path),
                              TrackingConfig.from_clinic(clinic.config))  # fmt: skip
        await tracker.start()
        try:
            engine = build_engine(clinic.config)
            async with Controller(clinic.config, engine, account=tracker,
                                  now=lambda: open_at) as controller:  # fmt: skip
                await engine.wait_up(10)
                run = PeakRun(datetime.now(UTC))
                wall = time.perf_counter()
                first = patients[0].arrival if patients else open_at
                async with asyncio.TaskGroup() as group:
                    for patient in patients:
                        due = (patient.arrival - first).total_seconds() / speed
                        await asyncio.sleep(max(0.0, due - (time.perf_counter() - wall)))
                        group.create_task(_patient(clinic, patient, speed, run))
                progress(f"{len(patients)} calls ended")
                await controller.writes_done()
                run.wall_s = time.perf_counter() - wall
                run.simulated_s = 3600.0  # the hour the patients were drawn from
        finally:
            await tracker.reconcile()
            await tracker.close()
    return run


async def _patient(clinic: SimulatedClinic, patient: SimPatient, speed: float,
                   run: PeakRun) -> None:  # fmt: skip
    hold = IVR_HANGUP_S if patient.hangs_up_in_ivr else int(CALL_LIMIT_S)
    linkedid = await clinic.call(digits=_digits(patient), hold_s=hold, number=patient.dialled,
                                 caller=patient.caller)  # fmt: skip
    tracer = clinic.tracer
    if not patient.hangs_up_in_ivr:
        with contextlib.suppress(TimeoutError):
            reached = await tracer.wait_until(linkedid, lambda m: _joined_or_gone(m, linkedid),
                                              IVR_LIMIT_S)  # fmt: skip
            if reached.get("Event") != "QueueCallerJoin":
                run.traces.append(await tracer.finished(linkedid, CALL_LIMIT_S))
                return  # the IVR ended the call itself (self-served, or hung up)
            try:
                await tracer.wait_for(linkedid, "AgentConnect", patient.patience_s / speed)
            except TimeoutError:
                if not tracer.trace(linkedid).named("AgentConnect"):
                    await clinic.hang_up(linkedid)
    run.traces.append(await tracer.finished(linkedid, CALL_LIMIT_S))
