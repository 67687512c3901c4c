"""The web console against a hostile or careless client (issue 9, item 4; docs/web-security.md).

Each test runs the real application on a real socket (aiohttp's TestServer); clients that must
come from different addresses bind their own loopback address (127.0.0.x), so the throttle
sees them exactly as it would see two machines.
"""

from __future__ import annotations

import html
import json
import random
import re
import resource
import string
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from yarl import URL

from clinicall.db.models import Role, User, WebSession
from clinicall.settings import load_config
from clinicall.web import build_app
from clinicall.web.cookies import COOKIE_NAME
from clinicall.web.i18n import CATALOGUE, tr
from clinicall.web.keys import THROTTLE
from clinicall.web.pages import esc
from clinicall.web.passwords import PasswordCost
from clinicall.web.session_store import count_sessions, open_session
from clinicall.web.throttle import MAX_KEYS
from clinicall.web.users import add_user

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "clinic.example.yaml"


def refusal(key: str) -> str:
    """A refusal page's sentence as the example clinic's language words it (web/i18n.py)."""
    return html.escape(CATALOGUE[key][load_config(EXAMPLE).default_language], quote=False)
NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
SECRET = b"hostile-secret-" * 3
FAST_COST = PasswordCost(time_cost=1, memory_kib=1024, parallelism=1)  # tests only
PASSWORD = "the manager's own pass"
CSRF_IN_PAGE = re.compile(r'name="csrf_token" value="([^"]+)"')

Client = aiohttp.ClientSession


@dataclass(frozen=True, slots=True)
class Staff:
    manager_token: str


@pytest.fixture
async def staff(db_sessions: async_sessionmaker[AsyncSession]) -> Staff:
    new = await add_user(db_sessions, "manager", Role.MANAGER, PASSWORD, with_token=True,
                         cost=FAST_COST)
    await add_user(db_sessions, "operator", Role.OPERATOR, PASSWORD, cost=FAST_COST)
    assert new.api_token is not None
    return Staff(new.api_token)


@pytest.fixture
async def server(db_sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[TestServer]:
    app = build_app(sessions=db_sessions, config=load_config(EXAMPLE), live=None,
                    secret=SECRET, clock=lambda: NOW, password_cost=FAST_COST)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    try:
        yield test_server
    finally:
        await test_server.close()


@pytest.fixture
async def client(server: TestServer) -> AsyncIterator[Client]:
    async with _client_from(server, "127.0.0.1") as test_client:
        yield test_client


def _client_from(server: TestServer, address: str) -> Client:
    """A browser-like client (its own cookie jar) whose connections leave from ``address``
    (any 127.0.0.0/8 address works); closing it leaves the server running."""
    return aiohttp.ClientSession(base_url=server.make_url("/"),
                                 cookie_jar=aiohttp.CookieJar(unsafe=True),
                                 connector=aiohttp.TCPConnector(local_addr=(address, 0)))


def _csrf_in(html: str) -> str:
    found = CSRF_IN_PAGE.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


async def _login_token(client: Client) -> str:
    return _csrf_in(await (await client.get("/login")).text())


async def _post_login(client: Client, username: str, password: str,
                      token: str | None = None) -> aiohttp.ClientResponse:
    return await client.post("/login", allow_redirects=False, data={
        "username": username, "password": password,
        "csrf_token": token if token is not None else await _login_token(client)})


async def _log_in(client: Client) -> str:
    """Log the manager in; the session's CSRF token (from the dashboard's forms)."""
    response = await _post_login(client, "manager", PASSWORD)
    assert response.status == 303, await response.text()
    return _csrf_in(await (await client.get("/")).text())


def _base(client: Client) -> URL:
    base = client._base_url
    assert base is not None
    return base


def _session_cookie(client: Client) -> str:
    return client.cookie_jar.filter_cookies(_base(client))[COOKIE_NAME].value


# ---- sessions end when the user says so --------------------------------------------------


async def test_logout_then_the_old_cookie_is_refused(client: Client, staff: Staff) -> None:
    token = await _log_in(client)
    old = _session_cookie(client)
    assert (await client.get("/api/kpi", cookies={COOKIE_NAME: old})).status == 200
    response = await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 303
    client.cookie_jar.clear()
    api = await client.get("/api/kpi", cookies={COOKIE_NAME: old})
    assert api.status == 401
    assert await api.json() == {"error": "login required", "code": "login_required"}
    page = await client.get("/", cookies={COOKIE_NAME: old}, allow_redirects=False)
    assert page.status == 303
    assert page.headers["Location"] == "/login"


async def test_sign_out_everywhere_ends_the_other_browsers_session(
    server: TestServer, client: Client, staff: Staff
) -> None:
    async with _client_from(server, "127.0.0.2") as other:
        await _log_in(other)
        token = await _log_in(client)
        assert (await other.get("/api/kpi")).status == 200
        response = await client.post("/logout/all", data={"csrf_token": token},
                                     allow_redirects=False)
        assert response.status == 303
        assert (await other.get("/api/kpi")).status == 401
        assert (await client.get("/api/kpi")).status == 401


async def test_logout_ends_only_its_own_session(
    server: TestServer, client: Client, staff: Staff
) -> None:
    async with _client_from(server, "127.0.0.2") as other:
        await _log_in(other)
        token = await _log_in(client)
        await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
        assert (await client.get("/api/kpi")).status == 401
        assert (await other.get("/api/kpi")).status == 200


async def test_disabling_the_user_ends_the_session_for_good(
    client: Client, staff: Staff, db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    await _log_in(client)

    async def set_active(active: bool) -> None:
        async with db_sessions() as session:
            await session.execute(update(User).where(User.username == "manager")
                                  .values(active=active))
            await session.commit()

    await set_active(False)
    assert (await client.get("/api/kpi")).status == 401
    await set_active(True)
    assert (await client.get("/api/kpi")).status == 401  # the row was deleted, not suspended
    assert await count_sessions(db_sessions) == 0


async def test_a_login_purges_expired_sessions_and_the_browsers_old_one(
    client: Client, staff: Staff, db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with db_sessions() as session:
        manager = await session.scalar(select(User).where(User.username == "manager"))
    assert manager is not None
    planted = await open_session(db_sessions, manager, NOW, timedelta(hours=10))
    async with db_sessions() as session:  # rows open_session would have purged
        session.add_all(WebSession(key_hash=f"{hours:064d}", user_id=manager.id,
                                   role=Role.MANAGER, csrf_token="t",
                                   created_at=NOW - timedelta(hours=10 + hours),
                                   expires_at=NOW - timedelta(hours=hours),
                                   last_seen_at=NOW - timedelta(hours=hours))
                        for hours in range(1, 6))
        await session.commit()
    assert await count_sessions(db_sessions) == 6
    client.cookie_jar.update_cookies({COOKIE_NAME: planted.session_id},
                                     _base(client))
    await _log_in(client)
    assert await count_sessions(db_sessions) == 1  # the new one: expired rows and the
    assert _session_cookie(client) != planted.session_id  # browser's old id are gone
    assert (await client.get("/api/kpi", cookies={COOKIE_NAME: planted.session_id})).status == 401


# ---- CSRF ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/logout", "/logout/all"])
async def test_state_changes_without_the_right_token_are_403(
    client: Client, staff: Staff, path: str
) -> None:
    token = await _log_in(client)
    for data, headers in (
        ({}, {}),
        ({"csrf_token": ""}, {}),
        ({"csrf_token": token[:-1] + ("A" if token[-1] != "A" else "B")}, {}),
        ({"csrf_token": "é" * 43}, {}),
        ({}, {"X-CSRF-Token": "nope"}),
        ({"csrf_token": token}, {"X-CSRF-Token": "nope"}),  # the header, when given, decides
    ):
        response = await client.post(path, data=data, headers=headers, allow_redirects=False)
        assert response.status == 403, (data, headers)
        assert refusal("refused_csrf_token") in await response.text()
    assert (await client.get("/api/kpi")).status == 200  # nothing was ended
    response = await client.post(path, headers={"X-CSRF-Token": token}, allow_redirects=False)
    assert response.status == 303  # the right token in the fetch header works
    assert (await client.get("/api/kpi")).status == 401


async def test_a_post_from_another_site_is_403_even_with_the_token(
    client: Client, staff: Staff
) -> None:
    token = await _log_in(client)
    host = _base(client).authority
    for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"},
                    {"Referer": "https://evil.example/page"},
                    {"Origin": f"http://{host}.evil.example"}):
        response = await client.post("/logout", data={"csrf_token": token}, headers=headers,
                                     allow_redirects=False)
        assert response.status == 403, headers
        assert refusal("refused_other_site") in await response.text()
    assert (await client.get("/api/kpi")).status == 200
    response = await client.post("/logout", data={"csrf_token": token},
                                 headers={"Origin": f"http://{host}"}, allow_redirects=False)
    assert response.status == 303


async def test_login_needs_the_forms_own_token(client: Client, staff: Staff) -> None:
    response = await _post_login(client, "manager", PASSWORD, token="")
    assert response.status == 403
    assert refusal("refused_login_form") in await response.text()
    token = await _login_token(client)
    for forged in ("x", token + "x", "abc.def"):
        assert (await _post_login(client, "manager", PASSWORD, token=forged)).status == 403
    client.cookie_jar.clear()  # the token without its cookie
    assert (await _post_login(client, "manager", PASSWORD, token=token)).status == 403
    response = await client.post("/login", allow_redirects=False, headers={
        "Origin": "https://evil.example"}, data={
        "username": "manager", "password": PASSWORD, "csrf_token": await _login_token(client)})
    assert response.status == 403
    assert (await _post_login(client, "manager", PASSWORD)).status == 303


async def test_bearer_requests_are_exempt(client: Client, staff: Staff) -> None:
    response = await client.post("/logout", allow_redirects=False, headers={
        "Authorization": f"Bearer {staff.manager_token}", "Origin": "https://elsewhere.example"})
    assert response.status == 303  # no cookie to abuse, and no browser adds this header
    response = await client.post("/logout", allow_redirects=False,
                                 headers={"Authorization": "Bearer not-a-token"})
    assert response.status == 401


# ---- throttle ------------------------------------------------------------------------------


async def test_an_attacker_cannot_lock_the_real_manager_out(
    server: TestServer, client: Client, staff: Staff
) -> None:
    statuses: list[int] = []
    async with _client_from(server, "127.0.0.66") as attacker:
        token = await _login_token(attacker)
        for n in range(50):
            response = await _post_login(attacker, "manager", f"guess-{n}", token)
            statuses.append(response.status)
        assert set(statuses) == {401, 429}
        assert statuses.index(429) == 5  # five wrong passwords, then the address waits
        refused = await _post_login(attacker, "manager", PASSWORD, token)
        assert refused.status == 429  # even the right password, from the attacker's address
        wait = int(refused.headers["Retry-After"])
        assert 0 < wait <= 600
        assert esc(tr("uk", "too_many", n=wait)) in await refused.text()
    async with _client_from(server, "127.0.0.7") as manager:
        response = await _post_login(manager, "manager", PASSWORD)
        assert response.status == 303, await response.text()
        assert (await manager.get("/api/kpi")).status == 200
    print(f"attacker: {statuses.count(401)} checked, {statuses.count(429)} refused; "
          f"the real manager from a fresh address got in")


async def test_the_failure_tables_stay_bounded(
    server: TestServer, client: Client, staff: Staff
) -> None:
    """10,000 distinct failing names over HTTP from 50 addresses, then 100,000 more failures
    straight into the app's own throttle, each with a new name and address (the worst case:
    every failure a new key in all three tables)."""
    throttle = server.app[THROTTLE]
    for a in range(50):
        async with _client_from(server, f"127.0.1.{a + 1}") as one:
            token = await _login_token(one)
            for n in range(200):
                response = await _post_login(one, f"nobody-{a}-{n}", "x", token)
                assert response.status in (401, 429)
    addresses, pairs, names = throttle.sizes()
    assert addresses == 50
    assert pairs == names == 50 * 20  # each address is held after 20 failures: no new keys
    before = _rss_bytes()
    for n in range(100_000):
        throttle.failed(f"10.{n >> 16}.{(n >> 8) & 255}.{n & 255}", f"name-{n:06d}", NOW)
    grown = _rss_bytes() - before
    assert max(throttle.sizes()) <= MAX_KEYS
    assert throttle.sizes() == (MAX_KEYS, MAX_KEYS, MAX_KEYS)
    assert grown < 32 * 2**20, f"RSS grew by {grown / 2**20:.1f} MiB"
    print(f"throttle: {throttle.sizes()} keys after 110,000 failures; RSS grew "
          f"{grown / 2**20:.1f} MiB (bound 32 MiB)")


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * resource.getpagesize()


# ---- query strings -------------------------------------------------------------------------

ROUTES = ["/api/live", "/api/kpi", "/metrics", "/", "/login"]
KEYS = ["from", "to", "by", "next", "x", "", "from[]", "%00", "%ff%fe", "%d0%ba", "a" * 300]
VALUES = ["2026-07-01", "9999-12-31", "0001-01-01", "2026-02-30", "queue,day", "queue,queue",
          "week,hour,queue,route,day", "", "%", "%zz", "%0", "%00", "%ff", "%c3%28", "%ed%a0%80",
          "%e2%80%ae", "%f0%9f%98%80", "+", "&", "=", "==", ";", "\\", "..%2f..%2f", "-1",
          "1e309", "NaN", "2026-07-01T00:00", "  2026-07-01", "%0a%0d"]


def _random_value(rng: random.Random) -> str:
    """Raw query text (spaces and '#' escaped: the request line itself must stay valid)."""
    return _raw_value(rng).replace(" ", "%20").replace("#", "%23")


def _raw_value(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return rng.choice(VALUES)
    if kind == 1:
        return "".join(rng.choice(string.printable[:94]) for _ in range(rng.randrange(1, 40)))
    if kind == 2:
        return "".join(f"%{rng.randrange(256):02x}" for _ in range(rng.randrange(1, 30)))
    if kind == 3:
        return rng.choice(VALUES) * rng.randrange(50, 400)  # long
    if kind == 4:
        text = "".join(chr(rng.choice([rng.randrange(0x20, 0x7f), rng.randrange(0x80, 0x3000),
                                       rng.randrange(0x1F300, 0x1F600), 0]))
                       for _ in range(rng.randrange(1, 20)))
        return "".join(f"%{b:02x}" for b in text.encode("utf-8", "surrogatepass"))
    return rng.choice(VALUES) + rng.choice(VALUES)


def _random_query(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randrange(0, 5)):
        key = rng.choice(KEYS) if rng.random() < 0.7 else _random_value(rng)[:30]
        parts.append(key if rng.random() < 0.1 else f"{key}={_random_value(rng)}")
    return rng.choice(["&", ";", "&&"]).join(parts)


async def test_query_string_fuzz_never_gives_a_500(client: Client, staff: Staff) -> None:
    rng = random.Random(20261204)
    auth = {"Authorization": f"Bearer {staff.manager_token}"}
    base = _base(client)
    seen: dict[int, int] = {}
    for case in range(400):
        path = ROUTES[case % len(ROUTES)]
        query = _random_query(rng)
        url = URL(f"{base.scheme}://{base.authority}{path}?{query}", encoded=True)
        async with client.get(url, headers=auth, allow_redirects=False) as response:
            body = await response.text()
        seen[response.status] = seen.get(response.status, 0) + 1
        assert response.status < 500, (path, query, body[:300])
        assert response.status in (200, 400, 414, 431), (path, query, body[:300])
        assert "Traceback" not in body
        if response.status == 400 and path.startswith("/api/"):
            assert _json_error(body), body[:300]
    print(f"query fuzz, 400 cases: statuses {dict(sorted(seen.items()))}")
    assert seen.get(200, 0) > 20  # both sides were reached
    assert seen.get(400, 0) > 100


def _json_error(body: str) -> bool:
    """Whether an API 400 says why, as JSON ``{"error": ...}``."""
    try:
        message = json.loads(body)
    except ValueError:
        return False
    return isinstance(message, dict) and bool(message.get("error"))


@pytest.mark.parametrize(("query", "says"), [
    ("from=9999-12-31", "dates from"),
    ("from=0001-01-01", "dates from"),
    ("from=2026-07-01&from=2026-07-02", "more than once"),
    ("to=2026-07-01", "need 'from'"),
    ("by=queue", "need 'from'"),
    ("from=2026-07-01&by=weekday", "weekday"),
    ("from=2026-07-01&color=red", "unknown query parameter 'color'"),
    ("from=2026-07-01%00", "control characters"),
    ("from=%ff%fe", "valid UTF-8"),
])
async def test_bad_kpi_queries_say_what_is_wrong(
    client: Client, staff: Staff, query: str, says: str
) -> None:
    url = URL(f"{_base(client)}api/kpi?{query}", encoded=True)
    async with client.get(url, headers={
            "Authorization": f"Bearer {staff.manager_token}"}) as response:
        assert response.status == 400
        assert says in (await response.json())["error"]

