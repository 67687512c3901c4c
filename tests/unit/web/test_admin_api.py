"""User administration as JSON (``web/admin_api.py``), as a program does it with an admin's API
token: list, add under the password policy, change a role, disable and enable, reset a
password (each ends the user's sessions), list and revoke sessions, never act on oneself; one's
own password by any role; each refusal with its specific code."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import Role, User, WebSession

from .web_fixtures import Account, log_in

Client = TestClient[web.Request, web.Application]
GOOD = "violet river under the old bridge"


def bearer(account: Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.token}"}


async def _user(db: async_sessionmaker[AsyncSession], name: str) -> User:
    async with db() as session:
        user = await session.scalar(select(User).where(User.username == name))
    assert user is not None
    return user


async def test_an_admin_program_adds_changes_disables_and_resets(
    client: Client, accounts: dict[Role, Account], db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    admin = bearer(accounts[Role.ADMIN])
    weak = await client.post("/api/users", headers=admin,
                             json={"username": "olena", "role": "operator",
                                   "password": "password1234"})
    assert weak.status == 400
    assert (await weak.json())["code"] == "weak_password"
    bad_role = await client.post("/api/users", headers=admin,
                                 json={"username": "olena", "role": "boss", "password": GOOD})
    assert (bad_role.status, (await bad_role.json())["code"]) == (400, "invalid_role")
    added = await client.post("/api/users", headers=admin,
                              json={"username": "olena", "role": "operator", "password": GOOD})
    assert added.status == 201
    olena_id = (await added.json())["id"]
    again = await client.post("/api/users", headers=admin,
                              json={"username": "olena", "role": "operator", "password": GOOD})
    assert (again.status, (await again.json())["code"]) == (409, "user_exists")

    listed = await (await client.get("/api/users", headers=admin)).json()
    assert {"id": olena_id, "username": "olena", "role": "operator", "active": True,
            "sessions": 0} in listed["users"]

    url = f"/api/users/{olena_id}"
    for body in ({"action": "role", "role": "quality"}, {"action": "disable"},
                 {"action": "enable"}, {"action": "password", "password": GOOD + " too"}):
        response = await client.post(url, headers=admin, json=body)
        assert response.status == 200, await response.text()
    olena = await _user(db_sessions, "olena")
    assert (olena.role, olena.active) == (Role.QUALITY, True)
    olena_login = Account("olena", GOOD + " too", Role.QUALITY, "")
    await log_in(client, olena_login)  # the new password works

    unknown = await client.post(url, headers=admin, json={"action": "promote"})
    assert (await unknown.json())["code"] == "invalid_action"
    missing = await client.post("/api/users/999999", headers=admin, json={"action": "disable"})
    assert (missing.status, (await missing.json())["code"]) == (404, "no_such_user")
    admin_id = (await _user(db_sessions, accounts[Role.ADMIN].username)).id
    myself = await client.post(f"/api/users/{admin_id}", headers=admin,
                               json={"action": "disable"})
    assert (myself.status, (await myself.json())["code"]) == (400, "not_yourself")


async def test_sessions_listed_and_revoked(
    client: Client, accounts: dict[Role, Account], db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await log_in(client, accounts[Role.MANAGER])
    admin = bearer(accounts[Role.ADMIN])
    listed = (await (await client.get("/api/sessions", headers=admin)).json())["sessions"]
    (mine,) = [s for s in listed if s["username"] == accounts[Role.MANAGER].username]
    revoked = await client.post(f"/api/sessions/{mine['id']}/revoke", headers=admin)
    assert revoked.status == 200
    async with db_sessions() as session:
        assert await session.get(WebSession, mine["id"]) is None
    again = await client.post(f"/api/sessions/{mine['id']}/revoke", headers=admin)
    assert (again.status, (await again.json())["code"]) == (404, "no_such_session")
    assert (await client.get("/api/kpi")).status == 401  # that browser is signed out


async def test_anyone_changes_their_own_password_and_only_an_admin_administers(
    client: Client, accounts: dict[Role, Account],
) -> None:
    operator = accounts[Role.OPERATOR]
    wrong = await client.post("/api/account/password", headers=bearer(operator),
                              json={"current": "not it", "new": GOOD})
    assert (wrong.status, (await wrong.json())["code"]) == (400, "wrong_password")
    weak = await client.post("/api/account/password", headers=bearer(operator),
                             json={"current": operator.password, "new": "short"})
    assert (weak.status, (await weak.json())["code"]) == (400, "weak_password")
    done = await client.post("/api/account/password", headers=bearer(operator),
                             json={"current": operator.password, "new": GOOD})
    assert done.status == 200
    await log_in(client, Account(operator.username, GOOD, Role.OPERATOR, ""))
    for role in (Role.OPERATOR, Role.MANAGER, Role.QUALITY):
        refused = await client.get("/api/users", headers=bearer(accounts[role]))
        assert refused.status == 403, role
