"""The demo on the real FreeSWITCH 1.10.12, as ``./scripts/demo --engine freeswitch --exit``
runs it, bounded in time (the Asterisk counterpart: test_demo.py).

What it must show is asserted on what FreeSWITCH reported (the simulated clinic's own Event
Socket links: each patient's queues, operators and prompts; the callback's channels in the
order FreeSWITCH created them) and on the demo's own store afterwards: each patient's fate;
the survey patient's answers stored; the patient who gave up waiting called back, operator
first, the job done after one attempt; the answered calls' recordings imported from
FreeSWITCH's recordings directory; a complaint case on the complaining patient's call with
its recording, which the manager (the demo's user ``demo``, with the password it printed)
replays in the console it serves; the patient who hangs up as the main menu starts counted
missed in the menu, with no queue attempt; and nothing printed holds a full phone number.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from clinicall.db import create_engine, session_factory
from clinicall.db.models import (
    Callback,
    CallbackAttempt,
)
from clinicall.demo import PATIENTS, demo_clock
from clinicall.demo.freeswitch import run_freeswitch_demo
from clinicall.settings.loader import load_config

from .demo_console import (
    assert_hung_up_in_the_menu,
    assert_replayed_and_printed,
    complaint_recording,
    manager_replays_the_case,
)
from .freeswitch_common import FREESWITCH_EXAMPLE

pytestmark = [pytest.mark.asyncio, pytest.mark.freeswitch]

#: The whole run: ten patients two seconds apart, the callback, the import.
DEMO_LIMIT_S = 300
#: Each patient's fate as FreeSWITCH reports it: (queues joined, operators who answered,
#: queues abandoned), in PATIENTS' order.
FATES: list[tuple[list[str], int, list[str]]] = [
    (["ultrasound"], 1, []),   # the survey patient
    (["gynecology"], 1, []),
    (["pediatrics"], 1, []),   # op103 rings 10 s first
    (["therapy"], 1, []),      # test results
    ([], 0, []),               # the scan's price: self-served
    (["universal"], 1, []),    # the complaint
    (["universal"], 1, []),    # an operator, on the English number
    (["universal"], 1, []),    # wrong keys three times: the front desk
    ([], 0, []),               # hangs up in the menu
    (["pediatrics"], 0, ["pediatrics"]),  # gives up after 6 s
]  # fmt: skip


async def test_the_freeswitch_demo_surveys_calls_back_records_and_opens_a_complaint(
        freeswitch_prefix: Path, tmp_path: Path) -> None:  # fmt: skip
    config = load_config(FREESWITCH_EXAMPLE)
    clock, _ = demo_clock(config, None)
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    printed: list[str] = []
    replayed: list[tuple[int, int, str, int]] = []

    async def replay(base: str) -> None:
        replayed.append(await manager_replays_the_case(url, base, "\n".join(printed)))

    started = time.monotonic()
    async with asyncio.timeout(DEMO_LIMIT_S):
        run = await run_freeswitch_demo(config, out=printed.append, now=clock, db_url=url,
                                        recordings_dir=tmp_path / "recordings", web_port=0,
                                        while_serving=replay)  # fmt: skip
    print(f"the FreeSWITCH demo took {time.monotonic() - started:.0f} s")
    text = "\n".join(printed)

    # Each patient's fate, as FreeSWITCH reported it.
    fates = [(t.queues_joined, len(t.operators_connected), t.abandoned) for t in run.traces]
    assert fates == FATES, text
    assert any("/service_" in p or "/info_" in p for p in run.traces[4].prompts_played)
    assert run.traces[2].operators_connected == ["op103"]

    # The patient who gave up: called back, operator first, as FreeSWITCH created the legs.
    gave_up = next(p for p in PATIENTS if p.gives_up_after_s is not None)
    shown = run.callback
    assert shown is not None, text
    assert (shown.operator, shown.patient_dial) == ("op103", "ANSWER")
    assert (shown.job_state, shown.job_result, shown.attempts) == ("done", "answered", 1)
    created = [channel for event, channel in shown.events if event == "CHANNEL_CREATE"]
    assert created[0].startswith("loopback/op103_"), shown.events
    assert created.count(f"loopback/{gave_up.caller}-a") == 1, shown.events
    operator_answered = shown.events.index(("CHANNEL_ANSWER", created[0]))
    assert operator_answered < shown.events.index(("CHANNEL_CREATE",
                                                   f"loopback/{gave_up.caller}-a"))
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
            jobs = (await session.execute(
                select(Callback.phone, Callback.state, Callback.attempts))).all()  # fmt: skip
            assert [tuple(j) for j in jobs] == [(gave_up.caller, "done", 1)]
            attempts = (await session.execute(
                select(CallbackAttempt.agent, CallbackAttempt.outcome))).all()  # fmt: skip
            assert [tuple(a) for a in attempts] == [("op103", "answered")]
            recording_id = await complaint_recording(session, run, answered)
            await assert_hung_up_in_the_menu(session, run)
    finally:
        await engine.dispose()

    assert_replayed_and_printed(run, recording_id, replayed, text)
