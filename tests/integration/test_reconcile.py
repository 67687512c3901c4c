"""The controller killed (kill -9) in the middle of five live calls, then restarted.

AMI cannot replay what a dead controller missed; Asterisk's queue_log can.  The controller runs
as a real ``clinicall run`` process: the test kills it while five patients are in the queue or
talking, lets the calls finish, starts a new one on the same store, and checks that the
account equals what the test's own AMI observer saw, with nothing counted twice.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
import yaml
from pg import PostgresServer
from sqlalchemy import func, select

from clinicall.db import create_engine, session_factory
from clinicall.db.models import Call, QueueAttempt, QueueOutcome
from clinicall.reports.kpi import compute
from clinicall.settings.loader import load_config
from clinicall.settings.models import ClinicConfig
from clinicall.simclinic.clinic import SimulatedClinic

from .scenario import ENGLISH_NUMBER, EXAMPLE

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.postgres]

CALLS = 5


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def clinic(asterisk_root: Path) -> AsyncIterator[SimulatedClinic]:
    async with SimulatedClinic.run(load_config(EXAMPLE), root=asterisk_root,
                                   name="reconcile") as clinic:
        yield clinic


def _write_config(config: ClinicConfig, path: Path, queue_log: Path) -> Path:
    """The sandbox's clinic config as a YAML file for the controller process, open around the
    clock: the process keeps real time, and the test must not depend on when it runs."""
    data = config.model_dump(mode="json")
    data["engine"]["queue_log"] = str(queue_log)
    data["hours"] = {"weekly": {day: ["00:00-24:00"] for day in data["hours"]["weekly"]},
                     "holidays": []}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _text(path: Path) -> str:
    return path.read_text(errors="replace")


async def _start_controller(
    config_file: Path, db_url: str, log: Path
) -> asyncio.subprocess.Process:
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "clinicall", "run", str(config_file), "--db", db_url,
            "--no-web", "-v", "--allow-example-secrets",  # the sandbox's are the example's
            stdout=out, stderr=asyncio.subprocess.STDOUT,
        )
    for _ in range(200):  # until its FastAGI port accepts connections
        await asyncio.sleep(0.05)
        if "controller up" in _text(log):
            return process
        assert process.returncode is None, _text(log)
    raise AssertionError(f"the controller did not start:\n{_text(log)}")


async def _answered_attempts(db_url: str) -> int:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            count = await session.scalar(
                select(func.count()).select_from(QueueAttempt).where(
                    QueueAttempt.outcome == QueueOutcome.ANSWERED,
                    QueueAttempt.talk_s.is_not(None)))
            return int(count or 0)
    finally:
        await engine.dispose()


async def test_killed_controller_is_reconciled_from_queue_log_without_double_counting(
    clinic: SimulatedClinic, postgres_server: PostgresServer, tmp_path: Path
) -> None:
    db_url = postgres_server.url(postgres_server.create_database("reconcile")).render_as_string()
    config_file = _write_config(clinic.config, tmp_path / "clinic.yaml",
                                clinic.asterisk.queue_log_path)
    log = tmp_path / "controller.log"
    for op in clinic.config.operators:
        await clinic.set_operator(op.id, "answer", ring_s=1, talk_s=6)
    started = datetime.now(UTC)

    first = await _start_controller(config_file, db_url, log)
    calls = [await clinic.call(digits="0", number=ENGLISH_NUMBER, hold_s=60,
                               caller=f"+38050100000{i}") for i in range(CALLS)]
    for linkedid in calls:  # every patient is past the IVR and in the queue ...
        await clinic.tracer.wait_for(linkedid, "QueueCallerJoin", timeout=30)
    first.send_signal(signal.SIGKILL)  # ... when the controller dies
    assert await first.wait() == -signal.SIGKILL
    traces = [await clinic.finished(linkedid, timeout=60) for linkedid in calls]
    for linkedid in calls:  # Asterisk may report the completion after the last Hangup
        await clinic.tracer.wait_for(linkedid, "AgentComplete", timeout=10)
    truth = sorted(
        (t.linkedid, int(t.named("AgentConnect")[0]["HoldTime"]),
         int(t.named("AgentComplete")[0]["TalkTime"]))
        for t in traces
    )
    assert all(t.operators_connected for t in traces)

    second = await _start_controller(config_file, db_url, log)
    for _ in range(100):  # reconciliation runs at start and then every second
        if await _answered_attempts(db_url) >= CALLS:
            break
        await asyncio.sleep(0.2)
    second.send_signal(signal.SIGTERM)
    assert await second.wait() == 0, _text(log)
    assert "Traceback" not in _text(log)

    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            rows = (await session.execute(
                select(Call.call_key, QueueAttempt.wait_s, QueueAttempt.talk_s)
                .join(QueueAttempt, QueueAttempt.call_id == Call.id)
                .order_by(Call.call_key))).all()
            report = await compute(session, start=started - timedelta(minutes=1),
                                   end=datetime.now(UTC) + timedelta(minutes=1), by="queue",
                                   config=clinic.config)
    finally:
        await engine.dispose()
    assert [(lid, w, t) for lid, w, t in rows] == [
        (lid, float(w), float(t)) for lid, w, t in truth]  # one attempt each, exact
    (universal,) = report.section("queues").rows
    assert (universal["offered"], universal["answered"]) == (CALLS, CALLS)
