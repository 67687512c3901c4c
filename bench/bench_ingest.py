"""AMI ingest: events/s from the socket to committed journal rows, and loss on kill -9.

A fake AMI server on loopback (``fake_engine.FakeAmiServer``) plays a recorded-like stream of
queue calls (the fixture ``tests/unit/ami/fixtures/queue_call.ami`` renewed per call, ~170
events per call, most of them untracked dialplan/AGI/RTCP noise) to the real ``AMIClient``.
Side by side, in one run, on SQLite (WAL) and on PostgreSQL (``tests/pg.py``, loopback):

* ``tracker``: the real ``CallTracker`` (batched journal with idempotency keys, calls
  re-projected in the same transaction), as deployed: a flush commits what is pending, up to
  ``max_write`` (5000) rows, so at full speed its transactions are larger than the floor's;
* ``tracker200``: the same, at most ``BATCH`` rows per transaction, as the floor commits
  (a call's facts then fall in more transactions, so it is re-projected more often);
* ``batched``: the floor the account is held to (issue 16: ≥ 0.9×): the same journal rows,
  decoded the same way, inserted ``BATCH`` rows per transaction with the same
  ``insert_journal`` (``ON CONFLICT DO NOTHING``), journal only, no projection;
* ``naive``: the obvious alternative, one transaction per journal row (async handler, awaited
  in wire order), journal only, no projection.

Events/s run from the first byte the fake writes to the last commit.

Then loss on kill -9: the tracker ingest runs in a subprocess, is killed with SIGKILL once
it received 40 % of the stream, and is started again on the same store with the same
stream (AMI cannot replay, so the restart is re-fed the stream; the journal's idempotency
keys must absorb the repeat).  Lost and duplicated events are counted by comparing the
journal's keys with the keys of the input; the journal rows and the projected calls are
compared with those of the uninterrupted run.

Run: .venv/bin/python bench/bench_ingest.py [--calls 300] [--skip-pg]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for entry in (str(REPO), str(BENCH), str(REPO / "tests")):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from fake_engine import AmiStream, FakeAmiServer, build_stream  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker  # noqa: E402

from clinicall.controller.asterisk.ami.client import STATUS_EVENT, AMIClient  # noqa: E402
from clinicall.controller.asterisk.ami.message import Message  # noqa: E402
from clinicall.controller.asterisk.ami_facts import AmiFactDecoder  # noqa: E402
from clinicall.controller.asterisk.record import QueueLogRecord  # noqa: E402
from clinicall.controller.tracking.config import TrackingConfig  # noqa: E402
from clinicall.controller.tracking.rows import call_key_of, fact_entries, journaled  # noqa: E402
from clinicall.controller.tracking.tracker import CallTracker  # noqa: E402
from clinicall.db import create_engine, insert_journal, session_factory, upgrade  # noqa: E402
from clinicall.db.models import Call, JournalEvent, QueueAttempt  # noqa: E402
from clinicall.settings.loader import load_config  # noqa: E402

CONFIG = REPO / "config" / "clinic.example.yaml"
KILL_AT = 0.4  # share of the stream received when the child is killed
BATCH = 200  # the batched floor's rows per transaction (the tracker's default batch_size)
PIPELINES = ("tracker", "tracker200", "batched", "naive")
TRACKERS = ("tracker", "tracker200")


@dataclass(frozen=True, slots=True)
class IngestResult:
    store: str
    pipeline: str
    events: int
    seconds: float
    journal_rows: int
    calls: int | None
    cpu_s: float = float("nan")  # this process's CPU: client, account, fake AMI, SQLite

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else float("nan")


def input_keys(stream: AmiStream) -> set[str]:
    """The journal keys the stream must produce (one per fact, plus chan: rows)."""
    keys: set[str] = set()
    decoder = AmiFactDecoder()
    for msg in stream.messages():
        for fact in filter(journaled, decoder.decode(msg)):
            keys.update(e.key for e in fact_entries(fact, call_key_of(fact)))
    return keys


async def ingest(
    url: str, stream: AmiStream, pipeline: str, store: str, *, signal_at: int = 0
) -> IngestResult:
    """Play the stream once into ``url`` with one of ``PIPELINES``.

    ``signal_at``: print ``RECEIVED <n>`` on stdout once the tracker got that many events
    (the kill -9 test kills the process on that line).
    """
    await upgrade(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    server = FakeAmiServer(stream)
    await server.start()
    total = len(stream.frames)
    done = asyncio.Event()
    seen = 0
    tracker: CallTracker | None = None
    client = AMIClient("127.0.0.1", server.port, "bench", "bench", ping_interval=5.0)
    try:
        if pipeline in TRACKERS:
            tracker = CallTracker(
                sessions,
                QueueLogRecord(Path(tempfile.gettempdir()) / "clinicall-bench-no-queue-log"),
                TrackingConfig.from_clinic(load_config(CONFIG)),
            )
            if pipeline == "tracker200":
                tracker.max_write = BATCH
            await tracker.start()
            handle, decode = tracker.handle_fact, AmiFactDecoder().decode

            def on_event(msg: Message) -> None:  # as the Asterisk engine feeds the account
                nonlocal seen
                for fact in decode(msg):
                    handle(fact)
                if msg.event != STATUS_EVENT:
                    seen += 1
                    if seen == signal_at:
                        print(f"RECEIVED {seen}", flush=True)
                    if seen == total:
                        done.set()

            client.add_handler(on_event)
        elif pipeline == "batched":
            client.add_handler(_batched_handler(sessions, total, done))
        else:
            client.add_handler(_naive_handler(sessions, total, done))
        cpu_at = time.process_time()
        await client.start()
        await done.wait()
        if tracker is not None:
            await tracker.flush()
        finished = asyncio.get_running_loop().time()
        cpu_s = time.process_time() - cpu_at
        assert server.first_byte_at is not None
        seconds = finished - server.first_byte_at
    finally:
        await client.close()
        if tracker is not None:
            await tracker.close()
        await server.stop()
    async with sessions() as session:
        rows = await session.scalar(select(func.count()).select_from(JournalEvent)) or 0
        calls = await session.scalar(select(func.count()).select_from(Call)) or 0
    await engine.dispose()
    return IngestResult(store, pipeline, total, seconds, rows, calls if tracker else None, cpu_s)


def _batched_handler(
    sessions: async_sessionmaker[AsyncSession], total: int, done: asyncio.Event
) -> Callable[[Message], Any]:
    seen = 0
    decoder = AmiFactDecoder()
    pending: list[Any] = []

    async def batched(msg: Message) -> None:
        nonlocal seen
        if msg.event == STATUS_EVENT:
            return
        seen += 1
        for fact in filter(journaled, decoder.decode(msg)):
            pending.extend(fact_entries(fact, call_key_of(fact)))
        if len(pending) >= BATCH or (seen == total and pending):
            async with sessions() as session, session.begin():
                await insert_journal(session, pending)
            pending.clear()
        if seen == total:
            done.set()

    return batched


def _naive_handler(
    sessions: async_sessionmaker[AsyncSession], total: int, done: asyncio.Event
) -> Callable[[Message], Any]:
    seen = 0
    decoder = AmiFactDecoder()

    async def naive(msg: Message) -> None:
        nonlocal seen
        if msg.event == STATUS_EVENT:
            return
        seen += 1
        for fact in filter(journaled, decoder.decode(msg)):
            for entry in fact_entries(fact, call_key_of(fact)):
                async with sessions() as session, session.begin():
                    await insert_journal(session, [entry])
        if seen == total:
            done.set()

    return naive


# ---- kill -9 ---------------------------------------------------------------------------


async def snapshot(
    url: str, keys: set[str]
) -> tuple[dict[str, Any], set[tuple[Any, ...]], int, int]:
    """(journal rows of the input by key, projected calls, link-status rows, other rows).

    Link-status rows are the AMI client's own up/down notices (``ClinicallAMIStatus``, one per
    login and per close): not input events.  "Other rows" are rows neither explains.
    """
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            journal: dict[str, Any] = {}
            status = other = 0
            result = await session.execute(
                select(
                    JournalEvent.key, JournalEvent.kind, JournalEvent.call_key, JournalEvent.payload
                )
            )
            for key, kind, call_key, payload in result:
                if key in keys:
                    other += key in journal  # a key stored twice (the unique index forbids it)
                    journal[key] = (kind, call_key, json.dumps(payload, sort_keys=True))
                elif kind == "engine.link" and payload.get("detail") != "Fully Booted":
                    status += 1
                else:
                    other += 1
            attempts = select(func.count()).where(QueueAttempt.call_id == Call.id)
            calls = await session.execute(
                select(
                    Call.call_key,
                    Call.direction,
                    Call.caller,
                    Call.started_at,
                    Call.answered_at,
                    Call.ended_at,
                    Call.hangup_side,
                    Call.missed,
                    Call.miss_cause,
                    attempts.scalar_subquery(),
                )
            )
            return journal, {tuple(r) for r in calls}, status, other
    finally:
        await engine.dispose()


def journal_count(url: str) -> int:
    """Rows in the journal right now, read in a fresh short-lived loop (0 before the schema)."""

    async def count() -> int:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session:
                return await session.scalar(select(func.count()).select_from(JournalEvent)) or 0
        except Exception:  # the child has not created the schema yet
            return 0
        finally:
            await engine.dispose()

    return asyncio.run(count())


def child_command(url: str, calls: int) -> list[str]:
    return [sys.executable, __file__, "--child", url, "--calls", str(calls)]


def kill_and_restart(url: str, calls: int, kill_at: int) -> int:
    """Run the child, SIGKILL it once it received ``kill_at`` events, run it again to the end.

    Returns the journal rows found right after the kill.
    """
    child = subprocess.Popen(
        [*child_command(url, calls), "--signal-at", str(kill_at)], stdout=subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        if not line.startswith(b"RECEIVED"):
            raise RuntimeError(f"the child ended before it received {kill_at} events")
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    at_kill = journal_count(url)
    subprocess.run(child_command(url, calls), check=True)
    return at_kill


@dataclass(frozen=True, slots=True)
class LossResult:
    store: str
    at_kill: int
    rows: int
    status_rows: int
    input_keys: int
    lost: int
    duplicated: int
    same_journal: bool
    same_calls: bool


async def compare(store: str, url: str, reference: str, keys: set[str], at_kill: int) -> LossResult:
    journal, calls, status, other = await snapshot(url, keys)
    ref_journal, ref_calls, _, _ = await snapshot(reference, keys)
    return LossResult(
        store, at_kill, len(journal) + status + other, status, len(keys),
        len(keys - journal.keys()), other, journal == ref_journal, calls == ref_calls,
    )  # fmt: skip


# ---- stores and output -----------------------------------------------------------------


@contextmanager
def stores(skip_pg: bool) -> Iterator[Callable[[str], list[tuple[str, str]]]]:
    """``new(tag)`` → [(store name, fresh URL)] for SQLite and (unless skipped) PostgreSQL."""
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="clinicall-bench-")))
        pg = None
        if not skip_pg:
            from pg import PostgresServer

            pg = stack.enter_context(PostgresServer())

        def new(tag: str) -> list[tuple[str, str]]:
            urls = [("sqlite", f"sqlite+aiosqlite:///{root / tag}.db")]
            if pg is not None:
                name = pg.create_database(tag)
                urls.append(("postgresql", pg.url(name).render_as_string(hide_password=False)))
            return urls

        yield new


def print_ingest(results: list[IngestResult], *, header: bool = True) -> None:
    if header:
        print(f"{'store':<11} {'pipeline':<10} {'events':>7} {'seconds':>8} {'events/s':>9} "
              f"{'µs CPU/event':>12} {'journal rows':>12} {'calls projected':>15}")  # fmt: skip
    for r in results:
        calls = "-" if r.calls is None else str(r.calls)
        cpu = r.cpu_s / r.events * 1e6
        print(f"{r.store:<11} {r.pipeline:<10} {r.events:>7} {r.seconds:>8.2f} {r.rate:>9.0f} "
              f"{cpu:>12.1f} {r.journal_rows:>12} {calls:>15}")  # fmt: skip


def print_ratios(results: list[IngestResult]) -> None:
    """The trackers beside the batched floor, per store, same run (target ≥ 0.9×)."""
    by = {(r.store, r.pipeline): r for r in results}
    print(f"\n{'store':<11} {'pipeline':<10} {'÷ batched (events/s)':>21} "
          f"{'batched ÷ it (CPU)':>19}")  # fmt: skip
    for store in dict.fromkeys(r.store for r in results):
        floor = by.get((store, "batched"))
        for pipeline in TRACKERS:
            tracker = by.get((store, pipeline))
            if tracker is None or floor is None:
                continue
            print(f"{store:<11} {pipeline:<10} {tracker.rate / floor.rate:>20.2f}× "
                  f"{floor.cpu_s / tracker.cpu_s:>18.2f}×")


def print_loss(results: list[LossResult]) -> None:
    columns = ("rows at kill", "rows after", "link rows", "input keys", "lost", "dup",
               "journal = uninterrupted", "calls = uninterrupted")  # fmt: skip
    print(f"{'store':<11} " + " ".join(columns))
    for r in results:
        values = (r.at_kill, r.rows, r.status_rows, r.input_keys, r.lost, r.duplicated,
                  r.same_journal, r.same_calls)  # fmt: skip
        cells = " ".join(f"{v!s:>{len(c)}}" for c, v in zip(columns, values, strict=True))
        print(f"{r.store:<11} {cells}")
    for r in results:
        print(f"{r.store}: lost events: {r.lost}, duplicated: {r.duplicated}")


def main(args: argparse.Namespace) -> None:
    stream = build_stream(args.calls)
    keys = input_keys(stream)
    print(f"cores: {os.cpu_count()}  stream: {len(stream.frames)} events, {stream.calls} calls, "
          f"{stream.size / 1e6:.1f} MB, {len(keys)} journal keys expected")  # fmt: skip
    results: list[IngestResult] = []
    losses: list[LossResult] = []
    with stores(args.skip_pg) as new:
        references: dict[str, str] = {}
        for pipeline in PIPELINES:
            for store, url in new(pipeline):
                results.append(asyncio.run(ingest(url, stream, pipeline, store)))
                print_ingest(results[-1:], header=len(results) == 1)
                if pipeline == "tracker":
                    references[store] = url
        for store, url in new("killed"):
            at_kill = kill_and_restart(url, args.calls, int(KILL_AT * len(stream.frames)))
            losses.append(asyncio.run(compare(store, url, references[store], keys, at_kill)))
    print_ratios(results)
    print()
    print(f"kill -9 after {KILL_AT:.0%} of the stream was received, restarted on the same "
          "store, stream re-fed:")  # fmt: skip
    print_loss(losses)


def child(url: str, calls: int, signal_at: int) -> None:
    asyncio.run(ingest(url, build_stream(calls), "tracker", "child", signal_at=signal_at))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=300, help="calls in the stream (~170 ev.)")
    parser.add_argument("--skip-pg", action="store_true", help="SQLite only")
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--signal-at", type=int, default=0, help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.child:
        child(arguments.child, arguments.calls, arguments.signal_at)
    else:
        main(arguments)
