"""Controller-added latency: from a caller's digit reaching the controller to its next command.

A fake Asterisk opens N concurrent FastAGI sessions on loopback and answers every command as
Asterisk does (``200 result=0 endpos=...`` for STREAM FILE, ``200 result=1`` for SET VARIABLE,
``200 result=0`` for EXEC MSet;
GET DATA gets ``200 result=<digit>`` after a random think time), walking the menu path
language 1 → main 1 (appointments) → 3 (pediatrics).  Per GET DATA it measures, on the fake's
side, the time from writing the reply that carries the digit to reading the next command line:
that is what the controller adds (parse reply, run the menu interpreter, encode, write).

The server runs in its own process, as it does next to a real Asterisk, so the fake's own work
does not share its event loop.  Two servers, same fake, same run:

* ``controller``: the real :class:`clinicall.controller.service.Controller` (its FastAGI server and
  ``ivr_session`` handler, the real menu interpreter, ``config/clinic.example.yaml``) with the
  clinic clock pinned inside opening hours; the AMI link is not started (no Asterisk here).
* ``bare``: an asyncio streams handler that sends the same command lines with raw
  ``readline``/``write`` and no interpretation at all: the floor of asyncio + loopback TCP.

Each runs once at the given concurrency and once with one call at a time (the baseline, with
short think times so that it gives enough samples quickly).

Run: .venv/bin/python bench/bench_controller.py [--concurrency 200] [--calls 600]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

CONFIG = REPO / "config" / "clinic.example.yaml"
#: A Wednesday, 11:00 in Kyiv: inside the example clinic's opening hours.
OPEN_AT = datetime(2026, 3, 11, 11, 0, tzinfo=ZoneInfo("Europe/Kyiv"))
#: Digits typed at each GET DATA: language 1 (uk), main 1 (appointments), 3 (pediatrics).
SCRIPT = ("1", "1", "3")
EXPECTED_QUEUE = "pediatrics"

# What the controller sends for that path, for the bare floor server to send the same lines.
_QUEUE_VARIABLES = (
    ("CLINICALL_QUEUE", EXPECTED_QUEUE), ("CLINICALL_PRIORITY", "1"), ("QUEUE_PRIO", "1"),
    ("CLINICALL_MAX_WAIT", "60"), ("CLINICALL_OVERFLOW", "universal"),
    ("CLINICALL_LANG", "uk"), ("CLINICALL_PATH", "lang:1/main:1/appointments:3"),
    ("CLINICALL_ROUTE", "pediatrics"), ("CLINICALL_OUTCOME", "queue"),
)  # fmt: skip
BARE_LINES = [
    'ANSWER', 'STREAM FILE "clinicall/uk/language_menu" "0123456789*#"',
    'STREAM FILE "clinicall/ru/language_menu" "0123456789*#"',
    'GET DATA "clinicall/en/language_menu" "5000" "1"',
    'SET VARIABLE "CHANNEL(language)" "uk"',
    'STREAM FILE "clinicall/uk/welcome" "0123456789*#"',
    'STREAM FILE "clinicall/uk/emergency" "0123456789*#"',
    'GET DATA "clinicall/uk/menu_main" "5000" "1"',
    'GET DATA "clinicall/uk/menu_appointments" "5000" "1"',
    'STREAM FILE "clinicall/uk/queue_pediatrics" ""',
    'EXEC "MSet" "' + ",".join(f"{name}={value}" for name, value in _QUEUE_VARIABLES) + '"',
]  # fmt: skip


# ---- the servers (child process) -------------------------------------------------------


async def serve_controller() -> None:
    from clinicall.controller.asterisk.engine import AsteriskEngine
    from clinicall.controller.service import Controller
    from clinicall.settings.loader import load_config

    config = load_config(CONFIG)
    engine = AsteriskEngine(config.asterisk_engine(), agi_port=0)
    controller = Controller(config, engine, now=lambda: OPEN_AT)
    # FastAGI only (engine.start would connect AMI, which would look for an Asterisk)
    await engine.serve_calls(controller.ivr_session)
    assert engine.agi is not None
    try:
        await _announce_and_wait(engine.agi.port)
    finally:
        await engine.close()


async def _bare_session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while (await reader.readline()).strip():  # the environment, up to the blank line
            pass
        for line in BARE_LINES:
            writer.write(line.encode() + b"\n")
            if not await reader.readline():
                return
    finally:
        writer.close()


async def serve_bare() -> None:
    server = await asyncio.start_server(_bare_session, "127.0.0.1", 0)
    try:
        await _announce_and_wait(server.sockets[0].getsockname()[1])
    finally:
        server.close()


async def _announce_and_wait(port: int) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print(f"PORT {port}", flush=True)
    await stop.wait()


# ---- the fake Asterisk (parent process) ------------------------------------------------


@dataclass
class RunResult:
    latencies_ms: list[float] = field(default_factory=list)
    completed: int = 0
    failed: int = 0
    wall_s: float = 0.0


def environment(index: int) -> bytes:
    uid = f"1741690000.{index}"
    env = {
        "network": "yes", "network_script": "ivr", "request": "agi://127.0.0.1:4573/ivr",
        "channel": f"PJSIP/trunk-{index:08x}", "language": "en", "type": "PJSIP",
        "uniqueid": uid, "version": "22.10.1", "callerid": f"38050{index:07d}",
        "calleridname": "unknown", "callingpres": "0", "dnid": "0441234567",
        "rdnis": "unknown", "context": "clinicall-in", "extension": "s", "priority": "2",
        "enhanced": "0.0", "accountcode": "", "threadid": str(140000 + index), "arg_1": uid,
    }  # fmt: skip
    return b"".join(f"agi_{k}: {v}\n".encode() for k, v in env.items()) + b"\n"


async def fake_call(
    port: int, index: int, think: tuple[float, float], rng: random.Random, result: RunResult
) -> None:
    """One call as Asterisk drives it; appends one latency per digit to ``result``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    digits = iter(SCRIPT)
    queue = ""
    samples: list[float] = []
    try:
        writer.write(environment(index))
        sent_digit_at: float | None = None
        while line := await reader.readline():
            if sent_digit_at is not None:
                samples.append((time.perf_counter() - sent_digit_at) * 1000)
                sent_digit_at = None
            command = line.decode()
            if command.startswith("GET DATA"):
                await asyncio.sleep(rng.uniform(*think))
                digit = next(digits, "")
                reply = f"200 result={digit}\n" if digit else "200 result= (timeout)\n"
                sent_digit_at = time.perf_counter()
                writer.write(reply.encode())
                continue
            if command.startswith("STREAM FILE"):
                reply = "200 result=0 endpos=64000\n"
            elif command.startswith('SET VARIABLE "CLINICALL_QUEUE"'):
                queue = command.split('"')[3]
                reply = "200 result=1\n"
            elif command.startswith('EXEC "MSet" "CLINICALL_QUEUE='):
                queue = command.split("=", 1)[1].split(",", 1)[0]
                reply = "200 result=0\n"
            else:  # ANSWER, SET VARIABLE, ...
                reply = "200 result=1\n" if command.startswith("SET") else "200 result=0\n"
            writer.write(reply.encode())
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    result.latencies_ms.extend(samples)
    if queue == EXPECTED_QUEUE and len(samples) == len(SCRIPT):
        result.completed += 1
    else:
        result.failed += 1


async def load(
    port: int, concurrency: int, calls: int, think: tuple[float, float], seed: int
) -> RunResult:
    result = RunResult()
    rng = random.Random(seed)
    slots = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        async with slots:
            if index < concurrency:  # ramp the first wave up over one second
                await asyncio.sleep(rng.uniform(0, 1.0))
            try:
                await fake_call(port, index, think, rng, result)
            except OSError:
                result.failed += 1

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for index in range(calls):
            group.create_task(one(index))
    result.wall_s = time.perf_counter() - started
    return result


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(kind: str, concurrency: int, calls: int, think: tuple[float, float]) -> RunResult:
    child = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve", kind, stdout=subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        line = (await child.stdout.readline()).decode().split()
        if len(line) != 2 or line[0] != "PORT":
            raise RuntimeError(f"{kind} server did not start")
        return await load(int(line[1]), concurrency, calls, think, seed=concurrency)
    finally:
        child.send_signal(signal.SIGTERM)
        await child.wait()


def row(label: str, r: RunResult) -> str:
    lat = r.latencies_ms
    mean = statistics.fmean(lat) if lat else float("nan")
    return (
        f"{label:<26} {len(lat):>7} {mean:>7.2f} {percentile(lat, 0.5):>7.2f} "
        f"{percentile(lat, 0.9):>7.2f} {percentile(lat, 0.99):>7.2f} {max(lat, default=0):>8.2f} "
        f"{r.completed:>6}/{r.completed + r.failed:<6} {r.wall_s:>6.1f}"
    )


async def main(args: argparse.Namespace) -> None:
    print(f"cores: {os.cpu_count()}  python {sys.version.split()[0]}  "
          f"think time {args.think_min}-{args.think_max} s (baseline 0.02-0.1 s)")  # fmt: skip
    print(f"{'server, concurrency':<26} {'samples':>7} {'mean':>7} {'p50':>7} {'p90':>7} "
          f"{'p99':>7} {'max':>8} {'calls ok/all':>13} {'wall s':>6}")  # fmt: skip
    print("(latency in ms, digit reply written -> next command read, on the fake's side)")
    think = (args.think_min, args.think_max)
    for kind in ("controller", "bare"):
        base = await measure(kind, 1, args.baseline_calls, (0.02, 0.1))
        print(row(f"{kind}, 1", base), flush=True)
        loaded = await measure(kind, args.concurrency, args.calls, think)
        print(row(f"{kind}, {args.concurrency}", loaded), flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--calls", type=int, default=600, help="calls per loaded run")
    parser.add_argument("--baseline-calls", type=int, default=100)
    parser.add_argument("--think-min", type=float, default=0.5)
    parser.add_argument("--think-max", type=float, default=2.0)
    parser.add_argument("--serve", choices=("controller", "bare"), help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.serve == "controller":
        asyncio.run(serve_controller())
    elif arguments.serve == "bare":
        asyncio.run(serve_bare())
    else:
        asyncio.run(main(arguments))
