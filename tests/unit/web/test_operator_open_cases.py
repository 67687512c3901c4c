"""The screen-pop's open cases of a number (web/operator_open_cases.py): callback jobs still
pending or claimed, complaint cases not resolved, found by the number on the case or by a call
of the number the case was opened on or linked to; settled ones and other numbers' never."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from store_writes import writing

from clinicall.db.callbacks import CallbackStore
from clinicall.db.models import Call, CallbackReason, ComplaintState, Direction
from clinicall.recordings import complaints
from clinicall.settings.models import Complaints
from clinicall.web.operator_open_cases import open_cases

from .web_fixtures import NOW

ANNA, IVAN = "+380501112233", "+380671112233"
RULES = Complaints(acknowledge_within_hours=24, resolve_within_days=5)
KYIV = ZoneInfo("Europe/Kyiv")


async def test_only_the_numbers_open_jobs_and_cases_are_shown(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    store = CallbackStore(db_sessions, owner="t", lease=timedelta(minutes=3))
    at = NOW - timedelta(hours=2)
    mine = await store.add_job(phone=ANNA, queue="therapy", reason=CallbackReason.MISSED,
                               arrived_at=at, due_at=at, now=at)
    cancelled = await store.add_job(phone=ANNA, queue="pediatrics", now=at,
                                    reason=CallbackReason.MISSED, arrived_at=at, due_at=at)
    assert await store.cancel(cancelled, now=NOW)
    await store.add_job(phone=IVAN, queue="therapy", reason=CallbackReason.MISSED,
                        arrived_at=at, due_at=at, now=at)
    async with writing(db_sessions) as session:
        call = Call(call_key="anna-1", direction=Direction.INBOUND, caller=ANNA, started_at=at)
        ivan_call = Call(call_key="ivan-1", direction=Direction.INBOUND, caller=IVAN,
                         started_at=at)
        session.add_all([call, ivan_call])
        await session.flush()
        by_phone = await complaints.open_case(session, RULES, summary="rude " * 40, now=at,
                                              phone=ANNA, topic="staff")
        by_call = await complaints.open_case(session, RULES, summary="lost results",
                                             now=at + timedelta(minutes=1), call_id=call.id)
        linked = await complaints.open_case(session, RULES, summary="long wait", now=NOW)
        await complaints.link_call(session, linked.id, call.id, now=NOW)
        done = await complaints.open_case(session, RULES, summary="done", now=at, phone=ANNA)
        done.state = ComplaintState.RESOLVED
        await complaints.open_case(session, RULES, summary="ivan's", now=at, phone=IVAN,
                                   call_id=ivan_call.id)
        ids = (by_phone.id, by_call.id, linked.id)

    found = await open_cases(db_sessions, ANNA, zone=KYIV)
    assert [(j["id"], j["queue"], j["state"]) for j in found["callbacks"]] == [
        (mine, "therapy", "pending")]
    assert [c["id"] for c in found["complaints"]] == list(ids)
    first = found["complaints"][0]
    assert (first["topic"], first["state"]) == ("staff", "new")
    assert len(str(first["summary"])) == 120
    assert str(first["summary"]).endswith("…")
    assert first["opened_local"] == at.astimezone(KYIV).strftime("%Y-%m-%d %H:%M")
    assert await open_cases(db_sessions, "+380931112233", zone=KYIV) == {
        "callbacks": [], "complaints": []}
