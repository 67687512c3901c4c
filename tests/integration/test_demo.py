"""The demo, run as ``./scripts/demo --exit`` runs it, on the real Asterisk 22, bounded in time.

What it must show is asserted on what Asterisk reported (the tracer's AMI events) and on the
demo's own store afterwards: the patient who gave up waiting was called back, operator first,
and answered; answered calls' recordings were imported; a complaint case holds the complaining
patient's call and its recording, and the manager (the demo's user ``demo``, with the password
it printed) logs in to the console it serves and replays that recording; the survey patient's
answers are stored; the patient who hangs up as the main menu starts joined no queue and is
counted missed in the menu; and nothing it printed holds a full phone number.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from clinicall.db import create_engine, session_factory
from clinicall.demo import PATIENTS, demo_clock, run_demo
from clinicall.settings.loader import load_config

from .demo_console import (
    assert_hung_up_in_the_menu,
    assert_replayed_and_printed,
    complaint_recording,
    manager_replays_the_case,
)
from .scenario import EXAMPLE

pytestmark = pytest.mark.asyncio

#: The whole run: ten patients two seconds apart, the callback, the import (~90 s measured).
DEMO_LIMIT_S = 300


async def test_the_demo_calls_back_records_and_opens_a_complaint(
    asterisk_root: Path, tmp_path: Path
) -> None:
    config = load_config(EXAMPLE)
    clock, _ = demo_clock(config, None)
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    printed: list[str] = []
    replayed: list[tuple[int, int, str, int]] = []

    async def replay(base: str) -> None:
        replayed.append(await manager_replays_the_case(url, base, "\n".join(printed)))

    async with asyncio.timeout(DEMO_LIMIT_S):
        run = await run_demo(config, out=printed.append, now=clock, db_url=url,
                             recordings_dir=tmp_path / "recordings", web_port=0,
                             while_serving=replay)  # fmt: skip
    text = "\n".join(printed)

    # The patient who gave up: abandoned in Asterisk, then called back, operator first.
    gave_up = next(i for i, p in enumerate(PATIENTS) if p.gives_up_after_s is not None)
    assert run.traces[gave_up].abandoned == ["pediatrics"]
    shown = run.callback
    assert shown is not None, text
    assert (shown.operator, shown.patient_dial) == ("op103", "ANSWER")
    assert (shown.job_state, shown.job_result, shown.attempts) == ("done", "answered", 1)
    events = shown.events
    rung = next(i for i, (event, channel) in enumerate(events) if event == "Newchannel"
                and "@clinicall-sim-operators" in channel)  # fmt: skip
    dialled = next(i for i, (event, _) in enumerate(events) if event == "DialBegin")
    assert rung < dialled
    assert "callback 1: the scheduler rings operator op103 first" in printed

    # The survey patient's two answers, as pressed.
    assert run.survey_scores == {"csat": 5, "nps": 10}

    # Recordings imported, and the complaint case on the complaining patient's call.
    answered = sum(1 for t in run.traces if t.operators_connected)
    assert run.imported == answered
    assert run.complaint_id is not None
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            recording_id = await complaint_recording(session, run, answered)
            await assert_hung_up_in_the_menu(session, run)
    finally:
        await engine.dispose()

    assert_replayed_and_printed(run, recording_id, replayed, text)
