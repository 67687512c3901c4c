"""The wallboard's push against polling: 200 wallboards, 50 live calls' queue events.

The console (``clinicall.web.build_app`` on a ``LiveState``, a migrated SQLite store, the
example clinic) runs in its own process, as it does beside the controller, so its CPU time is
its own: read from ``/proc/<pid>/stat`` over the measured window.  In it a generator plays 50
live calls through the five example queues (join, ring, answer or leave, the operator's state;
about 20 facts a second) into the live state, the way the call tracker feeds it.

* ``push``: 200 WebSocket clients on ``/kiosk/ws`` (the wallboard's socket, as a wall screen
  opens it).  Each message carries the facts applied since the previous one (instrumented in
  this bench only: the push's ``state`` is wrapped), so every client measures **fact applied →
  message received** for every fact, coalesced or not.
* ``poll``: 200 clients each asking ``/api/live`` and ``/api/kpi`` every 5 s (what the old
  dashboard's script did), started at random offsets.  A fact is seen by a client at the
  first poll it *sent* after the fact, so fact → seen = that poll's answer time − the fact's
  time.

Both clocks are the same machine's ``time.time()``.  "Paint" is not measured (no browser):
the page paints within a frame of the message.

Run: PYTHONPATH=. .venv/bin/python bench/bench_wallboard_push.py [--clients 200]
     [--calls 50] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

CONFIG = REPO / "config" / "clinic.example.yaml"
KIOSK_TOKEN = "bench-kiosk-token-0123456789abcdef"
SECRET = b"bench-secret-" * 4
POLL_EVERY_S = 5.0
FACTS_KEY = '"bench_facts": '
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---- the console's process ------------------------------------------------------------------

async def serve(port: int, calls: int, seconds: float, db: Path) -> None:
    """The console with a live state; on "start" from stdin, ``seconds`` of call facts; then
    the facts' times as one JSON line on stdout."""
    from aiohttp import web

    from clinicall.controller.facts import (
        MemberRung,
        MemberSeen,
        MemberState,
        QueueJoined,
        QueueLeft,
    )
    from clinicall.controller.tracking.live import LiveState
    from clinicall.db import create_engine, session_factory, upgrade
    from clinicall.db.models import Role
    from clinicall.settings import load_config
    from clinicall.web import build_app
    from clinicall.web.passwords import PasswordCost
    from clinicall.web.users import add_user
    from clinicall.web.wallboard_push import PUSH

    url = f"sqlite+aiosqlite:///{db}"
    await upgrade(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    token = (await add_user(sessions, "bench", Role.MANAGER, "bench password 1234",
                            with_token=True,
                            cost=PasswordCost(time_cost=1, memory_kib=1024, parallelism=1))
             ).api_token
    config = load_config(CONFIG)
    config = config.model_copy(update={"console": config.console.model_copy(
        update={"kiosk_token": KIOSK_TOKEN})})
    live = LiveState()
    app = build_app(sessions=sessions, config=config, live=live, secret=SECRET,
                    cookie_secure=False)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(json.dumps({"ready": True, "token": token}), flush=True)

    pending: list[tuple[int, float]] = []
    push = app[PUSH]
    build_state = push.state

    async def state() -> dict[str, object]:
        covered = pending[:]  # applied before the snapshot: surely in this state
        pending.clear()
        built = await build_state()
        built["bench_facts"] = covered
        return built

    push.state = state  # type: ignore[method-assign]  # this bench's instrument only
    line = await asyncio.to_thread(sys.stdin.readline)
    assert line.strip() == "start"
    times = await play(live, calls, seconds, pending,
                       (MemberRung, MemberSeen, MemberState, QueueJoined, QueueLeft))
    await asyncio.sleep(POLL_EVERY_S + 1)  # the last polls see the last facts
    print(json.dumps({"facts": times}), flush=True)
    await asyncio.to_thread(sys.stdin.readline)  # "stop"
    await runner.cleanup()
    await engine.dispose()


async def play(live: Any, calls: int, seconds: float, pending: list[tuple[int, float]],
               kinds: tuple[Any, ...]) -> list[float]:
    """``calls`` calls cycling join → ring → answer (or leave) → operator on call → idle."""
    rung, seen, state, joined, left = kinds
    queues = ["ultrasound", "gynecology", "pediatrics", "therapy", "universal"]
    rng = random.Random(7)
    times: list[float] = []
    end = time.monotonic() + seconds

    def apply(fact: Any) -> None:
        pending.append((len(times), time.time()))
        times.append(pending[-1][1])
        live.apply(fact)

    async def one(n: int) -> None:
        await asyncio.sleep(rng.uniform(0, 5))
        cycle = 0
        while time.monotonic() < end:
            cid, queue = f"c{n}-{cycle}", queues[n % len(queues)]
            member, now = f"PJSIP/op{n}", datetime.now(UTC)
            apply(joined(key=f"j{cid}", at=now, call_id=cid, channel_id=cid, queue=queue,
                         caller_number=f"05011{n:05d}"))
            await asyncio.sleep(rng.uniform(1, 4))
            apply(rung(key=f"r{cid}", at=datetime.now(UTC), call_id=cid, channel_id=cid,
                       queue=queue, member=member, member_name=f"op{n}"))
            await asyncio.sleep(rng.uniform(0.5, 2))
            apply(left(key=f"l{cid}", at=datetime.now(UTC), call_id=cid, channel_id=cid,
                       queue=queue))
            apply(seen(key=f"s{cid}", at=datetime.now(UTC), queue=queue, member=member,
                       member_name=f"op{n}", state=state.IN_CALL, paused=False))
            await asyncio.sleep(rng.uniform(2, 6))
            apply(seen(key=f"i{cid}", at=datetime.now(UTC), queue=queue, member=member,
                       member_name=f"op{n}", state=state.IDLE, paused=False))
            cycle += 1

    await asyncio.gather(*(one(n) for n in range(calls)))
    return times


# ---- the clients (this process) -------------------------------------------------------------

@dataclass
class Seen:
    latencies: list[float] = field(default_factory=list)
    messages: int = 0
    bytes: int = 0
    dropped: int = 0  # sockets the console closed before the end (too slow to take a push)


async def push_clients(port: int, clients: int, started: asyncio.Event, stop: asyncio.Event,
                       seen: Seen) -> None:
    import aiohttp

    origin = f"http://127.0.0.1:{port}"
    url = f"ws://127.0.0.1:{port}/kiosk/ws?token={KIOSK_TOKEN}"
    connected = 0
    all_in = asyncio.Event()
    sockets: list[aiohttp.ClientWebSocketResponse] = []

    async def one(http: aiohttp.ClientSession) -> None:
        nonlocal connected
        async with http.ws_connect(url, headers={"Origin": origin}, heartbeat=None) as ws:
            sockets.append(ws)
            connected += 1
            if connected == clients:
                all_in.set()
            async for message in ws:  # until this bench closes it at the end
                at = time.time()
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                seen.messages += 1
                seen.bytes += len(message.data)
                # the instrument is the state's last key: parse only it (the clients share
                # one process and would otherwise spend it on the whole state).  A push is
                # {"full": state} or {"delta": what changed}: a delta without new facts has
                # no instrument
                if FACTS_KEY not in message.data:
                    continue
                tail = message.data[message.data.rindex(FACTS_KEY) + len(FACTS_KEY):-2]
                for _, applied in json.loads(tail):
                    seen.latencies.append(at - applied)
            if not stop.is_set():
                seen.dropped += 1

    async def stopper() -> None:
        await stop.wait()
        await asyncio.gather(*(ws.close() for ws in sockets))

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        tasks = [asyncio.create_task(one(http)) for _ in range(clients)]
        async with asyncio.timeout(60):
            await all_in.wait()
        started.set()
        await asyncio.gather(stopper(), *tasks)


@dataclass
class Polls:
    answered: list[list[tuple[float, float]]] = field(default_factory=list)  # per client
    failed: int = 0
    bytes: int = 0


async def poll_clients(port: int, clients: int, token: str, started: asyncio.Event,
                       stop: asyncio.Event, polls: Polls) -> None:
    import aiohttp

    headers = {"Authorization": f"Bearer {token}"}
    base = f"http://127.0.0.1:{port}"

    async def one(mine: list[tuple[float, float]]) -> None:
        await asyncio.sleep(random.uniform(0, POLL_EVERY_S))
        while not stop.is_set():
            sent = time.time()
            try:
                for path in ("/api/live", "/api/kpi"):
                    async with http.get(base + path, headers=headers) as response:
                        polls.bytes += len(await response.read())
                        if response.status != 200:
                            polls.failed += 1
                mine.append((sent, time.time()))
            except aiohttp.ClientError:
                polls.failed += 1
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, sent + POLL_EVERY_S - time.time())):
                    await stop.wait()

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        polls.answered = [[] for _ in range(clients)]
        started.set()
        await asyncio.gather(*(one(mine) for mine in polls.answered))


def poll_latencies(facts: list[float], polls: Polls) -> list[float]:
    out: list[float] = []
    for mine in polls.answered:
        i = 0
        for fact in facts:  # facts and polls are both in time order
            while i < len(mine) and mine[i][0] < fact:
                i += 1
            if i < len(mine):
                out.append(mine[i][1] - fact)
    return out


# ---- the run ---------------------------------------------------------------------------------

def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered)) - 1))]


async def run_mode(mode: str, args: argparse.Namespace) -> dict[str, Any]:
    port = 20000 + random.randrange(20000)
    with tempfile.TemporaryDirectory() as tmp:
        child = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--serve", str(port), "--calls", str(args.calls),
            "--seconds", str(args.seconds), "--db", str(Path(tmp) / "bench.db"),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(REPO)})
        assert child.stdin is not None
        assert child.stdout is not None

        async def tell(line: str) -> None:
            assert child.stdin is not None
            child.stdin.write(line.encode() + b"\n")
            await child.stdin.drain()

        try:
            ready = json.loads(await child.stdout.readline())
            started, stop = asyncio.Event(), asyncio.Event()
            seen, polls = Seen(), Polls()
            if mode == "push":
                clients = asyncio.create_task(
                    push_clients(port, args.clients, started, stop, seen))
            else:
                clients = asyncio.create_task(
                    poll_clients(port, args.clients, ready["token"], started, stop, polls))
            await started.wait()
            cpu0, wall0 = cpu_seconds(child.pid), time.monotonic()
            await tell("start")
            facts = json.loads(await child.stdout.readline())["facts"]
            cpu1, wall1 = cpu_seconds(child.pid), time.monotonic()
            stop.set()
            await clients
            await tell("stop")
            async with asyncio.timeout(20):
                await child.wait()
        finally:
            if child.returncode is None:
                child.kill()
                await child.wait()
    latencies = seen.latencies if mode == "push" else poll_latencies(facts, polls)
    return {"mode": mode, "facts": len(facts), "samples": len(latencies),
            "p50_ms": 1000 * percentile(latencies, 50), "p99_ms": 1000 * percentile(latencies, 99),
            "cpu_pct": 100 * (cpu1 - cpu0) / (wall1 - wall0),
            "messages": seen.messages, "failed": polls.failed, "dropped": seen.dropped,
            "mb_sent": (seen.bytes or polls.bytes) / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=("push", "poll", "both"), default="both")
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.calls, args.seconds, args.db))
        return
    print(f"{args.clients} clients, {args.calls} live calls, {args.seconds:g} s of facts; "
          f"the console in its own process")
    print(f"{'mode':<6} {'facts':>6} {'samples':>9} {'p50 ms':>9} {'p99 ms':>9} "
          f"{'console CPU':>12} {'MB sent':>8}")
    for mode in (("push", "poll") if args.mode == "both" else (args.mode,)):
        r = asyncio.run(run_mode(mode, args))
        print(f"{r['mode']:<6} {r['facts']:>6} {r['samples']:>9} {r['p50_ms']:>9.1f} "
              f"{r['p99_ms']:>9.1f} {r['cpu_pct']:>11.1f}% {r['mb_sent']:>8.1f}"
              + (f"  ({r['failed']} failed polls)" if r["failed"] else "")
              + (f"  ({r['dropped']} sockets dropped)" if r["dropped"] else ""), flush=True)


if __name__ == "__main__":
    main()
