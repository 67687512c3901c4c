"""Controller-added latency: from a caller's digit reaching the controller to its next command.

A fake Asterisk opens N concurrent FastAGI sessions on loopback and answers every command as
Asterisk does (``200 result=0 endpos=...`` for STREAM FILE, ``200 result=1`` for SET VARIABLE,
``200 result=0`` for EXEC MSet;
GET DATA gets ``200 result=<digit>`` after a random think time), walking the menu path
language 1 → main 1 (appointments) → 3 (pediatrics).  Per GET DATA it measures, on the fake's
side, the time from writing the reply that carries the digit to reading the next command line:
that is what the controller adds (parse reply, run the menu interpreter, encode, write).

The server runs in its own process, as it does next to a real Asterisk, so the fake's own work
does not share its event loop.  The servers, same fake, same run:

* ``controller``: the full stack as deployed (:func:`clinicall.app.running`, what ``clinicall
  run`` starts): the store (SQLite in WAL mode in a temporary folder, or ``--db``), the call
  account (``CallTracker``), the reports' hourly sums, the AMI link and the FastAGI IVR with
  the real menu interpreter (``config/clinic.example.yaml``, the clinic clock pinned inside
  opening hours).  The AMI link is logged in to a fake AMI server of the bench's which, for
  every call the fake Asterisk places, sends that call's events as Asterisk would through the
  controller's event filter (``fake_engine.py``'s queued call and abandoned call, renewed per
  call, kept only if ``controller_filters`` subscribes to them: 15 events a call): half when
  the call starts, half when it ends.  So the account journals and projects while the IVR
  answers, on the same loop, as in production.
* ``ivr``: the same Controller with its FastAGI server only (no store, account or AMI link):
  what this bench measured before 2026-12-04; the account's share is the difference.
* ``bare``: an asyncio streams handler that sends the same command lines with raw
  ``readline``/``write`` and no interpretation at all: the floor of asyncio + loopback TCP.

Each runs once at the given concurrency and once with one call at a time (the baseline, with
short think times so that it gives enough samples quickly).  The server process's CPU (user +
system, from ``/proc``) over each run is printed per call beside the latencies.

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
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for entry in (str(REPO), str(BENCH)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from fake_engine import BANNER, build_stream, encode  # noqa: E402

from clinicall.controller.asterisk.ami.protocol import AMIParser  # noqa: E402
from clinicall.controller.asterisk.ami_subscription import (  # noqa: E402
    controller_filters,
    subscribed,
)

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


async def serve_controller(ami_port: int, db_url: str | None, freeze: bool = True) -> None:
    """The deployed stack (:func:`clinicall.app.running`), its AMI link to ``ami_port``;
    ``freeze``: its heap settled once up, as ``clinicall run`` does (``clinicall/heap.py``)."""
    from clinicall import heap
    from clinicall.app import running
    from clinicall.controller.asterisk.engine import AsteriskEngine
    from clinicall.settings.loader import load_config

    config = load_config(CONFIG)
    settings = config.asterisk_engine().model_copy(update={"ami_port": ami_port})
    config = config.model_copy(update={"engine": settings})
    with tempfile.TemporaryDirectory(prefix="bench-controller-") as tmp:
        queue_log = Path(tmp) / "queue_log"
        queue_log.touch()
        url = db_url or f"sqlite+aiosqlite:///{tmp}/account.db"
        async with running(config, db_url=url, queue_log=queue_log, now=lambda: OPEN_AT,
                           agi_port=0) as parts:  # fmt: skip
            assert isinstance(parts.engine, AsteriskEngine)
            assert parts.engine.agi is not None
            await parts.engine.wait_up(10)
            if freeze:
                heap.settle()  # as `clinicall run` does once up
            await _announce_and_wait(parts.engine.agi.port)


async def serve_ivr_only() -> None:
    """The Controller's FastAGI server alone: no store, account or AMI link."""
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


TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    """utime + stime of ``pid`` (``/proc``), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class CallEvents:
    """Per call, the AMI events Asterisk would send the controller's filtered user: the
    bench's queued and abandoned call (``fake_engine.build_stream``), renewed per call, cut in
    two (the call's start and its end)."""

    def __init__(self, calls: int) -> None:
        stream = build_stream(calls)
        per_call = (len(stream.frames) - 1) // calls
        filters = controller_filters()
        parser = AMIParser(expect_banner=False)
        self.calls: list[tuple[bytes, bytes]] = []
        for call in range(calls):
            kept = [encode(m.headers)
                    for frame in stream.frames[1 + call * per_call:1 + (call + 1) * per_call]
                    for m in parser.feed(frame)
                    if subscribed(filters, m.get("Event", ""), dict(m.headers))]  # fmt: skip
            half = len(kept) // 2
            self.calls.append((b"".join(kept[:half]), b"".join(kept[half:])))


class LiveAmiServer:
    """A fake AMI peer on 127.0.0.1:0: accepts any login, answers every action with
    Success, and writes what :meth:`send` is given to every logged-in client."""

    def __init__(self) -> None:
        self.port = 0
        self._clients: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None
        self.logged_in = asyncio.Event()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in self._clients:
            writer.transport.abort()
        if self._server is not None:
            await self._server.wait_closed()

    def send(self, frames: bytes) -> None:
        for writer in self._clients:
            writer.write(frames)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(BANNER)
        parser = AMIParser(expect_banner=False)
        try:
            while data := await reader.read(4096):
                for msg in parser.feed(data):
                    reply = [("Response", "Success"), ("ActionID", msg.action_id or "")]
                    if msg.get("Action", "").lower() == "login":
                        writer.write(encode([*reply, ("Message", "Authentication accepted")]))
                        writer.write(encode([("Event", "FullyBooted"), ("Privilege", "system,all"),
                                             ("Status", "Fully Booted")]))  # fmt: skip
                        self._clients.append(writer)
                        self.logged_in.set()
                    else:
                        writer.write(encode([*reply, ("Ping", "Pong")]))
        except ConnectionError:
            pass
        finally:
            if writer in self._clients:
                self._clients.remove(writer)
            writer.transport.abort()


@dataclass
class RunResult:
    latencies_ms: list[float] = field(default_factory=list)
    completed: int = 0
    failed: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0  # the server process's, over the run


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
    port: int, index: int, think: tuple[float, float], rng: random.Random, result: RunResult,
    ami: tuple[LiveAmiServer, CallEvents] | None = None,
) -> None:
    """One call as Asterisk drives it; appends one latency per digit to ``result``.  With
    ``ami``, the call's AMI events go out at its start and its end."""
    if ami is not None:
        server, events = ami
        server.send(events.calls[index][0])
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
        if ami is not None:
            server.send(events.calls[index][1])
    result.latencies_ms.extend(samples)
    if queue == EXPECTED_QUEUE and len(samples) == len(SCRIPT):
        result.completed += 1
    else:
        result.failed += 1


async def load(
    port: int, concurrency: int, calls: int, think: tuple[float, float], seed: int,
    ami: tuple[LiveAmiServer, CallEvents] | None = None,
) -> RunResult:
    result = RunResult()
    rng = random.Random(seed)
    slots = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        async with slots:
            if index < concurrency:  # ramp the first wave up over one second
                await asyncio.sleep(rng.uniform(0, 1.0))
            try:
                await fake_call(port, index, think, rng, result, ami)
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


async def measure(kind: str, concurrency: int, calls: int, think: tuple[float, float],
                  db_url: str | None, freeze: bool = True) -> RunResult:  # fmt: skip
    ami_server = LiveAmiServer()
    ami = None
    argv = [sys.executable, __file__, "--serve", kind]
    if kind == "controller":
        await ami_server.start()
        ami = (ami_server, CallEvents(calls))
        argv += ["--ami-port", str(ami_server.port)] + (["--db", db_url] if db_url else [])
        argv += [] if freeze else ["--no-freeze"]
    child = await asyncio.create_subprocess_exec(*argv, stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None
        line = (await child.stdout.readline()).decode().split()
        if len(line) != 2 or line[0] != "PORT":
            raise RuntimeError(f"{kind} server did not start")
        cpu0 = process_cpu_s(child.pid)
        result = await load(int(line[1]), concurrency, calls, think, concurrency, ami)
        result.cpu_s = process_cpu_s(child.pid) - cpu0
        return result
    finally:
        child.send_signal(signal.SIGTERM)
        await child.wait()
        await ami_server.close()


def row(label: str, r: RunResult) -> str:
    lat = r.latencies_ms
    mean = statistics.fmean(lat) if lat else float("nan")
    return (
        f"{label:<26} {len(lat):>7} {mean:>7.2f} {percentile(lat, 0.5):>7.2f} "
        f"{percentile(lat, 0.9):>7.2f} {percentile(lat, 0.99):>7.2f} {max(lat, default=0):>8.2f} "
        f"{r.completed:>6}/{r.completed + r.failed:<6} {r.wall_s:>6.1f} "
        f"{1000 * r.cpu_s / max(1, r.completed + r.failed):>9.2f}"
    )


async def main(args: argparse.Namespace) -> None:
    print(f"cores: {os.cpu_count()}  python {sys.version.split()[0]}  "
          f"think time {args.think_min}-{args.think_max} s (baseline 0.02-0.1 s)")  # fmt: skip
    print(f"{'server, concurrency':<26} {'samples':>7} {'mean':>7} {'p50':>7} {'p90':>7} "
          f"{'p99':>7} {'max':>8} {'calls ok/all':>13} {'wall s':>6} "
          f"{'CPU ms/call':>11}")  # fmt: skip
    print("(latency in ms, digit reply written -> next command read, on the fake's side; "
          "CPU: the server process's user + system over the run, per call)")
    think = (args.think_min, args.think_max)
    for kind in args.servers:
        freeze = not args.no_freeze
        base = await measure(kind, 1, args.baseline_calls, (0.02, 0.1), args.db, freeze)
        print(row(f"{kind}, 1", base), flush=True)
        loaded = await measure(kind, args.concurrency, args.calls, think, args.db, freeze)
        print(row(f"{kind}, {args.concurrency}", loaded), flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--calls", type=int, default=600, help="calls per loaded run")
    parser.add_argument("--baseline-calls", type=int, default=100)
    parser.add_argument("--think-min", type=float, default=0.5)
    parser.add_argument("--think-max", type=float, default=2.0)
    parser.add_argument("--servers", type=lambda s: s.split(","), default=list(SERVERS),
                        help="which servers, comma-separated (controller, ivr, bare)")
    parser.add_argument("--db", help="the full stack's store URL (default: a fresh SQLite)")
    parser.add_argument("--no-freeze", action="store_true",
                        help="the full stack without clinicall run's heap freeze (before it)")
    parser.add_argument("--serve", choices=SERVERS, help=argparse.SUPPRESS)
    parser.add_argument("--ami-port", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


SERVERS = ("controller", "ivr", "bare")

if __name__ == "__main__":
    arguments = parse_args()
    if arguments.serve == "controller":
        asyncio.run(serve_controller(arguments.ami_port, arguments.db, not arguments.no_freeze))
    elif arguments.serve == "ivr":
        asyncio.run(serve_ivr_only())
    elif arguments.serve == "bare":
        asyncio.run(serve_bare())
    else:
        asyncio.run(main(arguments))
