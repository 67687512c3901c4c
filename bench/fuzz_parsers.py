"""Fuzz the four byte parsers (AMI, FastAGI, queue_log, Event Socket): mutated inputs, each
fed three ways.

Every input is built from the seed corpus of ``tests/parser_corpus.py`` (the recorded AMI
fixture's frames, a FastAGI environment and res_agi's reply shapes, queue_log lines of an
answered call, the short messages of the recorded FreeSWITCH transcripts, and pieces sized
limit-2 .. limit+2), then mutated: bit flips, truncation, duplication of a slice, insertion
of CR / LF / NUL / 0xFF / blank lines, and oversize runs.
It is fed whole, in random chunks and byte by byte (``tests/parser_feeds.py``: the real
parsers, the queue_log one through a real ``QueueLogTail`` on a growing file) and the three
outcomes (messages, replies, records, skipped frames, errors, end state) must be equal.

Counted and printed: inputs/s per parser, crashes (any exception a parser is not documented
to raise), hangs (an input that takes longer than ``--deadline`` seconds: a watchdog in this
process kills the worker and goes on with the next input) and disagreements between the three
feedings.  All three must be 0: the exit status is 1 otherwise (2 for bad arguments).

Inputs are a function of ``--seed`` and their index, so a failure printed with its index is
reproduced by ``--only PARSER:INDEX``.

Run from the repository root:
    nice -n 10 .venv/bin/python -m bench.fuzz_parsers --inputs 1000000
"""

from __future__ import annotations

import argparse
import itertools
import logging
import multiprocessing as mp
import os
import random
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for entry in (str(REPO), str(REPO / "tests")):
    if entry not in sys.path:
        sys.path.insert(0, entry)

import parser_corpus as corpus  # noqa: E402
from parser_feeds import (  # noqa: E402
    Chunks,
    Outcome,
    QueueLogFeeder,
    agi_outcome,
    ami_outcome,
    byte_by_byte,
    esl_outcome,
    random_chunks,
    scratch_directory,
)

PARSERS = ("ami", "fastagi", "queue_log", "esl")
BATCH = 500  # inputs per task sent to a worker
SAMPLES = 5  # failing inputs kept per kind and parser, to print
STRAYS = (b"\r", b"\n", b"\r\n", b"\x00", b"\xff", b"\r\n\r\n", b"\n\n", b"\r" * 7, b":", b"|")


@dataclass(frozen=True, slots=True)
class Target:
    """One parser under fuzz: its seed pieces, its limit-sized pieces, its biggest limit and
    how many pieces an input joins at most (fewer where byte-by-byte feeding is dear)."""

    name: str
    pieces: tuple[bytes, ...]
    sized: tuple[bytes, ...]
    limit: int
    most_pieces: int


TARGETS = {
    "ami": Target(
        "ami", corpus.AMI_CORPUS, corpus.ami_limit_pieces(), corpus.AMI_MAX_FRAME, 4
    ),
    "fastagi": Target(
        "fastagi", corpus.AGI_CORPUS, corpus.agi_limit_pieces(), corpus.AGI_USAGE_LIMIT, 6
    ),
    "queue_log": Target(
        "queue_log",
        corpus.QUEUE_LOG_CORPUS,
        corpus.queue_log_limit_pieces(),
        corpus.QUEUE_LOG_MAX_BYTES,
        3,
    ),
    "esl": Target("esl", corpus.ESL_CORPUS, corpus.esl_limit_pieces(), corpus.ESL_MAX_BODY, 4),
}
#: Default share of the inputs per parser, in percent.  Not equal: fed byte by byte, an AMI
#: input (~1 KB) costs ~7 times a FastAGI one, and a queue_log input costs a tail read (open,
#: stat, seek, read) per byte, ~20 µs; equal shares would take most of the run on queue_log.
SHARES = "30,35,10,25"


def make_input(target: Target, rng: random.Random) -> bytes:
    """A run of pieces (mostly valid ones), then 0-4 mutations."""
    parts: list[bytes] = []
    for _ in range(rng.randint(1, target.most_pieces)):
        roll = rng.random()
        if roll < 0.7:
            parts.append(rng.choice(target.pieces))
        elif roll < 0.9:
            parts.append(rng.choice(target.sized))
        else:
            parts.append(rng.randbytes(rng.randint(0, 32)))
    data = bytearray(b"".join(parts))
    for _ in range(rng.randint(0, 4)):
        mutate(data, target, rng)
    return bytes(data)


def mutate(data: bytearray, target: Target, rng: random.Random) -> None:
    """One mutation in place."""
    where = rng.randint(0, len(data))
    kind = rng.randrange(5)
    if kind == 0 and data:  # bit flip
        index = min(where, len(data) - 1)
        data[index] ^= 1 << rng.randrange(8)
    elif kind == 1 and data:  # truncation, of the end or of the start
        if rng.random() < 0.5:
            del data[where:]
        else:
            del data[:where]
    elif kind == 2 and data:  # duplication of a slice
        start = rng.randrange(len(data))
        piece = data[start : start + rng.randint(1, 200)]
        data[where:where] = piece * rng.randint(1, 3)
    elif kind == 3:  # a line end, a blank line, NUL or 0xFF
        data[where:where] = rng.choice(STRAYS)
    else:  # an oversize run around the limit
        run = rng.choice((b"x", b"\r", b"\xff", b"a: b\r\n", b"|"))
        size = target.limit + rng.randint(-2, 2)
        data[where:where] = (run * (size // len(run) + 1))[:size]


def outcome_of(name: str, chunks: Chunks, feeder: QueueLogFeeder) -> Outcome:
    if name == "ami":
        return ami_outcome(chunks, max_frame=corpus.AMI_MAX_FRAME)
    if name == "esl":
        return esl_outcome(chunks, max_header=corpus.ESL_MAX_HEADER, max_body=corpus.ESL_MAX_BODY)
    if name == "fastagi":
        return agi_outcome(
            chunks,
            env_limit=corpus.AGI_ENV_LIMIT,
            line_limit=corpus.AGI_LINE_LIMIT,
            usage_limit=corpus.AGI_USAGE_LIMIT,
        )
    return feeder.outcome(chunks, max_bytes=corpus.QUEUE_LOG_MAX_BYTES)


def input_rng(seed: int, name: str, index: int) -> random.Random:
    return random.Random(f"{seed}:{name}:{index}")


@dataclass(slots=True)
class Tally:
    """What a batch (or the whole run, for one parser) found."""

    inputs: int = 0
    bytes: int = 0
    busy_s: float = 0.0  # worker time spent on these inputs
    crashes: int = 0
    hangs: int = 0
    disagreements: int = 0
    samples: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.inputs += other.inputs
        self.bytes += other.bytes
        self.busy_s += other.busy_s
        self.crashes += other.crashes
        self.hangs += other.hangs
        self.disagreements += other.disagreements
        room = SAMPLES * 3 - len(self.samples)
        self.samples += other.samples[: max(room, 0)]


def run_one(name: str, index: int, seed: int, feeder: QueueLogFeeder, tally: Tally) -> None:
    """Build input ``index``, feed it three ways, count what went wrong."""
    rng = input_rng(seed, name, index)
    data = make_input(TARGETS[name], rng)
    tally.inputs += 1
    tally.bytes += len(data)
    feedings: tuple[tuple[str, Callable[[], Chunks]], ...] = (
        ("whole", lambda: [data]),
        ("random chunks", lambda: random_chunks(data, rng)),
        ("byte by byte", lambda: byte_by_byte(data)),
    )
    whole: Outcome | None = None
    for how, chunks in feedings:
        try:
            outcome = outcome_of(name, chunks(), feeder)
        except Exception as exc:  # any exception here is a crash: the parsers' own errors are
            tally.crashes += 1  # caught and recorded by the feeds
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            where = f"{Path(frame.filename).name}:{frame.lineno}"
            tally.samples.append(f"crash {name}:{index} ({how}) {exc!r} at {where}")
            return
        if whole is None:
            whole = outcome
        elif outcome != whole:
            tally.disagreements += 1
            tally.samples.append(f"disagreement {name}:{index} ({how} vs whole) {data[:300]!r}")
            return


def worker(
    conn: Connection, started: Synchronized[float], current: Synchronized[int], scratch: Path
) -> None:
    """Run batches sent by the parent until it sends None; ``started``/``current`` tell the
    watchdog when the input now running began, and which one it is.  The queue_log file is
    in ``scratch``, which the parent removes (a killed worker cannot)."""
    logging.disable(logging.CRITICAL)  # skipped frames are counted in the outcomes, not logged
    scratch.mkdir()
    feeder = QueueLogFeeder(scratch)
    try:
        while (task := conn.recv()) is not None:
            name, seed, indexes = task
            tally = Tally()
            begin = time.perf_counter()
            for index in indexes:
                current.value = index
                started.value = time.monotonic()
                run_one(name, index, seed, feeder, tally)
            started.value = 0.0
            tally.busy_s = time.perf_counter() - begin
            conn.send((name, tally))
    finally:
        feeder.close()


_SPAWNED = itertools.count()


@dataclass(slots=True)
class Slot:
    """A worker process and what it is doing."""

    process: mp.process.BaseProcess
    conn: Connection
    started: Synchronized[float]
    current: Synchronized[int]
    task: tuple[str, int, list[int]] | None = None


def spawn(context: mp.context.ForkContext, scratch: Path) -> Slot:
    parent, child = context.Pipe()
    started = context.Value("d", 0.0, lock=False)
    current = context.Value("q", 0, lock=False)
    folder = scratch / f"worker-{next(_SPAWNED)}"
    process = context.Process(target=worker, args=(child, started, current, folder), daemon=True)
    process.start()
    child.close()
    return Slot(process, parent, started, current)


def split(inputs: int, shares: list[int]) -> list[int]:
    """``inputs`` divided by ``shares`` (the remainder to the first parsers)."""
    counts = [inputs * share // sum(shares) for share in shares]
    for i in range(inputs - sum(counts)):
        counts[i % len(counts)] += 1
    return counts


def tasks(per_parser: list[int], seed: int) -> Iterator[tuple[str, int, list[int]]]:
    """Batches of input indexes, the parsers taking turns, ``per_parser[i]`` for parser i."""
    starts = [0] * len(PARSERS)
    while any(starts[i] < per_parser[i] for i in range(len(PARSERS))):
        for i, name in enumerate(PARSERS):
            if starts[i] < per_parser[i]:
                end = min(starts[i] + BATCH, per_parser[i])
                yield name, seed, list(range(starts[i], end))
                starts[i] = end


def run(args: argparse.Namespace) -> dict[str, Tally]:
    context = mp.get_context("fork")
    totals = {name: Tally() for name in PARSERS}
    pending = list(tasks(split(args.inputs, args.shares), args.seed))
    pending.reverse()  # pop() from the end: first batches first
    scratch = scratch_directory()
    slots = [spawn(context, Path(scratch.name)) for _ in range(args.workers)]
    begin = last_report = time.monotonic()
    try:
        while pending or any(s.task is not None for s in slots):
            for slot in slots:
                if slot.task is None and pending:
                    slot.task = pending.pop()
                    slot.conn.send(slot.task)
            ready = wait([s.conn for s in slots if s.task is not None], timeout=0.2)
            for slot in slots:
                if slot.conn in ready:
                    name, tally = slot.conn.recv()
                    totals[name].add(tally)
                    slot.task = None
            now = time.monotonic()
            for index, slot in enumerate(slots):
                started = slot.started.value
                if slot.task is not None and started and now - started > args.deadline:
                    slots[index] = hang(slot, totals, pending, context, Path(scratch.name))
            if now - last_report >= args.progress:
                last_report = now
                report_progress(totals, args.inputs, now - begin)
    finally:
        for slot in slots:
            if slot.process.is_alive():
                slot.conn.send(None)
        for slot in slots:
            slot.process.join(timeout=5)
        scratch.cleanup()
    return totals


def hang(
    slot: Slot,
    totals: dict[str, Tally],
    pending: list[tuple[str, int, list[int]]],
    context: mp.context.ForkContext,
    scratch: Path,
) -> Slot:
    """Kill a worker stuck on one input, count the hang, requeue the rest of its batch."""
    assert slot.task is not None
    name, seed, indexes = slot.task
    stuck = slot.current.value
    slot.process.kill()
    slot.process.join()
    totals[name].add(Tally(inputs=1, hangs=1, samples=[f"hang {name}:{stuck}"]))
    rest = [i for i in indexes if i != stuck]
    if rest:
        pending.append((name, seed, rest))
    return spawn(context, scratch)


def report_progress(totals: dict[str, Tally], wanted: int, elapsed: float) -> None:
    done = sum(t.inputs for t in totals.values())
    bad = sum(t.crashes + t.hangs + t.disagreements for t in totals.values())
    rate = done / elapsed if elapsed else 0.0
    eta = (wanted - done) / rate if rate else 0.0
    print(
        f"  {done:>9,}/{wanted:,} inputs  {rate:,.0f}/s  {elapsed:,.0f} s  "
        f"~{eta:,.0f} s to go  failures so far: {bad}",
        flush=True,
    )


def print_summary(totals: dict[str, Tally], wall: float, workers: int) -> int:
    print(f"\n{'parser':<10} {'inputs':>10} {'MB fed':>8} {'per core/s':>10} "
          f"{'crashes':>8} {'hangs':>6} {'disagree':>9}")  # fmt: skip
    bad = 0
    for name, tally in totals.items():
        per_second = tally.inputs / tally.busy_s if tally.busy_s else 0.0
        print(f"{name:<10} {tally.inputs:>10,} {tally.bytes / 1e6:>8.1f} {per_second:>10,.0f} "
              f"{tally.crashes:>8} {tally.hangs:>6} {tally.disagreements:>9}")  # fmt: skip
        bad += tally.crashes + tally.hangs + tally.disagreements
    done = sum(t.inputs for t in totals.values())
    print(f"{'all':<10} {done:>10,} {'':>8} {'':>10}  {done / wall:,.0f} inputs/s over "
          f"{wall:,.0f} s wall, {workers} workers")  # fmt: skip
    print("(per core/s: inputs / worker seconds spent on them; each input is fed three times:")
    print(" whole, in random chunks and byte by byte)")
    for tally in totals.values():
        for sample in tally.samples:
            print("  " + sample)
    return 1 if bad else 0


def run_only(spec: str, seed: int) -> int:
    """Feed one input (``PARSER:INDEX``) in this process and print its three outcomes."""
    name, _, index = spec.partition(":")
    if name not in TARGETS or not index.isdigit():
        raise SystemExit(f"--only wants PARSER:INDEX with PARSER one of {', '.join(PARSERS)}")
    logging.disable(logging.CRITICAL)
    feeder = QueueLogFeeder()
    try:
        tally = Tally()
        run_one(name, int(index), seed, feeder, tally)
        data = make_input(TARGETS[name], input_rng(seed, name, int(index)))
        print(f"input ({len(data)} bytes): {data!r}")
        print("\n".join(tally.samples) or "whole, random chunks and byte by byte agree")
        return 1 if tally.samples else 0
    finally:
        feeder.close()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fuzz_parsers",
        description="Fuzz the AMI, FastAGI, queue_log and Event Socket parsers with mutated "
        "inputs, each fed whole, in random chunks and byte by byte; count crashes, hangs and "
        "disagreements (all must be 0: exit status 1 otherwise).",
    )
    parser.add_argument(
        "--inputs", type=int, default=1_000_000, help="inputs in all, shared by the four "
        "parsers (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--shares", default=SHARES, metavar="AMI,FASTAGI,QUEUE_LOG,ESL",
        help="how the inputs are shared by the parsers, in parts (default: %(default)s; "
        "1,1,1,1 for equal quarters)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=20261204, help="(default: %(default)s)")
    parser.add_argument(
        "--workers", type=int, default=min(2, os.cpu_count() or 1),
        help="worker processes (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--deadline", type=float, default=5.0,
        help="seconds one input (three feedings) may take before it counts as a hang "
        "(default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--progress", type=float, default=15.0, help="seconds between progress lines "
        "(default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--only", metavar="PARSER:INDEX", help="replay one input (as printed with a failure) "
        "and print what each feeding gave",
    )  # fmt: skip
    args = parser.parse_args(argv)
    try:
        args.shares = [int(part) for part in args.shares.split(",")]
    except ValueError:
        parser.error("--shares wants four whole numbers: AMI,FASTAGI,QUEUE_LOG,ESL")
    if len(args.shares) != len(PARSERS) or min(args.shares) < 0 or not sum(args.shares):
        parser.error("--shares wants four whole numbers >= 0, not all 0")
    if args.inputs < 1 or args.workers < 1 or args.deadline <= 0 or args.progress <= 0:
        parser.error("--inputs and --workers must be positive, --deadline and --progress > 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.only:
        return run_only(args.only, args.seed)
    shared = zip(PARSERS, split(args.inputs, args.shares), strict=True)
    counts = ", ".join(f"{name} {count:,}" for name, count in shared)
    print(f"fuzzing {args.inputs:,} inputs ({counts}; seed {args.seed}, {args.workers} "
          f"workers, deadline {args.deadline} s per input)", flush=True)  # fmt: skip
    begin = time.monotonic()
    totals = run(args)
    return print_summary(totals, time.monotonic() - begin, args.workers)


if __name__ == "__main__":
    raise SystemExit(main())
