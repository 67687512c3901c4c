"""Admin in the browser's forms: add a user under the password policy, change a role,
disable, reset a password (each ends the user's sessions), list and revoke sessions; and
anyone's own password change, which keeps their session and ends the others."""

from __future__ import annotations

from typing import cast

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from store_writes import recorded_calls

from clinicall.db.models import (
    Recording,
    RecordingAction,
    Role,
    User,
    WebSession,
)
from clinicall.recordings.audit import Access, AuditLog
from clinicall.web.password_policy import policy_problem

from .web_fixtures import NOW, Account, log_in

Client = TestClient[web.Request, web.Application]
GOOD = "violet river under the old bridge"


@pytest.mark.parametrize(("password", "problem"), [
    ("short pass", "pw_short"), ("password1234", "pw_common"), ("PASSWORD1234", "pw_common"),
    ("maria-is-the-best-one", "pw_name"), ("aaaaaaaaaaaaaa", "pw_few"),
    ("abababababab", "pw_few"), ("qwertyuiopasdfg", "pw_sequence"),
    ("3456789012345", None), (GOOD, None),
])
def test_the_password_policy(password: str, problem: str | None) -> None:
    assert policy_problem(password, "maria") == problem


def elsewhere(client: Client) -> aiohttp.ClientSession:
    """Another browser (its own cookies) on the same server."""
    return aiohttp.ClientSession(base_url=str(client.make_url("/")),
                                 cookie_jar=aiohttp.CookieJar(unsafe=True))  # 127.0.0.1


async def _user(db: async_sessionmaker[AsyncSession], name: str) -> User:
    async with db() as session:
        user = await session.scalar(select(User).where(User.username == name))
    assert user is not None
    return user


async def _sessions_of(db: async_sessionmaker[AsyncSession], user_id: int) -> int:
    async with db() as session:
        return len((await session.scalars(
            select(WebSession).where(WebSession.user_id == user_id))).all())


async def test_an_admin_adds_changes_disables_and_resets(
    client: Client, accounts: dict[Role, Account], db_sessions: async_sessionmaker[AsyncSession],
    clinic_config: object,
) -> None:
    token = await log_in(client, accounts[Role.ADMIN])
    weak = await client.post("/admin/users", data={"csrf_token": token, "username": "olena",
                                                   "role": "operator",
                                                   "password": "password1234"})
    assert weak.status == 400
    added = await client.post("/admin/users", data={"csrf_token": token, "username": "olena",
                                                    "role": "operator", "password": GOOD})
    assert added.status == 200
    assert 'data-user="olena"' in await added.text()
    again = await client.post("/admin/users", data={"csrf_token": token, "username": "olena",
                                                    "role": "operator", "password": GOOD})
    assert again.status == 409

    manager = accounts[Role.MANAGER]
    async with elsewhere(client) as other:  # the manager signed in on another browser
        await log_in(cast(Client, other), manager)
        user = await _user(db_sessions, manager.username)
        assert await _sessions_of(db_sessions, user.id) == 1
        changed = await client.post(f"/admin/users/{user.id}", data={
            "csrf_token": token, "action": "role", "role": "quality"})
        assert changed.status == 200
        assert (await _user(db_sessions, manager.username)).role == Role.QUALITY
        assert await _sessions_of(db_sessions, user.id) == 0  # ended at once
        assert (await other.get("/", allow_redirects=False)).status == 303

    for action, active in (("disable", False), ("enable", True)):
        done = await client.post(f"/admin/users/{user.id}",
                                 data={"csrf_token": token, "action": action})
        assert done.status == 200
        assert (await _user(db_sessions, manager.username)).active is active
    reset = await client.post(f"/admin/users/{user.id}", data={
        "csrf_token": token, "action": "password", "password": "short"})
    assert reset.status == 400
    reset = await client.post(f"/admin/users/{user.id}", data={
        "csrf_token": token, "action": "password", "password": GOOD})
    assert reset.status == 200
    admin = await _user(db_sessions, accounts[Role.ADMIN].username)
    own = await client.post(f"/admin/users/{admin.id}", data={
        "csrf_token": token, "action": "disable"})
    assert own.status == 400  # never locks the console's admin out by a click
    missing = await client.post("/admin/users/99999", data={"csrf_token": token,
                                                             "action": "enable"})
    assert missing.status == 404


async def test_sessions_are_listed_and_revocable(
    client: Client, accounts: dict[Role, Account], db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    token = await log_in(client, accounts[Role.ADMIN])
    async with elsewhere(client) as other:
        await log_in(cast(Client, other), accounts[Role.OPERATOR])
        page = await (await client.get("/admin")).text()
        operator = await _user(db_sessions, accounts[Role.OPERATOR].username)
        async with db_sessions() as session:
            row = await session.scalar(select(WebSession).where(
                WebSession.user_id == operator.id))
        assert row is not None
        assert f'data-session="{row.id}"' in page
        revoked = await client.post(f"/admin/sessions/{row.id}", data={"csrf_token": token})
        assert revoked.status == 200
        assert (await other.get("/operator", allow_redirects=False)).status == 303


async def test_anyone_changes_their_own_password_and_keeps_this_session(
    client: Client, accounts: dict[Role, Account], db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    me = accounts[Role.OPERATOR]
    token = await log_in(client, me)
    async with elsewhere(client) as other:
        await log_in(cast(Client, other), me)
        form = {"csrf_token": token, "current": "wrong", "new": GOOD, "repeat": GOOD}
        assert (await client.post("/account/password", data=form)).status == 400
        form["current"] = me.password
        form["repeat"] = GOOD + "!"
        assert (await client.post("/account/password", data=form)).status == 400
        form["new"] = form["repeat"] = "qwertyuiopasdf"
        assert (await client.post("/account/password", data=form)).status == 400
        form["new"] = form["repeat"] = GOOD
        assert (await client.post("/account/password", data=form)).status == 200
        assert (await client.get("/account")).status == 200  # still signed in here
        assert (await other.get("/account", allow_redirects=False)).status == 303
    assert (await client.post("/account/password", data={
        "current": GOOD, "new": GOOD, "repeat": GOOD})).status == 403  # no CSRF token


async def test_only_admins_open_the_admin_page(
    client: Client, accounts: dict[Role, Account]
) -> None:
    await log_in(client, accounts[Role.MANAGER])
    assert (await client.get("/admin")).status == 403


async def test_the_admin_page_shows_the_newest_audit_rows_and_links_the_export(
    client: Client, accounts: dict[Role, Account], db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    admin = await _user(db_sessions, accounts[Role.ADMIN].username)
    ids = await recorded_calls(db_sessions, [("A1", "+380671112233", NOW)])
    async with db_sessions.begin() as session:
        recording = await session.scalar(select(Recording).where(Recording.call_id == ids["A1"]))
        assert recording is not None
        await AuditLog().append(session, Access(recording.id, admin.id, RecordingAction.PLAY,
                                                remote_addr="10.0.0.5",
                                                reason="complaint review"), NOW)
    await log_in(client, accounts[Role.ADMIN])
    page = await (await client.get("/admin")).text()
    row = page[page.index('<tr data-audit="'):]
    row = row[:row.index("</tr>")]
    for shown in (accounts[Role.ADMIN].username, "play", f"#{recording.id}", "10.0.0.5",
                  "complaint review"):
        assert shown in row, shown
    assert 'href="/api/audit.csv"' in page
