"""The login page over plain HTTP while cookies are Secure (the console on a LAN address
without TLS): it says why signing in cannot work and what to do, instead of bouncing."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.settings.models import ClinicConfig, Http
from clinicall.web import build_app
from clinicall.web.i18n import LANG_COOKIE, LANGUAGES, tr
from clinicall.web.pages import esc

from .web_fixtures import FAST_COST, NOW, SECRET, FakeLive


def _app(sessions: async_sessionmaker[AsyncSession], config: ClinicConfig,
         host: str) -> web.Application:
    config = config.model_copy(update={"http": Http(host=host, port=8080)})
    return build_app(sessions=sessions, config=config, live=FakeLive(), secret=SECRET,
                     clock=lambda: NOW, password_cost=FAST_COST)


async def test_a_lan_address_over_plain_http_says_why_and_disables_the_button(
    db_sessions: async_sessionmaker[AsyncSession], clinic_config: ClinicConfig
) -> None:
    async with TestClient(TestServer(_app(db_sessions, clinic_config, "0.0.0.0"))) as client:
        for lang in LANGUAGES:
            page = await (await client.get("/login", cookies={LANG_COOKIE: lang})).text()
            assert esc(tr(lang, "plain_http")) in page
            assert '<button type="submit" disabled>' in page
            assert "README" in tr(lang, "plain_http")
            assert "HTTPS" in tr(lang, "plain_http")


async def test_on_loopback_the_login_page_has_no_warning(
    db_sessions: async_sessionmaker[AsyncSession], clinic_config: ClinicConfig
) -> None:
    async with TestClient(TestServer(_app(db_sessions, clinic_config, "127.0.0.1"))) as client:
        page = await (await client.get("/login")).text()
    assert "plain-http" not in page
    assert '<button type="submit">' in page
