"""A simulated clinic day through the real IVR and the real call account (docs/simulate.md).

Two sources, the same numbers: the day's KPIs worked out from the simulation's own ground truth
equal ``clinicall report`` for the day, read from the store the account wrote, on SQLite and
PostgreSQL.  Then the loop a manager runs: a day with too few operators, ``clinicall staffing``
on it, and a second day staffed as advised that reaches 80/20 on every queue within the day's
noise (two binomial standard errors of its service level).  And a day with callbacks and the
post-call survey on: every missed call called back by the product's scheduler within its
target, and the survey answers in the store exactly what the patients keyed.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.cli import main
from clinicall.db.models import (
    AgentSession,
    Call,
    Callback,
    CallbackAttempt,
    CallbackIntake,
    Direction,
    SurveyAnswer,
)
from clinicall.ivr.plan import IvrPlan
from clinicall.reports.kpi import compute
from clinicall.settings.loader import load_config
from clinicall.simclinic.cli import sl_noise, with_options
from clinicall.simclinic.day import DayProfile, generate_day, topics_of
from clinicall.simclinic.day_afterwards import afterwards
from clinicall.simclinic.day_kpis import call_kpis, differences, queue_kpis, service_levels
from clinicall.simclinic.day_run import run_day
from clinicall.simclinic.sim_control import Dial
from clinicall.simclinic.staffing_plan import fixed_staffing

from .scenario import EXAMPLE

TUESDAY = date(2026, 11, 24)
NEXT_TUESDAY = date(2026, 12, 1)
TIGHT = {"ultrasound": 1, "gynecology": 1, "pediatrics": 1, "therapy": 1, "universal": 2}


def new_store(folder: Path) -> str:
    """A migrated store for the command (it never makes one itself)."""
    url = f"sqlite+aiosqlite:///{folder / 'sim.db'}"
    assert main(["db", "upgrade", "--db", url]) == 0
    return url


async def test_the_days_kpis_from_the_simulation_equal_the_report_of_the_day(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    config = load_config(EXAMPLE)
    plan = IvrPlan.compile(config)
    patients = generate_day(DayProfile(calls=450, patience_s=90), topics_of(plan), plan,
                            day=TUESDAY, numbers=[n.number for n in config.numbers], seed=3)
    run = await run_day(config, patients, day=TUESDAY, staffing=fixed_staffing(TIGHT),
                        sessions=db_sessions, call_prefix="sim-test")  # fmt: skip
    ours = queue_kpis(run.attempts, short_abandon_s=config.kpi.short_abandon_s,
                      service_level_s={q: c.service_level_s for q, c in config.queues.items()},
                      default_sl_s=config.kpi.service_level_s)  # fmt: skip
    calls = call_kpis(run.calls)
    async with db_sessions() as session:
        report = await compute(session, start=run.start, end=run.end, by="queue",
                               config=config)  # fmt: skip
    assert differences(ours, calls, report) == []
    # the comparison covered every kind of stay and call, not only the easy ones
    outcomes = Counter(a.outcome for a in run.attempts)
    assert {"answered", "abandoned", "timeout"} <= set(outcomes)
    assert sum(int(str(q["short_abandoned"])) for q in ours.values()) > 0
    ivr = Counter(c.ivr_outcome for c in run.calls)
    assert {"queue", "selfserved", "afterhours", "hangup"} <= set(ivr)
    assert set(ours) == set(config.queues)
    assert calls["inbound"] == len(patients)
    assert run.simulated_s > 12 * 3600  # the whole day, in however many wall seconds


async def test_two_days_in_one_store_each_record_their_operators_log_ins(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Each run reads its own record from the start (a cursor per run), so the second day's
    log-ins are not skipped as already read."""
    config = load_config(EXAMPLE)
    plan = IvrPlan.compile(config)
    staffing = fixed_staffing({"therapy": 2, "universal": 1})
    for day, seed in ((TUESDAY, 1), (NEXT_TUESDAY, 2)):
        patients = generate_day(DayProfile(calls=30), topics_of(plan), plan, day=day,
                                numbers=[config.numbers[0].number], seed=seed)  # fmt: skip
        await run_day(config, patients, day=day, staffing=staffing, sessions=db_sessions,
                      call_prefix=f"sim-{day}")  # fmt: skip
    async with db_sessions() as session:
        logins = (await session.execute(
            select(AgentSession.queue, func.count()).group_by(AgentSession.queue)
            .where(AgentSession.logout_at.is_not(None)))).all()  # fmt: skip
    # per day: two therapy operators and one universal, logged in at midnight, out at the next
    assert sorted((queue, n) for queue, n in logins) == [("therapy", 4), ("universal", 2)]


#: Enough operators that a missed call's operator is soon free: the front desk calls back the
#: night's missed calls at the 09:00 window beside the morning peak (tighter, some are late:
#: docs/simulate.md).
AMPLE = {"ultrasound": 2, "gynecology": 2, "pediatrics": 2, "therapy": 2, "universal": 5}
#: Tuesday 2026-11-24 in Kyiv (UTC+2): a callback may start from the patient's 09:00 (the clinic
#: opens at 08:00) until 5 minutes before the clinic closes at 20:00; then Wednesday at 09:00.
WINDOW = (datetime(2026, 11, 24, 7, tzinfo=UTC), datetime(2026, 11, 24, 17, 55, tzinfo=UTC))
NEXT_WINDOW = datetime(2026, 11, 25, 7, tzinfo=UTC)


def _utc(at: datetime) -> datetime:
    """A stored instant, aware (SQLite hands them back naive, in UTC)."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


async def test_every_missed_call_is_called_back_in_time_and_the_survey_is_what_was_keyed(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Callbacks and the survey on: the product's scheduler calls back every missed call of
    the day (but those the policy skips) within its queue's target after the calling window
    allowed it, or, missed after the day's last window, has it due at the next one; the
    survey's answers in the store are the patients' keys; and both the day's KPIs and the
    survey and callbacks reports equal the simulation's own figures."""
    config = with_options(load_config(EXAMPLE), callbacks="on", survey="ask")
    plan = IvrPlan.compile(config)
    patients = generate_day(DayProfile(calls=500, patience_s=45), topics_of(plan), plan,
                            day=TUESDAY, numbers=[n.number for n in config.numbers], seed=2)
    run = await run_day(config, patients, day=TUESDAY, staffing=fixed_staffing(AMPLE),
                        sessions=db_sessions, call_prefix="sim-cb")  # fmt: skip
    ours = queue_kpis(run.attempts, short_abandon_s=config.kpi.short_abandon_s,
                      service_level_s={q: c.service_level_s for q, c in config.queues.items()},
                      default_sl_s=config.kpi.service_level_s)  # fmt: skip
    async with db_sessions() as session:
        report = await compute(session, start=run.start, end=run.end, by="queue",
                               config=config)  # fmt: skip
        after = await afterwards(session, config, run)
        decided = {key: (action, reason, job) for key, action, reason, job in (
            await session.execute(select(Call.call_key, CallbackIntake.action,
                                         CallbackIntake.reason, CallbackIntake.callback_id)
                                  .join(CallbackIntake, CallbackIntake.call_id == Call.id))
        ).all()}  # fmt: skip
        jobs = {job.id: job for job in (await session.scalars(select(Callback))).all()}
        first = dict((await session.execute(
            select(CallbackAttempt.callback_id, func.min(CallbackAttempt.started_at))
            .group_by(CallbackAttempt.callback_id))).all())  # fmt: skip
        stored = {(key, str(question)): (score, complete) for key, question, score, complete in (
            await session.execute(select(Call.call_key, SurveyAnswer.question,
                                         SurveyAnswer.score, SurveyAnswer.complete)
                                  .join(Call, Call.id == SurveyAnswer.call_id))).all()}
        placed = await session.scalar(select(func.count()).select_from(Call).where(
            Call.direction == Direction.OUTBOUND.value, Call.purpose == "callback"))
    assert differences(ours, call_kpis(run.calls), report) == []
    assert after.differences == []  # the survey and callbacks reports: the same figures

    # ---- callbacks: every missed call, its decision, its first attempt ---------------------
    missed = [c for c in run.calls if c.missed]
    kinds = Counter[str]()
    for call in missed:
        assert call.call_id in decided, call  # taken in
        action, reason, job_id = decided[call.call_id]
        if action == "skip":  # hung up in the menus before choosing a topic
            assert (call.ivr_outcome, reason) == ("hangup", "no_topic"), call
            kinds["skipped"] += 1
            continue
        assert action == "create", call  # no number called twice in this day
        assert job_id is not None
        job, ended = jobs[job_id], call.ended
        assert ended is not None
        target = timedelta(minutes=5 if job.queue == "pediatrics" else 10)
        if ended >= WINDOW[1]:  # after the day's last window: due at the next one
            assert (job.state, _utc(job.due_at), job_id in first) == ("pending", NEXT_WINDOW,
                                                                     False), call
            kinds["carried"] += 1
            continue
        window = max(ended, WINDOW[0])
        assert job_id in first, call
        dialled = _utc(first[job_id])
        assert window <= dialled <= window + target, (call, dialled)
        kinds["before the window" if ended < WINDOW[0] else "in the window"] += 1
    assert set(kinds) == {"skipped", "carried", "before the window", "in the window"}, kinds
    tries: dict[str, list[Dial]] = {}
    for dial in run.dials:
        tries.setdefault(dial.job, []).append(dial)
    # a patient who did not answer was tried again, spacing_min after, and reached
    again = [t for t in tries.values() if [d.answered for d in t] == [False, True]]
    assert again, tries
    assert all(t[1].at >= t[0].ended_at + timedelta(minutes=5) for t in again)
    assert placed == len(run.dials)  # each callback call is in the account, outbound
    assert {j.state for j in jobs.values()} <= {"done", "pending", "failed"}

    # ---- the survey: the store holds what the patients keyed -----------------------------
    keyed = {}
    drawn = {f"sim-cb-{p.index:05d}": p.afterwards for p in patients}
    for truth in run.surveys:
        for question, score in (("csat", truth.csat), ("nps", truth.nps)):
            if score is not None:
                keyed[(truth.call_id, question)] = (score, truth.complete)
                assert score == getattr(drawn[truth.call_id], question)
    assert stored == keyed
    assert len(run.surveys) == len(run.handed_back) > 50
    partial = [t for t in run.surveys if t.answered and not t.complete]
    silent = [t for t in run.surveys if not t.answered]
    assert partial  # some hung up at the NPS ...
    assert silent  # ... and some at once
    assert after.survey["all"]["partial"] == len(partial)


def test_a_day_staffed_as_advised_reaches_80_20_on_every_queue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    db = new_store(tmp_path)
    common = ["--config", str(EXAMPLE), "--db", db, "--calls", "600"]
    tight = ",".join(f"{q}={n}" for q, n in TIGHT.items())
    kpis = tmp_path / "day1.json"
    assert main(["simulate", "--day", "--date", str(TUESDAY), "--operators", tight,
                 "--seed", "1", "--out", str(kpis), *common]) == 0  # fmt: skip
    first = capsys.readouterr().out
    assert "gives the same KPIs" in first
    assert ": missed" in first  # too few operators: some queue misses the target
    stored = json.loads(kpis.read_text(encoding="utf-8"))
    assert stored["report_differences"] == []
    assert set(stored["queues"]) == set(TIGHT)
    assert f"simulated day {TUESDAY}: {stored['calls']['inbound']} calls" in first
    assert main(["staffing", "--weeks", "1", "--to", "2026-11-29", "--config", str(EXAMPLE),
                 "--db", db]) == 0  # fmt: skip
    advice = capsys.readouterr()
    assert "agents_erlang_a" in advice.out
    assert "under-staffed" in advice.err
    assert main(["simulate", "--day", "--date", str(NEXT_TUESDAY), "--operators", "advised",
                 "--seed", "2", *common]) == 0  # fmt: skip
    second = capsys.readouterr().out
    assert "gives the same KPIs" in second
    verdicts = [line for line in second.splitlines() if "target 80 %" in line]
    assert len(verdicts) == len(load_config(EXAMPLE).queues)
    assert not [line for line in verdicts if line.endswith(": missed")], second


def test_the_noise_allowance_is_two_binomial_standard_errors() -> None:
    assert sl_noise(100) == pytest.approx(8.0)
    assert sl_noise(400) == pytest.approx(4.0)
    assert sl_noise(0) == 100.0


def test_a_day_the_store_already_holds_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    db = new_store(tmp_path)
    args = ["simulate", "--day", "--date", str(TUESDAY), "--config", str(EXAMPLE), "--db", db,
            "--calls", "50"]
    assert main(args) == 0
    capsys.readouterr()
    assert main([*args, "--seed", "9"]) == 1
    err = capsys.readouterr().err
    assert "already holds" in err
    assert "Traceback" not in err


def test_the_command_prints_the_survey_and_the_callbacks_and_checks_their_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    db = new_store(tmp_path)
    out = tmp_path / "day.json"
    assert main(["simulate", "--day", "--date", str(TUESDAY), "--config", str(EXAMPLE),
                 "--db", db, "--calls", "200", "--callbacks", "on", "--survey", "ask",
                 "--out", str(out)]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "gives the same KPIs" in printed
    stored = json.loads(out.read_text(encoding="utf-8"))
    assert stored["report_differences"] == []
    survey, callbacks = stored["survey"]["all"], stored["callbacks"]["all"]
    assert survey["due"] > 0
    assert callbacks["missed"] == stored["calls"]["missed"]
    assert (f"post-call survey: {survey['due']} due, {survey['answered']} answered"
            in printed)  # fmt: skip
    assert f"callbacks: {callbacks['missed']} missed calls, {callbacks['jobs']} jobs" in printed


@pytest.mark.parametrize(("extra", "message"), [
    (["--operators", "radiology=2"], "not QUEUE=N"),
    (["--operators", "universal=two"], "not a whole number"),
    (["--engine", "asterisk", "--operators", "universal=2"], "--operators is for the fake"),
    (["--engine", "asterisk", "--speed", "1000"], "--speed: expected 1-100"),
    (["--speed", "20"], "--speed is for --engine asterisk"),
    (["--engine", "asterisk", "--callbacks", "on"], "--callbacks and --survey are for the fake"),
])  # fmt: skip
def test_bad_options_get_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        extra: list[str], message: str) -> None:
    db = new_store(tmp_path)
    assert main(["simulate", "--day", "--date", str(TUESDAY), "--config", str(EXAMPLE),
                 "--db", db, "--calls", "50", *extra]) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_the_verdict_uses_the_target_t_for_every_queue() -> None:
    from clinicall.simclinic.floor import FloorAttempt

    stays = [FloorAttempt("a", "q", 0, 0, "answered", 20_000, 1000, "m"),
             FloorAttempt("b", "q", 0, 0, "answered", 20_001, 1000, "m"),
             FloorAttempt("c", "q", 0, 0, "abandoned", 4_999),
             FloorAttempt("d", "q", 0, 0, "abandoned", 5_000)]  # fmt: skip
    # the short abandon is left out: 1 within 20 s of 3
    assert service_levels(stays, t_s=20, short_abandon_s=5) == {"q": (33.33, 3)}


@pytest.mark.asterisk
@pytest.mark.timeout(600)  # an hour at 20x is three minutes of calls, then they end
def test_the_peak_hour_on_the_real_asterisk_gives_the_report_asterisk_reported(
    asterisk_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """The day's peak hour, 20 times faster, through the real controller and the sandbox
    Asterisk: the account's report of today equals Asterisk's own events per queue."""
    db = new_store(tmp_path)
    code = main(["simulate", "--day", "--engine", "asterisk", "--speed", "20", "--calls", "150",
                 "--date", str(TUESDAY), "--config", str(EXAMPLE), "--db", db])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "gives the same KPIs as Asterisk's own events" in out
    assert "peak hour 09:00 of 2026-11-24: 22 patients" in out
