"""In a real browser (Debian's Chromium): a manager searches, plays and seeks a recording the
importer made from ffmpeg tones (Range requests seen, one audit row), an overdue complaint is
highlighted; the call's timeline (IVR path, wait, each ring, talk, end) is shown beside the
player and a step inside the recording seeks there; a quality reviewer adds a note; a manager
sees the open legal hold with who set it and why and releases it (an audit row); an operator is
refused the page and the API; the page and its script speak the viewer's language (the example
clinic's is Ukrainian, which these tests read, and each of the three when chosen)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from store_writes import writing

from clinicall.db import create_engine, session_factory
from clinicall.db.models import (
    Call,
    Direction,
    QueueAttempt,
    QueueOutcome,
    Recording,
    RecordingAccess,
    RecordingAction,
    RecordingHold,
    RecordingNote,
    RingAttempt,
    Role,
    User,
)
from clinicall.recordings import complaints, holds
from clinicall.recordings.audit import AuditLog
from clinicall.recordings.importer import Importer
from clinicall.recordings.storage import Spool, Storage
from clinicall.settings import load_config
from clinicall.web import build_app
from clinicall.web.i18n import CATALOGUE, LANG_COOKIE, LANGUAGES, tr
from clinicall.web.passwords import PasswordCost
from clinicall.web.users import add_user

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "clinic.example.yaml"
NOW = datetime.now(UTC)
PASSWORD = "browser-test pass"
FAST_COST = PasswordCost(time_cost=1, memory_kib=1024, parallelism=1)  # tests only
DAY = f"{NOW:%Y/%m/%d}"
#: The queue's name in the example clinic's default language (the timeline's words).
CATALOGUE_QUEUE_UK = "Гінекологія"


def tone(path: Path, hz: int, seconds: int) -> None:
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg, "ffmpeg is needed (scripts/setup installs it)"
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"sine=frequency={hz}:sample_rate=8000:duration={seconds}", "-ac", "1",
                    "-c:a", "libvorbis", str(path)], check=True)


@dataclass
class Site:
    server: TestServer
    sessions: async_sessionmaker[AsyncSession]


async def _seed(sessions: async_sessionmaker[AsyncSession], spool: Path, store: Path) -> None:
    for name, role in (("maria", Role.MANAGER), ("iryna", Role.QUALITY),
                       ("oleh", Role.OPERATOR)):
        await add_user(sessions, name, role, PASSWORD, cost=FAST_COST)
    at = NOW - timedelta(hours=1)
    async with writing(sessions) as session:
        call = Call(call_key="1764840000.5", direction=Direction.INBOUND, caller="+380671112233",
                    started_at=at - timedelta(seconds=20), ended_at=at + timedelta(seconds=33),
                    missed=False, ivr_path="lang:1/main:1/appointments:2", route="gynecology",
                    language="uk")
        attempt = QueueAttempt(
            channel_id="1764840000.5", queue="gynecology", joined_at=at - timedelta(seconds=3),
            connected_at=at, outcome=QueueOutcome.ANSWERED, wait_s=3.0, talk_s=30.0,
            agent="op102", position=1)
        attempt.rings = [RingAttempt(member="op104", rang_at=at - timedelta(seconds=3),
                                     ring_ms=1500, answered=False),
                         RingAttempt(member="op102", rang_at=at - timedelta(seconds=1),
                                     ring_ms=1000, answered=True)]
        call.queue_attempts.append(attempt)
        session.add(call)
        await session.flush()
        call_id = call.id
    for suffix, hz in (("", 440), ("-rx", 700), ("-tx", 440)):
        tone(spool / DAY / f"1764840000.5{suffix}.ogg", hz, 30)
    async with sessions.begin() as session:
        session.add(Recording(call_id=call_id, call_key="1764840000.5",
                              path=f"{DAY}/1764840000.5.ogg", format="ogg", size_bytes=0,
                              sha256="", started_at=at, imported_at=at))
    report = await Importer(sessions, Storage(store), Spool(spool)).run()
    assert report.imported == 1
    async with sessions.begin() as session:
        recording = await session.scalar(select(Recording.id))
        maria = await session.scalar(select(User.id).where(User.username == "maria"))
        assert recording is not None
        await holds.set_hold(session, AuditLog(), recording, reason="lawsuit 2026-114",
                             at=NOW - timedelta(days=1), user_id=maria)
    rules = load_config(EXAMPLE).complaints
    async with sessions.begin() as session:
        await complaints.open_case(session, rules, summary="rude on the phone",
                                   now=NOW - timedelta(days=3), call_id=call_id)


@pytest.fixture
async def site(sqlite_db_url: str, tmp_path: Path) -> AsyncIterator[Site]:
    engine = create_engine(sqlite_db_url)
    sessions = session_factory(engine)
    store = tmp_path / "store"
    await _seed(sessions, tmp_path / "spool", store)
    config = load_config(EXAMPLE)
    rec = config.recordings.model_copy(update={"storage_dir": str(store)})
    app = build_app(sessions=sessions, config=config.model_copy(update={"recordings": rec}),
                    live=None, secret=b"e2e-secret-" * 4, password_cost=FAST_COST)
    server = TestServer(app)
    await server.start_server()
    yield Site(server, sessions)
    await server.close()
    await engine.dispose()


async def _log_in(page: Any, site: Site, name: str) -> None:
    await page.goto(str(site.server.make_url("/recordings")))
    assert "/login" in page.url
    await page.fill("input[name=username]", name)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")


async def _audit(sessions: async_sessionmaker[AsyncSession]) -> list[RecordingAccess]:
    async with sessions() as session:
        return list(await session.scalars(select(RecordingAccess).order_by(RecordingAccess.id)))


async def test_manager_searches_plays_and_seeks_and_one_audit_row_is_written(
    browser: Any, site: Site, tmp_path: Path,
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    ranges: list[str] = []
    page.on("request", lambda r: ranges.append(r.headers.get("range", ""))
            if "/audio?" in r.url else None)
    await _log_in(page, site, "maria")
    await page.wait_for_selector("#results tbody tr")
    await page.fill("input[name=digits]", "2233")
    await page.click("#search button[type=submit]")
    await page.wait_for_selector("text=Знайдено записів: 1")
    assert "\u2022\u2022\u20222233" in await page.inner_text("#results")
    await page.fill("input[name=digits]", "")
    await page.fill("input[name=complaint]", "999")  # no such case: nothing
    await page.click("#search button[type=submit]")
    await page.wait_for_selector("text=Знайдено записів: 0")
    await page.fill("input[name=complaint]", "1")  # the case the call is linked to
    await page.fill("input[name=topic]", "gynecology")
    await page.click("#search button[type=submit]")
    await page.wait_for_selector("text=Знайдено записів: 1")
    overdue = page.locator("#cases tr.overdue")
    await overdue.wait_for()
    assert "rude on the phone" in await overdue.inner_text()

    await page.select_option("#reason", "complaint review")
    async with page.expect_request(lambda r: "/audio?" in r.url):
        await page.click("button.listen")
    await page.wait_for_selector("#waveform canvas", state="attached")
    await page.wait_for_function("() => ws && ws.getDuration() > 29")
    await page.click("#play")
    await page.wait_for_function("() => ws.getCurrentTime() > 0.2")
    await page.evaluate("ws.seekTo(0.9)")
    await page.wait_for_function("() => ws.getCurrentTime() > 26")
    await page.select_option("#speed", "2")
    assert await page.evaluate("ws.getPlaybackRate()") == 2

    assert any(value.startswith("bytes=") for value in ranges), ranges  # seeks by Range
    rows = await _audit(site.sessions)
    assert [(r.action, r.reason) for r in rows][1:] == [
        (RecordingAction.PLAY, "complaint review")]  # after the seeded hold's row
    assert not [p for p in problems if "Content Security Policy" in p], problems
    shot = tmp_path / "recordings.png"
    await page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}; audio requests: {len(ranges)}")


async def test_quality_reviewer_adds_a_note(browser: Any, site: Site) -> None:
    page = await browser.new_page()
    await _log_in(page, site, "iryna")
    await page.wait_for_selector("#results tbody tr")
    await page.click("button.listen")
    await page.wait_for_function("() => ws && ws.getDuration() > 29")
    await page.evaluate("ws.setTime(12.5)")
    await page.fill("#note input[name=text]", "operator interrupts the patient")
    await page.click("#note button[type=submit]")
    await page.wait_for_selector("text=12.5 с: operator interrupts the patient")
    async with site.sessions() as session:
        (note,) = await session.scalars(select(RecordingNote))
    assert (note.offset_s, note.text) == (12.5, "operator interrupts the patient")
    actions = [r.action for r in await _audit(site.sessions)]
    assert actions == [RecordingAction.HOLD, RecordingAction.PLAY, RecordingAction.NOTE]


async def test_the_calls_timeline_is_beside_the_player_and_seeks(
    browser: Any, site: Site,
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await _log_in(page, site, "maria")
    await page.wait_for_selector("#results tbody tr")
    await page.click("button.listen")
    await page.wait_for_function("() => ws && ws.getDuration() > 29")
    await page.wait_for_selector("#timeline li[data-kind=end]")
    steps = await page.locator("#timeline li").all_inner_texts()
    kinds = await page.eval_on_selector_all("#timeline li",
                                            "items => items.map(i => i.dataset.kind)")
    assert kinds == ["start", "ivr", "queue", "ring", "ring", "talk", "end"], steps
    gynecology = CATALOGUE_QUEUE_UK
    assert steps[0] == "-20.0 с Дзвінок почався (вхідний)"
    assert steps[1] == f"-20.0 с IVR: Запис на прийом \u203a {gynecology} \u2192 {gynecology}"
    assert steps[2] == f"-3.0 с Чекав у черзі {gynecology} (позиція 1)"
    assert steps[3] == "-3.0 с Виклик op104 2 с, не відповів"
    assert steps[4] == "-1.0 с Виклик op102 1 с, відповів"
    assert steps[5] == "+0.0 с Розмова з op102 після 3 с очікування, 30 с"
    assert steps[6] == "+33.0 с Дзвінок завершено"
    await page.click("#timeline li[data-kind=talk] button.seek")  # +0 s: back to the start
    await page.evaluate("ws.setTime(20)")
    await page.click("#timeline li[data-kind=talk] button.seek")
    assert await page.evaluate("ws.getCurrentTime()") < 1


async def test_manager_sees_a_legal_hold_with_who_and_why_and_releases_it(
    browser: Any, site: Site,
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await _log_in(page, site, "maria")
    row = page.locator("#holds tbody tr")
    await row.wait_for()
    assert (await row.all_inner_texts())[0].split("\t")[2:4] == ["maria", "lawsuit 2026-114"]
    await page.fill("#holds input.release-reason", "case closed by the court")
    await page.click("#holds button.release")
    await page.wait_for_selector("text=Утримання запису #1 знято")
    await page.wait_for_selector("#holds tbody tr", state="detached")
    async with site.sessions() as session:
        (hold,) = await session.scalars(select(RecordingHold))
    assert hold.released_at is not None
    rows = await _audit(site.sessions)
    assert [(r.action, r.reason) for r in rows] == [
        (RecordingAction.HOLD, "lawsuit 2026-114"),
        (RecordingAction.HOLD, "case closed by the court")]
    assert rows[1].user_id is not None
    assert rows[1].detail == f"hold {hold.id} released"


async def test_operator_is_refused_the_page_and_the_api(browser: Any, site: Site) -> None:
    page = await browser.new_page()
    await _log_in(page, site, "oleh")
    await page.wait_for_url("**/recordings")  # back where they were going, refused there
    refused = await page.inner_text("h1")
    assert refused in CATALOGUE["not_allowed"].values()
    for url in ("/recordings", "/api/recordings", "/api/complaints"):
        response = await page.goto(str(site.server.make_url(url)))
        assert response.status == 403, url


#: The page's own labels (not the clinic's data): each must be shown in the viewer's language.
PAGE_LABELS = ("rec_title", "rec_sub", "rec_from", "rec_to", "rec_queue", "rec_operator",
               "rec_digits", "rec_topic", "rec_complaint", "rec_search", "rec_why", "rec_when",
               "rec_number", "rec_duration",
               "rec_holds", "rec_held_since", "rec_by", "rec_why_col", "rec_cases",
               "rec_opened", "rec_state", "rec_summary", "rec_due", "rec_listen",
               "rec_release", "rec_case_new")


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_the_page_speaks_the_viewers_language(
    browser: Any, site: Site, lang: str,
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await page.context.add_cookies([{"name": LANG_COOKIE, "value": lang,
                                     "url": str(site.server.make_url("/"))}])
    await _log_in(page, site, "maria")
    await page.wait_for_selector("#results tbody tr")
    await page.wait_for_selector("#cases tbody tr")
    await page.wait_for_selector("#holds tbody tr")
    assert await page.get_attribute("html", "lang") == lang
    text = await page.inner_text("body")
    for key in PAGE_LABELS:
        assert tr(lang, key) in text, (lang, key)
    own = " ".join(tr(lang, key) for key in CATALOGUE)  # a word both languages use is fine
    others = {other for other in LANGUAGES if other != lang}
    for key in PAGE_LABELS:  # no label of another language leaks
        for other in others:
            word = tr(other, key)
            if word not in own:
                assert not re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text), (lang, word)
    options = await page.eval_on_selector_all("#reason option", "o => o.map(x => x.value)")
    assert options == ["complaint review", "quality check", "patient request", "legal request"]
