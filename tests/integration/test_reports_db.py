"""KPIs on a hand-built store with known answers, on SQLite and PostgreSQL, equal on both.

The day (2026-11-10, Europe/Kyiv, UTC+2) holds one call of each kind the definitions name;
the expected numbers below are worked out by hand from the rows, not from the code.
"""

from __future__ import annotations

import asyncio
import csv
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db import call_links, create_engine, session_factory
from clinicall.db.models import (
    Call,
    Callback,
    CallbackReason,
    CallbackState,
    Direction,
    IvrOutcome,
    MissCause,
    QueueAttempt,
    QueueOutcome,
    SurveyAnswer,
    SurveyQuestion,
    kpi_call_hours,
    kpi_hours_built,
    kpi_queue_hours,
    kpi_wait_blocks,
    kpi_wait_counts,
)
from clinicall.db.models.rollups import HOURLY_SUM_TABLES
from clinicall.db.writer import StoreWriter
from clinicall.reports import Report, compute, summing
from clinicall.reports.settings import KpiSettings

KYIV = ZoneInfo("Europe/Kyiv")
SETTINGS = KpiSettings(
    timezone="Europe/Kyiv",
    short_abandon_s=5,
    service_level_s=20,
    queue_service_level_s={"therapy": 20, "universal": 30},
    unreturned_after_min=10,
    queue_names={"therapy": "General practice", "universal": "Front desk"},
)
DAY_START = datetime(2026, 11, 10, tzinfo=KYIV)
DAY_END = datetime(2026, 11, 11, tzinfo=KYIV)


def utc(hh: int, mm: int, ss: int = 0, day: int = 10, month: int = 11) -> datetime:
    return datetime(2026, month, day, hh, mm, ss, tzinfo=UTC)


class StoreBuilder:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.n = 0

    def call(self, caller: str, at: datetime, *, duration_s: float = 60, route: str | None,
             outcome: IvrOutcome, miss: MissCause | None = None,
             direction: Direction = Direction.INBOUND, dialled: str | None = None,
             answered_at: datetime | None = None) -> Call:
        self.n += 1
        call = Call(call_key=f"L{self.n}", direction=direction, caller=caller, dialled=dialled,
                    started_at=at, answered_at=answered_at or at,
                    ended_at=at + timedelta(seconds=duration_s), route=route,
                    ivr_outcome=outcome, missed=miss is not None, miss_cause=miss)
        self.session.add(call)
        return call

    async def commit(self) -> None:
        """Commit, with the calls' links computed, as every writer of calls keeps them."""
        async with StoreWriter(self.session):
            await self.session.flush()
            await call_links.rebuild(self.session)
        await self.session.commit()

    def attempt(self, call: Call, queue: str, joined: datetime, outcome: QueueOutcome,
                wait_s: float, talk_s: float | None = None) -> None:
        self.n += 1
        connected = joined + timedelta(seconds=wait_s) if outcome is QueueOutcome.ANSWERED else None
        left = joined + timedelta(seconds=wait_s + (talk_s or 0))
        call.queue_attempts.append(QueueAttempt(
            channel_id=f"U{self.n}", queue=queue, joined_at=joined, connected_at=connected,
            left_at=left, outcome=outcome, wait_s=wait_s, talk_s=talk_s))


async def build_day(session: AsyncSession) -> None:
    async with StoreWriter(session):
        b = StoreBuilder(session)
        q, ans = IvrOutcome.QUEUE, QueueOutcome.ANSWERED
        c1 = b.call("+380501111111", utc(8, 0), route="therapy", outcome=q)
        b.attempt(c1, "therapy", utc(8, 0, 10), ans, 3, 120)  # answered after 3 s
        c2 = b.call("+380502222222", utc(8, 5), duration_s=18, route="therapy", outcome=q,
                    miss=MissCause.ABANDONED)
        b.attempt(c2, "therapy", utc(8, 5, 10), QueueOutcome.ABANDONED, 8)  # abandoned after 8 s
        c3 = b.call("+380503333333", utc(8, 10), duration_s=12, route="therapy", outcome=q,
                    miss=MissCause.ABANDONED)
        b.attempt(c3, "therapy", utc(8, 10, 10), QueueOutcome.ABANDONED, 2)  # short abandon
        c4 = b.call("+380504444444", utc(9, 0), duration_s=200, route="therapy", outcome=q)
        b.attempt(c4, "therapy", utc(9, 0, 10), QueueOutcome.TIMEOUT, 60)  # overflow ...
        b.attempt(c4, "universal", utc(9, 1, 10), ans, 25, 60)  # ... answered there
        b.call("+380505555555", utc(18, 30), duration_s=40, route=None,
               outcome=IvrOutcome.AFTER_HOURS, miss=MissCause.AFTER_HOURS)
        b.call("+380506666666", utc(9, 30), duration_s=20, route=None,
               outcome=IvrOutcome.HANGUP_IVR, miss=MissCause.HANGUP_IVR)
        c7 = b.call("+380501111111", utc(15, 0), route="therapy", outcome=q)  # repeat of c1
        b.attempt(c7, "therapy", utc(15, 0, 10), ans, 10, 30)
        b.call("+380507777777", utc(10, 0), route="hours", outcome=IvrOutcome.SELF_SERVED)
        # c2 returned 6 min after it ended by an answered outbound call (and a later done job)
        b.call("+380441234567", utc(8, 11, 18), route=None, outcome=q,
               direction=Direction.OUTBOUND, dialled="+380502222222", answered_at=utc(8, 11, 30))
        c10 = b.call("+380508888888", utc(11, 0), duration_s=45, route="therapy", outcome=q,
                     miss=MissCause.EXIT_KEY)
        b.attempt(c10, "therapy", utc(11, 0, 10), QueueOutcome.EXIT_KEY, 30)
        await session.flush()
        session.add_all([
            Callback(phone="+380502222222", reason=CallbackReason.MISSED, origin_call_id=c2.id,
                     created_at=utc(8, 5, 18), due_at=utc(8, 5, 18), state=CallbackState.DONE,
                     completed_at=utc(8, 13)),
            Callback(phone="+380508888888", reason=CallbackReason.REQUESTED, origin_call_id=c10.id,
                     created_at=utc(11, 0, 45), due_at=utc(11, 0, 45)),
        ])
        for call, csat, nps in ((c1, 5, 10), (c4, 3, 6), (c7, 4, 9)):
            session.add(SurveyAnswer(call_id=call.id, question=SurveyQuestion.CSAT, score=csat,
                                     answered_at=call.started_at + timedelta(minutes=5)))
            session.add(SurveyAnswer(call_id=call.id, question=SurveyQuestion.NPS, score=nps,
                                     answered_at=call.started_at + timedelta(minutes=5)))
        await b.commit()


async def report(sessions: async_sessionmaker[AsyncSession], by: list[str],
                 start: datetime = DAY_START, end: datetime = DAY_END) -> Report:
    async with sessions() as session:
        return await compute(session, start=start, end=end, by=by, config=SETTINGS)


def only(rows: list[dict[str, Any]], **keys: Any) -> dict[str, Any]:
    found = [r for r in rows if all(r[k] == v for k, v in keys.items())]
    assert len(found) == 1, (keys, rows)
    return found[0]


async def test_queue_kpis_by_queue(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    async with db_sessions() as session:
        await build_day(session)
    rows = (await report(db_sessions, ["queue"])).section("queues").rows
    assert [r["queue"] for r in rows] == ["therapy", "universal"]
    assert only(rows, queue="therapy") == {
        "queue": "therapy", "queue_name": "General practice",
        "offered": 6, "answered": 2, "abandoned": 1, "short_abandoned": 1, "timeout": 1,
        "exit_key": 1, "empty": 0, "cut": 0, "in_queue": 0,
        "abandon_rate": 20.0,  # 1 / (6 - 1)
        "service_level": 40.0,  # waits 3 and 10 within 20 s, / (6 - 1)
        "asa": 6.5, "wait_p50": 3.0, "wait_p90": 10.0, "wait_max": 10.0,
        "aht_talk": 75.0,  # (120 + 30) / 2
    }
    universal = only(rows, queue="universal")
    assert (universal["offered"], universal["answered"]) == (1, 1)
    assert universal["service_level"] == 100.0  # 25 s ≤ its own T of 30 s
    assert (universal["wait_p50"], universal["wait_p90"], universal["aht_talk"]) == (
        25.0, 25.0, 60.0)


async def test_queue_kpis_whole_day(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    async with db_sessions() as session:
        await build_day(session)
    (row,) = (await report(db_sessions, [])).section("queues").rows
    assert row["offered"] == 7
    assert row["abandon_rate"] == 16.67  # 1 / 6
    assert row["service_level"] == 50.0  # 3 (therapy 3 s, 10 s ≤ 20; universal 25 s ≤ 30) / 6
    assert (row["asa"], row["wait_p50"], row["wait_p90"], row["wait_max"]) == (
        12.667, 10.0, 25.0, 25.0)
    assert row["aht_talk"] == 70.0


async def test_waits_of_calls_clinicall_placed_stay_out_of_the_percentiles(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A reminder's patient who pressed 0 and waited 500 s in therapy: the percentiles, which
    first rank every answered wait and check the count against the inbound ones, rank again
    without it (docs/kpi.md, "calls clinicall places")."""
    async with db_sessions() as session:
        await build_day(session)
        b = StoreBuilder(session)
        b.n = 100
        reminder = b.call("+380441234567", utc(12, 0), route=None, outcome=IvrOutcome.QUEUE,
                          direction=Direction.OUTBOUND, dialled="+380509999999")
        b.attempt(reminder, "therapy", utc(12, 1), QueueOutcome.ANSWERED, 500, 40)
        await b.commit()
    therapy = only((await report(db_sessions, ["queue"])).section("queues").rows,
                   queue="therapy")
    assert (therapy["answered"], therapy["wait_p50"], therapy["wait_p90"]) == (2, 3.0, 10.0)
    (whole,) = (await report(db_sessions, [])).section("queues").rows
    assert (whole["answered"], whole["wait_p50"], whole["wait_p90"]) == (3, 10.0, 25.0)


async def test_clinic_level_kpis(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    async with db_sessions() as session:
        await build_day(session)
    (row,) = (await report(db_sessions, ["queue"])).section("calls").rows  # queue is ignored
    assert row == {
        "inbound": 9, "self_served": 1, "missed": 5,
        "missed_hangup_ivr": 1, "missed_abandoned": 2, "missed_timeout": 0,
        "missed_exitkey": 1, "missed_empty": 0, "missed_afterhours": 1, "missed_failed": 0,
        "missed_engine": 0, "missed_rate": 55.56,
        "returned_in_time": 1,  # c2, by the outbound call 6 min after it ended
        "unreturned": 4,
        "time_to_callback_mean": 360.0, "time_to_callback_max": 360.0,
        "repeat_24h_rate": 11.11, "repeat_7d_rate": 11.11,  # c1 → c7, 1 of 9
        "csat": 4.0, "csat_answers": 3,
        "nps": 33.33, "nps_answers": 3,  # (2 promoters − 1 detractor) / 3
    }


async def test_calls_the_pbx_cut_are_counted_apart(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """docs/kpi.md, "cut": out of the abandon rate and service level, missed by "engine"."""
    async with db_sessions() as session, StoreWriter(session):
        b = StoreBuilder(session)
        q = IvrOutcome.QUEUE
        answered = b.call("+380501111111", utc(8, 0), route="therapy", outcome=q)
        b.attempt(answered, "therapy", utc(8, 0, 10), QueueOutcome.ANSWERED, 3, 60)
        abandoned = b.call("+380502222222", utc(8, 5), route="therapy", outcome=q,
                           miss=MissCause.ABANDONED)
        b.attempt(abandoned, "therapy", utc(8, 5, 10), QueueOutcome.ABANDONED, 8)
        cut = b.call("+380503333333", utc(8, 10), route="therapy", outcome=q,
                     miss=MissCause.ENGINE)
        b.attempt(cut, "therapy", utc(8, 10, 10), QueueOutcome.CUT, 30)
        b.call("+380504444444", utc(8, 20), route=None, outcome=IvrOutcome.FAILED,
               miss=MissCause.ENGINE)  # cut in the menu
        await b.commit()
    for hourly_sums in (True, False):
        async with db_sessions() as session:
            result = await compute(session, start=DAY_START, end=DAY_END, by=["queue"],
                                   config=SETTINGS, hourly_sums=hourly_sums)
        therapy = only(result.section("queues").rows, queue="therapy")
        assert {k: therapy[k] for k in ("offered", "answered", "abandoned", "cut",
                                        "abandon_rate", "service_level")} == {
            "offered": 3, "answered": 1, "abandoned": 1, "cut": 1,
            "abandon_rate": 50.0, "service_level": 50.0,  # of 3 − 1 cut
        }, hourly_sums
        (calls,) = result.section("calls").rows
        assert (calls["missed"], calls["missed_abandoned"], calls["missed_engine"]) == (3, 1, 2)


async def test_topics_and_hours(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    async with db_sessions() as session:
        await build_day(session)
    result = await report(db_sessions, ["hour"])
    topics = result.section("topics").rows
    assert only(topics, hour="2026-11-10T20:00:00+02:00", route=None)["missed"] == 1
    therapy = [r for r in topics if r["route"] == "therapy"]
    assert sum(r["calls"] for r in therapy if isinstance(r["calls"], int)) == 6
    queues = result.section("queues").rows
    assert [r["hour"] for r in queues] == [
        "2026-11-10T10:00:00+02:00", "2026-11-10T11:00:00+02:00",
        "2026-11-10T13:00:00+02:00", "2026-11-10T17:00:00+02:00"]
    assert only(queues, hour="2026-11-10T10:00:00+02:00")["offered"] == 3


async def test_a_missed_call_returned_late_is_unreturned(
        db_sessions: async_sessionmaker[AsyncSession]) -> None:
    async with db_sessions() as session:
        b = StoreBuilder(session)
        b.call("+380509999999", utc(8, 0), duration_s=10, route="therapy",
               outcome=IvrOutcome.QUEUE, miss=MissCause.ABANDONED)
        back = b.call("+380509999999", utc(8, 20), route="therapy", outcome=IvrOutcome.QUEUE)
        b.attempt(back, "therapy", utc(8, 20, 10), QueueOutcome.ANSWERED, 4, 50)
        await b.commit()
    (row,) = (await report(db_sessions, [])).section("calls").rows
    assert (row["missed"], row["returned_in_time"], row["unreturned"]) == (1, 0, 1)
    assert row["time_to_callback_mean"] == 1190.0  # 08:20:00 − 08:00:10


async def test_dst_day_and_hour_buckets(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    """Europe/Kyiv leaves summer time on 2026-10-25 at 04:00 EEST = 01:00 UTC."""
    async with db_sessions() as session:
        b = StoreBuilder(session)
        for at in (utc(21, 30, day=24, month=10),  # 00:30+03 on the 25th (UTC day 24)
                   utc(0, 30, day=25, month=10),  # 03:30+03
                   utc(1, 30, day=25, month=10),  # 03:30+02: the repeated hour
                   utc(22, 30, day=25, month=10)):  # 00:30+02 on the 26th
            call = b.call("+380501234567", at, route="therapy", outcome=IvrOutcome.QUEUE)
            b.attempt(call, "therapy", at, QueueOutcome.ANSWERED, 5, 10)
        await b.commit()
    start = datetime(2026, 10, 24, tzinfo=KYIV)
    end = datetime(2026, 10, 27, tzinfo=KYIV)
    days = (await report(db_sessions, ["day"], start, end)).section("queues").rows
    assert [(r["day"], r["offered"]) for r in days] == [("2026-10-25", 3), ("2026-10-26", 1)]
    hours = (await report(db_sessions, ["hour"], start, end)).section("queues").rows
    assert [(r["hour"], r["offered"]) for r in hours] == [
        ("2026-10-25T00:00:00+03:00", 1), ("2026-10-25T03:00:00+03:00", 1),
        ("2026-10-25T03:00:00+02:00", 1), ("2026-10-26T00:00:00+02:00", 1)]


@pytest.mark.postgres
async def test_sqlite_and_postgres_reports_are_identical(
        sqlite_db_url: str, postgres_db_url: str) -> None:
    results = []
    for url in (sqlite_db_url, postgres_db_url):
        engine = create_engine(url)
        try:
            sessions = session_factory(engine)
            async with sessions() as session:
                await build_day(session)
            results.append([(await report(sessions, by)).to_dict()
                            for by in ([], ["queue"], ["queue", "hour"], ["route", "day"])])
        finally:
            await engine.dispose()
    assert results[0] == results[1]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
async def test_report_command_exports_what_compute_gives(
    db_url: str, db_sessions: async_sessionmaker[AsyncSession], tmp_path: Path, fmt: str
) -> None:
    """``clinicall report`` as a user runs it, read back from the file it wrote."""
    async with db_sessions() as session:
        await build_day(session)
    out = tmp_path / f"report.{fmt}"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clinicall", "report", "--from", "2026-11-10", "--to",
        "2026-11-10", "--by", "queue", "--format", fmt, "--out", str(out), "--db", db_url,
        "--config", str(EXAMPLE), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    _, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    expected = {r["queue"]: (r["offered"], r["answered"], r["abandoned"])
                for r in (await report(db_sessions, ["queue"])).section("queues").rows}
    assert expected["therapy"][0] == 6
    assert _exported_counts(out, fmt) == expected


EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "clinic.example.yaml"


def _exported_counts(path: Path, fmt: str) -> dict[str, tuple[int, int, int]]:
    names = ("offered [count]", "answered [count]", "abandoned [count]")
    if fmt == "json":
        rows = json.loads(path.read_text())["sections"]["queues"]["rows"]
        return {r["queue"]: (r["offered"], r["answered"], r["abandoned"]) for r in rows}
    if fmt == "csv":
        with path.open(newline="", encoding="utf-8") as f:
            table = list(csv.DictReader(f))
        return {r["queue"]: tuple(int(r[n]) for n in names) for r in table}  # type: ignore[misc]
    sheet = openpyxl.load_workbook(path, read_only=True)["queues"]
    header, *body = [list(row) for row in sheet.iter_rows(values_only=True)]
    index = [header.index(n) for n in names]
    return {row[header.index("queue")]: tuple(int(row[i]) for i in index)  # type: ignore[misc]
            for row in body}


@pytest.mark.parametrize("by", [[], ["queue"], ["route", "hour"], ["queue", "day"]])
@pytest.mark.parametrize("start", [DAY_START, DAY_START + timedelta(minutes=90, seconds=30.5)])
async def test_hourly_sums_and_rows_agree(
    db_sessions: async_sessionmaker[AsyncSession], by: list[str], start: datetime,
) -> None:
    """Whole hours come from the hourly sums, the edges from the rows: the same report as
    reading every row (a start at 01:30:30.5 leaves a partial first hour)."""
    async with db_sessions() as session:
        await build_day(session)
    summed = (await report(db_sessions, by, start)).to_dict()
    async with db_sessions() as session:
        built = await session.scalar(select(func.count()).select_from(kpi_hours_built))
        assert built is not None
        assert built > 0
        from_rows = await compute(session, start=start, end=DAY_END, by=by, config=SETTINGS,
                                  hourly_sums=False)
    assert from_rows.to_dict() == summed


@pytest.mark.parametrize("by", [[], ["queue"], ["route"], ["queue", "day"]])
async def test_wait_blocks_follow_a_later_write(
    db_sessions: async_sessionmaker[AsyncSession], by: list[str],
) -> None:
    """Over three local days, a report not grouped by day or hour ranks the waits counted
    per whole UTC day (``reports.wait_counts``); attempts written later into that day drop
    its block, and the next report counts it again: the same report as every row."""
    async with db_sessions() as session:
        await build_day(session)
    start, end = DAY_START - timedelta(days=1), DAY_END + timedelta(days=1)
    await report(db_sessions, by, start, end)
    async with db_sessions() as session:
        blocks = await session.scalar(select(func.count()).select_from(kpi_wait_blocks))
    assert blocks == 2  # 9 and 10 November, UTC (read only when not grouped by day)
    async with db_sessions.begin() as session, StoreWriter(session) as writer:
        b = StoreBuilder(session)
        b.n = 1000  # call keys after build_day's
        for n in range(20):
            call = b.call(f"+38050900{n:04d}", utc(12, n), route="therapy",
                          outcome=IvrOutcome.QUEUE)
            b.attempt(call, "therapy", utc(12, n, 5), QueueOutcome.ANSWERED, 900, 60)
            writer.call_changed(call.direction, call.caller, None, call.started_at,
                                [utc(12, n, 5)])
    summed = await report(db_sessions, by, start, end)
    async with db_sessions() as session:
        from_rows = await compute(session, start=start, end=end, by=by, config=SETTINGS,
                                  hourly_sums=False)
    assert from_rows.to_dict() == summed.to_dict()
    therapy = [r for r in summed.section("queues").rows
               if r.get("queue", "therapy") == "therapy" and r.get("route", "therapy") == "therapy"
               and r.get("day", "2026-11-10") == "2026-11-10"]
    assert [r["wait_p90"] for r in therapy] == [900.0]


@pytest.mark.parametrize("by", [[], ["queue", "hour"]])
async def test_sums_by_full_scan_and_by_index_agree(
    db_sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch,
    by: list[str],
) -> None:
    """A run of hours is summed by a full scan on SQLite when it holds enough of the rows'
    time range, else through the time index (``reports.summing``): both store the same sums
    (queue and call sums, wait counts), and the report is the one from every row."""
    async with db_sessions() as session:
        await build_day(session)
    stored: dict[float, dict[str, list[tuple[Any, ...]]]] = {}
    for share in (0.0, 2.0):  # every run scanned; none (the index for every run)
        monkeypatch.setattr(summing, "SCAN_SHARE", share)
        async with db_sessions.begin() as session:
            for table in HOURLY_SUM_TABLES:
                await session.execute(delete(table))
        summed = (await report(db_sessions, by)).to_dict()
        async with db_sessions() as session:
            stored[share] = {table.name: sorted(map(tuple, (await session.execute(
                select(table))).all()), key=repr)
                for table in (kpi_queue_hours, kpi_call_hours, kpi_wait_counts)}
            from_rows = await compute(session, start=DAY_START, end=DAY_END, by=by,
                                      config=SETTINGS, hourly_sums=False)
        assert from_rows.to_dict() == summed
        assert all(stored[share].values())
    assert stored[0.0] == stored[2.0]
