"""The controller killed (kill -9) in the middle of four live calls on the real FreeSWITCH,
then restarted.

The controller runs as a real ``clinicall run`` process.  When it dies, two patients are
waiting in the front desk's queue and two are in the main menu.  The generated dialplan
(docs/engines/freeswitch.md, "The call") takes care of them without it: the queued ones stay
in mod_callcenter, the ones in the menu lose their outbound socket and go on
(``socket_resume``) to the fallback queue.  Every call is answered by an operator and ends.
A new controller on the same store then reconciles the account from mod_cdr_csv's record:
one call each, no call lost or counted twice, with what each call really did.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from clinicall.controller.freeswitch.esl.message import EslEvent
from clinicall.db import create_engine, session_factory
from clinicall.db.models import Call, QueueAttempt
from clinicall.db.models.enums import IvrOutcome, QueueOutcome
from clinicall.prompt_build import build_prompts, prompt_texts
from clinicall.sandbox.freeswitch import FreeswitchSandbox
from clinicall.sandbox.rootfs import default_cache_dir
from clinicall.settings import ClinicConfig, load_config
from clinicall.simclinic.freeswitch import SIM, CallObserver, CallTrace, operators_answer

from .freeswitch_common import FREESWITCH_EXAMPLE, FreeswitchFactory
from .scenario import ENGLISH_NUMBER

pytestmark = [pytest.mark.asyncio, pytest.mark.freeswitch]

REPO = Path(__file__).resolve().parents[2]
QUEUED = ["+380501130001", "+380501130002"]  # in the front desk's queue at the kill
IN_MENU = ["+380501130003", "+380501130004"]  # in the main menu at the kill


def _config() -> ClinicConfig:
    config = load_config(FREESWITCH_EXAMPLE)
    return config.model_copy(update={"ivr": config.ivr.model_copy(update={"digit_timeout_s": 5.0})})


def _write_config(config: ClinicConfig, path: Path) -> Path:
    """The clinic config as a YAML file for the controller process, open around the clock
    (the process keeps real time)."""
    data = config.model_dump(mode="json")
    data["hours"] = {"weekly": {day: ["00:00-24:00"] for day in data["hours"]["weekly"]},
                     "holidays": []}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _text(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


async def _start_controller(config_file: Path, db_url: str,
                            log: Path) -> asyncio.subprocess.Process:  # fmt: skip
    before = _text(log).count("controller up")
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "clinicall", "run", str(config_file), "--db", db_url,
            "--no-web", "-v", "--allow-example-secrets", stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(REPO)})  # this checkout's clinicall
    for _ in range(300):  # the log is the only signal a separate process gives
        await asyncio.sleep(0.05)
        if _text(log).count("controller up") > before:
            return process
        assert process.returncode is None, _text(log)
    raise AssertionError(f"the controller did not start:\n{_text(log)}")


async def _count(db_url: str) -> tuple[int, int]:
    """Calls, and answered attempts whose talk has ended."""
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            calls = await session.scalar(select(func.count()).select_from(Call))
            talked = await session.scalar(select(func.count()).select_from(QueueAttempt).where(
                QueueAttempt.outcome == QueueOutcome.ANSWERED,
                QueueAttempt.talk_s.is_not(None)))  # fmt: skip
            return int(calls or 0), int(talked or 0)
    finally:
        await engine.dispose()


async def _agents(fs: FreeswitchSandbox, config: ClinicConfig, status: str) -> None:
    for op in config.operators:
        out = await fs.api(f"callcenter_config agent set status {op.id} {status}")
        assert out.strip().startswith("+OK"), out


async def test_a_killed_controller_leaves_no_patient_stranded_and_the_account_is_reconciled(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:
    fs, config = make_freeswitch(_config(), name="killed", **SIM)
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'clinicall.db'}"
    log = tmp_path / "controller.log"
    async with fs:
        engine = config.engine.model_copy(update={"cdr_dir": str(fs.log_dir / "cdr-csv")})
        config = config.model_copy(update={"engine": engine})
        cache = Path(os.environ.get("CLINICALL_CACHE") or default_cache_dir()) / "prompts"
        await build_prompts(prompt_texts(config), fs.sounds_dir, cache_dir=cache)
        await operators_answer(fs, config)
        await _agents(fs, config, "'On Break'")  # nobody answers until the controller is dead
        config_file = _write_config(config, tmp_path / "clinic.yaml")
        async with CallObserver(fs) as observer:
            first = await _start_controller(config_file, db_url, log)
            traces: dict[str, CallTrace] = {}
            joined: dict[str, asyncio.Event] = {c: asyncio.Event() for c in QUEUED + IN_MENU}
            in_menu: dict[str, asyncio.Event] = {c: asyncio.Event() for c in IN_MENU}

            def on_queue(event: EslEvent) -> None:
                if event.get("CC-Action") == "member-queue-start":
                    caller = event.get("Caller-Caller-ID-Number", "")
                    if caller in joined:
                        joined[caller].set()

            observer.esl.add_handler(on_queue)
            for caller in QUEUED:  # English number: 0 = an operator (the front desk)
                traces[caller] = await observer.call(config, caller, "0", number=ENGLISH_NUMBER)
            for caller in IN_MENU:  # Ukrainian (1), then nothing: the main menu
                trace = await observer.call(config, caller, "1")
                traces[caller] = trace

                def on_menu(t: CallTrace, caller: str = caller) -> None:
                    if "clinicall/uk/menu_main" in t.prompts:
                        in_menu[caller].set()

                trace.on_menu = on_menu
            async with asyncio.timeout(60):
                for caller in QUEUED:
                    await joined[caller].wait()
                for caller in IN_MENU:
                    await in_menu[caller].wait()

            first.send_signal(signal.SIGKILL)  # the controller dies mid-call
            assert await first.wait() == -signal.SIGKILL
            async with asyncio.timeout(30):  # the menu's callers go on to the fallback queue
                for caller in IN_MENU:
                    await joined[caller].wait()
            await _agents(fs, config, "Available")
            for trace in traces.values():
                await observer.finished(trace, 60)
                await asyncio.wait_for(trace.destroyed.wait(), 10)  # its CDR line is written

        second = await _start_controller(config_file, db_url, log)
        for _ in range(100):  # reconciliation runs at start and then every second
            if await _count(db_url) == (4, 4):
                break
            await asyncio.sleep(0.2)
        second.send_signal(signal.SIGTERM)
        assert await second.wait() == 0, _text(log)
    assert "Traceback" not in _text(log)

    # what FreeSWITCH did, seen by the test's own link
    for caller in QUEUED:
        t = traces[caller]
        assert t.queues_joined == ["universal"]
        assert t.variable("CLINICALL_OUTCOME") == "queue"
        assert len(t.agents_answered) == 1
    for caller in IN_MENU:
        t = traces[caller]
        assert t.queues_joined == ["universal"]
        assert t.variable("CLINICALL_OUTCOME") == "fallback"  # the dialplan's, not the IVR's
        assert t.prompts[-1] != "clinicall/uk/goodbye"
        assert len(t.agents_answered) == 1

    engine_db = create_engine(db_url)
    try:
        async with session_factory(engine_db)() as session:
            calls = {c.call_key: c for c in (await session.execute(select(Call))).scalars()}
            attempts = list((await session.execute(select(QueueAttempt))).scalars())
    finally:
        await engine_db.dispose()
    assert set(calls) == {t.clinic_leg for t in traces.values()}  # none lost, none doubled
    for caller, t in traces.items():
        call = calls[t.clinic_leg]
        expected = ((IvrOutcome.QUEUE, "operator") if caller in QUEUED else
                    (IvrOutcome.FALLBACK, "operator"))  # fmt: skip
        assert (call.ivr_outcome, call.route, call.missed) == (*expected, False), caller
        mine = [a for a in attempts if a.call_id == call.id]
        assert [(a.queue, a.outcome, a.agent) for a in mine] == [
            ("universal", QueueOutcome.ANSWERED, t.agents_answered[0])], caller
