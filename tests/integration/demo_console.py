"""What the demo tests share: the manager logs in to the console the demo serves, with the
password the demo printed, and replays the complaint case's recording."""

from __future__ import annotations

import re

import aiohttp
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.db import create_engine, session_factory
from clinicall.db.models import Call, Complaint, ComplaintRecording, QueueAttempt, Recording
from clinicall.demo import COMPLAINANT, PATIENTS, DemoRun


async def manager_replays(base: str, printed: str, rid: int) -> tuple[int, int, str, int]:
    """Log in as the demo's manager with the printed password, see the complaint case, open a
    listening session on recording ``rid`` (the case's) and fetch its audio: (the case's id,
    ``rid``, the audio's content type, its size in bytes)."""
    found = re.search(r"manager demo / (\S+?);", printed)
    assert found, printed
    jar = aiohttp.CookieJar(unsafe=True)  # the console is on 127.0.0.1
    async with aiohttp.ClientSession(base, cookie_jar=jar,
                                     headers={"Origin": base.rstrip("/")}) as http:
        async with http.get("/login") as response:
            form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"',
                                   await response.text()))  # fmt: skip
        form |= {"username": "demo", "password": found.group(1)}
        async with http.post("/login", data=form, allow_redirects=False) as response:
            assert response.status == 303
        async with http.get("/api/complaints") as response:
            [case] = (await response.json())["complaints"]
        async with http.get("/recordings") as response:
            token = re.search(r'name="csrf_token" value="([^"]+)"', await response.text())
        assert token
        async with http.post(f"/api/recordings/{rid}/listen", json={"reason": "complaint"},
                             headers={"X-CSRF-Token": token.group(1)}) as response:
            assert response.status == 200, await response.text()
            audio = (await response.json())["audio"]
        async with http.get(audio) as response:
            assert response.status == 200
            return int(case["id"]), rid, response.content_type, len(await response.read())


async def manager_replays_the_case(db_url: str, base: str, printed: str
                                   ) -> tuple[int, int, str, int]:  # fmt: skip
    """:func:`manager_replays` on the recording of the complaint case in the demo's store."""
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            rid = await session.scalar(select(ComplaintRecording.recording_id))
    finally:
        await engine.dispose()
    assert rid is not None
    return await manager_replays(base, printed, rid)


async def complaint_recording(session: AsyncSession, run: DemoRun, answered: int) -> int:
    """The complaint case is on the complainant's call, with that call's imported recording,
    and every answered call's recording is imported; returns the case's recording's id."""
    case = await session.get(Complaint, run.complaint_id)
    assert case is not None
    call = await session.get(Call, case.call_id)
    assert call is not None
    assert call.call_key == run.traces[COMPLAINANT].call_key
    [(recording_id, digest)] = (await session.execute(
        select(Recording.id, Recording.sha256).join(
            ComplaintRecording, ComplaintRecording.recording_id == Recording.id)
        .where(ComplaintRecording.complaint_id == case.id))).all()  # fmt: skip
    assert len(digest) == 64  # imported: its SHA-256 is set
    stored = await session.scalar(select(func.count()).select_from(Recording)
                                  .where(Recording.sha256 != ""))  # fmt: skip
    assert stored == answered
    return int(recording_id)


async def assert_hung_up_in_the_menu(session: AsyncSession, run: DemoRun) -> None:
    """The patient who hangs up as the main menu starts: the engine played the main menu and
    put the call in no queue, and the store counts it as missed in the menu, with no queue
    attempt (not as a call abandoned in a queue)."""
    i = next(i for i, p in enumerate(PATIENTS) if p.hangs_up_at is not None)
    trace = run.traces[i]
    assert PATIENTS[i].hangs_up_at in trace.prompts_played, trace.prompts_played
    assert (trace.queues_joined, trace.abandoned) == ([], [])
    call = await session.scalar(select(Call).where(Call.call_key == trace.call_key))
    assert call is not None
    assert (call.ivr_outcome, call.missed, call.miss_cause) == ("hangup_ivr", True, "hangup_ivr")
    attempts = await session.scalar(select(func.count()).select_from(QueueAttempt)
                                    .where(QueueAttempt.call_id == call.id))  # fmt: skip
    assert attempts == 0


def assert_replayed_and_printed(run: DemoRun, recording_id: int,
                                replayed: list[tuple[int, int, str, int]], text: str) -> None:
    """The manager replayed the case's recording in the console (the case listed, the browser
    copy served), and the demo printed the URLs and users, never a patient's full number."""
    assert replayed == [(run.complaint_id, recording_id, "audio/ogg", replayed[0][3])]
    assert replayed[0][3] > 0
    for page in ("/recordings (user demo)", "/wallboard", "/operator"):
        assert page in text
    assert "manager demo / " in text
    for patient in PATIENTS:
        assert patient.caller not in text
        assert patient.caller[1:] not in text
