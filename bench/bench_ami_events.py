"""AMI events per call the controller receives, with the generated event filter and without.

    sudo PYTHONPATH=. .venv/bin/python bench/bench_ami_events.py [--calls 12]

One real Asterisk 22 (the sandbox the integration tests use) with the config
``clinicall asterisk-config`` generates, the real controller (its FastAGI IVR and its AMI
link, no store), and the simulated clinic's patients and operators.  Two AMI users log in with
the same read classes: the controller's, with the generated ``eventfilter`` lines
(``controller.asterisk.ami_subscription``), and the simulation's observer, without a filter:
what the controller received before the filter.  Every call goes through the IVR into a queue
and is answered by an operator who talks 2 s.  Printed: frames per call each user received,
the bytes, the process CPU per call of Asterisk (its process tree) beside the count, and
which event kinds the filter dropped.  Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections import Counter
from pathlib import Path

from clinicall.app import build_engine
from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.ami_subscription import controller_filters, subscribed
from clinicall.controller.asterisk.engine import AsteriskEngine
from clinicall.controller.service import Controller
from clinicall.sandbox.rootfs import ensure_root
from clinicall.settings.loader import load_config
from clinicall.simclinic.clinic import SimulatedClinic

EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "clinic.example.yaml"
ENGLISH_NUMBER = "+380441234568"  # no language menu
CLK_TCK = os.sysconf("SC_CLK_TCK")


def tree_cpu_s(root_pid: int) -> float:
    """User + system CPU seconds of ``root_pid`` and every live descendant (Asterisk runs
    under the sandbox's namespace helper)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    total, todo = 0.0, [root_pid]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo += [child for child, parent in parents.items() if parent == pid]
    return total


def process_cpu_s(pid: int) -> float:
    """CPU seconds of one process's threads, to the nanosecond (``/proc/PID/task/*/schedstat``):
    ``/proc/PID/stat`` counts in clock ticks, too coarse for an idle rate over a few seconds."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat", encoding="ascii") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # a thread that ended meanwhile
    return total / 1e9


class Count:
    """Frames and bytes (as ``Header: value`` lines) one AMI handler was given."""

    def __init__(self) -> None:
        self.frames = 0
        self.size = 0
        self.kinds: Counter[str] = Counter()

    def __call__(self, message: Message) -> None:
        self.frames += 1
        self.size += sum(len(k) + len(v) + 4 for k, v in message.headers) + 2
        self.kinds[message.event] += 1


async def run(calls: int) -> None:
    config = load_config(EXAMPLE)
    root = await asyncio.to_thread(ensure_root)
    async with SimulatedClinic.run(config, root=root, name="bench-events") as clinic:
        engine = build_engine(clinic.config)
        assert isinstance(engine, AsteriskEngine)
        controller_count, observer_count = Count(), Count()
        async with Controller(clinic.config, engine):
            await engine.wait_up(10)
            for op in ("op101", "op102", "op103", "op104"):
                await clinic.set_operator(op, "answer", ring_s=1, talk_s=2)
            engine.ami.add_handler(controller_count)
            clinic.ami.add_handler(observer_count)
            pid = clinic.asterisk.pid
            assert pid is not None
            cpu0, wall0 = tree_cpu_s(pid), time.perf_counter()
            received0 = engine.health().events_received
            ids = [await clinic.call(digits="1w2", number=ENGLISH_NUMBER, hold_s=30)
                   for _ in range(calls)]
            for linkedid in ids:
                await clinic.finished(linkedid, timeout=120)
            cpu1, wall1 = tree_cpu_s(pid), time.perf_counter()
            await asyncio.sleep(1)  # the last hangups' events
            received = engine.health().events_received - received0
    filters = controller_filters()
    passed = sum(n for kind, n in observer_count.kinds.items()
                 if kind != "VarSet" and subscribed(filters, kind, {}))
    print(f"{calls} calls (IVR → gynecology, answered, 2 s talk), {wall1 - wall0:.1f} s; "
          f"Asterisk CPU {1000 * (cpu1 - cpu0) / calls:.1f} ms per call")
    print(f"{'AMI user':<34}{'frames':>9}{'per call':>10}{'KB per call':>13}")
    for name, count in (("observer (no filter: before)", observer_count),
                        ("controller (generated filter)", controller_count)):
        print(f"{name:<34}{count.frames:>9}{count.frames / calls:>10.1f}"
              f"{count.size / calls / 1024:>13.1f}")
    print(f"the controller's own count (EngineHealth.events_received): {received / calls:.1f}"
          " per call")
    print(f"ratio controller ÷ observer: {controller_count.frames / observer_count.frames:.2f}"
          f" (non-VarSet kinds the filter passes, counted on the observer: {passed})")
    dropped = {k: n for k, n in observer_count.kinds.items() if k not in controller_count.kinds}
    print("dropped kinds (observer count):",
          ", ".join(f"{k} {n}" for k, n in sorted(dropped.items(), key=lambda kv: -kv[1])))
    print("kept kinds (controller count):",
          ", ".join(f"{k} {n}" for k, n in controller_count.kinds.most_common()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=12)
    asyncio.run(run(parser.parse_args().calls))


if __name__ == "__main__":
    main()
