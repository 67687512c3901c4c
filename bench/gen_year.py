"""Generate a realistic year of calls into a migrated store, fast (bulk inserts).

Shape: ~1.1 M inbound calls a year by default; weekday volume with a morning peak, Saturdays
at 40 %, Sundays at 10 %, a winter season bump; IVR outcomes (queue, self-served, IVR
hang-ups, after hours, failures); five specialty queues with skewed (log-normal) waits, caller
patience so that ~15 % abandon, max-wait timeouts overflowing to the front desk, exits by key;
callbacks of missed calls (outbound calls, most answered within minutes); CSAT/NPS answers on
a fifth of the answered calls; repeat callers from a Zipf-like pool of numbers.  Queue waits
and talk times are whole seconds, as Asterisk reports them.  After the load, every call's links
(``clinicall.db.call_links``: next call of the caller, return of a missed call) are rebuilt.

Writers: SQLite through ``sqlite3.executemany`` in big batches in one transaction,
PostgreSQL through asyncpg ``COPY``.  Times are whole milliseconds (as the engines log them).

    python bench/gen_year.py --db sqlite:///var/bench/year.db [--calls 50000] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import make_url

ZONE = ZoneInfo("Europe/Kyiv")
YEAR = 2026
DEFAULT_CALLS = 1_100_000
QUEUES = {  # route -> (queue, share, max_wait_s, mean talk s)
    "ultrasound": ("ultrasound", 0.18, 180, 150),
    "gynecology": ("gynecology", 0.14, 180, 200),
    "pediatrics": ("pediatrics", 0.20, 120, 170),
    "therapy": ("therapy", 0.28, 180, 180),
    "appointments": ("universal", 0.20, 600, 140),
}
HOURLY = [
    0.2,
    0.1,
    0.05,
    0.05,
    0.05,
    0.1,
    0.4,
    2,
    6,
    9,
    9,
    8,
    7,
    6.5,
    6.5,
    6,
    5.5,
    4.5,
    3,
    1.5,
    0.8,
    0.5,
    0.3,
    0.2,
]  # local hour weights (open 08:00–20:00)
WEEKDAY = [1.0, 0.95, 0.92, 0.92, 0.9, 0.4, 0.1]

CALL_COLS = (
    "id",
    "call_key",
    "direction",
    "caller",
    "dialled",
    "started_at",
    "answered_at",
    "ended_at",
    "language",
    "ivr_path",
    "route",
    "ivr_outcome",
    "hangup_side",
    "missed",
    "miss_cause",
)
ATTEMPT_COLS = (
    "id",
    "call_id",
    "channel_id",
    "queue",
    "joined_at",
    "connected_at",
    "left_at",
    "outcome",
    "wait_s",
    "talk_s",
    "agent",
    "position",
    "original_position",
    "exit_key",
    "priority",
)
CALLBACK_COLS = (
    "id",
    "phone",
    "reason",
    "origin_call_id",
    "queue",
    "language",
    "created_at",
    "arrived_at",
    "priority",
    "due_at",
    "state",
    "attempts",
    "claimed_by",
    "claimed_at",
    "completed_at",
    "result",
    "result_call_id",
)
SURVEY_COLS = ("id", "call_id", "question", "score", "answered_at")


@dataclass
class Batch:
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    attempts: list[tuple[Any, ...]] = field(default_factory=list)
    callbacks: list[tuple[Any, ...]] = field(default_factory=list)
    surveys: list[tuple[Any, ...]] = field(default_factory=list)

    def size(self) -> int:
        return len(self.calls) + len(self.attempts) + len(self.callbacks) + len(self.surveys)


def _ms(seconds: float) -> timedelta:
    return timedelta(milliseconds=round(seconds * 1000))


class Generator:
    def __init__(self, total_calls: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.total = total_calls
        self.ids = {"call": 0, "attempt": 0, "callback": 0, "survey": 0}
        pool = max(1000, total_calls // 6)
        self.numbers = [f"+38050{n:07d}" for n in self.rng.sample(range(10**7), pool)]
        days = [date(YEAR, 1, 1) + timedelta(days=i) for i in range(365)]
        weights = [
            WEEKDAY[d.weekday()] * (1.25 if d.month in (1, 2, 11, 12) else 1.0) for d in days
        ]
        scale = total_calls / sum(weights)
        self.days = [(d, w * scale) for d, w in zip(days, weights, strict=True)]

    def _next(self, kind: str) -> int:
        self.ids[kind] += 1
        return self.ids[kind]

    def _caller(self) -> str:
        # Zipf-like: a few patients call often.
        i = int(len(self.numbers) * self.rng.random() ** 2.2)
        return self.numbers[min(i, len(self.numbers) - 1)]

    def days_batches(self) -> Iterator[Batch]:
        carry = 0.0
        for day, expected in self.days:
            carry += expected
            n = int(carry)
            carry -= n
            yield self._day(day, n)

    def _day(self, day: date, n: int) -> Batch:
        batch = Batch()
        rng = self.rng
        hours = rng.choices(range(24), weights=HOURLY, k=n)
        for hour in sorted(hours):
            local = datetime(day.year, day.month, day.day, hour, tzinfo=ZONE)
            at = (local.astimezone(UTC) + _ms(rng.random() * 3600)).replace(
                microsecond=0
            ) + timedelta(milliseconds=rng.randrange(1000))
            self._call(batch, at, open_=8 <= hour < 20 and day.weekday() < 6)
        return batch

    def _call(self, b: Batch, at: datetime, open_: bool) -> None:
        rng = self.rng
        cid = self._next("call")
        caller = self._caller()
        ivr_s = rng.uniform(8, 40)
        joined = at + _ms(ivr_s)
        r = rng.random()
        route: str | None = rng.choices(list(QUEUES), weights=[q[1] for q in QUEUES.values()])[0]
        missed = False
        cause: str | None = None
        outcome = "queue"
        end = joined
        answered_call = False
        if not open_:
            outcome, missed, cause, route = "afterhours", True, "afterhours", None
            end = at + _ms(rng.uniform(15, 40))
        elif r < 0.07:
            outcome, route, end = "selfserved", "hours", at + _ms(rng.uniform(20, 60))
        elif r < 0.15:
            outcome, missed, cause, route = "hangup_ivr", True, "hangup_ivr", None
            end = at + _ms(rng.uniform(3, 30))
        elif r < 0.153:
            outcome, missed, cause, route = "failed", True, "failed", None
            end = at + _ms(2)
        else:
            assert route is not None
            queue, _, max_wait, talk_mean = QUEUES[route]
            res, end, answered_call = self._attempt(b, cid, queue, joined, max_wait, talk_mean)
            if res == "timeout" and queue != "universal":  # overflow to the front desk
                res, end, answered_call = self._attempt(b, cid, "universal", end, 300, 140)
            if not answered_call:
                missed, cause = True, res
        b.calls.append(
            (
                cid,
                f"gen-{cid}",
                "inbound",
                caller,
                "+380441234567",
                at,
                at,
                end,
                rng.choice(("uk", "uk", "ru", "en")),
                None,
                route,
                outcome,
                "caller",
                missed,
                cause,
            )
        )
        if missed and rng.random() < 0.65:
            self._callback(b, cid, caller, end)
        if answered_call and rng.random() < 0.2:
            for question, score in (
                ("csat", rng.choices(range(1, 6), [3, 4, 10, 30, 53])[0]),
                ("nps", rng.choices(range(11), [2] * 7 + [5, 10, 20, 40])[0]),
            ):
                b.surveys.append(
                    (self._next("survey"), cid, question, score, end + _ms(rng.uniform(10, 60)))
                )

    def _attempt(
        self, b: Batch, cid: int, queue: str, joined: datetime, max_wait: int, talk_mean: float
    ) -> tuple[str, datetime, bool]:
        rng = self.rng
        wait = min(rng.lognormvariate(math.log(14), 1.1), 3000)
        patience = rng.expovariate(1 / 150)
        talk = None
        connected = None
        if rng.random() < 0.02:
            outcome, wait = "exitkey", min(wait, rng.uniform(10, 60))
        elif patience < min(wait, max_wait):
            outcome, wait = "abandoned", patience
        elif wait >= max_wait:
            outcome, wait = "timeout", float(max_wait)
        else:
            outcome = "answered"
            talk = rng.lognormvariate(math.log(talk_mean), 0.5)
        # Whole seconds, as Asterisk reports them (queue_log holdtime/talktime, AMI HoldTime/
        # TalkTime) and the tracker stores them.
        wait = float(round(wait))
        talk = float(round(talk)) if talk is not None else None
        if outcome == "answered":
            connected = joined + _ms(wait)
        left = joined + _ms(wait + (talk or 0))
        aid = self._next("attempt")
        b.attempts.append(
            (
                aid,
                cid,
                f"u-{aid}",
                queue,
                joined,
                connected,
                left,
                outcome,
                wait,
                talk,
                "PJSIP/op1" if connected else None,
                None,
                None,
                "1" if outcome == "exitkey" else None,
                0,
            )
        )
        return outcome, left, outcome == "answered"

    def _callback(self, b: Batch, origin: int, phone: str, missed_end: datetime) -> None:
        rng = self.rng
        dialled_at = missed_end + _ms(rng.lognormvariate(math.log(420), 0.8))
        answered = rng.random() < 0.8
        oid = self._next("call")
        b.calls.append(
            (
                oid,
                f"gen-{oid}",
                "outbound",
                "+380441234567",
                phone,
                dialled_at,
                dialled_at + _ms(12) if answered else None,
                dialled_at + _ms(90 if answered else 30),
                "uk",
                None,
                None,
                None,
                "agent",
                False,
                None,
            )
        )
        b.callbacks.append(
            (
                self._next("callback"),
                phone,
                "missed",
                origin,
                None,
                "uk",
                missed_end,
                missed_end,  # arrived: the missed call's end (docs/callbacks.md)
                0,
                missed_end,
                "done" if answered else "failed",
                1,
                "bench",
                dialled_at,
                dialled_at + _ms(90),
                "answered" if answered else "noanswer",
                oid,
            )
        )


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return v


class SqliteWriter:
    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=OFF")

    def write(self, b: Batch) -> None:
        for table, cols, rows in _tables(b):
            marks = ",".join("?" * len(cols))
            self.db.executemany(
                f"INSERT INTO {table} ({','.join(cols)}) VALUES ({marks})",
                ([_sqlite_value(v) for v in row] for row in rows),
            )

    def close(self) -> None:
        self.db.commit()
        self.db.execute("ANALYZE")
        self.db.commit()
        self.db.close()


class PostgresWriter:
    def __init__(self, url: str) -> None:
        self.url = url
        self.conn: Any = None

    async def open(self) -> None:
        import asyncpg

        u = make_url(self.url)
        self.conn = await asyncpg.connect(
            user=u.username, host=u.host, port=u.port, database=u.database, password=u.password
        )

    async def write(self, b: Batch) -> None:
        for table, cols, rows in _tables(b):
            if rows:
                await self.conn.copy_records_to_table(table, records=rows, columns=list(cols))

    async def close(self) -> None:
        # Statistics first: without them the links rebuild's lookups are planned as scans.
        await self.conn.execute("ANALYZE")
        await self.conn.close()

    async def vacuum(self) -> None:
        """VACUUM as autovacuum does on a table that has lived a year: it sets the visibility
        map, without which no index-only scan skips the table."""
        await self.open()
        await self.conn.execute("VACUUM ANALYZE")
        await self.conn.close()


def _tables(b: Batch) -> list[tuple[str, tuple[str, ...], list[tuple[Any, ...]]]]:
    return [
        ("calls", CALL_COLS, b.calls),
        ("queue_attempts", ATTEMPT_COLS, b.attempts),
        ("callbacks", CALLBACK_COLS, b.callbacks),
        ("survey_answers", SURVEY_COLS, b.surveys),
    ]


async def generate(urls: list[str], calls: int, seed: int = 1, batch_rows: int = 200_000) -> None:
    """Fill each (migrated, empty) store of ``urls`` with the same generated year."""
    from clinicall.db import upgrade

    sqlite_writers: list[SqliteWriter] = []
    pg_writers: list[PostgresWriter] = []
    for url in urls:
        await upgrade(url)
        u = make_url(url)
        if u.get_backend_name() == "sqlite":
            sqlite_writers.append(SqliteWriter(str(u.database)))
        else:
            w = PostgresWriter(url)
            await w.open()
            pg_writers.append(w)
    gen = Generator(calls, seed)
    began = time.perf_counter()
    pending = Batch()

    async def flush() -> None:
        for sw in sqlite_writers:
            sw.write(pending)
        for pw in pg_writers:
            await pw.write(pending)

    for days, batch in enumerate(gen.days_batches(), start=1):
        for name in ("calls", "attempts", "callbacks", "surveys"):
            getattr(pending, name).extend(getattr(batch, name))
        if pending.size() >= batch_rows or days == len(gen.days):
            await flush()
            pending = Batch()
            print(
                f"\rgenerating: day {days}/{len(gen.days)}, {gen.ids['call']:,} calls, "
                f"{gen.ids['attempt']:,} attempts, {time.perf_counter() - began:.0f} s",
                end="",
                file=sys.stderr,
                flush=True,
            )
    for sw in sqlite_writers:
        sw.close()
    for pw in pg_writers:
        await pw.close()
    for url in urls:
        linked = time.perf_counter()
        await _rebuild_links(url)
        print(f"\ncall links of {make_url(url).get_backend_name()} rebuilt in "
              f"{time.perf_counter() - linked:.1f} s", end="", file=sys.stderr)
    for pw in pg_writers:
        await pw.vacuum()
    print(
        f"\ngenerated {gen.ids['call']:,} calls, {gen.ids['attempt']:,} attempts, "
        f"{gen.ids['callback']:,} callbacks, {gen.ids['survey']:,} survey answers in "
        f"{time.perf_counter() - began:.1f} s",
        file=sys.stderr,
    )


async def _rebuild_links(url: str) -> None:
    from clinicall.db import call_links, create_engine, session_factory
    from clinicall.db.writer import StoreWriter

    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin(), StoreWriter(session):
            await call_links.rebuild(session)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", action="append", required=True, help="store URL (repeatable)")
    parser.add_argument("--calls", type=int, default=DEFAULT_CALLS)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(generate(args.db, args.calls, args.seed))


if __name__ == "__main__":
    main()
