"""Shared values and helpers of the web tests (a module with a unique name, so tests import
it without clashing with other directories' conftest modules)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from store_writes import writing

from clinicall.db.models import Call, Direction, MissCause, QueueAttempt, QueueOutcome, Role
from clinicall.web.passwords import PasswordCost

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "clinic.example.yaml"
SECRET = b"s" * 32
NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)  # 15:00 in Kyiv
#: Tests only: argon2id at 1 pass and 1 MiB.  The hash records its cost and verification
#: follows it; the app is built with the same cost, so a login does not rehash.
FAST_COST = PasswordCost(time_cost=1, memory_kib=1024, parallelism=1)


@dataclass(frozen=True, slots=True)
class FakeQueueNow:
    waiting: int
    longest_wait_s: float
    available: int
    paused: int
    in_call: int


class FakeLive:
    """A live state standing still: 4 waiting in therapy, the longest for 73.4 s."""

    def snapshot(self, now: datetime) -> dict[str, FakeQueueNow]:
        return {"therapy": FakeQueueNow(4, 73.4, 2, 1, 3)}


@dataclass(slots=True)
class FakeHealth:
    """The engine link as the port reports it; a test flips ``up``."""

    engine: str = "asterisk"
    up: bool = True
    since: datetime | None = NOW - timedelta(hours=1)
    last_event_at: datetime | None = NOW - timedelta(seconds=3)
    reconnects: int = 2
    detail: str = "logged in"
    call_connections_dropped: int = 7
    call_connections_malformed: int = 3
    call_connections_refused: int = 11
    call_connections_timed_out: int = 5

    def __call__(self) -> FakeHealth:
        return self


@dataclass
class FakeAccount:
    """The call account's health as the tracker reports it; a test changes it."""

    store_up: bool = True
    pending: int = 0
    ivr_unconfirmed: int = 0

    def __call__(self) -> FakeAccount:
        return self


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    password: str
    role: Role
    token: str


async def seed_today(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Therapy: 3 offered, 2 answered (waits 10 s, 30 s), 1 abandoned after 40 s.
    Pediatrics: 1 answered after 5 s.  Yesterday: one more therapy call, not counted."""
    base = NOW - timedelta(hours=2)

    def call(n: int, queue: str, wait: float, outcome: QueueOutcome, at: datetime) -> Call:
        missed = outcome is not QueueOutcome.ANSWERED
        c = Call(call_key=f"L{n}", direction=Direction.INBOUND, caller=f"+38067000000{n}",
                 started_at=at, ended_at=at + timedelta(minutes=3), missed=missed,
                 miss_cause=MissCause.ABANDONED if missed else None)
        joined = at + timedelta(seconds=20)
        c.queue_attempts.append(QueueAttempt(
            channel_id=f"U{n}", queue=queue, joined_at=joined, outcome=outcome, wait_s=wait,
            connected_at=joined + timedelta(seconds=wait) if not missed else None,
            left_at=joined + timedelta(seconds=wait)))
        return c

    async with writing(sessions) as session:
        session.add_all([
            call(1, "therapy", 10.0, QueueOutcome.ANSWERED, base),
            call(2, "therapy", 30.0, QueueOutcome.ANSWERED, base + timedelta(minutes=5)),
            call(3, "therapy", 40.0, QueueOutcome.ABANDONED, base + timedelta(minutes=10)),
            call(4, "pediatrics", 5.0, QueueOutcome.ANSWERED, base + timedelta(minutes=15)),
            call(5, "therapy", 3.0, QueueOutcome.ANSWERED, NOW - timedelta(days=1)),
        ])


Client = TestClient[web.Request, web.Application]
CSRF_IN_PAGE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_in(html: str) -> str:
    """The CSRF token of the first form in a page."""
    found = CSRF_IN_PAGE.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


async def login_token(client: Client) -> str:
    """Open the login form (which sets its CSRF cookie) and return the form's token."""
    response = await client.get("/login")
    assert response.status == 200
    return csrf_in(await response.text())


async def log_in(client: Client, account: Account) -> str:
    """Log in through the form, as a browser does; the session's CSRF token."""
    response = await client.post("/login", data={"username": account.username,
                                                  "password": account.password,
                                                  "csrf_token": await login_token(client)},
                                 allow_redirects=False)
    assert response.status == 303, await response.text()
    return await session_token(client)


async def session_token(client: Client) -> str:
    """The CSRF token of the logged-in session, from the forms of the page at / (the
    dashboard, or the refusal page an operator gets: both have the logout forms)."""
    return csrf_in(await (await client.get("/", allow_redirects=False)).text())
