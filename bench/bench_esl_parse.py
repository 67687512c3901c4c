"""Event Socket parse throughput: clinicall vs a naive reader vs Genesis's ESL parser.

The stream is the recorded CHANNEL_* events of a real FreeSWITCH 1.10.12
(``tests/data/freeswitch``, ``text/event-plain``, 2-5 KB each), repeated up to the wanted
count and cut at random positions as TCP would.  Every parser gets the same reads; each run's
events are reduced to (header name → values, URL-decoded; body) and compared with clinicall's,
so a fast parser that loses or mangles events is seen as such.

Genesis (PyPI ``genesis``, the maintained asyncio ESL library) is never a dependency of this
project: it is measured only when ``--genesis-python`` names the interpreter of a throw-away
virtualenv that has it, which runs this same file as a worker (``--genesis-worker``) with only
the standard library and Genesis imported.  Its ``ESLReaderFSM`` is driven the way its own
reader does (``readuntil`` the blank line, ``readexactly`` the body), over the same reads.

Run from the repository root:
    PYTHONPATH=. .venv/bin/python bench/bench_esl_parse.py [--events N]
        [--genesis-python /path/to/venv/bin/python]
or, to count one parser's instructions (bench/README.md):
    PYTHONHASHSEED=0 PYTHONPATH=. valgrind --tool=callgrind .venv/bin/python \
        bench/bench_esl_parse.py --events 1000 --only none|clinicall|naive
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent

#: An event reduced for comparison: sorted (name, values) pairs, and the body.
Reduced = tuple[tuple[tuple[str, tuple[str, ...]], ...], str]
FRAMING = frozenset({"Content-Length", "Content-Type"})


def reduce(pairs: list[tuple[str, str]], body: str) -> Reduced:
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        if name not in FRAMING:
            values.setdefault(name, []).append(value)
    return tuple(sorted((k, tuple(v)) for k, v in values.items())), body


def digest(events: list[Reduced]) -> str:
    return hashlib.sha256(json.dumps(events).encode()).hexdigest()[:16]


# ---- the three parsers ---------------------------------------------------------------------


def run_clinicall(reads: list[bytes]) -> list[Any]:
    from clinicall.controller.freeswitch.esl.protocol import EslParser

    parser = EslParser()
    out: list[Any] = []
    for data in reads:
        out.extend(m.event for m in parser.feed(data))
    return out


def reduce_clinicall(events: list[Any]) -> list[Reduced]:
    return [reduce(list(e.headers), e.body) for e in events]


def run_naive(reads: list[bytes]) -> list[Any]:
    """A 30-line reader: no limits, no error handling, no JSON, no UTF-8 care."""
    buf, out = b"", []
    for data in reads:
        buf += data
        while (end := buf.find(b"\n\n")) >= 0:
            head = dict(line.split(": ", 1) for line in buf[:end].decode().split("\n"))
            length = int(head.get("Content-Length", "0"))
            if len(buf) < end + 2 + length:
                break
            body, buf = buf[end + 2 : end + 2 + length], buf[end + 2 + length :]
            if head.get("Content-Type") == "text/event-plain":
                inner, _, inner_body = body.decode().partition("\n\n")
                pairs = [line.split(": ", 1) for line in inner.split("\n")]
                out.append(([(k, unquote(v)) for k, v in pairs], inner_body))
    return out


def reduce_naive(events: list[Any]) -> list[Reduced]:
    return [reduce(pairs, body) for pairs, body in events]


def run_genesis(reads: list[bytes]) -> list[Any]:
    """Genesis's FSM fed as its reader feeds it: a header block, then the body bytes."""
    from genesis.protocol.reader_fsm import ESLReaderFSM  # type: ignore[import-not-found]

    fsm = ESLReaderFSM()
    buf, out, need = b"", [], 0
    for data in reads:
        buf += data
        while True:
            if need:
                if len(buf) < need:
                    break
                out.extend(fsm.process_body(buf[:need]))
                buf, need = buf[need:], 0
                continue
            end = buf.find(b"\n\n")
            if end < 0:
                break
            events, need = fsm.process_headers(buf[: end + 2].decode())
            buf = buf[end + 2 :]
            out.extend(events)
    return out


def reduce_genesis(events: list[Any]) -> list[Reduced]:
    reduced = []
    for event in events:
        pairs = []
        for name, value in event.items():
            pairs += [(name, v) for v in (value if isinstance(value, list) else [value])]
        reduced.append(reduce(pairs, event.body or ""))
    return reduced


# ---- the stream ----------------------------------------------------------------------------


def recorded_channel_events() -> list[bytes]:
    """Each recorded ``text/event-plain`` CHANNEL_* message, byte for byte."""
    sys.path.insert(0, str(REPO / "tests"))
    from esl_transcripts import NAMES, server_bytes

    from clinicall.controller.freeswitch.esl.protocol import EslParser

    out = []
    for name in NAMES:
        stream = server_bytes(name)
        for message in EslParser().feed(stream):
            event = message.event
            plain = message.content_type == "text/event-plain"
            if plain and event is not None and event.name.startswith("CHANNEL_"):
                head = "".join(f"{k}: {v}\n" for k, v in message.headers) + "\n"
                raw = head.encode() + message.body
                assert raw in stream, "a message was not re-made byte for byte"
                out.append(raw)
    return out


def random_reads(data: bytes, rng: random.Random, max_size: int) -> list[bytes]:
    out, pos = [], 0
    while pos < len(data):
        size = rng.randint(1, max_size)
        out.append(data[pos : pos + size])
        pos += size
    return out


def timed(run: Callable[[list[bytes]], list[Any]],
          reads: list[bytes]) -> tuple[float, float, list[Any]]:  # fmt: skip
    """Best of three runs (the machine is shared; the best is the least disturbed): wall
    seconds and the process's CPU seconds of that run."""
    best, cpu, result = float("inf"), float("inf"), []
    for _ in range(3):
        start, cpu_start = time.perf_counter(), time.process_time()
        result = run(reads)
        spent = time.perf_counter() - start
        if spent < best:
            best, cpu = spent, time.process_time() - cpu_start
    return best, cpu, result


def genesis_worker(path: str) -> None:
    """In Genesis's virtualenv: time it on the pickled reads, print seconds and digest."""
    with open(path, "rb") as source:
        reads = pickle.load(source)
    seconds, cpu, events = timed(run_genesis, reads)
    reduced = reduce_genesis(events)
    print(json.dumps({"seconds": seconds, "cpu": cpu, "count": len(reduced),
                      "digest": digest(reduced)}))  # fmt: skip


def genesis_version(python: str) -> str:
    code = "from importlib.metadata import version; print(version('genesis'))"
    return subprocess.run([python, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip()  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(prog="bench_esl_parse.py", description=__doc__.split("\n")[0])
    args.add_argument("--events", type=int, default=20_000)
    args.add_argument("--seed", type=int, default=12)
    args.add_argument("--genesis-python", help="python of a virtualenv with genesis installed")
    args.add_argument("--genesis-worker", help=argparse.SUPPRESS)
    args.add_argument(
        "--only",
        choices=("none", "clinicall", "naive"),
        help="run that parser once on the 1..1460 B reads and print nothing: for an "
        "instruction count (valgrind --tool=callgrind), less the same run with 'none'",
    )
    options = args.parse_args(argv)
    if options.genesis_worker:
        genesis_worker(options.genesis_worker)
        return 0
    sys.path.insert(0, str(REPO))
    events = recorded_channel_events()
    rng = random.Random(options.seed)
    stream = b"".join(events[i % len(events)] for i in range(options.events))
    if options.only:
        random_reads(stream, rng, 65536)  # the same reads as the timed run's second chunking
        reads = random_reads(stream, rng, 1460)
        runs = {"none": lambda _: [], "clinicall": run_clinicall, "naive": run_naive}
        runs[options.only](reads)
        return 0
    print(f"stream: {options.events:,} CHANNEL_* events ({len(events)} recorded ones repeated), "
          f"{len(stream) / 1e6:.1f} MB, {len(stream) / options.events:,.0f} B/event")  # fmt: skip
    failed = False
    for label, max_size in (("random 1..64 KiB", 65536), ("random 1..1460 B", 1460)):
        reads = random_reads(stream, rng, max_size)
        print(f"\nreads {label} ({len(reads):,} reads)")
        seconds, cpu, parsed = timed(run_clinicall, reads)
        reference = reduce_clinicall(parsed)
        expected = digest(reference)
        rows = [("clinicall", seconds, cpu, len(reference), expected)]
        seconds, cpu, parsed = timed(run_naive, reads)
        naive = reduce_naive(parsed)
        rows.append(("naive reader", seconds, cpu, len(naive), digest(naive)))
        if options.genesis_python:
            version = genesis_version(options.genesis_python)
            with tempfile.NamedTemporaryFile(suffix=".pickle") as shared:
                pickle.dump(reads, shared)
                shared.flush()
                result = subprocess.run(
                    [options.genesis_python, __file__, "--genesis-worker", shared.name],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
            got = json.loads(result.stdout.strip().splitlines()[-1])
            rows.append((f"Genesis {version}", got["seconds"], got["cpu"], got["count"],
                         got["digest"]))  # fmt: skip
        for name, spent, cpu, count, seen in rows:
            verdict = "identical" if (count, seen) == (len(reference), expected) else "DIFFERENT"
            failed |= verdict != "identical" and name == "clinicall"
            print(f"  {name:18s} {options.events / spent:>10,.0f} events/s "
                  f"{cpu / options.events * 1e6:>6.2f} µs CPU/event   {count:,} events  "
                  f"{verdict} (digest {seen})")  # fmt: skip
    if not options.genesis_python:
        print("\n(Genesis not measured: pass --genesis-python with a virtualenv that has it)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
