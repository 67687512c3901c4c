"""The same IVR load on both real engines, side by side: CPU per call (engine and controller)
and the latency from a key read to the next prompt.

For each engine (the sandbox Asterisk 22, the sandbox FreeSWITCH 1.10.12) the bench starts
the simulated clinic (simclinic: the generated config, the prompts, answering operators) and
the controller as a real ``clinicall run`` process, measures the engine's idle CPU for a few
seconds, then places ``--calls`` patients, ``--concurrency`` at a time, each walking the same
path: language 1, appointments 1, ultrasound 1, an operator answers and talks 2-3 s.

* **CPU per call**: the engine's process tree (``/proc``: utime + stime, less its idle rate
  over the same time) and the controller process, divided by the calls.
* **Read → next prompt**: from the engine's own time of the end of an application that
  reads keys (Asterisk: ``AGIExecEnd`` of ``GET DATA`` or of a ``STREAM FILE`` with escape
  digits; FreeSWITCH: ``CHANNEL_EXECUTE_COMPLETE`` of ``play_and_get_digits`` or of a
  ``playback`` with terminators; on this path nearly every one ends with a key) to its time
  of the start of the next prompt on that channel (``AGIExecStart`` of a play command;
  ``CHANNEL_EXECUTE`` of ``playback``/``play_and_get_digits``), from the event times each
  engine stamps (AMI ``Timestamp``, ESL ``Event-Date-Timestamp``), on a monitoring link of
  the bench's own.  The figure is the controller's round trip (reply in, the menu decided,
  the variables set, the next command out) as the engine sees it.  ``read → next app`` is
  the same to the start of the next application of any kind (the controller's first
  command after the read), which tells the controller's reply time from the engine's
  time per application.

Run: PYTHONPATH=. .venv/bin/python bench/bench_ivr_engines.py [--calls 40] [--concurrency 10]
It needs what the integration tests need (the cached Asterisk root, the FreeSWITCH build).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from bench_ami_events import process_cpu_s, tree_cpu_s

from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.freeswitch.esl.client import EslClient
from clinicall.controller.freeswitch.esl.message import EslEvent
from clinicall.sandbox.freeswitch_build import find_built
from clinicall.sandbox.rootfs import ensure_root
from clinicall.settings import ClinicConfig, load_config
from clinicall.simclinic.calltrace import played_prompt
from clinicall.simclinic.clinic import SimulatedClinic
from clinicall.simclinic.freeswitch import FreeswitchClinic

REPO = Path(__file__).resolve().parents[1]
DIGITS = "1w1w1"  # language 1, appointments 1, ultrasound 1 (--digits: another path)
IDLE_S = 5.0


@dataclass
class Latencies:
    """Read → next prompt, per channel, from the engine's own event times (seconds)."""

    read_at: dict[str, float] = field(default_factory=dict)
    samples: list[float] = field(default_factory=list)
    #: read → the next application of any kind (the controller's first command after it)
    first_at: dict[str, float] = field(default_factory=dict)
    first_samples: list[float] = field(default_factory=list)

    def key_read(self, channel: str, at: float) -> None:
        self.read_at[channel] = self.first_at[channel] = at

    def started(self, channel: str, at: float) -> None:
        read = self.first_at.pop(channel, None)
        if read is not None:
            self.first_samples.append((at - read) * 1000)

    def prompt_started(self, channel: str, at: float) -> None:
        started = self.read_at.pop(channel, None)
        if started is not None:
            self.samples.append((at - started) * 1000)


@dataclass
class Figures:
    engine: str
    calls: int
    wall_s: float
    engine_cpu_s: float
    controller_cpu_s: float
    controller_idle_ms_per_s: float
    latencies: Latencies

    def row(self) -> list[str]:
        lat = sorted(self.latencies.samples)
        first = sorted(self.latencies.first_samples)
        return [self.engine, str(self.calls), f"{self.calls / self.wall_s:.2f}",
                f"{self.engine_cpu_s / self.calls * 1000:.0f}",
                f"{self.controller_cpu_s / self.calls * 1000:.0f}",
                f"{self.controller_idle_ms_per_s:.2f}",
                f"{_pct(first, 0.5):.1f}", f"{_pct(lat, 0.5):.1f}", f"{_pct(lat, 0.99):.1f}",
                str(len(lat))]


def _pct(values: list[float], q: float) -> float:
    """The q-quantile of sorted ``values`` (nearest rank; NaN when empty)."""
    if not values:
        return float("nan")
    if q == 0.5:
        return statistics.median(values)
    return values[min(len(values) - 1, int(len(values) * q))]


def _config(path: Path) -> ClinicConfig:
    return load_config(path)


def write_controller_config(config: ClinicConfig, path: Path, **engine: str) -> Path:
    data = config.model_dump(mode="json")
    data["engine"].update(engine)
    data["hours"] = {"weekly": {day: ["00:00-24:00"] for day in data["hours"]["weekly"]},
                     "holidays": []}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@asynccontextmanager
async def controller(config_file: Path, db_url: str, log: Path,
                     loop: str = "asyncio") -> AsyncIterator[asyncio.subprocess.Process]:
    """``clinicall run`` as deployed, on the event loop ``loop`` (``--loop``)."""
    with log.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "clinicall", "run", str(config_file), "--db", db_url,
            "--no-web", "-v", "--allow-example-secrets", "--loop", loop, stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        for _ in range(400):  # the log is the only signal a separate process gives
            await asyncio.sleep(0.05)
            text = await asyncio.to_thread(log.read_text, errors="replace")
            if "controller up" in text:
                break
            if proc.returncode is not None:
                raise RuntimeError(text)
        else:
            raise RuntimeError(f"the controller did not start:\n{text}")
        yield proc
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            await proc.wait()


async def load(place: Callable[[int], Awaitable[None]], calls: int, concurrency: int) -> float:
    """Place ``calls`` calls, ``concurrency`` at a time; the wall time."""
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            await place(i)

    start = time.monotonic()
    async with asyncio.TaskGroup() as group:
        for i in range(calls):
            group.create_task(one(i))
    return time.monotonic() - start


async def measured(
    engine_pid: int, controller_pid: int, run: Callable[[], Awaitable[float]]
) -> tuple[float, float, float, float]:
    """(wall, engine CPU less its idle rate, controller CPU, the controller's idle CPU ms per
    second: ``clinicall run`` as deployed, its callback, offer and account loops included) of
    ``run``."""
    await asyncio.sleep(IDLE_S)  # the controller's start settles (migrations, first reads)
    idle0, controller_idle0 = tree_cpu_s(engine_pid), process_cpu_s(controller_pid)
    await asyncio.sleep(IDLE_S)  # the engine's idle rate: timers, RTP, its own threads
    idle_rate = (tree_cpu_s(engine_pid) - idle0) / IDLE_S
    controller_idle = (process_cpu_s(controller_pid) - controller_idle0) / IDLE_S * 1000
    e0, c0 = tree_cpu_s(engine_pid), tree_cpu_s(controller_pid)
    wall = await run()
    e1, c1 = tree_cpu_s(engine_pid), tree_cpu_s(controller_pid)
    return wall, max(0.0, e1 - e0 - idle_rate * wall), c1 - c0, controller_idle


async def bench_asterisk(calls: int, concurrency: int, work: Path, digits: str) -> Figures:
    config = _config(REPO / "config" / "clinic.example.yaml")
    latencies = Latencies()

    def on_ami(m: Message) -> None:
        event, command = m.get("Event"), m.get("Command", "").upper()
        at = float(m.get("Timestamp", "0"))  # manager.conf: timestampevents = yes
        if event == "AGIExecEnd" and (command.startswith("GET DATA") or (
                command.startswith("STREAM FILE") and command.endswith('"0123456789*#"'))):
            latencies.key_read(m.get("Channel", ""), at)
        elif event == "AGIExecStart":
            latencies.started(m.get("Channel", ""), at)
            if played_prompt(m) is not None:
                latencies.prompt_started(m.get("Channel", ""), at)

    async with SimulatedClinic.run(config, root=ensure_root(), name="bench") as sim:
        for op in sim.config.operators:
            await sim.set_operator(op.id, "answer", talk_s=2)
        sim.ami.add_handler(on_ami)
        config_file = write_controller_config(sim.config, work / "asterisk.yaml",
                                              queue_log=str(sim.asterisk.queue_log_path))
        db = f"sqlite+aiosqlite:///{work / 'asterisk.db'}"
        async with controller(config_file, db, work / "asterisk.log") as proc:

            async def place(i: int) -> None:
                linkedid = await sim.call(digits=digits, hold_s=60, caller=f"+38050200{i:04d}")
                await sim.finished(linkedid, timeout=120)

            assert sim.asterisk.pid is not None
            wall, engine_cpu, controller_cpu, idle = await measured(
                sim.asterisk.pid, proc.pid, lambda: load(place, calls, concurrency))
    return Figures("asterisk", calls, wall, engine_cpu, controller_cpu, idle, latencies)


async def bench_freeswitch(calls: int, concurrency: int, work: Path,
                           digits: str) -> Figures:
    config = _config(REPO / "config" / "clinic.freeswitch.example.yaml")
    latencies = Latencies()
    prefix = find_built()
    if prefix is None:
        raise SystemExit("FreeSWITCH is not built: run scripts/setup")

    def on_esl(e: EslEvent) -> None:
        app = e.get("Application", "")
        at = int(e.get("Event-Date-Timestamp", "0")) / 1e6  # microseconds
        barge_in = e.get("variable_playback_terminators", "none") != "none"
        if e.name == "CHANNEL_EXECUTE_COMPLETE" and (
                app == "play_and_get_digits" or (app == "playback" and barge_in)):
            latencies.key_read(e.unique_id, at)
        elif e.name == "CHANNEL_EXECUTE":
            latencies.started(e.unique_id, at)
            if app in ("playback", "play_and_get_digits"):
                latencies.prompt_started(e.unique_id, at)

    async with FreeswitchClinic.run(config, prefix=prefix, name="bench") as fsc:
        fs = fsc.fs
        assert fs.esl_port is not None
        assert fs.pid is not None
        monitor = EslClient(fs.esl_host, fs.esl_port, fs.esl_password,
                            events=("CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE"))
        monitor.add_handler(on_esl)
        await monitor.start()
        await monitor.wait_connected(10)
        config_file = write_controller_config(fsc.config, work / "freeswitch.yaml")
        db = f"sqlite+aiosqlite:///{work / 'freeswitch.db'}"
        try:
            async with controller(config_file, db, work / "freeswitch.log") as proc:

                async def place(i: int) -> None:
                    trace = await fsc.call(digits, hold_s=60, caller=f"+38050300{i:04d}")
                    await fsc.observer.finished(trace, 120)

                wall, engine_cpu, controller_cpu, idle = await measured(
                    fs.pid, proc.pid, lambda: load(place, calls, concurrency))
        finally:
            await monitor.close()
    return Figures("freeswitch", calls, wall, engine_cpu, controller_cpu, idle, latencies)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--engines", default="asterisk,freeswitch")
    parser.add_argument("--digits", default=DIGITS,
                        help="the keys each patient presses (w: a pause on Asterisk)")
    args = parser.parse_args()
    figures = []
    with tempfile.TemporaryDirectory(prefix="bench-ivr-") as tmp:
        for name in args.engines.split(","):
            bench = bench_asterisk if name == "asterisk" else bench_freeswitch
            figures.append(await bench(args.calls, args.concurrency, Path(tmp), args.digits))
    head = ["engine", "calls", "calls/s", "engine CPU ms/call", "controller CPU ms/call",
            "controller idle ms/s",
            "read→next app p50 ms", "read→prompt p50 ms", "p99 ms", "samples"]
    rows = [head, *(f.row() for f in figures)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    for r in rows:
        print("  ".join(cell.rjust(w) for cell, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    asyncio.run(main())
