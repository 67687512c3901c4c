"""First-contact resolution from dispositions (reports/resolution.py, docs/kpi.md) on a
hand-built day, on SQLite and PostgreSQL: the numbers below are worked out from the rows.

Anna's 09:00 call is marked resolved and she calls again at 15:00 (a resolved call the repeat
proxy disagrees with); Ivan's 10:00 call is resolved and he never calls again; Olha's 11:00 call
needs a callback; a 12:00 call is a wrong number; a 13:00 call has no disposition; an outbound
call marked resolved is not inbound; Anna's 15:00 call is resolved too, the next day unseen."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from store_writes import writing

from clinicall.db import call_links
from clinicall.db.models import Call, Direction
from clinicall.db.writer import StoreWriter
from clinicall.reports import compute
from clinicall.reports.settings import KpiSettings
from clinicall.reports.table import Value

KYIV = ZoneInfo("Europe/Kyiv")
SETTINGS = KpiSettings(timezone="Europe/Kyiv", short_abandon_s=5, service_level_s=20,
                       queue_service_level_s={}, unreturned_after_min=10, queue_names={})
DAY_START, DAY_END = datetime(2026, 11, 10, tzinfo=KYIV), datetime(2026, 11, 11, tzinfo=KYIV)
ANNA, IVAN, OLHA = "+380501112233", "+380671112233", "+380931112233"


def utc(hh: int) -> datetime:
    return datetime(2026, 11, 10, hh, 0, tzinfo=UTC)


CALLS = [  # key, direction, caller, start (UTC), route, disposition
    ("a1", Direction.INBOUND, ANNA, utc(7), "therapy", "resolved"),
    ("i1", Direction.INBOUND, IVAN, utc(8), "therapy", "resolved"),
    ("o1", Direction.INBOUND, OLHA, utc(9), "gynecology", "needs_callback"),
    ("w1", Direction.INBOUND, None, utc(10), "gynecology", "wrong_number"),
    ("n1", Direction.INBOUND, OLHA, utc(11), "gynecology", None),
    ("out", Direction.OUTBOUND, None, utc(12), None, "resolved"),
    ("a2", Direction.INBOUND, ANNA, utc(13), "therapy", "resolved"),
]


async def build(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with writing(sessions) as session:
        for key, direction, caller, at, route, disposition in CALLS:
            session.add(Call(call_key=key, direction=direction, caller=caller,
                             dialled=ANNA if direction is Direction.OUTBOUND else None,
                             started_at=at, answered_at=at, route=route,
                             disposition=disposition,
                             disposition_by="op101" if disposition else None))
        await session.flush()
        await call_links.rebuild(session)


async def test_fcr_counts_the_marked_inbound_calls(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await build(db_sessions)
    async with db_sessions() as session:
        report = await compute(session, start=DAY_START, end=DAY_END, by=["queue"],
                               config=SETTINGS)
        (row,) = report.section("resolution").rows  # queue is not a call key
        by_route = (await compute(session, start=DAY_START, end=DAY_END, by=["route"],
                                  config=SETTINGS, hourly_sums=False)).section("resolution")
    # marked inbound: a1 i1 o1 w1 a2 = 5; resolved 3; wrong 1 → 3 / 4
    assert row == {"dispositioned": 5, "resolved": 3, "wrong_number": 1, "fcr": 75.0,
                   "resolved_repeat_24h_rate": 33.33}  # a1 → a2 within 24 h; i1, a2 not
    assert [(r["route"], r["dispositioned"], r["fcr"]) for r in by_route.rows] == [
        ("gynecology", 2, 0.0), ("therapy", 3, 100.0)]
    assert [r["resolved_repeat_24h_rate"] for r in by_route.rows] == [None, 33.33]


async def test_a_period_without_dispositions_has_no_fcr(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions() as session:
        report = await compute(session, start=DAY_START, end=DAY_END, by=[], config=SETTINGS)
    assert report.section("resolution").rows == [{  # like the calls section: one row
        "dispositioned": 0, "resolved": 0, "wrong_number": 0, "fcr": None,
        "resolved_repeat_24h_rate": None}]
    assert [c.name for c in report.section("resolution").metrics] == [
        "dispositioned", "resolved", "wrong_number", "fcr", "resolved_repeat_24h_rate"]


async def test_the_hourly_sums_follow_a_disposition_written_after_the_call(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The section is read from the hourly call sums; a disposition stored later through the
    StoreWriter (as the operator's page does) marks its hour, so the next report sums it."""
    await build(db_sessions)

    async def both(by: list[str]) -> tuple[list[dict[str, Value]], list[dict[str, Value]]]:
        async with db_sessions() as session:
            sums = await compute(session, start=DAY_START, end=DAY_END, by=by, config=SETTINGS)
            rows = await compute(session, start=DAY_START, end=DAY_END, by=by, config=SETTINGS,
                                 hourly_sums=False)
        return sums.section("resolution").rows, rows.section("resolution").rows

    for by in ([], ["route"], ["hour"], ["day", "route"]):
        from_sums, from_rows = await both(by)
        assert from_sums == from_rows, by
    async with db_sessions.begin() as session, StoreWriter(session) as writer:
        call = await session.scalar(select(Call).where(Call.call_key == "o1"))
        assert call is not None
        call.disposition = "resolved"
        writer.call_changed(call.direction, call.caller, call.dialled, call.started_at)
    from_sums, from_rows = await both(["route"])
    assert from_sums == from_rows
    assert [(r["route"], r["dispositioned"], r["resolved"]) for r in from_sums] == [
        ("gynecology", 2, 1), ("therapy", 3, 3)]
