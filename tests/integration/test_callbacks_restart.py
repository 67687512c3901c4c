"""kill -9 of the controller while a callback is in flight (the operator answered, the patient
is ringing), then a restart on the same store: the attempt is settled from the engine's
record (unanswered, or answered while no controller ran), never dialled again.
The controller runs as a real ``clinicall run`` process with callbacks enabled; "dialled
once" is counted from Asterisk's own events (the tracer's AMI stream), not from the store."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
import yaml
from sqlalchemy import select

from clinicall.controller.asterisk.control import call_id_for
from clinicall.db import create_engine, session_factory
from clinicall.db.models import Callback, CallbackAttempt
from clinicall.settings.loader import load_config
from clinicall.settings.models import ClinicConfig
from clinicall.simclinic.clinic import SimulatedClinic

from .scenario import ENGLISH_NUMBER, EXAMPLE

pytestmark = pytest.mark.asyncio(loop_scope="module")

PATIENT = "+380501239999"
LEASE_S = 8


@pytest_asyncio.fixture(loop_scope="module")
async def clinic(asterisk_root: Path) -> AsyncIterator[SimulatedClinic]:
    """A PBX per test: a fresh store reads the PBX's whole queue_log back, and another
    test's missed call must not become a job here."""
    async with SimulatedClinic.run(load_config(EXAMPLE), root=asterisk_root,
                                   name="cbrestart") as clinic:  # fmt: skip
        yield clinic


def _write_config(config: ClinicConfig, path: Path, queue_log: Path) -> Path:
    """Open around the clock (the process keeps real time); callbacks on, with a short lease
    and no retry within the test."""
    data = config.model_dump(mode="json")
    data["engine"]["queue_log"] = str(queue_log)
    data["hours"] = {"weekly": {day: ["00:00-24:00"] for day in data["hours"]["weekly"]},
                     "holidays": []}
    data["callbacks"].update({"enabled": True, "lease_s": LEASE_S, "resolve_after_s": LEASE_S,
                              "spacing_min": 120, "patient_day": "00:00-24:00"})
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _text(path: Path) -> str:
    return path.read_text(errors="replace")


async def _start_controller(config_file: Path, db_url: str,
                            log: Path) -> asyncio.subprocess.Process:  # fmt: skip
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "clinicall", "run", str(config_file), "--db", db_url,
            "--no-web", "-v", "--allow-example-secrets",
            stdout=out, stderr=asyncio.subprocess.STDOUT,
        )
    for _ in range(200):  # until it says it is up (no signal crosses the process boundary)
        await asyncio.sleep(0.05)
        if _text(log).count("controller up") >= 1 and process.returncode is None:
            return process
        assert process.returncode is None, _text(log)
    raise AssertionError(f"the controller did not start:\n{_text(log)}")


async def _job_states(db_url: str) -> dict[int, str]:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            rows = await session.execute(select(Callback.id, Callback.state))
            return {job: str(state) for job, state in rows.all()}
    finally:
        await engine.dispose()


async def _attempts(db_url: str) -> list[tuple[str, str | None]]:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            rows = await session.execute(select(CallbackAttempt.key, CallbackAttempt.outcome)
                                         .order_by(CallbackAttempt.id))  # fmt: skip
            return [(key, outcome) for key, outcome in rows.all()]
    finally:
        await engine.dispose()


@pytest.mark.parametrize(("patient", "outcome", "state"), [
    ("noanswer", "no_answer", "pending"),  # retried later (spacing), with a new key
    ("answer", "answered", "done"),  # answered while no controller ran: done, not redialled
])  # fmt: skip
async def test_an_originate_in_flight_at_kill_9_is_never_dialled_again(
    clinic: SimulatedClinic, tmp_path: Path, patient: str, outcome: str, state: str
) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'clinicall.db'}"
    job = 1
    config_file = _write_config(clinic.config, tmp_path / "clinic.yaml",
                                clinic.asterisk.queue_log_path)
    log = tmp_path / "controller.log"
    first_key, second_key = call_id_for(f"cb{job}-1"), call_id_for(f"cb{job}-2")
    clinic.tracer.expect(first_key)
    clinic.tracer.expect(second_key)
    await clinic.ami.action("Setvar", {"Variable": "SIM_PATIENT_" + PATIENT.removeprefix("+"),
                                       "Value": patient})  # fmt: skip
    for op in clinic.config.operators:
        await clinic.set_operator(op.id, "noanswer")

    first = await _start_controller(config_file, db_url, log)
    missed = await clinic.call(digits="0", number=ENGLISH_NUMBER, hold_s=5, caller=PATIENT)
    await clinic.finished(missed, timeout=60)
    for op in clinic.config.operators:  # now the operators answer and talk long
        await clinic.set_operator(op.id, "answer", ring_s=1, talk_s=90)
    # the scheduler takes the missed call in, rings an operator, then dials the patient ...
    try:
        await clinic.tracer.wait_for(first_key, "DialBegin", timeout=90)
    except TimeoutError:
        raise AssertionError(f"no callback dialled; the controller said:\n{_text(log)[-4000:]}"
                             ) from None
    first.send_signal(signal.SIGKILL)  # ... and the controller dies with the originate open
    assert await first.wait() == -signal.SIGKILL
    assert await _attempts(db_url) == [(f"cb{job}-1", None)]  # the key was written first
    trace = await clinic.finished(first_key, timeout=120)  # the call ends without us

    second = await _start_controller(config_file, db_url, log)
    for _ in range(200):  # lease + resolve_after, then a round (every second)
        if (await _attempts(db_url))[0][1] is not None:
            break
        await asyncio.sleep(0.2)
    second.send_signal(signal.SIGTERM)
    assert await second.wait() == 0, _text(log)
    assert "Traceback" not in _text(log)

    [(key, settled)] = await _attempts(db_url)
    assert key == f"cb{job}-1"
    assert settled == outcome  # settled after the restart from the engine's record ...
    jobs = await _job_states(db_url)
    assert jobs[job] == state
    originated = [m for m in trace.named("Newchannel") if m.get("Uniqueid") == first_key]
    assert len(originated) == 1  # ... while the engine placed the call exactly once
    patient_dials = [m for m in trace.named("DialBegin")
                     if "@clinicall-originate" in m.get("DestChannel", "")]
    assert len(patient_dials) == 1
    assert clinic.tracer.trace(second_key).events == []  # and no other attempt was placed
