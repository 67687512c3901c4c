"""Every word of the console in Ukrainian, Russian and English: the catalogue is complete, and
every page renders in each language with its words (a key missing from the catalogue would
be a KeyError, a 500)."""

from __future__ import annotations

import re
import string

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from clinicall.db.models import Role
from clinicall.web.i18n import CATALOGUE, LANG_COOKIE, LANGUAGES, tr

from .web_fixtures import Account, log_in

Client = TestClient[web.Request, web.Application]
CYRILLIC = re.compile("[а-яіїєґ]", re.IGNORECASE)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_has_every_language_with_the_same_placeholders() -> None:
    for key, words in CATALOGUE.items():
        assert set(words) == set(LANGUAGES), key
        assert all(text.strip() for text in words.values()), key
        assert len({frozenset(_fields(text)) for text in words.values()}) == 1, key
        assert CYRILLIC.search(words["uk"]) or key in {"k_wait_p90"}, key
        assert CYRILLIC.search(words["ru"]) or key in {"k_wait_p90"}, key


def test_an_unknown_key_is_an_error_not_a_blank() -> None:
    with pytest.raises(KeyError):
        tr("uk", "no_such_key")


PAGES = {Role.MANAGER: ["/", "/reports", "/wallboard", "/account"],
         Role.OPERATOR: ["/operator", "/account"], Role.QUALITY: ["/"],
         Role.ADMIN: ["/admin", "/account"]}


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_every_page_renders_in_each_language(
    client: Client, accounts: dict[Role, Account], lang: str
) -> None:
    login = await client.get("/login", cookies={LANG_COOKIE: lang})
    assert f'<html lang="{lang}">' in await login.text()
    assert tr(lang, "password") in await login.text()
    for role, paths in PAGES.items():
        client.session.cookie_jar.clear()
        client.session.cookie_jar.update_cookies({LANG_COOKIE: lang})
        await log_in(client, accounts[role])
        for path in paths:
            response = await client.get(path)
            assert response.status == 200, (role, path, await response.text())
            page = await response.text()
            assert f'<html lang="{lang}">' in page
            assert tr(lang, "log_out") in page


async def test_the_language_switch_sets_the_cookie_and_comes_back(client: Client) -> None:
    response = await client.get("/language?set=ru&next=/login", allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (303, "/login")
    assert response.cookies[LANG_COOKIE].value == "ru"
    assert tr("ru", "log_in") in await (await client.get("/login")).text()
    assert (await client.get("/language?set=de", allow_redirects=False)).status == 400
    away = await client.get("/language?set=uk&next=//evil.example", allow_redirects=False)
    assert away.headers["Location"] == "/"


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_refusal_pages_are_in_the_users_language(
    client: Client, accounts: dict[Role, Account], lang: str
) -> None:
    client.session.cookie_jar.update_cookies({LANG_COOKIE: lang})
    await log_in(client, accounts[Role.MANAGER])
    refused = await client.post("/logout", data={"csrf_token": "forged"},
                                allow_redirects=False)
    page = await refused.text()
    assert refused.status == 403
    assert tr(lang, "refused_csrf_token") in page.replace("&#x27;", "'")
    assert tr(lang, "not_done") in page
    bad = await client.get("/reports?colour=red")
    assert bad.status == 400
    assert tr(lang, "bad_address", problem="").split(":")[0] in await bad.text()
