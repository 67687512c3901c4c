"""The demo: a real local Asterisk 22 (or FreeSWITCH 1.10, ``--engine freeswitch``,
``demo/freeswitch.py``), the controller, simulated operators and patients; the steps are the
same on both engines (``DemoShow``, over the clinic interface of ``demo/clinic.py``).

It builds (or reuses) the sandbox root, starts Asterisk with the config generated from the
clinic YAML, runs the controller, the call account (SQLite in ``var/demo.db``) and the web
dashboard in this process, and places a scripted set of patients who press keys like real
ones: each chooses a language, a branch of the menu, a specialty; one asks about a scan's
price and preparation, one presses wrong keys, one hangs up in the menu, one takes the
post-call survey, one gives up waiting and is called back by the scheduler (operator first,
then the patient).  Each call's fate is printed as Asterisk reported it over AMI, then the
answered calls' recordings are imported, a complaint case is opened on one of them as a
manager would, and the day's KPIs are printed as the store computed them.

The demo's config is the clinic's with :func:`demo_config` on top: callbacks on (run on the
IVR's clock, so a demo started after hours still shows one), the ultrasound queue asking for
the survey, recordings read from the sandbox's spool into a storage of the demo's own.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from clinicall.app import Running, running, utc_now
from clinicall.demo.after_calls import import_recordings, open_complaint, print_survey
from clinicall.demo.callback import CALLBACK_KEY, CallbackShown, callback_scheduler, show_callback
from clinicall.demo.clinic import Call, DemoClinic, TraceView
from clinicall.demo.console import serve_console
from clinicall.privacy import mask_number
from clinicall.sandbox.rootfs import ensure_root
from clinicall.settings.models import ClinicConfig, TimeRange
from clinicall.simclinic.clinic import SimulatedClinic

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
    #: Hangs up this many seconds after joining a queue (a missed call to call back).
    gives_up_after_s: float | None = None
    #: The survey's keys (CSAT, NPS), pressed when each question starts.
    survey: tuple[str, str] | None = None
    #: Hangs up as the engine starts playing this prompt: the cue is the prompt itself, not a
    #: timer, so a slow machine cannot let the menu time out into a queue before the patient
    #: leaves it.
    hangs_up_at: str | None = None


#: The survey's questions as Asterisk plays them (the survey patient speaks Ukrainian).
SURVEY_CSAT, SURVEY_NPS = "clinicall/uk/survey_csat", "clinicall/uk/survey_nps"
#: The main menu as the engine plays it in Ukrainian: where the patient who hangs up leaves.
MAIN_MENU = "clinicall/uk/menu_main"
#: The operator the patient who gives up waits for: rings this long, longer than the patience.
PEDIATRICS_OPERATOR, PEDIATRICS_RING_S = "op103", 10

PATIENTS: tuple[Patient, ...] = (
    Patient("an ultrasound appointment and takes the survey (uk)", "1w1w1w1", hold_s=90,
            caller="+380501000001", survey=("5", "10")),
    Patient("a gynecologist (ru)", "2w1w2", caller="+380671000002"),
    Patient("a pediatrician (en)", "3w1w3", caller="+380931000003"),
    Patient("test results (uk)", "1w3", caller="+380501000004"),
    Patient("the price of a pelvic ultrasound (ru)", "2w2w3w1", hold_s=35, caller="+380671000005"),
    Patient("to complain (uk)", "1w4", caller="+380501000006"),
    Patient("an operator, on the English number", "0", number="+380441234568",
            caller="+447700900007"),
    Patient("something, pressing wrong keys (uk)", "1w8w8w8", caller="+380501000008"),
    Patient("to hang up in the menu (uk)", "1", caller="+380501000009", hangs_up_at=MAIN_MENU),
    Patient("a pediatrician, and gives up waiting after 6 s (uk)", "1w1w3", hold_s=60,
            caller="+380501000010", gives_up_after_s=6),
)
#: The patient whose call the demo opens a complaint case on (a manager's step).
COMPLAINANT = 5


def describe(patient: Patient, trace: TraceView) -> str:
    """One line: what the patient wanted and what the engine says happened."""
    lang = trace.variable("CLINICALL_LANG") or "-"
    path = trace.variable("CLINICALL_PATH") or "-"
    if trace.abandoned:
        fate = f"gave up waiting in queue {' → '.join(trace.abandoned)} (a missed call)"
    elif trace.queues_joined:
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
DEMO_RECORDINGS = Path("var/demo-recordings")


@dataclass(frozen=True, slots=True)
class DemoRun:
    """What one run showed, for the test that runs the demo: every patient's call as
    the engine reported it, the callback's call, and what the store holds afterwards."""

    traces: list[TraceView]
    callback: CallbackShown | None
    imported: int
    complaint_id: int | None
    survey_scores: dict[str, int]


def demo_config(config: ClinicConfig) -> ClinicConfig:
    """The demo's config: the clinic's with callbacks on (patients may be called at any hour
    of their day: the demo runs at any time), the ultrasound queue asking for the survey."""
    callbacks = config.callbacks.model_copy(update={
        "enabled": True, "patient_day": TimeRange.model_validate("00:00-24:00")})
    queues = dict(config.queues)
    queues["ultrasound"] = queues["ultrasound"].model_copy(update={"survey": "ask"})
    return config.model_copy(update={"callbacks": callbacks, "queues": queues})


def fresh_start(db_url: str, recordings_dir: Path) -> None:
    """The demo's own store and recordings start empty (a caller's own are left alone)."""
    if db_url == DEMO_DB:
        for suffix in ("", "-wal", "-shm"):
            DEMO_DB_FILE.with_name(DEMO_DB_FILE.name + suffix).unlink(missing_ok=True)
    if recordings_dir == DEMO_RECORDINGS:
        shutil.rmtree(recordings_dir, ignore_errors=True)
    recordings_dir.mkdir(parents=True, exist_ok=True)


def demo_configs(config: ClinicConfig, spool: Path,
                 storage: Path) -> tuple[ClinicConfig, ClinicConfig]:  # fmt: skip
    """The running clinic's config with the recordings read from the engine's ``spool`` into
    ``storage``, and the same for ``running`` with neither callbacks nor the periodic import:
    the demo runs its own scheduler on the demo's clock (:func:`callback_scheduler`) and its
    own import pass once the calls are done, so that it shows what that pass took."""
    recordings = config.recordings.model_copy(update={
        "spool_dir": str(spool), "storage_dir": str(storage.resolve())})
    full = config.model_copy(update={"recordings": recordings})
    plain = full.model_copy(update={
        "callbacks": full.callbacks.model_copy(update={"enabled": False}),
        "recordings": recordings.model_copy(update={"import_every_s": 0})})
    return full, plain


async def run_demo(config: ClinicConfig, *, out: Print = print, stagger_s: float = 2.0,
                   now: Callable[[], datetime] = utc_now, db_url: str = DEMO_DB,
                   recordings_dir: Path = DEMO_RECORDINGS, web_port: int | None = None,
                   keep_serving: bool = False,
                   while_serving: Callable[[str], Awaitable[None]] | None = None) -> DemoRun:
    """Run the demo on Asterisk; with ``keep_serving`` the dashboard stays up until Ctrl-C /
    SIGTERM.  ``while_serving(url)`` is awaited with the console still up once the calls are
    done (the test replays the complaint's recording through it).

    The demo's store and recordings are its own and start empty each run, so what it prints
    is this run.  ``now`` is the IVR's clock and the callback scheduler's (:func:`demo_clock`).
    """
    await asyncio.to_thread(fresh_start, db_url, recordings_dir)
    config = demo_config(config)
    out("demo: preparing the Asterisk 22 root (first run builds it: 1-2 min, then cached)")
    root = await asyncio.to_thread(ensure_root, progress=lambda line: out(f"  {line}"))
    async with SimulatedClinic.run(config, root=root, name="demo",
                                   progress=lambda line: out(f"demo: {line}")) as clinic:
        full, plain = demo_configs(clinic.config, clinic.recordings_spool, recordings_dir)
        async with running(plain, db_url=db_url, now=now,
                           queue_log=clinic.asterisk.queue_log_path) as parts:
            show = DemoShow(full, now, out, stagger_s, web_port, keep_serving, while_serving)
            return await show.run(clinic, parts)


@dataclass(frozen=True, slots=True)
class DemoShow:
    """The demo's steps once the clinic and the controller run, the same on either engine:
    the patients' calls (one takes the survey, one gives up and is called back), the
    recordings imported, the complaint case, the survey's answers, the KPIs, the URLs."""

    config: ClinicConfig  # with callbacks and the recordings' directories
    now: Callable[[], datetime]
    out: Print
    stagger_s: float
    web_port: int | None
    keep_serving: bool
    while_serving: Callable[[str], Awaitable[None]] | None

    async def run(self, clinic: DemoClinic[Call], parts: Running) -> DemoRun:
        out, full = self.out, self.config
        await clinic.operators_answer_after({PEDIATRICS_OPERATOR: PEDIATRICS_RING_S})
        clinic.route_placed_calls(parts.engine)
        gave_up = next(p for p in PATIENTS if p.gives_up_after_s is not None)
        since = utc_now()
        await parts.engine.wait_up(10)
        async with serve_console(parts, full, self.web_port, out) as url, \
                callback_scheduler(parts, full, self.now, out) as scheduler, \
                clinic.watch_placed(parts.engine.call_id_for(CALLBACK_KEY),
                                    gave_up.caller) as watch:
            out(f"demo: controller up; {len(PATIENTS)} patients are calling "
                f"{full.numbers[0].number}")
            async with asyncio.TaskGroup() as group:
                placed = group.create_task(_place_all(clinic, out, self.stagger_s))
                shown = group.create_task(show_callback(watch, scheduler, out))
            traces = placed.result()
            # a call the IVR was still ending when the patient's leg went: its outcome
            await parts.controller.wait_handled(len(PATIENTS))
            await parts.controller.wait_surveyed(sum(1 for p in PATIENTS if p.survey))
            await parts.controller.writes_done()
            await parts.tracker.reconcile()
            await parts.tracker.flush()
            imported = await import_recordings(parts, full, out)
            complaint = await open_complaint(parts, full, traces[COMPLAINANT].call_key, out)
            scores = await print_survey(
                parts, [t.call_key for t, p in zip(traces, PATIENTS, strict=True) if p.survey],
                out)
            await print_report(parts, full, since, out)
            out(f"demo: replay the complaint's call at {url}recordings (user demo); "
                f"wallboard {url}wallboard, operator's page {url}operator, "
                f"reports {url}reports")
            if self.while_serving is not None:
                await self.while_serving(url)
            if self.keep_serving:
                out("demo: the dashboard stays up; press Ctrl-C to stop")
                await until_stopped()
        out(f"demo: done, {len(traces)} calls")
        return DemoRun(traces, shown.result(), imported, complaint, scores)


#: The demo's users, one per role (the operator's is an operator's id: the operator's page
#: is that operator's).  Their passwords are made afresh each run and printed once.
async def print_report(parts: Running, config: ClinicConfig, since: datetime,
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
        if call.purpose:  # a call clinicall placed: outside the inbound figures (docs/kpi.md)
            reached = "answered" if call.answered_at else "not answered"
            out(f"  {mask_number(call.dialled)}: clinicall's {call.purpose} call, {reached}, "
                "not an inbound call")
            continue
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


async def until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _place_all(clinic: DemoClinic[Call], out: Print,
                     stagger_s: float) -> list[TraceView]:  # fmt: skip
    async def one(i: int, patient: Patient) -> TraceView:
        await asyncio.sleep(i * stagger_s)  # the patients call one after another
        call = await clinic.call(digits=patient.digits, hold_s=patient.hold_s,
                                 number=patient.number, caller=patient.caller)  # fmt: skip
        out(f"call {i + 1}: {mask_number(patient.caller)} dials, wants {patient.wants}")
        if patient.gives_up_after_s is not None:
            await clinic.hang_up_after_join(call, patient.gives_up_after_s)
            out(f"call {i + 1}: {mask_number(patient.caller)} hangs up after "
                f"{patient.gives_up_after_s:g} s in the queue")
        if patient.hangs_up_at is not None:
            await clinic.hang_up_when_prompt(call, patient.hangs_up_at, 120)
            out(f"call {i + 1}: {mask_number(patient.caller)} hangs up as "
                f"{patient.hangs_up_at} starts")
        if patient.survey is not None:
            await _take_survey(clinic, call, patient.survey, i, out)
        trace = await clinic.finished(call, patient.hold_s + 120)
        out(f"call {i + 1} ended: {describe(patient, trace)}")
        return trace

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(one(i, p)) for i, p in enumerate(PATIENTS)]
    return [t.result() for t in tasks]


async def _take_survey(clinic: DemoClinic[Call], call: Call, keys: tuple[str, str], i: int,
                       out: Print) -> None:
    """Answer each survey question when the engine starts playing it."""
    for prompt, key, name in ((SURVEY_CSAT, keys[0], "CSAT"), (SURVEY_NPS, keys[1], "NPS")):
        await clinic.press_when_prompt(call, prompt, key, 120)
        out(f"call {i + 1}: survey {name} asked, the patient presses {key}")


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
