"""FastAGI sessions/s over loopback: clinicall's server + AsteriskCallPort vs a bare asyncio server.

A fake Asterisk runs in a separate process (its own core, as the real one would): N
connections in flight, each sending an AGI environment and answering every command from a
fixed script.  On the server side, (a) FastAgiServer runs AsteriskCallPort with an IVR
function (pluggable: ``run(ivr=...)`` or ``--ivr module:function``; default: answer, set the
language, play 2 prompts, collect 1 digit twice, enqueue), and (b) a bare ``start_server``
handler sends the same command lines with raw readline/write.  Printed side by side:
sessions/s (client wall clock), server CPU per session, and the server's turn p50/p99 as the
fake Asterisk sees it (reply written → next command read; the first command's turn counts
from the environment).  Neither server is instrumented: both are timed from the fake
Asterisk's process, whose CPU is not counted, and the fake Asterisk checks that both sent
the same command lines, session for session (the run stops if they did not).

    .venv/bin/python bench/bench_fastagi.py --sessions 5000 --concurrency 50 \
        [--loops asyncio,uvloop] [--rounds 3]

``--loops`` runs both servers on each loop in turn, in the same run; ``--rounds`` repeats the
pair, clinicall first in odd rounds and the floor first in even ones (a machine's load that
drifts during the run then weighs on both).  The run ends with a summary of CPU per session
for every round: clinicall against the floor on each loop, each loop against the first.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import importlib
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from clinicall import event_loop
from clinicall.agi_scripts.asterisk_port import AsteriskCallPort
from clinicall.agi_scripts.channel import AgiChannel
from clinicall.agi_scripts.server import FastAgiServer
from clinicall.calltypes import QueueRequest
from clinicall.ivr.port import CallPort

Ivr = Callable[[CallPort], Awaitable[None]]

REQUEST = QueueRequest(
    queue="therapy",
    priority=3,
    max_wait_s=300,
    overflow_queue="reception",
    language="uk",
    path="lang:1/main:2/appointments:1",
    route="therapy-appointment",
)


async def representative_ivr(port: CallPort) -> None:
    """About what a returning patient's call costs: 15 AGI commands."""
    await port.answer()
    await port.set_language("uk")
    await port.play(["clinicall/uk/welcome", "clinicall/uk/recorded"], digits="")
    await port.collect(["clinicall/uk/menu_lang"], digits="123", max_digits=1, timeout_s=5)
    await port.collect(["clinicall/uk/menu_main"], digits="1234", max_digits=1, timeout_s=5)
    await port.enqueue(REQUEST)


_EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "clinic.example.yaml"


def _example_clinic_ivr() -> Ivr:
    """The real menu interpreter on the example clinic, inside opening hours.

    The fake Asterisk answers every GET DATA with '1': language 1 (uk), main menu 1
    (appointments), appointments 1 (ultrasound), then enqueue: 16 AGI commands.
    """
    from clinicall.ivr.interpreter import run_ivr
    from clinicall.ivr.plan import IvrPlan
    from clinicall.settings.loader import load_config

    config = load_config(_EXAMPLE)
    plan = IvrPlan.compile(config)
    tuesday_10_kyiv = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)

    async def clinic(port: CallPort) -> None:
        await run_ivr(port, config, now=lambda: tuesday_10_kyiv, plan=plan)

    return clinic


# -- the fake Asterisk (client process) ---------------------------------------------------

ENV = (
    b"agi_network: yes\nagi_network_script: ivr\nagi_request: agi://127.0.0.1:4573/ivr\n"
    b"agi_channel: PJSIP/trunk-00000001\nagi_language: en\nagi_type: PJSIP\n"
    b"agi_uniqueid: 1712345678.1\nagi_version: 22.10.1\nagi_callerid: 380501234567\n"
    b"agi_calleridname: unknown\nagi_dnid: 0800300300\nagi_rdnis: unknown\n"
    b"agi_context: clinicall-in\nagi_extension: s\nagi_priority: 2\nagi_accountcode: \n"
    b"agi_threadid: 1\nagi_arg_1: 1712345678.0\n\n"
)

REPLIES = {
    b"STREAM": b"200 result=0 endpos=8000\n",
    b"GET DATA": b"200 result=1\n",
    b"GET VARIABLE": b"200 result=1 (1712345678.0)\n",
    b"ANSWER": b"200 result=0\n",
}


def reply_for(command: bytes) -> bytes:
    for prefix, reply in REPLIES.items():
        if command.startswith(prefix):
            return reply
    return b"200 result=1\n"


async def fake_asterisk(port: int, sessions: int, concurrency: int) -> dict[str, object]:
    remaining = sessions
    commands = 0
    turns: list[float] = []  # the server's turn: reply (or environment) written → next command
    sequences: dict[str, int] = {}  # digest of a session's command lines → sessions that sent it

    async def one_session() -> None:
        nonlocal commands
        lines = hashlib.blake2b(digest_size=16)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(ENV)
        sent = time.perf_counter()
        while line := await reader.readline():
            turns.append(time.perf_counter() - sent)
            commands += 1
            lines.update(line)
            writer.write(reply_for(line))
            sent = time.perf_counter()
        writer.close()
        await writer.wait_closed()
        digest = lines.hexdigest()
        sequences[digest] = sequences.get(digest, 0) + 1

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await one_session()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    quantiles = statistics.quantiles(turns, n=100) if len(turns) > 1 else [0.0] * 99
    return {
        "wall": time.perf_counter() - started,
        "commands": commands,
        "p50": quantiles[49],
        "p99": quantiles[98],
        "sequences": sequences,
    }


def digest(lines: list[bytes]) -> str:
    """The digest the fake Asterisk computes for a session that sent ``lines``."""
    return hashlib.blake2b(b"".join(lines), digest_size=16).hexdigest()


# -- the servers --------------------------------------------------------------------------


async def record_commands(ivr: Ivr) -> list[bytes]:
    """The command lines ``ivr`` sends, for the bare server to replay byte for byte."""
    lines: list[bytes] = []

    async def handler(channel: AgiChannel) -> None:
        await ivr(await AsteriskCallPort.open(channel))

    async with FastAgiServer(handler, port=0) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(ENV)
        while line := await reader.readline():
            lines.append(line)
            writer.write(reply_for(line))
        writer.close()
        await writer.wait_closed()
    return lines


@dataclass
class Figures:
    name: str
    sessions_per_s: float
    cpu_ms_per_session: float
    commands_per_session: float
    p50_ms: float
    p99_ms: float


Client = dict[str, Any]


async def run_client(port: int, sessions: int, concurrency: int) -> Client:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--client",
        str(port),
        "--sessions",
        str(sessions),
        "--concurrency",
        str(concurrency),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    result: Client = json.loads(out)
    return result


def figures(name: str, client: Client, cpu: float, sessions: int, expected: str) -> Figures:
    """The row for one server; SystemExit unless every session sent the expected lines."""
    sequences: dict[str, int] = client["sequences"]
    if set(sequences) != {expected}:
        others = sum(n for d, n in sequences.items() if d != expected)
        raise SystemExit(
            f"{name}: {others} of {sessions} sessions sent other command lines than the "
            "recorded ones; the two servers would not be compared on the same work"
        )
    return Figures(
        name,
        sessions / client["wall"],
        cpu / sessions * 1000,
        client["commands"] / sessions,
        client["p50"] * 1000,
        client["p99"] * 1000,
    )


async def measured(port: int, sessions: int, concurrency: int) -> tuple[Client, float]:
    """The fake Asterisk's figures and this process's CPU seconds while it ran."""
    gc.collect()  # the previous phase's garbage is not collected on this one's clock
    cpu = time.process_time()
    client = await run_client(port, sessions, concurrency)
    return client, time.process_time() - cpu


async def bench_clinicall(ivr: Ivr, sessions: int, concurrency: int, expected: str) -> Figures:
    async def handler(channel: AgiChannel) -> None:
        await ivr(await AsteriskCallPort.open(channel))

    budget = concurrency * 2
    server = FastAgiServer(handler, port=0, max_sessions=budget, max_pending_headers=budget)
    async with server:
        client, cpu = await measured(server.port, sessions, concurrency)
    return figures("clinicall FastAgiServer+port", client, cpu, sessions, expected)


async def bench_bare(lines: list[bytes], sessions: int, concurrency: int) -> Figures:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.readline() not in (b"\n", b""):
            pass  # the environment
        for line in lines:
            writer.write(line)
            await reader.readline()
        writer.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        client, cpu = await measured(port, sessions, concurrency)
    return figures("bare asyncio streams", client, cpu, sessions, digest(lines))


async def run(
    ivr: Ivr = representative_ivr, sessions: int = 5000, concurrency: int = 50, rounds: int = 1
) -> list[list[Figures]]:
    """clinicall and the bare floor, ``rounds`` times on the running loop; prints each pair
    as [clinicall, floor] (clinicall runs first in odd rounds, second in even ones)."""
    lines = await record_commands(ivr)
    expected = digest(lines)
    loop = type(asyncio.get_running_loop()).__module__.split(".")[0]
    print(f"{loop}: {sessions} sessions, {concurrency} in flight, {len(lines)} commands a session")
    header = ("sessions/s", "cpu ms/sess", "cmds/sess", "turn p50 ms", "turn p99 ms")
    print(f"{'':30} {header[0]:>10} {header[1]:>11} {header[2]:>9} {header[3]:>11} {header[4]:>11}")
    pairs: list[list[Figures]] = []
    for number in range(1, rounds + 1):
        if number % 2:
            clinicall = await bench_clinicall(ivr, sessions, concurrency, expected)
            bare = await bench_bare(lines, sessions, concurrency)
        else:
            bare = await bench_bare(lines, sessions, concurrency)
            clinicall = await bench_clinicall(ivr, sessions, concurrency, expected)
        pairs.append([clinicall, bare])
        for f in (clinicall, bare):
            print(
                f"{f.name:30} {f.sessions_per_s:10.0f} {f.cpu_ms_per_session:11.3f}"
                f" {f.commands_per_session:9.1f} {f.p50_ms:11.3f} {f.p99_ms:11.3f}"
            )
    return pairs


def summary(by_loop: dict[str, list[list[Figures]]]) -> None:
    """CPU per session side by side, round by round: clinicall ÷ the bare floor on each loop
    (as "×": the floor's CPU over clinicall's, 1.0 = as cheap as bare streams), and each loop
    against the first one given, in the same round."""
    first = next(iter(by_loop))
    print(f"\n{'loop':8} {'round':>5} {'clinicall ms':>12} {'bare ms':>8} {'bare÷clinicall':>14}"
          f" {'clinicall vs ' + first:>18} {'bare vs ' + first:>14}")
    for loop, pairs in by_loop.items():
        for number, (clinicall, bare) in enumerate(pairs, 1):
            base_clinicall, base_bare = by_loop[first][number - 1]
            print(
                f"{loop:8} {number:5} {clinicall.cpu_ms_per_session:12.3f}"
                f" {bare.cpu_ms_per_session:8.3f}"
                f" {bare.cpu_ms_per_session / clinicall.cpu_ms_per_session:13.2f}×"
                f" {clinicall.cpu_ms_per_session / base_clinicall.cpu_ms_per_session:17.2f}×"
                f" {bare.cpu_ms_per_session / base_bare.cpu_ms_per_session:13.2f}×"
            )


def load_ivr(spec: str) -> Ivr:
    module, _, attr = spec.partition(":")
    ivr: Ivr = getattr(importlib.import_module(module), attr)
    return ivr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument(
        "--ivr",
        help="module:function taking a CallPort, or 'clinic' for the "
        "real menu on the example clinic (default: a built-in 15-command call)",
    )
    parser.add_argument(
        "--loops",
        default="asyncio",
        help="comma-separated event loops to run the servers on, one after the other in this "
        "run: asyncio, uvloop (the fake Asterisk always runs on asyncio); default asyncio",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="clinicall and the floor this many times on each loop, alternating which goes "
        "first; default 1",
    )
    parser.add_argument("--client", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        stats = asyncio.run(fake_asterisk(args.client, args.sessions, args.concurrency))
        print(json.dumps(stats))
        return
    if args.ivr == "clinic":
        ivr = _example_clinic_ivr()
    else:
        ivr = load_ivr(args.ivr) if args.ivr else representative_ivr
    by_loop: dict[str, list[list[Figures]]] = {}
    for loop in args.loops.split(","):
        by_loop[loop] = event_loop.run(
            run(ivr, args.sessions, args.concurrency, args.rounds), loop=loop
        )
    summary(by_loop)


if __name__ == "__main__":
    main()
