"""The demo: a real local Asterisk 22, the controller, simulated operators and patients.

It builds (or reuses) the sandbox root, starts Asterisk with the config generated from the
clinic YAML, runs the controller in this process, and places a scripted set of patients who
press keys like real ones: each chooses a language, a branch of the menu, a specialty; one
asks about a scan's price and preparation, one presses wrong keys, one hangs up in the menu.
Each call's fate is printed as Asterisk reported it over AMI.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from clinicall.app import Controller, utc_now
from clinicall.privacy import mask_number
from clinicall.settings.models import ClinicConfig
from sandbox.calltrace import CallTrace
from sandbox.clinic import SimulatedClinic
from sandbox.rootfs import ensure_root

log = logging.getLogger(__name__)
Print = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Patient:
    """One scripted patient: what they want, which keys they press, how long they stay."""

    wants: str
    digits: str
    hold_s: int = 30
    caller: str = "+380501112233"
    number: str | None = None


PATIENTS: tuple[Patient, ...] = (
    Patient("an ultrasound appointment (uk)", "1w1w1", caller="+380501000001"),
    Patient("a gynecologist (ru)", "2w1w2", caller="+380671000002"),
    Patient("a pediatrician (en)", "3w1w3", caller="+380931000003"),
    Patient("test results (uk)", "1w3", caller="+380501000004"),
    Patient("the price of a pelvic ultrasound (ru)", "2w2w3w1", hold_s=35, caller="+380671000005"),
    Patient("to complain (uk)", "1w4", caller="+380501000006"),
    Patient("an operator, on the English number", "0", number="+380441234568",
            caller="+447700900007"),
    Patient("something, pressing wrong keys (uk)", "1w8w8w8", caller="+380501000008"),
    Patient("to hang up in the menu (uk)", "1", hold_s=5, caller="+380501000009"),
)


def describe(patient: Patient, trace: CallTrace) -> str:
    """One line: what the patient wanted and what Asterisk says happened."""
    lang = trace.variable("CLINICALL_LANG") or "-"
    path = trace.variable("CLINICALL_PATH") or "-"
    if trace.queues_joined:
        where = " → ".join(trace.queues_joined)
        who = trace.operators_connected
        fate = f"queue {where}, answered by {who[0]}" if who else f"queue {where}, not answered"
    elif any("/service_" in p or "/info_" in p for p in trace.prompts_played):
        fate = "answered by the IVR itself (self-served)"
    elif any(p.endswith("/closed") for p in trace.prompts_played):
        fate = "after hours: heard the opening hours"
    else:
        fate = "hung up in the menu"
    return (f"{mask_number(patient.caller)} wanted {patient.wants}: {fate} "
            f"[language {lang}, path {path}, {len(trace.prompts_played)} prompts played]")


async def run_demo(config: ClinicConfig, *, out: Print = print, stagger_s: float = 2.0,
                   now: Callable[[], datetime] = utc_now) -> list[CallTrace]:
    out("demo: preparing the Asterisk 22 root (first run builds it: ~20 s, then cached)")
    root = await asyncio.to_thread(ensure_root, progress=lambda line: out(f"  {line}"))
    async with SimulatedClinic.run(config, root=root, name="demo",
                                   progress=lambda line: out(f"demo: {line}")) as clinic:
        for i, op in enumerate(clinic.config.operators):
            await clinic.set_operator(op.id, "answer", talk_s=4 + 2 * i)
        async with Controller(clinic.config, now=now) as controller:
            await controller.ami.wait_connected(10)
            out(f"demo: controller up; {len(PATIENTS)} patients are calling "
                f"{clinic.config.numbers[0].number}")
            traces = await _place_all(clinic, out, stagger_s)
    out(f"demo: done, {len(traces)} calls")
    return traces


async def _place_all(clinic: SimulatedClinic, out: Print, stagger_s: float) -> list[CallTrace]:
    async def one(i: int, patient: Patient) -> CallTrace:
        await asyncio.sleep(i * stagger_s)
        linkedid = await clinic.call(digits=patient.digits, hold_s=patient.hold_s,
                                     number=patient.number, caller=patient.caller)
        out(f"call {i + 1}: {mask_number(patient.caller)} dials, wants {patient.wants}")
        trace = await clinic.finished(linkedid, timeout=patient.hold_s + 120)
        out(f"call {i + 1} ended: {describe(patient, trace)}")
        return trace

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(one(i, p)) for i, p in enumerate(PATIENTS)]
    return [t.result() for t in tasks]


def demo_clock(config: ClinicConfig, at: str | None) -> tuple[Callable[[], datetime], str]:
    """The clock the demo's IVR runs on, and a sentence saying which.

    The demo is about the menus, so when the clinic is closed right now it runs an hour after
    the next opening (the after-hours branch has its own test); ``at`` pins a time.
    """
    from datetime import timedelta

    from routing.hours import OpeningHours

    zone = config.clinic.zone
    if at is not None:
        fixed = datetime.fromisoformat(at)
        fixed = fixed if fixed.tzinfo else fixed.replace(tzinfo=zone)
        return (lambda: fixed), f"the clinic's clock is pinned at {fixed.isoformat()}"
    hours = OpeningHours.from_config(config.hours, zone)
    now = utc_now()
    if hours.is_open(now):
        return utc_now, "the clinic is open now; the IVR runs on the real clock"
    opening = hours.next_opening(now)
    if opening is None:
        return utc_now, "the clinic never opens: every call hears the after-hours message"
    shift = opening + timedelta(hours=1) - now
    local = (opening + timedelta(hours=1)).astimezone(zone)
    return (lambda: utc_now() + shift), (
        f"the clinic is closed now; the IVR runs as at {local:%a %H:%M} clinic time")
