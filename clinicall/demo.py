"""The demo: a real local Asterisk 22 (or FreeSWITCH 1.10, ``--engine freeswitch``), the
controller, simulated operators and patients.

It builds (or reuses) the sandbox root, starts Asterisk with the config generated from the
clinic YAML, runs the controller, the call account (SQLite in ``var/demo.db``) and the web
dashboard in this process, and places a scripted set of patients who press keys like real
ones: each chooses a language, a branch of the menu, a specialty; one asks about a scan's
price and preparation, one presses wrong keys, one hangs up in the menu.  Each call's fate is
printed as the engine reported it (Asterisk over AMI, FreeSWITCH over its Event Socket), then
the day's KPIs as the store computed them.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from clinicall.app import Running, running, utc_now
from clinicall.privacy import mask_number
from clinicall.sandbox.rootfs import ensure_root
from clinicall.settings.models import ClinicConfig
from clinicall.simclinic.calltrace import CallTrace
from clinicall.simclinic.clinic import SimulatedClinic
from clinicall.simclinic.freeswitch import CallTrace as FreeswitchTrace
from clinicall.simclinic.freeswitch import FreeswitchClinic

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


class TraceView(Protocol):
    """What either engine's simulated clinic says happened to a call."""

    @property
    def queues_joined(self) -> list[str]: ...

    @property
    def operators_connected(self) -> list[str]: ...

    @property
    def prompts_played(self) -> list[str]: ...

    def variable(self, name: str) -> str | None: ...


def describe(patient: Patient, trace: TraceView) -> str:
    """One line: what the patient wanted and what the engine says happened."""
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


DEMO_DB_FILE = Path("var/demo.db")
DEMO_DB = f"sqlite+aiosqlite:///{DEMO_DB_FILE}"


async def run_demo(config: ClinicConfig, *, out: Print = print, stagger_s: float = 2.0,
                   now: Callable[[], datetime] = utc_now, db_url: str = DEMO_DB,
                   web_port: int | None = None,
                   keep_serving: bool = False) -> list[CallTrace] | list[FreeswitchTrace]:
    """Run the demo; with ``keep_serving`` the dashboard stays up until Ctrl-C / SIGTERM.

    The demo's store is its own and starts empty each run, so the report shows this run.
    The engine is the config's (``engine.type``).
    """
    if db_url == DEMO_DB:
        for suffix in ("", "-wal", "-shm"):
            DEMO_DB_FILE.with_name(DEMO_DB_FILE.name + suffix).unlink(missing_ok=True)
    if config.engine.type == "freeswitch":
        return await _run_freeswitch_demo(config, out=out, stagger_s=stagger_s, now=now,
                                          db_url=db_url, web_port=web_port,
                                          keep_serving=keep_serving)  # fmt: skip
    out("demo: preparing the Asterisk 22 root (first run builds it: 1-2 min, then cached)")
    root = await asyncio.to_thread(ensure_root, progress=lambda line: out(f"  {line}"))
    async with SimulatedClinic.run(config, root=root, name="demo",
                                   progress=lambda line: out(f"demo: {line}")) as clinic:
        for i, op in enumerate(clinic.config.operators):
            await clinic.set_operator(op.id, "answer", talk_s=4 + 2 * i)
        since = utc_now()
        async with running(clinic.config, db_url=db_url, now=now,
                           queue_log=clinic.asterisk.queue_log_path) as parts:
            await parts.engine.wait_up(10)
            async with _dashboard(parts, clinic.config, web_port, out):
                out(f"demo: controller up; {len(PATIENTS)} patients are calling "
                    f"{clinic.config.numbers[0].number}")
                traces = await _place_all(clinic, out, stagger_s)
                await parts.tracker.reconcile()
                await parts.tracker.flush()
                await _print_report(parts, clinic.config, since, out)
                if keep_serving:
                    out("demo: the dashboard stays up; press Ctrl-C to stop")
                    await _until_stopped()
    out(f"demo: done, {len(traces)} calls")
    return traces


async def _run_freeswitch_demo(config: ClinicConfig, *, out: Print, stagger_s: float,
                               now: Callable[[], datetime], db_url: str, web_port: int | None,
                               keep_serving: bool) -> list[FreeswitchTrace]:  # fmt: skip
    """The same demo on the sandbox FreeSWITCH (built once by scripts/setup)."""
    from clinicall.sandbox.errors import SandboxUnavailable
    from clinicall.sandbox.freeswitch_build import find_built

    prefix = await asyncio.to_thread(find_built)
    if prefix is None:
        raise SandboxUnavailable("FreeSWITCH is not built here: scripts/setup builds it once "
                                 "(about 5 minutes)")  # fmt: skip
    out(f"demo: starting FreeSWITCH from {prefix}")
    async with FreeswitchClinic.run(config, prefix=prefix, name="demo",
                                    progress=lambda line: out(f"demo: {line}")) as clinic:
        since = utc_now()
        async with running(clinic.config, db_url=db_url, now=now) as parts:
            await parts.engine.wait_up(10)
            async with _dashboard(parts, clinic.config, web_port, out):
                out(f"demo: controller up; {len(PATIENTS)} patients are calling "
                    f"{clinic.config.numbers[0].number}")
                traces = await _place_all_freeswitch(clinic, out, stagger_s)
                # a call the IVR was still ending when the patient's leg went: its outcome
                await parts.controller.wait_handled(len(traces))
                await parts.controller.wait_written()
                await parts.tracker.flush()
                await _print_report(parts, clinic.config, since, out)
                if keep_serving:
                    out("demo: the dashboard stays up; press Ctrl-C to stop")
                    await _until_stopped()
    out(f"demo: done, {len(traces)} calls")
    return traces


async def _place_all_freeswitch(clinic: FreeswitchClinic, out: Print,
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


@asynccontextmanager
async def _dashboard(parts: Running, config: ClinicConfig, port: int | None,
                     out: Print) -> AsyncIterator[None]:
    """Serve the web app and make a one-off manager login for this demo."""
    from aiohttp import web

    from clinicall.app import operator_desk
    from clinicall.db.models import Role
    from clinicall.serve import web_secret
    from clinicall.web.app import build_app
    from clinicall.web.http_server import app_runner
    from clinicall.web.users import add_user

    password = secrets.token_urlsafe(9)
    await add_user(parts.sessions, "demo", Role.MANAGER, password, display_name="Demo manager")
    app = build_app(sessions=parts.sessions, config=config, live=parts.tracker.live,
                    health=parts.engine.health, secret=web_secret(),
                    desk=operator_desk(config, parts))
    runner = app_runner(app)
    await runner.setup()
    site = web.TCPSite(runner, config.http.host, config.http.port if port is None else port)
    await site.start()
    host, bound = runner.addresses[0][:2]
    out(f"demo: dashboard on http://{host}:{bound}/  (user demo, password {password})")
    try:
        yield
    finally:
        await runner.cleanup()


async def _print_report(parts: Running, config: ClinicConfig, since: datetime,
                        out: Print) -> None:
    from sqlalchemy import select

    from clinicall.db.models import Call
    from clinicall.reports.kpi import compute

    async with parts.sessions() as session:
        report = await compute(session, start=since - timedelta(minutes=1),
                               end=utc_now() + timedelta(minutes=1), by="queue", config=config)
        accounted = (await session.execute(select(Call).where(Call.started_at >= since)
                                       .order_by(Call.started_at))).scalars().all()
    out("demo: the account, per call (from the store):")
    for call in accounted:
        fate = f"missed ({call.miss_cause})" if call.missed else "not missed"
        out(f"  {mask_number(call.caller)}: {call.ivr_outcome}, route {call.route or '-'}, "
            f"language {call.language or '-'}, path {call.ivr_path or '-'}, {fate}")
    out("demo: the account, per queue (from the store):")
    for row in report.section("queues").rows:
        out(f"  {row['queue']:<11} offered {row['offered']}, answered {row['answered']}, "
            f"abandoned {row['abandoned']}, ASA {row['asa']} s, SL {row['service_level']} %")
    (calls,) = report.section("calls").rows
    out(f"  clinic: {calls['inbound']} inbound calls, {calls['self_served']} self-served, "
        f"{calls['missed']} missed ({calls['missed_hangup_ivr']} hung up in the IVR)")


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


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
    from clinicall.routing.hours import OpeningHours

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
