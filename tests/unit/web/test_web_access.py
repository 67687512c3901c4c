"""Every route, every role: who gets in, who gets 401/403, by cookie and by Bearer token."""

from __future__ import annotations

import base64
import hashlib
import logging
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import Role, User, WebSession
from clinicall.settings.models import ClinicConfig
from clinicall.web import build_app
from clinicall.web.access import ACCESS, KIOSK, PUBLIC
from clinicall.web.cookies import COOKIE_NAME
from clinicall.web.i18n import tr
from clinicall.web.pages import esc
from clinicall.web.passwords import (
    PasswordCost,
    hash_password,
    needs_rehash,
    token_digest,
    verify_password,
)
from clinicall.web.session_store import open_session

from .web_fixtures import FAST_COST, NOW, SECRET, Account, log_in, login_token, session_token

Client = TestClient[web.Request, web.Application]
PAGES = ["/"]
APIS = ["/api/live", "/api/kpi"]


def bearer(account: Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.token}"}


def test_every_route_has_an_access_rule(client: Client) -> None:
    paths = {r.resource.canonical for r in client.app.router.routes() if r.resource}
    assert paths - PUBLIC - KIOSK - set(ACCESS) == set()
    assert set(PAGES + APIS) <= set(ACCESS)


@pytest.mark.parametrize("path", APIS)
async def test_api_without_login_is_401_json(client: Client, path: str) -> None:
    response = await client.get(path)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert await response.json() == {"error": "login required", "code": "login_required"}


async def test_page_without_login_redirects_to_login(client: Client) -> None:
    response = await client.get("/", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/login"


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("path", PAGES + APIS)
async def test_each_role_on_each_route_by_token(
    client: Client, accounts: dict[Role, Account], role: Role, path: str
) -> None:
    response = await client.get(path, headers=bearer(accounts[role]), allow_redirects=False)
    assert response.status == (200 if role in ACCESS[path] else 403)


@pytest.mark.parametrize("role", list(Role))
async def test_each_role_on_the_dashboard_by_cookie(
    client: Client, accounts: dict[Role, Account], role: Role
) -> None:
    await log_in(client, accounts[role])
    response = await client.get("/", allow_redirects=False)
    if role is Role.OPERATOR:
        assert response.status == 403
        assert "operator" in await response.text()
    else:
        assert response.status == 200
        assert "Family Health Medical Centre" not in await response.text()  # uk is the default
        assert "Медичний центр" in await response.text()


async def test_operator_sees_the_live_view_only(
    client: Client, accounts: dict[Role, Account]
) -> None:
    await log_in(client, accounts[Role.OPERATOR])
    assert (await client.get("/api/live")).status == 200
    assert (await client.get("/api/kpi")).status == 403


async def test_unknown_or_malformed_token_is_401(
    client: Client, accounts: dict[Role, Account]
) -> None:
    for header in ("Bearer nope", "Bearer ", f"Basic {accounts[Role.ADMIN].token}", "Bearer"):
        response = await client.get("/api/live", headers={"Authorization": header})
        assert response.status == 401, header


async def test_deactivated_user_is_refused_at_once(
    client: Client, accounts: dict[Role, Account], db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    manager = accounts[Role.MANAGER]
    await log_in(client, manager)
    assert (await client.get("/api/kpi")).status == 200
    async with db_sessions() as session:
        await session.execute(update(User).where(User.username == manager.username)
                              .values(active=False))
        await session.commit()
    assert (await client.get("/api/kpi")).status == 401
    assert (await client.get("/api/kpi", headers=bearer(manager))).status == 401


async def test_role_change_invalidates_the_cookie(
    client: Client, accounts: dict[Role, Account], db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    manager = accounts[Role.MANAGER]
    await log_in(client, manager)
    async with db_sessions() as session:
        await session.execute(update(User).where(User.username == manager.username)
                              .values(role=Role.OPERATOR))
        await session.commit()
    assert (await client.get("/api/live")).status == 401
    async with db_sessions() as session:
        await session.execute(update(User).where(User.username == manager.username)
                              .values(role=Role.MANAGER))
        await session.commit()
    assert (await client.get("/api/live")).status == 401  # the session was ended, not paused


async def _user(sessions: async_sessionmaker[AsyncSession], name: str) -> User:
    async with sessions() as session:
        user = await session.scalar(select(User).where(User.username == name))
    assert user is not None
    return user


@pytest.mark.parametrize("value", [
    "", "x", "A" * 43, "A" * 129, "é" * 43, "1.manager.99999999999.sig", "%00", "a b",
])
async def test_a_session_id_the_store_does_not_hold_is_rejected(
    client: Client, accounts: dict[Role, Account], value: str
) -> None:
    await log_in(client, accounts[Role.MANAGER])
    genuine = client.session.cookie_jar.filter_cookies(client.make_url("/"))[COOKIE_NAME].value
    assert (await client.get("/api/kpi")).status == 200
    client.session.cookie_jar.clear()
    changed = genuine[:-1] + ("A" if genuine[-1] != "A" else "B")
    for forged in (value, changed):
        response = await client.get("/api/kpi", cookies={COOKIE_NAME: forged})
        assert response.status == 401, forged
    response = await client.get("/api/kpi", cookies={COOKIE_NAME: genuine})
    assert response.status == 200  # the same path with the genuine id: the test can fail


async def test_expired_session_is_rejected(
    client: Client, accounts: dict[Role, Account], db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    manager = await _user(db_sessions, accounts[Role.MANAGER].username)
    ttl = timedelta(hours=10)
    expired = await open_session(db_sessions, manager, NOW - ttl, ttl)  # ends exactly at NOW
    valid = await open_session(db_sessions, manager, NOW - ttl + timedelta(seconds=1), ttl)
    assert (await client.get("/api/kpi", cookies={COOKIE_NAME: expired.session_id})).status == 401
    assert (await client.get("/api/kpi", cookies={COOKIE_NAME: valid.session_id})).status == 200


async def test_the_store_keeps_only_the_digest_of_a_session_id(
    client: Client, accounts: dict[Role, Account], db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    await log_in(client, accounts[Role.MANAGER])
    genuine = client.session.cookie_jar.filter_cookies(client.make_url("/"))[COOKIE_NAME].value
    async with db_sessions() as session:
        rows = (await session.scalars(select(WebSession))).all()
    assert [row.key_hash for row in rows] == [token_digest(genuine)]
    assert genuine not in rows[0].key_hash


async def test_login_sets_a_strict_httponly_cookie_and_logout_clears_it(
    client: Client, accounts: dict[Role, Account]
) -> None:
    manager = accounts[Role.MANAGER]
    response = await client.post("/login", data={"username": manager.username,
                                                  "password": manager.password,
                                                  "next": "/api/live",
                                                  "csrf_token": await login_token(client)},
                                 allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/api/live"
    cookie = response.cookies[COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"
    token = await session_token(client)
    response = await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/login"
    assert (await client.get("/", allow_redirects=False)).status == 303


async def test_logout_is_post_only(client: Client, accounts: dict[Role, Account]) -> None:
    await log_in(client, accounts[Role.MANAGER])
    for path in ("/logout", "/logout/all"):
        assert (await client.get(path, allow_redirects=False)).status == 405
    assert (await client.get("/", allow_redirects=False)).status == 200  # still logged in


async def test_wrong_password_is_logged_with_the_name_only(
    client: Client, accounts: dict[Role, Account], caplog: pytest.LogCaptureFixture
) -> None:
    manager = accounts[Role.MANAGER]
    with caplog.at_level(logging.INFO, logger="clinicall.web"):
        response = await client.post("/login", data={"username": manager.username,
                                                      "password": "guess-1234",
                                                      "csrf_token": await login_token(client)})
    assert response.status == 401
    assert esc(tr("uk", "wrong_password")) in await response.text()  # the clinic's language
    assert manager.username in caplog.text
    assert "guess-1234" not in caplog.text
    assert (await client.get("/", allow_redirects=False)).status == 303


async def test_failed_logins_are_rate_limited_per_address_and_user(
    client: Client, accounts: dict[Role, Account]
) -> None:
    manager, quality = accounts[Role.MANAGER], accounts[Role.QUALITY]
    token = await login_token(client)
    for _ in range(5):
        response = await client.post("/login", data={"username": manager.username,
                                                      "password": "wrong", "csrf_token": token})
        assert response.status == 401
    response = await client.post("/login", data={"username": manager.username,
                                                  "password": manager.password,
                                                  "csrf_token": token},
                                 allow_redirects=False)
    assert response.status == 429  # from this address, even the right password, for now
    assert response.headers["Retry-After"] == "60"  # the clock stands still: the whole minute
    assert esc(tr("uk", "too_many", n=60)) in await response.text()
    await log_in(client, quality)  # another user from the same address is not affected


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil"])
async def test_login_never_redirects_off_site(
    client: Client, accounts: dict[Role, Account], target: str
) -> None:
    manager = accounts[Role.MANAGER]
    response = await client.post("/login", data={"username": manager.username,
                                                  "password": manager.password, "next": target,
                                                  "csrf_token": await login_token(client)},
                                 allow_redirects=False)
    assert response.headers["Location"] == "/"


async def test_passwords_and_tokens_are_not_stored_in_clear(
    accounts: dict[Role, Account], db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with db_sessions() as session:
        users = {u.username: u for u in (await session.scalars(select(User))).all()}
    for account in accounts.values():
        stored = users[account.username]
        assert stored.password_hash.startswith("$argon2id$")
        assert account.password not in stored.password_hash
        assert stored.api_token_hash is not None
        assert account.token not in stored.api_token_hash
    hashes = [u.password_hash for u in users.values()]
    assert len(set(h.split("$")[4] for h in hashes)) == len(hashes)  # one salt each


async def test_security_headers_on_every_response(client: Client) -> None:
    for path in ("/login", "/api/live", "/"):
        response = await client.get(path, allow_redirects=False)
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["Server"] == "clinicall"
        assert "Strict-Transport-Security" not in response.headers  # loopback, plain HTTP


async def test_hsts_when_cookies_are_secure(
    db_sessions: async_sessionmaker[AsyncSession], clinic_config: ClinicConfig
) -> None:
    app = build_app(sessions=db_sessions, config=clinic_config, live=None, secret=SECRET,
                    cookie_secure=True)
    async with TestClient(TestServer(app)) as secure_client:
        response = await secure_client.get("/login")
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def _scrypt_hash(password: str) -> str:
    """A hash in the former scheme (``scrypt$n$r$p$salt$key``), as older stores hold them."""
    salt = b"0123456789abcdef"
    key = hashlib.scrypt(password.encode(), salt=salt, n=2**10, r=8, p=1, dklen=32)
    return f"scrypt$1024$8$1${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


@pytest.mark.parametrize("old", ["scrypt", "weaker argon2id"])
async def test_a_login_rehashes_an_old_hash_to_the_current_cost(
    client: Client, accounts: dict[Role, Account],
    db_sessions: async_sessionmaker[AsyncSession], old: str,
) -> None:
    manager = accounts[Role.MANAGER]
    weaker = PasswordCost(time_cost=1, memory_kib=512, parallelism=1)
    stored = (_scrypt_hash(manager.password) if old == "scrypt"
              else hash_password(manager.password, cost=weaker))
    async with db_sessions() as session:
        await session.execute(update(User).where(User.username == manager.username)
                              .values(password_hash=stored))
        await session.commit()
    await log_in(client, manager)
    fresh = (await _user(db_sessions, manager.username)).password_hash
    assert fresh.startswith("$argon2id$v=19$m=1024,t=1,p=1$")  # the app's cost (FAST_COST)
    assert not needs_rehash(fresh, FAST_COST)
    assert verify_password(manager.password, fresh)
    client.session.cookie_jar.clear()
    await log_in(client, manager)  # the new hash lets the same password in
    assert (await _user(db_sessions, manager.username)).password_hash == fresh
