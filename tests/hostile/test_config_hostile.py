"""Hostile and careless YAML through the entry point ``clinicall check-config`` and ``clinicall
run`` use (``check_config`` on a file): each is one clear message naming the file, the line
and, where there is one, the key, with what to write instead; within 2 s and 200 MB; and the
CLI exits 1 with no traceback.  The table holds what hostile files do (alias bombs, 50 MB,
nesting, encodings, tabs, duplicate keys) and what careless hands do (impossible dates,
overlapping hours, unknown languages, a menu leading to itself, typos of every kind).

Time and memory are measured, not guessed: the wall time of each check in this process with
the peak of ``tracemalloc`` (what the loader allocated), and for the CLI the child's own peak
resident memory (``VmHWM``, read as it exits: ``wait4``'s figure would include this process's,
which Linux carries into a child's peak across ``exec``).  Each case is printed
(``pytest -s``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import pytest

from clinicall.settings.loader import check_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = (ROOT / "config" / "clinic.example.yaml").read_text(encoding="utf-8")

TIME_BOUND_S = 2.0
MEMORY_BOUND_BYTES = 200 << 20

ALIASES = ("anchors and aliases (&name, *name) are not accepted in a clinic config: write the "
           "values out")  # fmt: skip
#: 1 KB that expands to 9**9 (387 million) items when aliases are followed.
BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n"
    for p, n in zip("abcdefgh", "bcdefghi", strict=True))  # fmt: skip


def line_of(needle: str) -> int:
    return EXAMPLE[: EXAMPLE.index(needle)].count("\n") + 1


def edited(old: str, new: str) -> bytes:
    """The example with its first ``old`` replaced by ``new``, as bytes."""
    assert old in EXAMPLE, old
    return EXAMPLE.replace(old, new, 1).encode()


@dataclass(frozen=True)
class Hostile:
    """One file and the one error it must give: ``file:line: key: message``."""

    name: str
    content: bytes
    line: int  # 0: the file as a whole (it is not read far enough for a line)
    key: str
    message: str


CASES = [
    Hostile("deep-nesting", ("clinic:\n  name: " + "[" * 500 + "]" * 500 + "\n").encode(),
            2, "clinic.name[0]", "nested more than 32 levels deep"),
    Hostile("billion-laughs", BILLION_LAUGHS.encode(), 1, "a", ALIASES),
    Hostile("recursive-alias", b"rec: &r [*r]\n", 1, "rec", ALIASES),
    Hostile("alias-in-a-real-config", EXAMPLE.replace("kpi:\n", "kpi: &k\n", 1).encode(),
            line_of("kpi:\n"), "kpi", ALIASES),
    Hostile("20-MB", EXAMPLE.encode() + b"# padding\n" * (2 << 20), 0, "",
            "larger than 1 MB: not a clinic config"),
    Hostile("100,000-keys", b"".join(b"k%d: 1\n" % n for n in range(100_000)), 10_000, "k9999",
            "more than 20,000 values: not a clinic config"),
    Hostile("byte-order-mark-then-a-typo",
            b"\xef\xbb\xbf" + EXAMPLE.replace("ring_s:", "ringtime:", 1).encode(),
            line_of("ring_s:"), "queues.ultrasound.ringtime",
            "unknown key 'ringtime'; did you mean 'ring_s'?"),
    Hostile("utf-16", EXAMPLE.encode("utf-16"), 1, "",
            "UTF-16 text (a UTF-16 byte-order mark, or a zero byte in every other place); save "
            "the file as UTF-8"),
    Hostile("latin-1", EXAMPLE.replace("database:", "data\xe9base:", 1).encode("utf-8").replace(
            "\xe9".encode(), b"\xe9"), line_of("database:"), "",
            "not UTF-8 text (byte 0xe9); save the file as UTF-8"),
    Hostile("nul", EXAMPLE.replace("database:", "data\x00base:", 1).encode(), line_of("database:"),
            "", "character '\\x00' is not allowed in YAML; remove it"),
    Hostile("tab-indentation", EXAMPLE.replace("\n  url: sqlite", "\n\turl: sqlite", 1).encode(),
            line_of("  url: sqlite"), "",
            "YAML syntax error: found character that cannot start any token (while scanning for "
            "the next token); a tab: YAML indents with spaces only"),
    Hostile("duplicate-key", EXAMPLE.replace("  ami_port: 5038\n",
                                             "  ami_port: 5038\n  ami_port: 5039\n").encode(),
            line_of("  ami_port: 5038\n") + 1, "engine.ami_port",
            "this key is given twice; remove one"),
    Hostile("50-MB", EXAMPLE.encode() + b"# padding\n" * (5 << 20), 0, "",
            "larger than 1 MB: not a clinic config"),
    *(Hostile(name, edited(old, new), line_of(old), key, message)
      for name, old, new, key, message in [
        ("impossible-date-feb-30", "    - date: 2026-12-25\n", "    - date: 2026-02-30\n",
         "hours.holidays[0].date",
         "there is no date '2026-02-30' (day is out of range for month); expected YYYY-MM-DD"),
        ("impossible-month-13", "    - date: 2026-12-25\n", "    - date: 2026-13-01\n",
         "hours.holidays[0].date",
         "there is no date '2026-13-01' (month must be in 1..12); expected YYYY-MM-DD"),
        ("overlapping-hours", '    mon: ["08:00-20:00"]', '    mon: ["08:00-13:00", "12:00-20:00"]',
         "hours.weekly.mon[1]", "opening intervals overlap: '08:00-13:00' and '12:00-20:00'; "
         "write them as one, '08:00-20:00'"),
        ("hours-end-before-start", '    tue: ["08:00-20:00"]', '    tue: ["20:00-08:00"]',
         "hours.weekly.tue[0]", "the end of an opening interval must be after its start"),
        ("hour-25", '    wed: ["08:00-20:00"]', '    wed: ["08:00-25:00"]', "hours.weekly.wed[0]",
         "expected hours 00-24 in 'HH:MM-HH:MM', got '08:00-25:00'"),
        ("unknown-language", "languages: [uk, ru, en]", "languages: [uk, ru, de]", "languages[2]",
         "expected one of 'uk', 'ru' or 'en', got 'de'"),
        ("menu-loops-to-itself", '        "4": {route: complaint}\n',
         '        "4": {menu: main}\n', "ivr.menus.main.options.4.menu",
         "menu 'main' leads to itself: the caller would hear it again and again; name another "
         "menu or a route"),
        ("unknown-route", '        "4": {route: complaint}', '        "4": {route: complain}',
         "ivr.menus.main.options.4.route", "unknown route 'complain'; did you mean 'complaint'?"),
        ("route-to-unknown-queue", "  complaint: {queue: universal, priority: 2,",
         "  complaint: {queue: universl, priority: 2,", "routes.complaint.queue",
         "unknown queue 'universl'; did you mean 'universal'?"),
        ("operator-in-unknown-queue", "    queues: {gynecology: 0, universal: 1}",
         "    queues: {gynaecology: 0, universal: 1}", "operators[1].queues.gynaecology",
         "unknown queue 'gynaecology'; did you mean 'gynecology'?"),
        ("number-not-e164", '  - number: "+380441234568"', '  - number: "0441234568"',
         "numbers[1].number", "expected a phone number in E.164 form, such as '+380441234567' "
         "(quoted), got '0441234568'"),
        ("bad-time-zone", "  timezone: Europe/Kyiv", "  timezone: Europe/Kyivv", "clinic.timezone",
         "unknown time zone 'Europe/Kyivv'; use an IANA name such as 'Europe/Kyiv'"),
        ("ring-not-a-number", "    ring_s: 15\n", "    ring_s: fast\n", "queues.ultrasound.ring_s",
         "expected a whole number of seconds, got 'fast'"),
        ("unknown-strategy", "    strategy: round_robin\n", "    strategy: fastest\n",
         "queues.ultrasound.strategy", "expected one of 'ring_all', 'longest_idle', "
         "'fewest_calls', 'random', 'round_robin' or 'top_down', got 'fastest'"),
        ("mysql-url", "  url: sqlite+aiosqlite:///var/clinicall.db", "  url: mysql://x",
         "database.url", "unsupported database 'mysql' in 'mysql://x': expected "
         "sqlite+aiosqlite:///var/clinicall.db or postgresql+asyncpg://USER:PASS@HOST/DB"),
        ("short-ami-secret", "  ami_secret: change-me-ami", "  ami_secret: short",
         "engine.ami_secret", "expected at least 8 characters, got 'short'"),
        ("agi-allow-host-name", '  agi_allow: ["127.0.0.1/32", "::1/128"]',
         '  agi_allow: ["pbx.local"]', "engine.agi_allow[0]",
         "expected an IP address or a network such as '192.0.2.10' or '192.0.2.0/24' (host "
         "names are not resolved), got 'pbx.local'"),
        ("web-port-70000", "  port: 8080", "  port: 70000", "http.port",
         "expected at most 65535, got 70000"),
        ("section-name-typo", "kpi:\n", "kpis:\n", "kpis",
         "unknown key 'kpis'; did you mean 'kpi'?"),
        ("unknown-recording-format", "  format: ogg ", "  format: mp3 ", "recordings.format",
         "expected one of 'ogg', 'wav' or 'opus', got 'mp3'"),
        ("fallback-route-unknown", "  fallback_route: operator", "  fallback_route: operater",
         "ivr.fallback_route", "unknown route 'operater'; did you mean 'operator'?"),
      ]),
    Hostile("empty-file", b"", 1, "",
            "expected a mapping of sections (clinic:, queues:, ...) at the top of the file"),
    Hostile("trunk-registering-without-credentials",
            (EXAMPLE + "trunks:\n  - {id: voip, host: sip.example, registration: true}\n"
             ).encode(), EXAMPLE.count("\n") + 2, "trunks[0]",  # the item, after 'trunks:'

            "a trunk with registration: true needs a username and a password"),
    Hostile("rtp-range-reversed",
            (EXAMPLE + "sip:\n  rtp_ports: {start: 20000, end: 10000}\n").encode(),
            EXAMPLE.count("\n") + 2, "sip.rtp_ports",
            "end must be above start (the range is start to end, inclusive)"),
]  # fmt: skip

#: The cases also run through the CLI (a Python start each, so not all of them).
CLI_CASES = {"deep-nesting", "billion-laughs", "recursive-alias", "20-MB", "utf-16", "nul",
             "duplicate-key"}  # fmt: skip


def expected_line(path: Path, case: Hostile) -> str:
    where = f"{path}:{case.line}" if case.line else str(path)
    key = f"{case.key}: " if case.key else ""
    return f"{where}: {key}{case.message}"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_yaml_is_one_clear_message_in_bounded_time_and_memory(
    case: Hostile, tmp_path: Path
) -> None:
    path = tmp_path / "clinic.yaml"
    path.write_bytes(case.content)
    tracemalloc.start()
    try:
        started = time.perf_counter()
        report = check_config(path)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    print(f"\n{case.name} ({len(case.content):,} bytes): {seconds:.3f} s, "
          f"peak {peak / 2**20:.1f} MB allocated")  # fmt: skip
    assert report.config is None
    assert [str(p) for p in report.errors] == [expected_line(path, case)]
    assert seconds < TIME_BOUND_S
    assert peak < MEMORY_BOUND_BYTES


#: ``python -m clinicall`` (runpy runs the package as ``-m`` does), and at exit the peak of
#: the process's own resident memory written to the file named in HIGH_WATER_FILE.
CHILD = """
import atexit, os, runpy

def high_water():
    with open("/proc/self/status") as status, open(os.environ["HIGH_WATER_FILE"], "w") as out:
        out.write(next(line for line in status if line.startswith("VmHWM:")).split()[1])

atexit.register(high_water)
runpy.run_module("clinicall", run_name="__main__", alter_sys=True)
"""


def run_cli(tmp_path: Path, *args: str) -> tuple[int, str, str, int]:
    """``python -m clinicall ARGS``: (exit code, stdout, stderr, peak RSS in bytes)."""
    high_water = tmp_path / "high_water"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HIGH_WATER_FILE": str(high_water)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *args],
        capture_output=True, text=True, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, timeout=30,
        check=False,
    )  # fmt: skip
    return done.returncode, done.stdout, done.stderr, int(high_water.read_text()) * 1024


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", [c for c in CASES if c.name in CLI_CASES],
                         ids=[c.name for c in CASES if c.name in CLI_CASES])  # fmt: skip
def test_the_cli_exits_1_with_the_message_and_no_traceback(case: Hostile, tmp_path: Path) -> None:
    path = tmp_path / "clinic.yaml"
    path.write_bytes(case.content)
    started = time.perf_counter()
    code, out, err, rss = run_cli(tmp_path, "check-config", str(path))
    seconds = time.perf_counter() - started
    print(f"\ncheck-config {case.name}: exit {code} in {seconds:.2f} s (Python start included), "
          f"peak RSS {rss / 2**20:.0f} MB")  # fmt: skip
    assert code == 1
    assert out.splitlines() == [expected_line(path, case)]
    assert err == "1 error(s), 0 warning(s) in " + str(path) + "\n"
    assert "Traceback" not in out + err
    assert rss < MEMORY_BOUND_BYTES


@pytest.mark.timeout(60)
def test_run_refuses_a_hostile_config_the_same_way(tmp_path: Path) -> None:
    """``clinicall run`` loads through the same checks: the message, exit 1, nothing else."""
    (case,) = [c for c in CASES if c.name == "billion-laughs"]
    path = tmp_path / "clinic.yaml"
    path.write_bytes(case.content)
    code, out, err, rss = run_cli(tmp_path, "run", str(path), "--no-web")
    assert code == 1
    assert out == ""
    assert err.splitlines() == [
        expected_line(path, case),
        f"clinicall run: error: {path}: 1 problem(s) in the config",
        f"  -> fix them and run 'clinicall check-config {path}'",
    ]
    assert rss < MEMORY_BOUND_BYTES
