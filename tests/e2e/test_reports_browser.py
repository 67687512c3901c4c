"""The manager's reports page in a real browser: last week's numbers and charts, the missed
calls not returned, and a CSV download equal, byte for byte, to ``clinicall report`` for the
same week; the kept Chart.js is the one its README names."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from store_writes import writing

from clinicall.db import create_engine, session_factory
from clinicall.db.models import Call, Direction, MissCause, QueueAttempt, QueueOutcome
from clinicall.reports.cli import add_report_arguments, run_report
from clinicall.settings import load_config
from clinicall.web import build_app
from clinicall.web.console_assets import CHART_JS, CHART_JS_SHA256

from .console_fixtures import EXAMPLE, FAST_COST, SECRET, add_users, log_in

NOW = datetime(2026, 7, 8, 12, 0, tzinfo=UTC)  # a Wednesday: last week is 29 June – 5 July
LAST_MONDAY = date(2026, 6, 29)


async def _seed(url: str) -> None:
    engine = create_engine(url)
    sessions = session_factory(engine)
    await add_users(sessions)
    async with writing(sessions) as session:
        for n, (day, wait, outcome) in enumerate([
            (0, 12.0, QueueOutcome.ANSWERED), (1, 45.0, QueueOutcome.ANSWERED),
            (3, 90.0, QueueOutcome.ABANDONED), (6, 15.0, QueueOutcome.ANSWERED),
            (8, 20.0, QueueOutcome.ABANDONED),  # this week: not in last week's numbers
        ]):
            at = datetime(2026, 6, 29, 9, 30, tzinfo=UTC) + timedelta(days=day, minutes=n)
            missed = outcome is not QueueOutcome.ANSWERED
            call = Call(call_key=f"W{n}", direction=Direction.INBOUND, started_at=at,
                        caller=f"+38050111222{n}", missed=missed, route="gynecology",
                        miss_cause=MissCause.ABANDONED if missed else None)
            call.queue_attempts.append(QueueAttempt(
                channel_id=f"WU{n}", queue="gynecology", joined_at=at, outcome=outcome,
                wait_s=wait, left_at=at + timedelta(seconds=wait),
                connected_at=None if missed else at + timedelta(seconds=wait)))
            session.add(call)
    await engine.dispose()


@pytest.fixture
async def server(sqlite_db_url: str) -> AsyncIterator[TestServer]:
    await _seed(sqlite_db_url)
    engine = create_engine(sqlite_db_url)
    app = build_app(sessions=session_factory(engine), config=load_config(EXAMPLE), live=None,
                    secret=SECRET, clock=lambda: NOW, password_cost=FAST_COST)
    server = TestServer(app)
    await server.start_server()
    yield server
    await server.close()
    await engine.dispose()


def _cli_report(url: str, out: Path, first: date, last: date) -> bytes:
    parser = argparse.ArgumentParser()
    add_report_arguments(parser)
    args = parser.parse_args(["--from", str(first), "--to", str(last), "--db", url,
                              "--config", str(EXAMPLE), "--out", str(out)])
    assert run_report(args) == 0
    return out.read_bytes()


async def test_last_week_on_screen_and_as_the_same_csv_as_the_cli(
    browser: Any, server: TestServer, sqlite_db_url: str, tmp_path: Path
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    try:
        await log_in(page, server, "maria", "/reports")
        await page.click("a.preset[href='/reports?period=last_week']")
        await page.wait_for_selector("text=2026-06-29 – 2026-07-05")
        assert await page.inner_text('[data-report="gynecology:offered"]') == "4"
        assert await page.inner_text('[data-report="gynecology:abandoned"]') == "1"
        charts = await page.evaluate(
            "() => [...document.querySelectorAll('canvas')].filter(c => c.chart).length")
        assert charts == 5  # drawn by Chart.js: four of the KPIs, the survey's CSAT
        assert await page.locator("#unreturned tbody tr").count() == 1  # W2, abandoned
        async with page.expect_download() as info:
            await page.click("a[href*='format=csv'][href*='section=queues']")
        download = await info.value
        saved = tmp_path / "web.csv"
        await download.save_as(str(saved))
        cli = await asyncio.to_thread(_cli_report, sqlite_db_url, tmp_path / "cli.csv",
                                      LAST_MONDAY, LAST_MONDAY + timedelta(days=6))
        assert saved.read_bytes() == cli
        assert b"gynecology" in cli
    except Exception:
        await page.screenshot(path=str(tmp_path / "reports-failure.png"), full_page=True)
        raise


def test_the_kept_chart_js_is_the_one_named() -> None:
    assert hashlib.sha256(CHART_JS.read_bytes()).hexdigest() == CHART_JS_SHA256
    assert (CHART_JS.parent / "LICENSE.md").read_text().startswith("The MIT License")
