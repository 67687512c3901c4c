"""The operator's JSON API on a fake desk: what reaches the engine port, what is refused and
why (not their queue, an unknown reason, no CSRF token, another role, no controller), and an
engine refusal said as a 502 without a traceback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from store_writes import writing

from clinicall.db.models import Call, Direction, QueueAttempt, Role
from clinicall.settings.models import ClinicConfig
from clinicall.web import build_app
from clinicall.web.i18n import tr
from clinicall.web.keys import CONFIG
from clinicall.web.operator_desk import OPERATOR_PUSH
from clinicall.web.operator_view import MembershipLike
from clinicall.web.pages import esc
from clinicall.web.state_delta import apply_patch
from clinicall.web.users import add_user

from .web_fixtures import FAST_COST, NOW, SECRET, Account, FakeLive, log_in

Client = TestClient[web.Request, web.Application]
PASSWORD = "pw-operator-correct horse"


class Refused(Exception):
    pass


@dataclass(frozen=True)
class Membership:
    queue: str
    state: str
    paused: bool = False
    pause_reason: str = ""


@dataclass
class FakeDesk:
    commands: list[tuple[str, ...]] = field(default_factory=list)
    refuse: bool = False
    members: list[MembershipLike] = field(default_factory=list)

    def memberships(self, operator_id: str) -> list[MembershipLike]:
        return list(self.members)

    async def log_in(self, operator_id: str, queue: str) -> None:
        self._do("in", operator_id, queue)

    async def log_out(self, operator_id: str, queue: str) -> None:
        self._do("out", operator_id, queue)

    async def pause(self, operator_id: str, *, paused: bool, reason: str = "") -> None:
        self._do("pause" if paused else "resume", operator_id, reason)

    def call_now(self, operator_id: str) -> None:
        return None

    def _do(self, *command: str) -> None:
        if self.refuse:
            raise Refused("QueueAdd: Unable to add interface: Already there")
        self.commands.append(command)


async def _client(sessions: async_sessionmaker[AsyncSession], config: ClinicConfig,
                  desk: FakeDesk | None) -> Client:
    app = build_app(sessions=sessions, config=config, live=FakeLive(), secret=SECRET,
                    clock=lambda: NOW, password_cost=FAST_COST, desk=desk)
    return TestClient(TestServer(app))


@pytest.fixture
async def desk_client(
    db_sessions: async_sessionmaker[AsyncSession], clinic_config: ClinicConfig
) -> AsyncIterator[tuple[Client, FakeDesk, str]]:
    await add_user(db_sessions, "op102", Role.OPERATOR, PASSWORD, cost=FAST_COST)
    desk = FakeDesk()
    async with await _client(db_sessions, clinic_config, desk) as client:
        token = await log_in(client, Account("op102", PASSWORD, Role.OPERATOR, ""))
        yield client, desk, token


async def test_queue_login_logout_and_pause_reach_the_desk(
    desk_client: tuple[Client, FakeDesk, str]
) -> None:
    client, desk, token = desk_client
    headers = {"X-CSRF-Token": token}
    for path, body in (("/api/operator/queue", {"queue": "gynecology", "logged_in": True}),
                       ("/api/operator/queue", {"queue": "universal", "logged_in": False}),
                       ("/api/operator/pause", {"paused": True, "reason": "lunch"}),
                       ("/api/operator/pause", {"paused": False})):
        response = await client.post(path, json=body, headers=headers)
        assert response.status == 200, await response.text()
    assert desk.commands == [("in", "op102", "gynecology"), ("out", "op102", "universal"),
                             ("pause", "op102", "lunch"), ("resume", "op102", "")]


@pytest.mark.parametrize(("path", "body", "message", "code"), [
    ("/api/operator/queue", {"queue": "pediatrics", "logged_in": True}, "one of your queues",
     "unknown_queue"),
    ("/api/operator/queue", {"queue": "gynecology", "logged_in": "yes"}, "logged_in",
     "invalid_logged_in"),
    ("/api/operator/pause", {"paused": True, "reason": "nap"}, "reason: one of",
     "invalid_pause_reason"),
    ("/api/operator/pause", {"paused": 1}, "paused: true or false", "invalid_paused"),
    ("/api/operator/disposition", {"call_id": "c1", "disposition": "great"}, "disposition",
     "invalid_disposition"),
    ("/api/operator/disposition", {"call_id": "", "disposition": "resolved"}, "call_id",
     "invalid_call_id"),
    ("/api/operator/queue", ["gynecology"], "JSON object", "not_json_object"),
])
async def test_bad_input_is_a_400_saying_what_with_its_own_code(
    desk_client: tuple[Client, FakeDesk, str], path: str, body: object, message: str,
    code: str,
) -> None:
    client, desk, token = desk_client
    response = await client.post(path, json=body, headers={"X-CSRF-Token": token})
    assert response.status == 400
    answer = await response.json()
    assert message in answer["error"]
    assert answer["code"] == code
    assert desk.commands == []


async def test_without_the_csrf_token_nothing_reaches_the_engine(
    desk_client: tuple[Client, FakeDesk, str]
) -> None:
    client, desk, _ = desk_client
    response = await client.post("/api/operator/pause", json={"paused": True,
                                                               "reason": "lunch"})
    assert response.status == 403
    assert desk.commands == []


async def test_the_desk_socket_sends_the_whole_state_once_then_only_what_changed(
    desk_client: tuple[Client, FakeDesk, str]
) -> None:
    client, desk, _ = desk_client
    desk.members = [Membership("gynecology", "idle"), Membership("universal", "idle")]
    async with client.ws_connect("/ws/operator") as ws:
        opened = await ws.receive_json(timeout=5)
        assert set(opened) == {"full"}
        full = opened["full"]
        assert [q["queue"] for q in full["queues"]] == ["gynecology", "universal"]
        assert full["paused"] is False
        assert "call" not in full or full["call"] is None

        desk.members = [Membership("gynecology", "idle", True, "lunch"),
                        Membership("universal", "idle")]
        client.app[OPERATOR_PUSH].wake()  # what the live state's listener does
        message = await ws.receive_json(timeout=5)
        assert set(message) == {"delta"}
        config = client.app[CONFIG]
        lunch = config.console.pause_reasons["lunch"][config.default_language]
        assert message["delta"] == {  # the clock stood still: the paused queue, the summary
            "queues": {"$items": {"0": {"paused": True, "reason": "lunch",
                                        "reason_label": lunch}}},
            "paused": True, "reason": "lunch", "reason_label": lunch}
        delta = message["delta"]
        after = apply_patch(full, delta)
    async with client.ws_connect("/ws/operator") as again:  # a page reconnecting
        assert await again.receive_json(timeout=5) == {"full": after}


async def test_a_disposition_for_a_call_not_in_the_account_is_a_409(
    desk_client: tuple[Client, FakeDesk, str]
) -> None:
    client, _, token = desk_client
    response = await client.post("/api/operator/disposition", headers={"X-CSRF-Token": token},
                                 json={"call_id": "nope", "disposition": "resolved"})
    assert response.status == 409
    assert await response.json() == {"error": "the call is not in the account yet",
                                     "code": "call_not_in_account"}


async def test_an_engine_refusal_is_a_502_with_its_reason(
    desk_client: tuple[Client, FakeDesk, str]
) -> None:
    client, desk, token = desk_client
    desk.refuse = True
    response = await client.post("/api/operator/queue", headers={"X-CSRF-Token": token},
                                 json={"queue": "gynecology", "logged_in": True})
    assert response.status == 502
    assert "Already there" in (await response.json())["error"]


async def test_other_roles_are_refused_and_no_controller_is_a_503(
    db_sessions: async_sessionmaker[AsyncSession], clinic_config: ClinicConfig,
    accounts: dict[Role, Account],
) -> None:
    async with await _client(db_sessions, clinic_config, FakeDesk()) as client:
        await log_in(client, accounts[Role.MANAGER])
        assert (await client.get("/operator")).status == 403
        assert (await client.post("/api/operator/pause", json={})).status == 403
    await add_user(db_sessions, "op101", Role.OPERATOR, PASSWORD, cost=FAST_COST)
    async with await _client(db_sessions, clinic_config, None) as client:
        token = await log_in(client, Account("op101", PASSWORD, Role.OPERATOR, ""))
        page = await client.get("/operator")
        assert esc(tr("uk", "no_controller")) in await page.text()  # the clinic's language
        response = await client.post("/api/operator/pause", headers={"X-CSRF-Token": token},
                                     json={"paused": False})
        assert response.status == 503
        assert (await response.json())["code"] == "no_controller"


async def test_an_operator_lists_only_the_calls_they_took(
    desk_client: tuple[Client, FakeDesk, str], db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    client, _, _ = desk_client
    async with writing(db_sessions) as session:
        for key, agent, answered in (("mine", "op102", True), ("theirs", "op104", True),
                                     ("rang me", "op102", False),
                                     ("last month", "op102", True)):
            at = NOW - (timedelta(days=30) if key == "last month" else timedelta(hours=1))
            call = Call(call_key=key, direction=Direction.INBOUND, caller="+380671112233",
                        started_at=at, missed=not answered, route="gynecology")
            call.queue_attempts.append(QueueAttempt(
                channel_id=key, queue="gynecology", joined_at=at, agent=agent,
                connected_at=at + timedelta(seconds=5) if answered else None))
            session.add(call)
    response = await client.get("/api/operator/calls")
    assert response.status == 200
    assert [c["call_id"] for c in (await response.json())["calls"]] == ["mine"]
