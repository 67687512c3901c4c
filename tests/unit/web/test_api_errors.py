"""Every JSON API error has the same shape, in English with a stable code, whatever the
viewer's language: refused without a login (401), for the role (403), without a CSRF token
(403), a bad query (400), an unknown recording (404), an unknown API route (404) and method
(405), a conflict (409).  Pages keep speaking the viewer's language."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from clinicall.db.models import Role
from clinicall.web.api_errors import CODES, shaped
from clinicall.web.i18n import LANG_COOKIE, tr

from .web_fixtures import Account, log_in

Client = TestClient[web.Request, web.Application]
ENGLISH = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
              " .,:;'\"()-_/?=<>{}[]|+*%#!@")


def bearer(account: Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.token}"}


async def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    body = await response.json()
    assert isinstance(body["error"], str)
    assert body["error"]
    assert set(body["error"]) <= ENGLISH, body  # one language: English, whatever the cookie
    return dict(body)


@pytest.mark.parametrize("lang", ["uk", "ru", "en"])
async def test_every_kind_of_api_error_has_the_shape_and_a_stable_code(
    client: Client, accounts: dict[Role, Account], lang: str,
) -> None:
    client.session.cookie_jar.update_cookies({LANG_COOKIE: lang})
    manager, operator = bearer(accounts[Role.MANAGER]), bearer(accounts[Role.OPERATOR])
    cases = [
        (await client.get("/api/kpi"), 401, "login_required"),
        (await client.get("/api/recordings", headers=operator), 403, "forbidden_role"),
        (await client.get("/api/kpi?from=yesterday", headers=manager), 400, "invalid_date"),
        (await client.get("/api/kpi?from=2026-03-02&to=2026-03-01", headers=manager), 400,
         "bad_date_range"),
        (await client.get("/api/kpi?from=1999-12-31", headers=manager), 400,
         "date_out_of_range"),
        (await client.get("/api/recordings/999/timeline", headers=manager), 404, "not_found"),
        (await client.get("/api/no-such-thing", headers=manager), 404, "not_found"),
        (await client.delete("/api/kpi", headers=manager), 405, "method_not_allowed"),
        (await client.post("/api/recordings/1/hold/release", headers=manager,
                           json={"reason": "x"}), 404, "not_found"),
    ]
    for response, status, code in cases:
        assert (await error_of(response, status))["code"] == code, response.url


async def test_a_missing_csrf_token_is_an_english_error_with_a_code(
    client: Client, accounts: dict[Role, Account],
) -> None:
    await log_in(client, accounts[Role.MANAGER])
    client.session.cookie_jar.update_cookies({LANG_COOKIE: "uk"})
    refused = await client.post("/api/complaints", json={"summary": "x"})
    body = await error_of(refused, 403)
    assert body == {"error": tr("en", "refused_csrf_token"), "code": "refused_csrf_token"}


async def test_a_page_still_speaks_the_viewers_language(
    client: Client, accounts: dict[Role, Account],
) -> None:
    await log_in(client, accounts[Role.OPERATOR])
    client.session.cookie_jar.update_cookies({LANG_COOKIE: "ru"})
    page = await client.get("/recordings")
    assert page.status == 403
    assert page.content_type == "text/html"
    assert tr("ru", "not_allowed") in await page.text()


def test_a_handlers_own_code_and_fields_are_kept_and_plain_text_is_wrapped() -> None:
    assert shaped(409, '{"error": "already held", "code": "held"}') == (
        '{"error": "already held", "code": "held"}')
    assert shaped(404, "404: Not Found") == '{"error": "Not Found", "code": "not_found"}'
    assert shaped(418, None) == '{"error": "error", "code": "http_418"}'
    assert set(CODES.values()) == {c for c in CODES.values() if c.isidentifier()}
