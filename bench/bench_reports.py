"""Time the KPI reports over a generated year: hourly sums, rows only, and the naive scan.

For SQLite and PostgreSQL (started with the test suite's throw-away server), fill the store
with ``bench/gen_year.py`` (``--calls``, default a full year of ~1.1 M calls), then time the
report of one day (by queue, hour), one month (by queue, day) and the year (by queue) with
``reports.compute``: *cold* (the period's hourly sums emptied first, so the report sums every
hour itself) and *warm* (median of --repeat runs, sums current); then once reading every row
with no hourly sums (*rows only*), and once with ``reports.naive.compute_naive`` (load the rows
into Python and count).  All must give the same report; prints a table.
Targets (issue 16): warm day ≤ 20 ms, month ≤ 0.1 s, year ≤ 0.5 s; cold year ≤ 3 s.
Beside each time, the CPU it took: this process plus, for a PostgreSQL server on this
machine, the server's processes (the machine is shared, so wall time varies with the load).

A second table times the survey (by queue), demand and staffing sections over the same
periods the same way (cold sums with its CPU, warm, rows only, same), against day ≤ 20 ms,
month ≤ 0.1 s, year ≤ 0.5 s warm.  Each cold run empties every sum, and the report sums the
survey, demand and staffing sums together (one family, one built mark per hour).

    python bench/bench_reports.py [--calls 50000] [--skip-naive-year] [--backends sqlite,postgres]
        [--sqlite-url URL] [--postgres-url URL]

A store given by URL is one ``gen_year.py`` filled earlier (a year takes minutes to
generate): it is reused as it is, and its hourly sums are rebuilt by the cold runs.
``--store-dir DIR`` keeps the stores this script generates (``DIR/year.db`` and the
PostgreSQL cluster in ``DIR/pg``) and reuses them on the next run, starting the throw-away
server on the kept cluster.

Two *cold* figures, each starting from a different state:

- *cold sums* (every hourly sum rebuilt): every hourly sum emptied first (both families), so
  the report sums every hour of the period itself, or, when over a month of them are
  missing (``rollup.Coverage.rows_pay``: the year), reads the period's rows and leaves the
  summing to the keeper; the KPI report sums its own family only (queue and call sums, the
  answered waits' counts and blocks), the survey, demand and staffing reports theirs (the
  second table's cold column, with its CPU); what a report pays once after a migration that
  drops the sums, since in production the keeper keeps them current.  The *keeper* columns
  then time what the cold report left: the period's sums made current as the keeper makes
  them (``update_hourly_sums``; 0 hours when the report summed them).
- *cold cache* (sums current): after the warm runs (so every sum is current), the engine is
  disposed; for PostgreSQL the server is stopped cleanly and started again (its shared
  buffers empty); every file of the store (PostgreSQL's whole data directory, SQLite's
  database, -wal and -shm) is flushed to disk and evicted from the OS page cache
  (``posix_fadvise(DONTNEED)``; the pages still resident afterwards are counted with
  ``mincore`` and printed); then the period's first report in a new engine, its first
  connection included.  Each period starts from its own restart and eviction.  Before the
  first, PostgreSQL's tables are VACUUMed and ANALYZEd, as autovacuum would have done by
  then in production (the sums were just written, and this server lives too briefly for
  autovacuum).  Needs a PostgreSQL server this script started (not one given by
  ``--postgres-url``).
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import mmap
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import delete, make_url, text

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from gen_year import DEFAULT_CALLS, ZONE, generate  # noqa: E402
from pg import PostgresServer  # noqa: E402  (tests/: the test suite's throw-away server)
from report_oracle import compute_naive  # noqa: E402  (bench/, beside this script)

from clinicall.db import create_engine, session_factory  # noqa: E402
from clinicall.db.models.rollups import HOURLY_SUM_TABLES  # noqa: E402
from clinicall.reports import compute  # noqa: E402
from clinicall.reports.demand import compute_demand  # noqa: E402
from clinicall.reports.kpi import update_hourly_sums  # noqa: E402
from clinicall.reports.settings import KpiSettings, kpi_settings  # noqa: E402
from clinicall.reports.staffing import compute_staffing  # noqa: E402
from clinicall.reports.survey import compute_survey  # noqa: E402
from clinicall.settings.loader import load_config  # noqa: E402

SETTINGS = KpiSettings(
    timezone="Europe/Kyiv",
    queue_service_level_s={
        "ultrasound": 20,
        "gynecology": 20,
        "pediatrics": 20,
        "therapy": 20,
        "universal": 30,
    },
)
PERIODS = [
    (
        "day",
        datetime(2026, 11, 10, tzinfo=ZONE),
        datetime(2026, 11, 11, tzinfo=ZONE),
        ["queue", "hour"],
        0.02,
    ),
    (
        "month",
        datetime(2026, 11, 1, tzinfo=ZONE),
        datetime(2026, 12, 1, tzinfo=ZONE),
        ["queue", "day"],
        0.1,
    ),
    ("year", datetime(2026, 1, 1, tzinfo=ZONE), datetime(2027, 1, 1, tzinfo=ZONE), ["queue"], 0.5),
]
CLINIC = load_config(ROOT / "config" / "clinic.example.yaml")
ANALYTICS_TARGETS = {"day": 0.02, "month": 0.1, "year": 0.5}


def analytics(section: str, start: datetime, end: datetime, sums: bool
              ) -> Callable[[Any], Awaitable[Any]]:
    """One of the survey, demand and staffing reports, from the hourly sums or the rows."""
    if section == "survey":
        settings = kpi_settings(CLINIC)
        return lambda s: compute_survey(s, start=start, end=end, by="queue",
                                        timezone=settings.timezone,
                                        always=settings.survey_always,
                                        settings=settings if sums else None)
    if section == "demand":
        return lambda s: compute_demand(s, start=start, end=end, config=CLINIC,
                                        hourly_sums=sums)
    return lambda s: compute_staffing(s, start=start, end=end, config=CLINIC, hourly_sums=sums)


async def bench_analytics(name: str, url: str, repeat: int) -> list[list[str]]:
    """The second table (see the module docstring)."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    rows: list[list[str]] = []
    postmaster = await _postmaster(sessions)

    async def run(work: Callable[[Any], Awaitable[Any]]) -> tuple[float, Any]:
        async with sessions() as s:
            return await _timed(work(s))

    try:
        for period, start, end, _, _ in PERIODS:
            target = ANALYTICS_TARGETS[period]
            for section in ("survey", "demand", "staffing"):
                async with sessions() as s, s.begin():  # cold: no hourly sums yet
                    for table in HOURLY_SUM_TABLES:
                        await s.execute(delete(table))
                began = time.process_time() + _server_cpu_s(postmaster)
                cold, first = await run(analytics(section, start, end, True))
                cold_cpu = time.process_time() + _server_cpu_s(postmaster) - began
                warm = [(await run(analytics(section, start, end, True)))[0]
                        for _ in range(repeat)]
                rows_s, from_rows = await run(analytics(section, start, end, False))
                same = from_rows.to_dict() == first.to_dict()
                if not same:
                    _show_difference(first.to_dict(), from_rows.to_dict())
                median = statistics.median(warm)
                rows.append([name, period, section, f"{cold:.3f}", f"{cold_cpu:.3f}",
                             f"{median:.4f}",
                             f"{target:.2f}", "ok" if median <= target else "OVER",
                             f"{rows_s:.3f}", "yes" if same else "NO"])
                print(f"  {name} {period} {section}: cold sums {cold:.3f} s (CPU {cold_cpu:.3f}"
                      f" s), warm {median:.4f} s "
                      f"(rows only {rows_s:.3f}, same: {rows[-1][-1]})",
                      file=sys.stderr, flush=True)
    finally:
        await engine.dispose()
    return rows


async def _timed(work: Awaitable[Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    result = await work
    return time.perf_counter() - began, result


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (and of its children it has reaped)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _server_cpu_s(postmaster: int | None) -> float:
    """CPU of the PostgreSQL cluster on this machine: the postmaster (with the backends and
    parallel workers it has reaped) and its live children; 0 for SQLite (in-process)."""
    if postmaster is None:
        return 0.0
    total = _cpu_s(postmaster)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if _parent(int(entry.name)) == postmaster:
                    total += _cpu_s(int(entry.name))
            except (OSError, IndexError):  # exited meanwhile
                continue
    return total


async def _postmaster(sessions: Any) -> int | None:
    """The local PostgreSQL postmaster's pid, or None (SQLite, or a server elsewhere)."""
    async with sessions() as s:
        if (await s.connection()).dialect.name != "postgresql":
            return None
        backend = int((await s.execute(text("SELECT pg_backend_pid()"))).scalar_one())
    try:
        return _parent(backend)
    except OSError:
        return None


class KeptServer(PostgresServer):
    """The throw-away server on a cluster kept in ``root`` between runs (``--store-dir``)."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        shutil.rmtree(self.root, ignore_errors=True)  # the temporary root it made: unused
        self.root = root
        self.data_dir = root / "data"

    @property
    def generated(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def start(self) -> None:
        if self.generated:
            self.resume()
        else:
            self.root.mkdir(parents=True, exist_ok=True)
            super().start()

    def stop(self) -> None:  # keep the cluster
        if (self.data_dir / "postmaster.pid").exists():
            self.pause()


_LIBC = ctypes.CDLL(None, use_errno=True)
_LIBC.mmap.restype = ctypes.c_void_p
_LIBC.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                       ctypes.c_int, ctypes.c_long]
_LIBC.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
_LIBC.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_MAP_FAILED = ctypes.c_void_p(-1).value


def _resident(path: Path) -> int:
    """Bytes of ``path`` in the OS page cache (mincore over a read-only mapping)."""
    size = path.stat().st_size
    if size == 0:
        return 0
    fd = os.open(path, os.O_RDONLY)
    try:
        address = _LIBC.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        if address in (None, _MAP_FAILED):
            raise OSError(ctypes.get_errno(), f"mmap {path}")
        try:
            pages = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
            vector = ctypes.create_string_buffer(pages)
            if _LIBC.mincore(address, size, vector) != 0:
                raise OSError(ctypes.get_errno(), f"mincore {path}")
            return (pages - vector.raw[:pages].count(0)) * mmap.PAGESIZE
        finally:
            _LIBC.munmap(address, size)
    finally:
        os.close(fd)


def _store_files(url: str, server: PostgresServer | None) -> list[Path]:
    """Every file of the store: PostgreSQL's data directory, or SQLite's database and its
    -wal and -shm."""
    if server is not None:
        return [p for p in server.data_dir.rglob("*") if p.is_file()]
    database = Path(str(make_url(url).database))
    return [p for p in (database, Path(f"{database}-wal"), Path(f"{database}-shm"))
            if p.exists()]


def _evict(files: list[Path]) -> tuple[int, int, int]:
    """Flush each file to disk and drop its pages from the OS page cache (no root needed:
    ``posix_fadvise(DONTNEED)`` drops a file's clean pages).  Returns the files' bytes, and
    the bytes resident before and after."""
    size = before = after = 0
    for path in files:
        try:
            size += path.stat().st_size
            before += _resident(path)
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)  # dirty pages are not dropped
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
            after += _resident(path)
        except FileNotFoundError:  # a temporary file the server removed meanwhile
            continue
    return size, before, after


async def bench_cold_cache(name: str, url: str, server: PostgresServer | None,
                           expected: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """*Cold cache* (module docstring): for each period, the server restarted (PostgreSQL),
    the store's files evicted from the OS page cache, then the first report in a new engine.
    The hourly sums are current (the warm runs before this left them so).  Returns, for each
    period, [wall s, CPU s, MB resident after eviction / MB of files, same, MB resident
    after the report (what it read, read-ahead included)]."""
    out: dict[str, list[str]] = {}
    if server is not None:  # what autovacuum does minutes after the keeper's inserts (this
        # server lives too briefly to get there): the sums' statistics and visibility map
        server.psql("VACUUM (ANALYZE)", str(make_url(url).database))
    for period, start, end, by, _ in PERIODS:
        if server is not None:
            server.pause()  # a clean stop: checkpointed, shared buffers gone
        size, before, after = _evict(_store_files(url, server))
        postmaster = None
        if server is not None:
            server.resume()
            postmaster = int((server.data_dir / "postmaster.pid").read_text().split()[0])
        engine = create_engine(url)
        try:
            began_cpu = time.process_time() + _server_cpu_s(postmaster)
            async with session_factory(engine)() as s:
                took, report_ = await _timed(compute(s, config=SETTINGS, start=start, end=end,
                                                     by=by))
            cpu = time.process_time() + _server_cpu_s(postmaster) - began_cpu
        finally:
            await engine.dispose()
        files = _store_files(url, server)
        read = sum(_resident(p) for p in files if p.exists())  # back in the cache: read
        same = report_.to_dict() == expected[period]
        if not same:
            _show_difference(expected[period], report_.to_dict())
        mb = 1 << 20
        out[period] = [f"{took:.3f}", f"{cpu:.3f}",
                       f"{after / mb:.1f}/{size / mb:,.0f}", "yes" if same else "NO",
                       f"{read / mb:.1f}"]
        print(f"  {name} {period}: cold cache {took:.3f} s (CPU {cpu:.3f} s; resident "
              f"{before / mb:,.0f} -> {after / mb:.1f} MB of {size / mb:,.0f} MB evicted, "
              f"{read / mb:.1f} MB back after the report; same: {out[period][3]})",
              file=sys.stderr, flush=True)
    return out


async def bench_one(name: str, url: str, repeat: int, naive_year: bool,
                    expected: dict[str, dict[str, Any]]) -> list[list[str]]:
    """The first table: for each period, cold sums, warm, rows only, naive (module docstring);
    ``expected`` gets each period's report.  The cold-cache columns are left "-"."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    rows: list[list[str]] = []
    postmaster = await _postmaster(sessions)
    cpu: list[float] = []  # CPU seconds of each report: this process + the database server

    async def measured(work: Callable[[Any], Awaitable[Any]]) -> tuple[float, Any]:
        """``work(session)`` timed; its CPU appended to ``cpu``."""
        async with sessions() as s:
            began = time.process_time() + _server_cpu_s(postmaster)
            timed = await _timed(work(s))
            cpu.append(time.process_time() + _server_cpu_s(postmaster) - began)
            return timed

    async def report(**kwargs: Any) -> tuple[float, Any]:
        return await measured(lambda s: compute(s, config=SETTINGS, **kwargs))

    try:
        for period, start, end, by, target in PERIODS:
            async with sessions() as s, s.begin():  # cold: no hourly sums yet (both
                # families emptied: the KPI report sums its own again, not the analytics')
                for table in HOURLY_SUM_TABLES:
                    await s.execute(delete(table))
            cold, report_ = await report(start=start, end=end, by=by)
            cold_cpu = cpu[-1]
            kept_s, kept_hours = await measured(  # what the cold report left to the keeper
                partial(update_hourly_sums, start=start, end=end, config=SETTINGS))
            kept_cpu = cpu[-1]
            warm = [(await report(start=start, end=end, by=by))[0] for _ in range(repeat)]
            warm_cpu = statistics.median(cpu[-repeat:])
            expected[period] = report_.to_dict()
            rows_s, from_rows = await report(start=start, end=end, by=by, hourly_sums=False)
            same = [from_rows.to_dict() == expected[period]]
            naive_s = "skipped"
            if period != "year" or naive_year:
                async with sessions() as s:
                    took, naive = await _timed(
                        compute_naive(s, start=start, end=end, by=by, config=SETTINGS))
                naive_s = f"{took:.3f}"
                same.append(naive.to_dict() == expected[period])
                if not same[-1]:
                    _show_difference(expected[period], naive.to_dict())
            median = statistics.median(warm)
            offered = sum(int(r["offered"] or 0) for r in report_.section("queues").rows)
            rows.append([name, period, ",".join(by), f"{offered:,}", f"{cold:.3f}",
                         f"{cold_cpu:.3f}", "-", "-", f"{median:.3f}", f"{1000 * warm_cpu:.0f}",
                         f"{target:.2f}", "ok" if median <= target else "OVER",
                         f"{rows_s:.3f}", naive_s, "yes" if all(same) else "NO",
                         f"{kept_hours:,}", f"{kept_s:.3f}", f"{kept_cpu:.3f}"])
            print(f"  {name} {period}: cold sums {cold:.3f} s, then summed by the keeper "
                  f"{kept_s:.3f} s, warm {median:.3f} s (rows only {rows_s:.3f}, naive "
                  f"{naive_s}, same: {rows[-1][SAME]})",
                  file=sys.stderr, flush=True)
    finally:
        await engine.dispose()
    return rows


def _show_difference(a: dict[str, Any], b: dict[str, Any]) -> None:
    for section in a["sections"]:
        if section not in b["sections"]:
            print(f"    {section}: missing from the second report", file=sys.stderr)
            continue
        ra, rb = a["sections"][section]["rows"], b["sections"][section]["rows"]
        if len(ra) != len(rb):
            print(f"    {section}: {len(ra)} rows vs {len(rb)}", file=sys.stderr)
            continue
        for x, y in zip(ra, rb, strict=True):
            diff = {k: (x[k], y.get(k)) for k in x if x[k] != y.get(k)}
            if diff:
                print(f"    {section}: {diff}", file=sys.stderr)
                break


#: The first table's columns; ``SAME``: where a row says whether every way agreed.
HEAD = ["db", "period", "by", "offered", "cold sums s", "cpu s", "cold cache s", "cpu s",
        "warm s", "warm cpu ms", "target s", "", "rows only s", "naive s", "same", "keeper h",
        "keeper s", "cpu s"]
SAME = HEAD.index("same")


def print_table(rows: list[list[str]], head: list[str] | None = None) -> None:
    head = head or HEAD
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, *rows]:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)))


async def main_async(args: argparse.Namespace) -> None:
    backends = args.backends.split(",")
    work = Path(tempfile.mkdtemp(prefix="clinicall-bench-"))
    given = {"sqlite": args.sqlite_url, "postgres": args.postgres_url}
    kept: Path | None = args.store_dir  # made absolute by main()
    stores = kept or work
    server: PostgresServer | None = None
    if "postgres" in backends and given["postgres"] is None:
        server = KeptServer(kept / "pg") if kept is not None else PostgresServer()
    try:
        urls: dict[str, str] = {name: given[name] for name in backends if given[name]}
        reused = set(urls)
        if "sqlite" in backends and "sqlite" not in urls:
            urls["sqlite"] = f"sqlite+aiosqlite:///{stores / 'year.db'}"
            if (stores / "year.db").exists():
                reused.add("sqlite")
        if server is not None:
            if isinstance(server, KeptServer) and server.generated:
                reused.add("postgres")
            server.start()  # a kept cluster: started as it was left
            if "postgres" not in reused:
                server.create_database("bench")
            urls["postgres"] = server.url("bench").render_as_string(hide_password=False)
        fresh = [url for name, url in urls.items() if name not in reused]
        if fresh:
            began = time.perf_counter()
            await generate(fresh, args.calls, args.seed)
            print(f"loaded in {time.perf_counter() - began:.1f} s", file=sys.stderr)
        rows: list[list[str]] = []
        more: list[list[str]] = []
        evicted: list[str] = []
        for name, url in urls.items():
            if not args.skip_kpi:
                expected: dict[str, dict[str, Any]] = {}
                mine = await bench_one(name, url, args.repeat, not args.skip_naive_year,
                                       expected)
                ours = server if name == "postgres" else None
                if name == "postgres" and server is None:
                    print(f"  {name}: no cold-cache run (a server this script did not start)",
                          file=sys.stderr)
                else:
                    cache = await bench_cold_cache(name, url, ours, expected)
                    for row in mine:
                        row[6:8] = cache[row[1]][:2]
                        if cache[row[1]][3] != "yes":
                            row[SAME] = "NO"
                        evicted.append(f"{name} {row[1]}: {cache[row[1]][2]} "
                                       f"(after the report {cache[row[1]][4]})")
                rows += mine
            if not args.skip_analytics:
                more += await bench_analytics(name, url, args.repeat)
        print(f"\n{args.calls:,} generated inbound calls (+ callbacks' outbound calls)")
        if rows:
            print_table(rows)
            print("cold sums: every hourly sum emptied first (both families), the KPI report "
                  "sums its own (queue, call, wait counts) for every hour of the period, or, "
                  "past a month of them, reads the rows;\nkeeper: then the hours it left summed "
                  "as the keeper sums them (update_hourly_sums over the period);\n"
                  "cold cache: sums current, server restarted (PostgreSQL), the "
                  "store's files evicted from the OS page cache, the first report in a new "
                  "engine.\nMB of the store in the page cache after eviction / MB of its "
                  "files (and after the report): " + "; ".join(evicted))
        if more:
            print()
            print_table(more, ["db", "period", "section", "cold sums s", "cpu s", "warm s",
                               "target s", "",
                               "rows only s", "same"])
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=DEFAULT_CALLS)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--sqlite-url", help="reuse a store gen_year.py filled (not generated)")
    parser.add_argument("--postgres-url", help="reuse a store gen_year.py filled")
    parser.add_argument("--store-dir", help="keep the generated stores here and reuse them")
    parser.add_argument("--skip-naive-year", action="store_true")
    parser.add_argument("--skip-kpi", action="store_true",
                        help="time only survey, demand and staffing, not the KPI report")
    parser.add_argument("--skip-analytics", action="store_true",
                        help="time only the KPI report, not survey, demand and staffing")
    args = parser.parse_args()
    if args.store_dir:
        args.store_dir = Path(args.store_dir).resolve()
        args.store_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
