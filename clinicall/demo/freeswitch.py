"""The demo's patients on the sandbox FreeSWITCH (``clinicall demo --engine freeswitch``): the
same calls through the same controller, each call's fate as FreeSWITCH reported it over its
Event Socket, then the day's KPIs.  Callbacks, the survey and recordings are shown on
Asterisk only (docs/engines/freeswitch.md, "Gaps")."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from clinicall.app import running, utc_now
from clinicall.demo import (
    DEMO_DB,
    DEMO_RECORDINGS,
    PATIENTS,
    Patient,
    Print,
    describe,
    fresh_start,
    print_report,
    until_stopped,
)
from clinicall.demo.console import serve_console
from clinicall.privacy import mask_number
from clinicall.settings.models import ClinicConfig
from clinicall.simclinic.freeswitch import CallTrace as FreeswitchTrace
from clinicall.simclinic.freeswitch import FreeswitchClinic


async def run_freeswitch_demo(config: ClinicConfig, *, now: Callable[[], datetime],
                              out: Print = print, stagger_s: float = 2.0,
                              db_url: str = DEMO_DB, web_port: int | None = None,
                              keep_serving: bool = False) -> list[FreeswitchTrace]:  # fmt: skip
    """The same demo on the sandbox FreeSWITCH (built once by scripts/setup)."""
    from clinicall.sandbox.errors import SandboxUnavailable
    from clinicall.sandbox.freeswitch_build import find_built

    prefix = await asyncio.to_thread(find_built)
    if prefix is None:
        raise SandboxUnavailable("FreeSWITCH is not built here: scripts/setup builds it once "
                                 "(about 5 minutes)")  # fmt: skip
    await asyncio.to_thread(fresh_start, db_url, DEMO_RECORDINGS)  # this run's store only
    out(f"demo: starting FreeSWITCH from {prefix}")
    async with FreeswitchClinic.run(config, prefix=prefix, name="demo",
                                    progress=lambda line: out(f"demo: {line}")) as clinic:
        since = utc_now()
        async with running(clinic.config, db_url=db_url, now=now) as parts:
            await parts.engine.wait_up(10)
            async with serve_console(parts, clinic.config, web_port, out):
                out(f"demo: controller up; {len(PATIENTS)} patients are calling "
                    f"{clinic.config.numbers[0].number}")
                traces = await _place_all(clinic, out, stagger_s)
                # a call the IVR was still ending when the patient's leg went: its outcome
                await parts.controller.wait_handled(len(traces))
                await parts.controller.wait_written()
                await parts.tracker.flush()
                await print_report(parts, clinic.config, since, out)
                if keep_serving:
                    out("demo: the dashboard stays up; press Ctrl-C to stop")
                    await until_stopped()
    out(f"demo: done, {len(traces)} calls")
    return traces


async def _place_all(clinic: FreeswitchClinic, out: Print,
                                stagger_s: float) -> list[FreeswitchTrace]:  # fmt: skip
    async def one(i: int, patient: Patient) -> FreeswitchTrace:
        await asyncio.sleep(i * stagger_s)
        trace = await clinic.call(patient.digits, hold_s=patient.hold_s, number=patient.number,
                                  caller=patient.caller)  # fmt: skip
        out(f"call {i + 1}: {mask_number(patient.caller)} dials, wants {patient.wants}")
        await clinic.observer.finished(trace, patient.hold_s + 120)
        out(f"call {i + 1} ended: {describe(patient, trace)}")
        return trace

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(one(i, p)) for i, p in enumerate(PATIENTS)]
    return [t.result() for t in tasks]
