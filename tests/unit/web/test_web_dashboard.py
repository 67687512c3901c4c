"""The dashboard and its feeds show what the store and the live state hold."""

from __future__ import annotations

import re

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import Role
from clinicall.settings.models import ClinicConfig
from clinicall.web.dashboard import fmt
from clinicall.web.i18n import tr
from clinicall.web.live import live_view
from clinicall.web.pages import esc

from .web_fixtures import Account, FakeAccount, FakeHealth, log_in, seed_today

Client = TestClient[web.Request, web.Application]


def cell(html: str, attr: str, key: str) -> str:
    found = re.search(rf'data-{attr}="{re.escape(key)}"[^>]*>([^<]*)<', html)
    assert found, f"no cell {attr}={key}"
    return found.group(1)


async def test_dashboard_shows_todays_kpis_and_the_live_state(
    client: Client, accounts: dict[Role, Account],
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await seed_today(db_sessions)
    await log_in(client, accounts[Role.MANAGER])
    html = await (await client.get("/")).text()
    assert "Europe/Kyiv" in html
    assert "Терапія" in html  # the queue's name in the clinic's default language
    expected_kpi = {"therapy:offered": "3", "therapy:answered": "2", "therapy:abandoned": "1",
                    "therapy:service_level": "33.3 %", "therapy:asa": "20.0 s",
                    "pediatrics:offered": "1", "pediatrics:service_level": "100.0 %",
                    "pediatrics:asa": "5.0 s", "ultrasound:offered": "0",
                    "ultrasound:asa": "—", "calls:inbound": "4", "calls:missed": "1",
                    "calls:missed_rate": "25.0 %", "calls:unreturned": "1"}
    assert {k: cell(html, "kpi", k) for k in expected_kpi} == expected_kpi
    expected_live = {"therapy:waiting": "4", "therapy:longest_wait_s": "73.4 s",
                     "therapy:available": "2", "therapy:paused": "1", "therapy:in_call": "3",
                     "gynecology:waiting": "0"}
    assert {k: cell(html, "live", k) for k in expected_live} == expected_live
    assert "<script>" not in html  # no inline script: the CSP forbids it


async def test_api_kpi_is_todays_report_by_queue(
    client: Client, accounts: dict[Role, Account],
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await seed_today(db_sessions)
    response = await client.get("/api/kpi",
                                headers={"Authorization": f"Bearer {accounts[Role.QUALITY].token}"})
    report = await response.json()
    assert report["start"] == "2026-06-30T21:00:00+00:00"  # local midnight, Kyiv summer time
    rows = {r["queue"]: r for r in report["sections"]["queues"]["rows"]}
    assert rows["therapy"]["offered"] == 3  # yesterday's call is not counted
    assert rows["therapy"]["asa"] == 20.0


async def test_api_live_json(client: Client, accounts: dict[Role, Account]) -> None:
    token = accounts[Role.OPERATOR].token
    response = await client.get("/api/live", headers={"Authorization": f"Bearer {token}"})
    live = await response.json()
    assert live["connected"] is True
    assert live["engine"] == {"name": "asterisk", "up": True, "detail": "logged in",
                              "since": "2026-07-01T11:00:00+00:00",
                              "last_event_at": "2026-07-01T11:59:57+00:00", "reconnects": 2,
                              "call_connections_dropped": 7, "call_connections_malformed": 3,
                              "call_connections_refused": 11, "call_connections_timed_out": 5}
    assert live["queues"]["therapy"] == {"name": "Терапія", "waiting": 4, "longest_wait_s": 73.4,
                                         "available": 2, "paused": 1, "in_call": 3}
    assert live["queues"]["universal"]["waiting"] == 0


async def test_the_live_view_says_when_the_pbx_link_is_down(
    client: Client, accounts: dict[Role, Account], health: FakeHealth
) -> None:
    health.up, health.detail = False, "connection refused"
    auth = {"Authorization": f"Bearer {accounts[Role.MANAGER].token}"}
    live = await (await client.get("/api/live", headers=auth)).json()
    assert (live["connected"], live["engine"]["up"], live["engine"]["detail"]) == (
        False, False, "connection refused")  # fmt: skip
    page = await (await client.get("/", headers=auth)).text()
    assert esc(tr("uk", "no_live_feed")) in page  # the clinic's language
    metrics = await (await client.get("/metrics", headers=auth)).text()
    assert 'clinicall_engine_up{engine="asterisk"} 0.0' in metrics


async def test_the_live_view_and_metrics_say_how_the_call_account_is(
    client: Client, accounts: dict[Role, Account], account: FakeAccount
) -> None:
    auth = {"Authorization": f"Bearer {accounts[Role.MANAGER].token}"}
    live = await (await client.get("/api/live", headers=auth)).json()
    assert live["account"] == {"store_up": True, "pending": 0, "ivr_unconfirmed": 0}
    account.store_up, account.pending, account.ivr_unconfirmed = False, 120, 52
    live = await (await client.get("/api/live", headers=auth)).json()
    assert live["account"] == {"store_up": False, "pending": 120, "ivr_unconfirmed": 52}
    metrics = await (await client.get("/metrics", headers=auth)).text()
    for line in ("clinicall_store_up 0.0", "clinicall_account_pending_facts 120.0",
                 "clinicall_ivr_sessions_unconfirmed_total 52.0"):
        assert line in metrics.splitlines(), line


def test_live_view_without_a_controller(clinic_config: ClinicConfig) -> None:
    from .web_fixtures import NOW

    view = live_view(clinic_config, None, NOW)
    assert view["connected"] is False
    assert isinstance(view["queues"], dict)
    assert list(view["queues"]) == list(clinic_config.queues)


def test_fmt_matches_the_script_rules() -> None:
    assert fmt(None, "s") == "—"
    assert fmt(20, "s") == "20.0 s"
    assert fmt(33.333, "%") == "33.3 %"
    assert fmt(3, "count") == "3"


async def test_api_kpi_any_period_and_grouping(
    client: Client, accounts: dict[Role, Account],
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await seed_today(db_sessions)
    auth = {"Authorization": f"Bearer {accounts[Role.MANAGER].token}"}
    response = await client.get("/api/kpi?from=2026-06-30&to=2026-07-01&by=queue,day",
                                headers=auth)
    assert response.status == 200
    rows = (await response.json())["sections"]["queues"]["rows"]
    therapy = {r["day"]: r["offered"] for r in rows if r["queue"] == "therapy"}
    assert therapy == {"2026-06-30": 1, "2026-07-01": 3}  # yesterday's call has its own day
    bad = await client.get("/api/kpi?from=2026-07-01&by=weekday", headers=auth)
    assert bad.status == 400
    assert "weekday" in (await bad.json())["error"]


@pytest.mark.parametrize("query", [
    "from=9999-12-31", "from=0001-01-01", "from=2026-07-01&to=9999-12-31", "from=2026-13-01",
    "from=", "from=2026-07-02&to=2026-07-01", "from=1999-12-31",
])  # fmt: skip
async def test_api_kpi_answers_any_bad_period_with_a_400(
    client: Client, accounts: dict[Role, Account], query: str
) -> None:
    auth = {"Authorization": f"Bearer {accounts[Role.MANAGER].token}"}
    response = await client.get(f"/api/kpi?{query}", headers=auth)
    assert response.status == 400, query
    assert (await response.json())["error"]


async def test_responses_do_not_name_the_server_software(client: Client) -> None:
    response = await client.get("/login")
    assert response.headers["Server"] == "clinicall"


async def test_metrics_serve_the_live_gauges_to_managers_only(
    client: Client, accounts: dict[Role, Account],
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await seed_today(db_sessions)
    def bearer(role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {accounts[role].token}"}

    response = await client.get("/metrics", headers=bearer(Role.MANAGER))
    assert response.status == 200
    text = await response.text()
    assert 'clinicall_queue_waiting{queue="therapy"} 4.0' in text
    assert 'clinicall_engine_up{engine="asterisk"} 1.0' in text
    assert 'clinicall_engine_reconnects_total{engine="asterisk"} 2.0' in text
    assert 'clinicall_engine_call_connections_dropped_total{engine="asterisk"} 7.0' in text
    assert 'clinicall_engine_call_connections_malformed_total{engine="asterisk"} 3.0' in text
    assert 'clinicall_engine_call_connections_refused_total{engine="asterisk"} 11.0' in text
    assert 'clinicall_engine_call_connections_timed_out_total{engine="asterisk"} 5.0' in text
    assert 'clinicall_engine_last_event_age_seconds{engine="asterisk"} 3.0' in text
    assert 'clinicall_queue_operators_paused{queue="therapy"} 1.0' in text
    assert 'clinicall_queue_offered_total{queue="therapy"} 3.0' in text  # today's, not yesterday's
    assert 'clinicall_queue_answer_wait_seconds_count{queue="therapy"} 2.0' in text
    # every KPI of today, the same numbers as the dashboard's
    for sample in ('clinicall_queue_abandoned_total{queue="therapy"} 1.0',
                   'clinicall_queue_service_level_percent{queue="therapy"} 33.33',
                   'clinicall_queue_asa_seconds{queue="therapy"} 20.0',
                   'clinicall_calls_inbound_total 4.0',
                   'clinicall_calls_missed_total{cause="abandoned"} 1.0',
                   'clinicall_calls_missed_total{cause="afterhours"} 0.0',
                   'clinicall_calls_unreturned 1.0',
                   'clinicall_calls_missed_rate_percent 25.0'):
        assert sample in text, sample
    assert 'clinicall_queue_asa_seconds{queue="ultrasound"}' not in text  # nobody answered
    assert (await client.get("/metrics", headers=bearer(Role.OPERATOR))).status == 403
    assert (await client.get("/metrics")).status == 401
