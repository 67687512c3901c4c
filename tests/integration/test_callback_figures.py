"""The callback figures of a period, on SQLite and PostgreSQL: jobs by cause, time to the
first attempt (nearest rank), attempts per settled job, success rate, missed calls not
returned within the threshold."""

from __future__ import annotations

import asyncio
import io
import sys
from datetime import timedelta

from callback_fakes import (
    EXAMPLE,
    TUESDAY_10_KYIV,
    Clock,
    ScriptedControl,
    Sessions,
    scheduler,
    write_call,
)

from clinicall.controller.port import OriginateCause, OriginateFailed
from clinicall.reports.callbacks import callback_figures, callback_report, nearest_rank
from clinicall.reports.export import write

T0 = TUESDAY_10_KYIV


def test_nearest_rank() -> None:
    assert nearest_rank([], 0.5) is None
    assert nearest_rank([3.0, 1.0, 2.0], 0.5) == 2.0
    assert nearest_rank([float(i) for i in range(1, 11)], 0.9) == 9.0


async def test_figures_of_a_day(db_sessions: Sessions) -> None:
    clock, control = Clock(T0 + timedelta(minutes=2)), ScriptedControl(members=2)
    await write_call(db_sessions, "m1", T0, caller="+380501111111")
    await write_call(db_sessions, "m2", T0 + timedelta(minutes=1), caller="+380502222222")
    await write_call(db_sessions, "m3", T0 + timedelta(minutes=1), caller="112")  # no job
    control.script = [None, OriginateFailed("Originate", OriginateCause.BUSY)]
    cbs = scheduler(db_sessions, control, clock, owner="c1")
    await cbs.run_once()
    await cbs.attempts_done()
    async with db_sessions() as session:
        figures = await callback_figures(session, start=T0, end=T0 + timedelta(hours=1),
                                         unreturned_after=timedelta(minutes=10))
    assert figures.jobs_by_cause == {"abandoned": 2}
    # first attempts 2 and 1 minutes after the calls
    assert (figures.first_attempt_p50_s, figures.first_attempt_p90_s) == (60.0, 120.0)
    done, busy = sorted(await cbs.store.jobs(), key=lambda j: j.state)
    assert (done.state, busy.state) == ("done", "pending")  # one answered, one to retry
    assert (figures.attempts_per_job, figures.success_rate) == (1.0, 1.0)
    # returned: the answered callback's call; not: the busy one and the short number
    assert figures.missed_unreturned == 2


async def test_the_report_section_holds_the_figures(db_sessions: Sessions) -> None:
    """``clinicall report --section callbacks``: the summary row its CSV holds, and the jobs
    per cause beside it in JSON."""
    clock, control = Clock(T0 + timedelta(minutes=2)), ScriptedControl(members=2)
    await write_call(db_sessions, "m1", T0, caller="+380501111111")
    await write_call(db_sessions, "m2", T0 + timedelta(minutes=1), caller="+380502222222")
    control.script = [None, OriginateFailed("Originate", OriginateCause.BUSY)]
    cbs = scheduler(db_sessions, control, clock, owner="c1")
    await cbs.run_once()
    await cbs.attempts_done()
    async with db_sessions() as session:
        report = await callback_report(session, start=T0, end=T0 + timedelta(hours=1),
                                       timezone="Europe/Kyiv",
                                       unreturned_after=timedelta(minutes=10))  # fmt: skip
    out = io.BytesIO()
    write(report, "csv", out, "callbacks")
    assert out.getvalue().decode().splitlines() == [
        "jobs [count],first_attempt_p50 [s],first_attempt_p90 [s],attempts_per_job,"
        "success_rate [%],missed_unreturned [count]",
        "2,60.0,120.0,1.0,100.0,1",
    ]
    sections = report.to_dict()["sections"]
    assert isinstance(sections, dict)
    assert sections["callback_causes"]["rows"] == [{"cause": "abandoned", "jobs": 2}]
    assert sections["reminders"]["rows"] == []


async def test_report_command_writes_the_callback_figures(db_url: str, db_sessions: Sessions
                                                          ) -> None:  # fmt: skip
    """``clinicall report --section callbacks --format csv`` as a user runs it."""
    clock, control = Clock(T0 + timedelta(minutes=2)), ScriptedControl(members=2)
    await write_call(db_sessions, "m1", T0, caller="+380501111111")
    cbs = scheduler(db_sessions, control, clock, owner="c1")
    await cbs.run_once()
    await cbs.attempts_done()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clinicall", "report", "--from", "2026-11-24", "--to",
        "2026-11-24", "--section", "callbacks", "--format", "csv", "--db", db_url,
        "--config", str(EXAMPLE),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)  # fmt: skip
    stdout, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    assert stdout.decode().splitlines()[1] == "1,120.0,120.0,1.0,100.0,0"
