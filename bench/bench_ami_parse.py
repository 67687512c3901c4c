"""AMI parser throughput and correctness: clinicall vs panoramisk 1.4, a naive split parser
and a regex parser.

One synthetic-but-realistic byte stream (~100k events, ~330 B each: Queue*/Agent*/VarSet/
Newexten with Cyrillic caller names and some empty last values; the channel snapshot is cut to
its main headers to get the 330 B average measured on a real stream), cut into chunks at random
positions, as TCP would.  Prints events/s per parser and, per parser, how many events come out
different from the stream that was written (lost events, dropped or mangled headers).

Run: .venv/bin/python bench/bench_ami_parse.py [events] [rounds]
or  .venv/bin/python bench/bench_ami_parse.py EVENTS PARSER [MAX_READ]
(PARSER one of none, clinicall, clinicall+lookup, naive, naive+lookup, regex: that parser
once on reads of 1..MAX_READ bytes, 1460 by default, to count its instructions under
callgrind; see bench/README.md)
The parsers take turns, ``rounds`` times (default 5), and each one's round with the least CPU
time counts: on a shared machine wall time includes waiting for a core, CPU time does not.
The ratio column is the fastest correct peer's CPU time over the parser's, in the same run
(above 1: faster than that peer); events/s is wall time, for scale.  Each parser is timed to
its own output (clinicall's ``Message`` list, the peers' header lists), compared afterwards.
``clinicall + lookup`` also reads each frame as the AMI client routes it (its ``ActionID``,
then its ``Event``): ``Message`` lowers its names for lookups on the first one.  Its peer is
``naive split + lookup``, which reads the same two headers (any case) from its header list;
the last column gives each clinicall row's ratio to that like peer.
panoramisk is measured at its protocol level (AMIProtocol.data_received with a dummy
transport and a factory that only collects events), i.e. without Manager's regex dispatch.
"""

from __future__ import annotations

import random
import re
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from panoramisk.ami_protocol import AMIProtocol

from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.ami.protocol import AMIParser

Header = tuple[str, str]
Headers = list[Header]
NAMES = ["Олена Коваленко", "Іван Петренко", "Мария Смирнова", "John Smith", "Анна-Марія Бойко"]


def make_events(count: int, rng: random.Random) -> list[Headers]:
    events: list[Headers] = []
    for i in range(count):
        uid = f"17323{i // 20:05d}.{i // 20}"
        snap = [
            ("Channel", f"PJSIP/trunk-{i // 20:08x}"),
            ("ChannelState", "6"),
            ("CallerIDNum", f"38050{rng.randrange(10**7):07d}"),
            ("CallerIDName", rng.choice(NAMES)),
            ("ConnectedLineNum", "<unknown>"),
            ("Context", "cc-queue"),
            ("Exten", "s"),
            ("Priority", "1"),
            ("Uniqueid", uid),
            ("Linkedid", uid),
        ]
        kind = rng.random()
        if kind < 0.35:
            value = rng.choice(["", "uk", "TIMEOUT", "/var/spool/asterisk/monitor/x.ogg"])
            tail = [
                ("Variable", rng.choice(["CLINICALL_LANG", "QUEUESTATUS", "X"])),
                ("Value", value),
            ]
            name = "VarSet"
        elif kind < 0.6:
            tail = [("Extension", "s"), ("Application", "Playback"), ("AppData", "uk/menu")]
            name = "Newexten"
        elif kind < 0.8:
            tail = [
                ("Queue", "therapy"),
                ("MemberName", "Оператор 1"),
                ("Interface", "Local/op1@cc-ops/n"),
                ("RingTime", "3"),
                ("HoldTime", "21"),
            ]
            name = rng.choice(["AgentCalled", "AgentConnect", "AgentRingNoAnswer"])
        else:
            tail = [("Queue", "therapy"), ("Position", "1"), ("Count", "2")]
            name = rng.choice(["QueueCallerJoin", "QueueCallerLeave"])
        events.append([("Event", name), ("Privilege", "agent,all"), *snap, *tail])
    return events


def encode(events: list[Headers]) -> bytes:
    out = ["Asterisk Call Manager/9.0.0\r\n"]
    for headers in events:
        out.append("".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n")
    return "".join(out).encode()


def chunks(data: bytes, rng: random.Random, max_size: int) -> list[bytes]:
    out, pos = [], 0
    while pos < len(data):
        size = rng.randint(1, max_size)
        out.append(data[pos : pos + size])
        pos += size
    return out


def run_clinicall(parts: list[bytes]) -> list[Message]:
    parser = AMIParser()
    out: list[Message] = []
    for part in parts:
        out += parser.feed(part)
    return out


def run_clinicall_lookup(parts: list[bytes]) -> list[Message]:
    """clinicall, each frame read as the AMI client routes it (``_route`` in
    ``controller/asterisk/ami/connection.py``): its ``ActionID``, then its ``Event``."""
    parser = AMIParser()
    out: list[Message] = []
    for part in parts:
        got = parser.feed(part)
        for msg in got:
            _ = msg.action_id or msg.event
        out += got
    return out


class _Transport:
    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


class _Factory:
    def __init__(self) -> None:
        self.events: list[Any] = []

    def dispatch(self, message: Any) -> None:
        self.events.append(message)


def run_panoramisk(parts: list[bytes]) -> list[Any]:
    proto = AMIProtocol()
    proto.connection_made(_Transport())
    proto.encoding = "utf8"  # what panoramisk's Manager sets (its default is ascii)
    factory = _Factory()
    proto.factory = factory
    for part in parts:
        proto.data_received(part)
    return factory.events


def panoramisk_headers(events: list[Any]) -> list[Headers]:
    out: list[Headers] = []
    for msg in events:
        headers: Headers = []
        for key, value in msg.items():
            if key == "content":  # panoramisk's slot for command output, not a header
                continue
            headers.extend((key, v) for v in (value if isinstance(value, list) else [value]))
        out.append(headers)
    return out


def run_naive(parts: list[bytes]) -> list[Headers]:
    """Split the buffer at every CRLF blank line, each line at its first ": ".  (Before
    2026-12-04, late evening, each header also went through ``typing.cast``: a Python call
    per header that made this peer ~9% slower than it is.)"""
    buf, out = b"", list[Any]()
    for part in parts:
        buf += part
        *frames, buf = buf.split(b"\r\n\r\n")
        for frame in frames:
            lines = frame.decode("utf-8", "replace").split("\r\n")
            if lines[0].startswith("Asterisk Call Manager/"):
                lines = lines[1:]
            out.append([tuple(line.split(": ", 1)) for line in lines])
    return out


def first_value(headers: Headers, key: str) -> str:
    """The first value of header ``key`` (lower case) in any case: the naive lookup."""
    for name, value in headers:
        if name.lower() == key:
            return value
    return ""


def run_naive_lookup(parts: list[bytes]) -> list[Headers]:
    """The naive split, each frame read as clinicall's is: its ``ActionID``, then its
    ``Event``."""
    buf, out = b"", list[Any]()
    for part in parts:
        buf += part
        *frames, buf = buf.split(b"\r\n\r\n")
        for frame in frames:
            lines = frame.decode("utf-8", "replace").split("\r\n")
            if lines[0].startswith("Asterisk Call Manager/"):
                lines = lines[1:]
            headers: list[Any] = [tuple(line.split(": ", 1)) for line in lines]
            _ = first_value(headers, "actionid") or first_value(headers, "event")
            out.append(headers)
    return out


_HEADER = re.compile(r"([^:\r\n]*): ([^\r\n]*)")


def run_regex(parts: list[bytes]) -> list[Headers]:
    """Frames cut at the last blank line of the buffer, decoded once, headers by findall."""
    buf = b""
    out: list[Headers] = []
    for part in parts:
        buf += part
        end = buf.rfind(b"\r\n\r\n")
        if end < 0:
            continue
        block, buf = buf[:end].decode("utf-8", "replace"), buf[end + 4 :]
        if block.startswith("Asterisk Call Manager/"):
            block = block.partition("\r\n")[2]
        out.extend(_HEADER.findall(frame) for frame in block.split("\r\n\r\n"))
    return out


def differences(expected: list[Headers], got: list[Headers]) -> str:
    """'identical', or how many events were lost and how headers came out wrong."""
    lost = abs(len(expected) - len(got))
    empty_dropped = mangled = 0
    for want, have in zip(expected, got, strict=False):
        if sorted(want) == sorted(have):
            continue
        have_names = {n for n, _ in have}
        if any(v == "" and n not in have_names for n, v in want):
            empty_dropped += 1
        else:
            mangled += 1
    if not (lost or empty_dropped or mangled):
        return "identical"
    return f"{lost} lost, {empty_dropped} lost an empty header, {mangled} mangled text"


def as_headers(name: str, output: list[Any]) -> list[Headers]:
    """A parser's own output as header lists, to compare (after timing: each parser is timed
    to its own output, as its consumer would get it)."""
    if name.startswith("clinicall"):
        return [m.headers for m in output]
    if name.startswith("panoramisk"):
        return panoramisk_headers(output)
    return output


def timed(
    parsers: dict[str, Callable[[list[bytes]], list[Any]]], parts: list[bytes], rounds: int
) -> dict[str, tuple[float, float, list[Any]]]:
    """Wall and CPU seconds of each parser's round with the least CPU, and its output."""
    best: dict[str, tuple[float, float, list[Any]]] = {}
    for _ in range(rounds):
        for name, fn in parsers.items():
            start, cpu = time.perf_counter(), time.process_time()
            result = fn(parts)
            wall, used = time.perf_counter() - start, time.process_time() - cpu
            if name not in best or used < best[name][1]:
                best[name] = (wall, used, result)
    return best


def chunkings(data: bytes, rng: random.Random) -> Iterator[tuple[str, list[bytes]]]:
    yield "random 1..64 KiB", chunks(data, rng, 65536)
    yield "random 1..1460 B", chunks(data, rng, 1460)


#: Each clinicall pipeline's peer doing the same work (the issue's bar: the naive split).
LIKE_PEERS = {"clinicall": "naive split", "clinicall + lookup": "naive split + lookup"}


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rng = random.Random(22)
    expected = make_events(count, rng)
    data = encode(expected)
    if len(sys.argv) > 2 and not sys.argv[2].isdigit():
        only(sys.argv[2], data, rng, int(sys.argv[3]) if len(sys.argv) > 3 else 1460)
        return
    print(f"stream: {count} events, {len(data) / 1e6:.1f} MB, {len(data) / count:.0f} B/event")
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    parsers: dict[str, Callable[[list[bytes]], list[Any]]] = {
        "clinicall": run_clinicall,
        "clinicall + lookup": run_clinicall_lookup,
        "panoramisk 1.4": run_panoramisk,
        "naive split": run_naive,
        "naive split + lookup": run_naive_lookup,
        "regex findall": run_regex,
    }
    for label, parts in chunkings(data, rng):
        print(f"\nchunks {label} ({len(parts)} reads), best of {rounds} rounds taken in turn")
        results = timed(parsers, parts, rounds)
        verdicts = {
            name: differences(expected, as_headers(name, got))
            for name, (_, _, got) in results.items()
        }
        peers = [n for n in results if not n.startswith("clinicall") and verdicts[n] == "identical"]
        fastest = min(peers, key=lambda n: results[n][1])
        print(
            f"  {'parser':20s} {'events/s':>9s} {'µs CPU/event':>12s} {'÷ ' + fastest:>22s} "
            f"{'÷ like peer':>12s}"
        )
        for name, (wall, cpu, _) in results.items():
            ratio = results[fastest][1] / cpu
            like = LIKE_PEERS.get(name)
            to_like = f"{results[like][1] / cpu:.2f}×" if like else ""
            print(
                f"  {name:20s} {count / wall:>9,.0f} {cpu / count * 1e6:>12.2f} "
                f"{ratio:>21.2f}× {to_like:>12s}   {verdicts[name]}"
            )
    small = data[: len(encode(expected[:5000]))]
    print("\nclinicall, first 5000 events, 1..16 B chunks, 5 seeds:", end=" ")
    same = all(
        as_headers("clinicall", run_clinicall(chunks(small, random.Random(s), 16)))
        == expected[:5000]
        for s in range(5)
    )
    print("identical" if same else "DIFFERENT")


def only(name: str, data: bytes, rng: random.Random, max_read: int) -> None:
    """One parser once on the 1..1460 B chunks (or 1..``max_read``), nothing else: for an
    instruction count (``valgrind --tool=callgrind``), less the same run with ``none``."""
    parsers: dict[str, Callable[[list[bytes]], object]] = {
        "none": lambda parts: None,
        "clinicall": run_clinicall,
        "clinicall+lookup": run_clinicall_lookup,
        "naive": run_naive,
        "naive+lookup": run_naive_lookup,
        "regex": run_regex,
    }
    parts = dict(chunkings(data, rng))["random 1..1460 B"]
    if max_read != 1460:  # the same stream, other reads (the rng state as above)
        parts = chunks(data, rng, max_read)
    parsers[name](parts)


if __name__ == "__main__":
    main()
