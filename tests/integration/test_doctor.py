"""``clinicall doctor`` on a real Asterisk 22 running the generated config, with the
controller and the web console up (``clinicall run`` in-process): all OK when healthy, and
each fault an administrator meets reported on its own line with its fix."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from clinicall.agi_scripts.doctor import answer_doctor
from clinicall.agi_scripts.peers import PeerAllowList
from clinicall.agi_scripts.server import FastAgiServer, ScriptRouter
from clinicall.agi_scripts.variables import DOCTOR_SCRIPT
from clinicall.asterisk_config import render_asterisk_config
from clinicall.doctor.ami_session import AmiSession
from clinicall.doctor.checks import Options, run_checks
from clinicall.doctor.fastagi import fastagi_from_asterisk
from clinicall.doctor.result import Check
from clinicall.sandbox.ports import free_port
from clinicall.serve import SECRET_ENV, serve
from clinicall.settings.loader import load_config
from clinicall.settings.models import ClinicConfig, Http
from clinicall.simclinic.clinic import SimulatedClinic

from .scenario import EXAMPLE, Clock

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def clinic(asterisk_root: Path) -> AsyncIterator[SimulatedClinic]:
    async with SimulatedClinic.run(load_config(EXAMPLE), root=asterisk_root,
                                   name="doctor") as clinic:
        yield clinic


@pytest.fixture(scope="module")
def installed(clinic: SimulatedClinic, tmp_path_factory: pytest.TempPathFactory) -> ClinicConfig:
    """The clinic config as installed: the sandbox's queue_log, a free web port, a store."""
    store = tmp_path_factory.mktemp("doctor") / "clinicall.db"
    engine = clinic.config.asterisk_engine().model_copy(
        update={"queue_log": str(clinic.asterisk.queue_log_path)})
    database = clinic.config.database.model_copy(update={"url": f"sqlite+aiosqlite:///{store}"})
    return clinic.config.model_copy(update={
        "engine": engine, "database": database, "http": Http(port=free_port())})


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def running(installed: ClinicConfig) -> AsyncIterator[None]:
    """``clinicall run``: store, controller (FastAGI), web console; up once it says so."""
    stop, up = asyncio.Event(), asyncio.Event()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SECRET_ENV, "doctor-test-secret-" + "x" * 32)
        task = asyncio.create_task(serve(
            installed, stop=stop, now=Clock(),
            announce=lambda line: up.set() if line.startswith("web console: http") else None))
        said = asyncio.ensure_future(up.wait())
        await asyncio.wait([said, task], timeout=30, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            said.cancel()
            task.result()  # raises what stopped it
        assert said.done(), "clinicall run did not bring the web console up in 30 s"
        yield
        stop.set()
        await task


def options(clinic: SimulatedClinic, config: ClinicConfig, **changes: object) -> Options:
    layout = clinic.asterisk.layout
    base = Options(store_url=config.database.url, sounds=clinic.asterisk.sounds_dir,
                   etc=layout.host(layout.dir("etc")), simulated=True, timeout_s=3.0)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


async def test_with_the_controller_not_running_fastagi_fails_with_its_fix(
    clinic: SimulatedClinic, installed: ClinicConfig,
) -> None:
    """First in the module, before ``running`` starts ``clinicall run``: Asterisk's AGI()
    finds nothing at the configured port (this host's connect says so too, so the test
    cannot pass with a controller up)."""
    agi = installed.asterisk_engine()
    where = f"{agi.agi_host}:{agi.agi_port}"
    checks = by_name(await run_checks(installed, options(clinic, installed)))
    fastagi = checks["fastagi"]
    assert fastagi.detail.startswith(
        f"Asterisk found no FastAGI answering at {where} (AGISTATUS FAILURE); from this host, "
        f"{where} refuses connections (")
    assert fastagi.fix.startswith("start 'clinicall run' (or the clinicall service)")
    assert checks["dialplan"].ok  # the probe context is loaded: only the port is missing


async def test_a_healthy_installation_is_all_ok(
    clinic: SimulatedClinic, installed: ClinicConfig, running: None,
) -> None:
    checks = await run_checks(installed, options(clinic, installed))
    assert [c.name for c in checks] == ["ami", "modules", "clock", "fastagi", "queue_log",
                                        "prompts", "files", "dialplan", "queues", "store", "web"]
    assert [c.lines() for c in checks if not c.ok] == []
    assert "may send all 14 actions used" in by_name(checks)["ami"].detail
    agi = installed.asterisk_engine()
    assert by_name(checks)["fastagi"].detail == (
        f"Asterisk reached FastAGI at {agi.agi_host}:{agi.agi_port} (AGISTATUS SUCCESS)")


async def test_a_wrong_ami_password_is_named_with_its_fix(
    clinic: SimulatedClinic, installed: ClinicConfig, running: None,
) -> None:
    engine = installed.asterisk_engine().model_copy(update={"ami_secret": "not-the-secret"})
    wrong = installed.model_copy(update={"engine": engine})
    checks = by_name(await run_checks(wrong, options(clinic, wrong)))
    ami = checks["ami"]
    assert not ami.ok
    assert ami.detail.startswith("login as 'clinicall' refused (Authentication failed)")
    assert "set engine.ami_secret to the secret of clinicall_manager.conf" in ami.fix
    assert checks["dialplan"].detail == "not checked: AMI is not reachable"
    assert [checks[name].ok for name in ("store", "web")] == [True, True]
    agi = installed.asterisk_engine()
    assert checks["fastagi"].detail == (
        "not checked from Asterisk: AMI is not reachable (from this host, "
        f"{agi.agi_host}:{agi.agi_port} accepts connections)")


@contextlib.asynccontextmanager
async def dialplan_with_agi_url(clinic: SimulatedClinic, config: ClinicConfig, url: str
                                ) -> AsyncIterator[Options]:
    """The generated dialplan with ``--agi-url url`` loaded in Asterisk (as an administrator
    who gave it would have), restored after; the doctor's options given the same URL."""
    opts = options(clinic, config, agi_url=url)
    assert opts.etc is not None
    path = opts.etc / "clinicall_extensions.conf"
    original = path.read_text()
    path.write_text(render_asterisk_config(config, simulated=True, agi_url=url)[path.name])
    try:
        await clinic.asterisk.rx("dialplan reload")
        yield opts
    finally:
        path.write_text(original)
        await clinic.asterisk.rx("dialplan reload")


async def test_a_closed_fastagi_port_is_named_with_its_fix(
    clinic: SimulatedClinic, installed: ClinicConfig, running: None,
) -> None:
    """Asterisk's AGI() finds nothing at the dialplan's port: AGISTATUS FAILURE."""
    closed = free_port()
    async with dialplan_with_agi_url(clinic, installed,
                                     f"agi://127.0.0.1:{closed}/ivr") as opts:
        checks = by_name(await run_checks(installed, opts))
    fastagi = checks["fastagi"]
    assert fastagi.detail == (
        f"Asterisk found no FastAGI answering at 127.0.0.1:{closed} (AGISTATUS FAILURE); "
        f"from this host, 127.0.0.1:{closed} refuses connections (Connect call failed "
        f"('127.0.0.1', {closed}))")
    assert fastagi.fix.startswith("start 'clinicall run'")
    assert [c.name for c in checks.values() if not c.ok] == ["fastagi"]


def foreign_agi(reply: bytes, connected: asyncio.Queue[bytes]
                ) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter],
                          Awaitable[None]]:
    """A FastAGI port held by something that is not clinicall: it reads Asterisk's
    environment (up to the blank line), writes ``reply`` and closes."""
    async def serve_one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            env = await reader.readuntil(b"\n\n")
        except asyncio.IncompleteReadError:  # the doctor's own connect from this host
            writer.close()
            return
        await connected.put(env)
        writer.write(reply)
        await writer.drain()
        if reply:
            await reader.readline()  # Asterisk's answer to the command
        writer.close()
        await writer.wait_closed()
    return serve_one


@pytest.mark.parametrize(("reply", "status"), [(b"", "SUCCESS"), (b"HANGUP\n", "HANGUP")])
async def test_another_server_on_the_port_is_not_taken_for_clinicall(
    clinic: SimulatedClinic, installed: ClinicConfig, running: None, reply: bytes, status: str,
) -> None:
    """What Asterisk 22 reports when the FastAGI server closes at once, or sends HANGUP."""
    connected: asyncio.Queue[bytes] = asyncio.Queue()
    server = await asyncio.start_server(foreign_agi(reply, connected), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, dialplan_with_agi_url(clinic, installed,
                                             f"agi://127.0.0.1:{port}/ivr") as opts:
        checks = by_name(await run_checks(installed, opts))
    assert b"agi_network_script: doctor\n" in connected.get_nowait()
    fastagi = checks["fastagi"]
    assert fastagi.detail == (
        f"something at 127.0.0.1:{port} took Asterisk's connection but did not answer as "
        f"clinicall (AGISTATUS {status}); from this host, 127.0.0.1:{port} accepts connections")
    assert "another engine.agi_port" in fastagi.fix
    assert [c.name for c in checks.values() if not c.ok] == ["fastagi"]


async def test_asterisks_address_not_allowed_is_named(
    clinic: SimulatedClinic, installed: ClinicConfig, running: None,
) -> None:
    """clinicall's own FastAGI server, whose ``agi_allow`` leaves Asterisk's address out: it
    closes on connect, and Asterisk 22 reports that as AGISTATUS SUCCESS (no answer set)."""
    elsewhere = PeerAllowList.parse(["192.0.2.0/24"])
    async with FastAgiServer(ScriptRouter({DOCTOR_SCRIPT: answer_doctor}), port=0,
                             allow=elsewhere) as server:
        port = server.port
        async with dialplan_with_agi_url(clinic, installed,
                                         f"agi://127.0.0.1:{port}/ivr") as opts:
            checks = by_name(await run_checks(installed, opts))
        refused = server.refused_count
    fastagi = checks["fastagi"]
    assert refused == 2  # Asterisk's probe, then the doctor's own connect
    assert fastagi.detail == (
        f"something at 127.0.0.1:{port} took Asterisk's connection but did not answer as "
        f"clinicall (AGISTATUS SUCCESS); from this host, 127.0.0.1:{port} accepts connections")
    assert "add the address Asterisk connects from to engine.agi_allow" in fastagi.fix
    assert [c.name for c in checks.values() if not c.ok] == ["fastagi"]


def probe_rows(store: Path) -> list[tuple[str, object]]:
    """Rows of the account that name a probe channel (``doctor-<probe>``), calls and journal."""
    with contextlib.closing(sqlite3.connect(store)) as db:
        calls = db.execute("SELECT 'call', call_key FROM calls WHERE call_key LIKE 'doctor-%'")
        rows = [*calls.fetchall()]
        journal = db.execute("SELECT kind, call_key FROM event_journal WHERE call_key LIKE "
                             "'doctor-%' OR CAST(payload AS TEXT) LIKE '%doctor-%'")
        return rows + journal.fetchall()


def call_rows(store: Path, call_key: str) -> int:
    with contextlib.closing(sqlite3.connect(store)) as db:
        return int(db.execute("SELECT count(*) FROM calls WHERE call_key = ?",
                              (call_key,)).fetchone()[0])


async def test_the_probe_leaves_no_trace_in_the_account(
    clinic: SimulatedClinic, installed: ClinicConfig, running: None,
) -> None:
    """The probe's Local channels never reach the account: no call row, no journal row, no
    queue_log line.  A patient call placed after it is the signal that the controller has
    handled every AMI event of the probe (events are handled and journaled in wire order)."""
    store = Path(installed.database.url.removeprefix("sqlite+aiosqlite:///"))
    queue_log = clinic.asterisk.queue_log_path
    logged = queue_log.read_bytes()
    async with AmiSession(installed.asterisk_engine(), 3.0, events="user") as ami:
        check = await fastagi_from_asterisk(ami, installed, None, 3.0)
    assert check.ok, check.lines()
    assert queue_log.read_bytes() == logged
    patient = await clinic.call(hold_s=1)
    await clinic.finished(patient)
    async with asyncio.timeout(20):
        while not call_rows(store, patient):  # noqa: ASYNC110 (polled: a file, no event)
            await asyncio.sleep(0.1)  # the store has no signal; the row comes within a flush
    assert probe_rows(store) == []


async def test_a_module_not_loaded_is_named(
    clinic: SimulatedClinic, installed: ClinicConfig, running: None,
) -> None:
    await clinic.asterisk.rx("module unload app_mixmonitor.so")
    try:
        checks = by_name(await run_checks(installed, options(clinic, installed)))
    finally:
        await clinic.asterisk.rx("module load app_mixmonitor.so")
    assert checks["modules"].detail == "not loaded: app_mixmonitor"
    assert "noload" in checks["modules"].fix
    assert [c.name for c in checks.values() if not c.ok] == ["modules"]


async def test_a_missing_prompt_file_is_named(
    clinic: SimulatedClinic, installed: ClinicConfig, running: None,
) -> None:
    prompt = clinic.asterisk.sounds_dir / "clinicall" / "ru" / "welcome.wav"
    aside = prompt.with_name("welcome.aside")
    prompt.rename(aside)
    try:
        checks = by_name(await run_checks(installed, options(clinic, installed)))
    finally:
        aside.rename(prompt)
    prompts = checks["prompts"]
    assert not prompts.ok
    assert prompts.detail.endswith(f"prompts missing in {clinic.asterisk.sounds_dir}: ru/welcome")
    assert prompts.detail.startswith("1 of ")
    assert prompts.fix == f"run 'clinicall prompts --out {clinic.asterisk.sounds_dir}'"


async def test_queues_conf_edited_by_hand_is_drift_with_its_diff(
    clinic: SimulatedClinic, installed: ClinicConfig, running: None,
) -> None:
    opts = options(clinic, installed)
    assert opts.etc is not None
    queues = opts.etc / "clinicall_queues.conf"
    original = queues.read_text()
    edited = original.replace("[ultrasound]\nstrategy = rrmemory\n",
                              "[ultrasound]\nstrategy = ringall\n", 1)
    assert edited != original
    queues.write_text(edited)
    try:
        await clinic.asterisk.rx("queue reload all")
        checks = by_name(await run_checks(installed, opts))
    finally:
        queues.write_text(original)
        await clinic.asterisk.rx("queue reload all")
    files, loaded = checks["files"], checks["queues"]
    assert not files.ok
    assert files.detail == (f"in {opts.etc}, not the generated ones: clinicall_queues.conf "
                            "(changed)")
    assert "+strategy = rrmemory" in files.extra
    assert not loaded.ok
    assert "-ultrasound: strategy rrmemory" in loaded.extra
    assert "queue reload all" in loaded.fix
    healed = by_name(await run_checks(installed, opts))
    assert healed["queues"].ok
    assert healed["files"].ok


async def test_a_store_not_migrated_is_named_with_the_command(
    clinic: SimulatedClinic, installed: ClinicConfig, running: None, tmp_path: Path,
) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    checks = by_name(await run_checks(installed, options(
        clinic, installed, store_url=f"sqlite+aiosqlite:///{empty}")))
    store = checks["store"]
    assert not store.ok
    assert "not migrated" in store.detail
    assert store.fix == "run 'clinicall db upgrade' (with the same --config or --db)"
