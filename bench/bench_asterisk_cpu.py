"""CPU per call on the real Asterisk: the controller (IVR only; IVR + account) beside Asterisk.

    sudo PYTHONPATH=. .venv/bin/python bench/bench_asterisk_cpu.py [--calls 20] [--idle-s 5]

One real Asterisk 22 (the integration tests' sandbox) with the generated config (its AMI
event filter included) and the simulated clinic's patients and operators (Local channels, so
Asterisk's figure includes the simulation's legs: an upper bound of its cost for a SIP call).
The controller runs in its own process, as deployed, once per mode:

* ``ivr``: the FastAGI IVR and the AMI link, no account;
* ``ivr+account``: the same with the call account (``CallTracker``) on a fresh SQLite store;
* ``dialplan``: no controller: Asterisk runs the same menu in its own dialplan, written from
  the first ``ivr`` call's FastAGI commands and variables (``dialplan_ivr.py``): the floor.

Each mode first idles ``--idle-s`` seconds (the controller's idle CPU, ms per second), then
places ``--calls`` calls at once through the IVR into the gynecology queue (answered after
1 s, 2 s talk), waits for every one to end and for the account's last flush, and reads the
CPU (user + system) of the controller's process and of Asterisk's process tree over the
calls.  Printed per mode: ms CPU per call of each, their ratio (issue 16: controller ≤ 0.5×
Asterisk), idle ms/s, the AMI events the controller received per call, and how many times the
account re-projected each call (its rows rewritten from its journal).  Not a test.

The ``dialplan`` row's Asterisk figure beside the ``ivr`` row's says what handing the menu
to the controller costs Asterisk itself (the FastAGI connection and commands).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for entry in (str(REPO), str(BENCH)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from bench_ami_events import ENGLISH_NUMBER, EXAMPLE, tree_cpu_s  # noqa: E402
from dialplan_ivr import IVR_VARIABLES, dialplan_ivr, without_controller  # noqa: E402

from clinicall.asterisk_config import installed_asterisk_config  # noqa: E402
from clinicall.sandbox.ports import EnginePorts  # noqa: E402
from clinicall.settings.loader import load_config  # noqa: E402
from clinicall.settings.models import ClinicConfig  # noqa: E402
from clinicall.simclinic.calltrace import CallTrace  # noqa: E402
from clinicall.simclinic.clinic import SimulatedClinic, with_ports  # noqa: E402

TUESDAY_10_KYIV = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # the clinic is open
MODES = ("ivr", "ivr+account", "dialplan")
CONTROLLER_MODES = MODES[:2]
DIGITS = "1w2"  # appointments, gynecology


@dataclass(frozen=True)
class ModeResult:
    mode: str
    calls: int
    controller_ms: float  # per call
    asterisk_ms: float  # per call
    idle_ms_per_s: float
    events_per_call: float
    seconds: float
    projections_per_call: float  # times the account rewrote each call's rows


# ---- the controller's process ----------------------------------------------------------


async def serve(config_json: str, mode: str, queue_log: str) -> None:
    """The child: run the controller until stdin closes; answer ``cpu`` with its CPU seconds
    and the AMI events it received."""
    from clinicall.app import build_engine
    from clinicall.cli import configure_logging
    from clinicall.controller.asterisk.record import QueueLogRecord
    from clinicall.controller.service import Controller
    from clinicall.controller.tracking.config import TrackingConfig
    from clinicall.controller.tracking.tracker import CallTracker
    from clinicall.db import create_engine, session_factory, upgrade

    configure_logging()  # as `clinicall run`: WARNING and up, each cause once a minute
    config = ClinicConfig.model_validate_json(config_json)
    engine = build_engine(config)
    tracker = db = None
    if mode == "ivr+account":
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='clinicall-cpu-')}/account.db"
        await upgrade(url)
        db = create_engine(url)
        tracker = CallTracker(session_factory(db), QueueLogRecord(queue_log),
                              TrackingConfig.from_clinic(config))  # fmt: skip
        await tracker.start()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with Controller(config, engine, account=tracker, now=lambda: TUESDAY_10_KYIV):
        await engine.wait_up(10)
        print("READY", flush=True)
        while line := await reader.readline():
            if tracker is not None:
                await tracker.flush()
            projected = tracker.stats.calls_projected if tracker is not None else 0
            print(json.dumps({"cpu_s": time.process_time(),
                              "events": engine.health().events_received,
                              "projected": projected,
                              "asked": line.decode().strip()}), flush=True)  # fmt: skip
    if tracker is not None:
        await tracker.close()
    if db is not None:
        await db.dispose()


class ControllerProcess:
    """The child process, asked for its CPU over a pipe."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, config: ClinicConfig, mode: str, queue_log: Path) -> ControllerProcess:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--serve", mode, "--queue-log", str(queue_log),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "CLINICALL_BENCH_CONFIG": config.model_dump_json()})
        child = cls(proc)
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if line.strip() != b"READY":
            raise RuntimeError(f"the controller did not start: {line!r}")
        return child

    async def usage(self) -> tuple[float, int, int]:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(b"cpu\n")
        await self.proc.stdin.drain()
        reply = json.loads(await asyncio.wait_for(self.proc.stdout.readline(), 60))
        return float(reply["cpu_s"]), int(reply["events"]), int(reply["projected"])

    async def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        await asyncio.wait_for(self.proc.wait(), 30)


# ---- the run ---------------------------------------------------------------------------


@dataclass
class Measured:
    """One mode's result, and the first call's trace (the dialplan IVR is written from it)."""

    result: ModeResult
    first_call: CallTrace


async def one_mode(mode: str, calls: int, idle_s: float, root: Path,
                   ivr_context: str | None = None) -> Measured:  # fmt: skip
    """``ivr_context``: for ``dialplan``, the menu in dialplan (``dialplan_ivr``)."""
    config = load_config(EXAMPLE)
    ports = EnginePorts.pick()
    own_files = None
    if mode == "dialplan":
        assert ivr_context is not None
        generated = installed_asterisk_config(with_ports(config, ports), simulated=True)
        name = "clinicall_extensions.conf"
        own_files = {name: without_controller(generated[name], ivr_context)}
    async with SimulatedClinic.run(config, root=root, name=f"cpu-{mode.replace('+', '-')}",
                                   ports=ports, own_files=own_files) as clinic:  # fmt: skip
        child = None
        if mode in CONTROLLER_MODES:
            child = await ControllerProcess.start(clinic.config, mode,
                                                  clinic.asterisk.queue_log_path)  # fmt: skip
        try:
            for op in ("op101", "op102", "op103", "op104"):
                await clinic.set_operator(op, "answer", ring_s=1, talk_s=2)
            idle0 = idle1 = cpu1 = 0.0
            events0 = events1 = projected0 = projected1 = 0
            if child is not None:
                idle0, _, _ = await child.usage()
                await asyncio.sleep(idle_s)  # measuring idle: nothing to wait for but time
                idle1, events0, projected0 = await child.usage()
            pid = clinic.asterisk.pid
            assert pid is not None
            ast0, wall0 = tree_cpu_s(pid), time.perf_counter()
            ids = await asyncio.gather(*(
                clinic.call(digits=DIGITS, number=ENGLISH_NUMBER, hold_s=60)
                for _ in range(calls)))  # fmt: skip
            traces = [await clinic.finished(linkedid, timeout=300) for linkedid in ids]
            ast1, wall1 = tree_cpu_s(pid), time.perf_counter()
            if child is not None:
                cpu1, events1, projected1 = await child.usage()
        finally:
            if child is not None:
                await child.stop()
    queues = {t.variable("CLINICALL_QUEUE") for t in traces}
    if queues != {"gynecology"}:  # the dialplan IVR must walk the menu as the controller did
        raise RuntimeError(f"{mode}: the calls' queues were {sorted(map(str, queues))}")
    result = ModeResult(mode, calls, 1000 * (cpu1 - idle1) / calls,
                        1000 * (ast1 - ast0) / calls,
                        1000 * (idle1 - idle0) / idle_s if child is not None else 0.0,
                        (events1 - events0) / calls, wall1 - wall0,
                        (projected1 - projected0) / calls)  # fmt: skip
    return Measured(result, traces[0])


def menu_in_dialplan(trace: CallTrace) -> str:
    """The dialplan IVR for the menu one controller-driven call walked."""
    commands = [m.get("Command", "") for m in trace.named("AGIExecStart")]
    variables = {name: value for name in IVR_VARIABLES
                 if (value := trace.variable(name)) is not None}  # fmt: skip
    return dialplan_ivr(commands, variables)


async def run(calls: int, idle_s: float) -> None:
    from clinicall.sandbox.rootfs import ensure_root

    root = await asyncio.to_thread(ensure_root)
    print(f"{calls} calls at once per mode (IVR → gynecology, answered after 1 s, 2 s talk); "
          f"idle {idle_s:g} s first")  # fmt: skip
    print(f"{'mode':<13}{'controller ms/call':>19}{'Asterisk ms/call':>18}{'ratio':>8}"
          f"{'idle ms/s':>11}{'AMI events/call':>17}{'projections/call':>18}{'wall s':>8}")
    ivr_context = None
    for mode in MODES:
        measured = await one_mode(mode, calls, idle_s, root, ivr_context)
        if mode == "ivr":
            ivr_context = menu_in_dialplan(measured.first_call)
        r = measured.result
        if mode in CONTROLLER_MODES:
            print(f"{r.mode:<13}{r.controller_ms:>19.2f}{r.asterisk_ms:>18.2f}"
                  f"{r.controller_ms / r.asterisk_ms:>7.2f}×{r.idle_ms_per_s:>11.2f}"
                  f"{r.events_per_call:>17.1f}{r.projections_per_call:>18.1f}{r.seconds:>8.1f}",
                  flush=True)
        else:
            print(f"{r.mode:<13}{'-':>19}{r.asterisk_ms:>18.2f}{'-':>8}{'-':>11}{'-':>17}"
                  f"{'-':>18}{r.seconds:>8.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--idle-s", type=float, default=5.0)
    parser.add_argument("--serve", choices=CONTROLLER_MODES, help=argparse.SUPPRESS)
    parser.add_argument("--queue-log", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(os.environ["CLINICALL_BENCH_CONFIG"], args.serve, args.queue_log))
    else:
        asyncio.run(run(args.calls, args.idle_s))


if __name__ == "__main__":
    main()
