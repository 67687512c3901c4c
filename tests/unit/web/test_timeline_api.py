"""The call's timeline beside the player, from the account's rows on a real SQLite store: the
IVR, the first queue's wait with a missed ring, the talk, a transfer to another queue with its
own ring and talk, the end; offsets from the recording's start; roles and unknown ids."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from store_writes import writing

from clinicall.db.models import (
    Call,
    Direction,
    HangupSide,
    IvrOutcome,
    QueueAttempt,
    QueueOutcome,
    Recording,
    RingAttempt,
    Role,
)
from clinicall.settings.models import ClinicConfig
from clinicall.web import build_app
from clinicall.web.i18n import LANG_COOKIE, Lang

from .web_fixtures import FAST_COST, NOW, SECRET, Account, FakeLive

Client = TestClient[web.Request, web.Application]
T0 = NOW - timedelta(hours=1)



@pytest.fixture
async def recording(db_sessions: async_sessionmaker[AsyncSession]) -> int:
    async with writing(db_sessions) as session:
        call = Call(call_key="T1", direction=Direction.INBOUND, caller="+380671112233",
                    started_at=T0, answered_at=T0 + timedelta(seconds=40),
                    ended_at=T0 + timedelta(seconds=300), missed=False, ivr_path="main:1",
                    route="therapy", language="uk", ivr_outcome=IvrOutcome.QUEUE,
                    hangup_side=HangupSide.CALLER)
        first = QueueAttempt(channel_id="U1", queue="therapy", joined_at=T0 + timedelta(
            seconds=15), connected_at=T0 + timedelta(seconds=40), outcome=QueueOutcome.ANSWERED,
            wait_s=25.0, talk_s=100.0, agent="op101", position=2)
        first.rings = [RingAttempt(member="op104", rang_at=T0 + timedelta(seconds=16),
                                   ring_ms=15000, answered=False),
                       RingAttempt(member="op101", rang_at=T0 + timedelta(seconds=32),
                                   ring_ms=8000, answered=True)]
        second = QueueAttempt(channel_id="U2", queue="universal", joined_at=T0 + timedelta(
            seconds=140), connected_at=T0 + timedelta(seconds=150),
            outcome=QueueOutcome.ANSWERED, wait_s=10.0, talk_s=150.0, agent="op103",
            position=1)
        second.rings = [RingAttempt(member="op103", rang_at=T0 + timedelta(seconds=141),
                                    ring_ms=9000, answered=True)]
        call.queue_attempts = [second, first]  # stored in any order
        session.add(call)
        await session.flush()
        call_id = call.id
    async with db_sessions.begin() as session:
        row = Recording(call_id=call_id, call_key="T1", path="2026/07/01/T1.ogg", format="ogg",
                        size_bytes=0, sha256="", started_at=T0 + timedelta(seconds=40),
                        imported_at=T0)
        session.add(row)
        await session.flush()
        return row.id


@pytest.fixture
async def client(db_sessions: async_sessionmaker[AsyncSession], clinic_config: ClinicConfig,
                 ) -> AsyncIterator[Client]:  # fmt: skip
    app = build_app(sessions=db_sessions, config=clinic_config, live=FakeLive(), secret=SECRET,
                    clock=lambda: NOW, password_cost=FAST_COST)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def bearer(account: Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.token}"}


async def test_every_step_of_the_call_in_order_with_offsets(
    client: Client, accounts: dict[Role, Account], recording: int
) -> None:
    response = await client.get(f"/api/recordings/{recording}/timeline",
                                headers=bearer(accounts[Role.QUALITY]))
    assert response.status == 200, await response.text()
    steps = (await response.json())["steps"]
    assert [(s["kind"], s["offset_s"]) for s in steps] == [
        ("start", -40.0), ("ivr", -40.0), ("queue", -25.0), ("ring", -24.0), ("ring", -8.0),
        ("talk", 0.0), ("transfer", 100.0), ("ring", 101.0), ("talk", 110.0), ("end", 260.0)]
    assert (steps[1]["path"], steps[1]["route"], steps[1]["outcome"]) == (
        "main:1", "therapy", "queue")
    assert (steps[3]["operator"], steps[3]["ring_s"], steps[3]["answered"]) == (
        "op104", 15.0, False)
    assert (steps[5]["operator"], steps[5]["wait_s"], steps[5]["talk_s"]) == (
        "op101", 25.0, 100.0)
    assert steps[6]["queue"] == "universal"
    assert steps[-1]["hangup"] == "caller"
    assert "+380671112233" not in await response.text()


@pytest.mark.parametrize(("lang", "therapy"), [("uk", "Терапія"), ("ru", "Терапия"),
                                               ("en", "General practice")])
async def test_queues_route_and_path_in_words_in_the_viewers_language(
    client: Client, accounts: dict[Role, Account], recording: int, lang: Lang, therapy: str,
    clinic_config: ClinicConfig,
) -> None:
    assert clinic_config.queues["therapy"].name[lang] == therapy  # the config's own words
    response = await client.get(f"/api/recordings/{recording}/timeline",
                                headers=bearer(accounts[Role.MANAGER]),
                                cookies={LANG_COOKIE: lang})
    steps = (await response.json())["steps"]
    assert (steps[1]["route_words"], steps[1]["path_words"]) == (
        therapy, {"uk": "Запис на прийом", "ru": "Запись на приём", "en": "Appointments"}[lang])
    assert steps[2]["queue_name"] == therapy
    assert steps[6]["queue_name"] == clinic_config.queues["universal"].name[lang]


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.ADMIN])
async def test_operators_and_admins_are_refused(client: Client, accounts: dict[Role, Account],
                                                recording: int, role: Role) -> None:
    response = await client.get(f"/api/recordings/{recording}/timeline",
                                headers=bearer(accounts[role]))
    assert response.status == 403


@pytest.mark.parametrize("rid", ["999", "x", "..%2F1"])
async def test_an_unknown_recording_is_not_found(client: Client, accounts: dict[Role, Account],
                                                 rid: str) -> None:
    response = await client.get(f"/api/recordings/{rid}/timeline",
                                headers=bearer(accounts[Role.MANAGER]))
    assert response.status == 404
