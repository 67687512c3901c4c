"""Staffing advice proven on simulated clinic days.

Four Tuesdays of a therapy queue are simulated (M/M/N+M: 3 operators, AHT 240 s, mean patience
120 s, an hour-of-day profile) and written to the store as the account would; the staffing
report forecasts each hour, fits AHT and patience and advises operators by Erlang A and C.  A
fresh simulated Tuesday (30 of them, to tame the noise) staffed as Erlang A advises then shows
its service level: Erlang A predicted it, Erlang C did not.
"""

from __future__ import annotations

import asyncio
import csv
import json
import math
import random
import statistics
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from store_writes import writing

from clinicall.db.models import Agent, AgentSession, Call, Direction, QueueAttempt, QueueOutcome
from clinicall.reports.erlang import erlang_a_performance, erlang_c_performance
from clinicall.reports.staffing import Target, compute_staffing
from clinicall.settings.loader import load_config
from clinicall.settings.models import ClinicConfig
from clinicall.simclinic.queueing import arrivals, simulate

from .scenario import EXAMPLE

KYIV = ZoneInfo("Europe/Kyiv")
AHT_S, PATIENCE_S, HISTORY_AGENTS = 240.0, 120.0, 3
PROFILE = {9: 20, 10: 40, 11: 60, 12: 60, 13: 40, 14: 30, 15: 50, 16: 20}  # calls per hour
TUESDAYS = [datetime(2026, 11, d, tzinfo=KYIV) for d in (3, 10, 17, 24)]
WINDOW = (datetime(2026, 11, 2, tzinfo=KYIV), datetime(2026, 11, 30, tzinfo=KYIV))  # 4 weeks


@pytest.fixture(scope="module")
def config() -> ClinicConfig:
    """The example clinic; therapy has no wrap-up, so AHT is the talk time simulated."""
    config = load_config(EXAMPLE)
    queues = dict(config.queues)
    queues["therapy"] = queues["therapy"].model_copy(update={"wrapup_s": 0})
    return config.model_copy(update={"queues": queues})


def _hour(rng: random.Random, rate_per_h: float, agents: int) -> list[tuple[float, float,
                                                                             float | None]]:
    """One hour's callers (arrival s, wait s, talk s or None), after an hour of warm-up."""
    arrived = list(arrivals(rng, rate_per_h / 3600, 0.0, 7200.0))
    calls = simulate(rng, arrived, agents=agents, aht_s=AHT_S, patience_s=PATIENCE_S)
    return [(c.arrived_s - 3600, c.wait_s, c.talk_s) for c in calls if c.arrived_s >= 3600]


async def _history(sessions: async_sessionmaker[AsyncSession]) -> int:
    rng = random.Random(15)
    n = 0
    async with writing(sessions) as session:
        for day in TUESDAYS:
            for hour, rate in PROFILE.items():
                for offset, wait, talk in _hour(rng, rate, HISTORY_AGENTS):
                    n += 1
                    joined = day + timedelta(hours=hour, seconds=offset)
                    call = Call(call_key=f"sim{n}", direction=Direction.INBOUND,
                                started_at=joined - timedelta(seconds=20))  # fmt: skip
                    call.queue_attempts.append(QueueAttempt(
                        channel_id=f"sim{n}", queue="therapy", joined_at=joined,
                        outcome=QueueOutcome.ANSWERED if talk is not None
                        else QueueOutcome.ABANDONED,
                        wait_s=wait, talk_s=talk,
                        connected_at=joined + timedelta(seconds=wait) if talk else None))
                    session.add(call)
        # The operators who took these calls: three all day, a fourth half an hour at 11:30.
        agents = [Agent(interface=f"Local/op{i}") for i in range(4)]
        session.add_all(agents)
        await session.flush()
        for day in TUESDAYS:
            for agent in agents[:3]:
                session.add(AgentSession(agent_id=agent.id, queue="therapy",
                                         login_at=day + timedelta(hours=9),
                                         logout_at=day + timedelta(hours=17)))  # fmt: skip
            session.add(AgentSession(agent_id=agents[3].id, queue="therapy",
                                     login_at=day + timedelta(hours=11, minutes=30),
                                     logout_at=day + timedelta(hours=12)))  # fmt: skip
    return n


async def test_erlang_a_advice_matches_a_simulated_day_better_than_erlang_c(
    config: ClinicConfig, db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    offered = await _history(db_sessions)
    async with db_sessions() as session:
        report = await compute_staffing(session, start=WINDOW[0], end=WINDOW[1], config=config,
                                        target=Target(sl=0.8, t_s=20.0))  # fmt: skip
    (about,) = report.section("assumptions").rows
    assert about["offered"] == offered
    assert about["weeks"] == 4.0
    assert about["patience_s"] == pytest.approx(PATIENCE_S, rel=0.10)  # fitted, censored
    assert about["aht_s"] == pytest.approx(AHT_S, rel=0.10)
    assert "Poisson arrivals" in str(about["model"])
    rows = {int(str(r["hour"])): r for r in report.section("staffing").rows}
    assert sorted(rows) == sorted(PROFILE)
    assert all(r["weekday"] == 2 for r in rows.values())  # Tuesday
    for hour, rate in PROFILE.items():  # the forecast: within 3 standard errors of the truth
        forecast = rows[hour]["offered_per_h"]
        assert isinstance(forecast, float | int)
        assert abs(forecast - rate) <= 3 * math.sqrt(rate / len(TUESDAYS)), (hour, forecast)
    advised: dict[int, int] = {}
    by_c: dict[int, int] = {}
    for hour, row in rows.items():
        a, c = row["agents_erlang_a"], row["agents_erlang_c"]
        assert isinstance(a, int)
        assert isinstance(c, int)
        assert a <= c  # Erlang C, ignoring abandons, never asks for fewer
        advised[hour], by_c[hour] = a, c
        logged = row["logged_in"]
        assert isinstance(logged, float)
        assert logged == (3.5 if hour == 11 else 3.0)  # from the agent sessions
        assert row["staffed"] == ("under" if logged < a else "over" if logged >= a + 1 else "ok")
    assert [rows[h]["staffed"] for h in (9, 11, 16)] == ["ok", "under", "ok"]
    assert sum(advised.values()) < sum(by_c.values())

    # A fresh Tuesday at the true rates, staffed as Erlang A advises, 30 times over.
    rng = random.Random(2026)
    error_a = error_c = 0.0
    day_answered_in_time = day_offered = 0
    for hour, rate in PROFILE.items():
        sls, seen = [], 0
        for _ in range(30):
            calls = _hour(rng, rate, advised[hour])
            seen += len(calls)
            sls.append(sum(1 for _, w, talk in calls if talk is not None and w <= 20) /
                       max(len(calls), 1))  # fmt: skip
            day_answered_in_time += sum(1 for _, w, talk in calls if talk is not None and w <= 20)
        day_offered += seen
        simulated = statistics.fmean(sls)
        predicted_a = erlang_a_performance(rate / 3600, AHT_S, PATIENCE_S, advised[hour], 20)
        predicted_c = erlang_c_performance(rate / 3600, AHT_S, advised[hour], 20)
        error_a += abs(predicted_a.service_level - simulated)
        error_c += abs(predicted_c.service_level - simulated)
    assert error_a < error_c / 3  # Erlang A foresaw the day; Erlang C did not
    # The day reaches the target within the noise of a forecast from four weeks of calls:
    # 80 % less 5 points (each hour's rate was estimated from 80 to 240 calls).
    assert day_answered_in_time / day_offered >= 0.75


def test_patience_fitting_recovers_a_known_patience() -> None:
    """Censored exponential MLE on synthetic data: callers answered after their wait are
    censored observations; the fit lands within 10 % of the true mean patience."""
    from clinicall.reports.staffing import fit_patience

    rng = random.Random(7)
    for true_patience in (60.0, 120.0, 300.0):
        waits = []
        for _ in range(3000):
            patience = rng.expovariate(1 / true_patience)
            answered_after = rng.expovariate(1 / 90)  # an operator frees up
            waits.append((min(patience, answered_after), patience < answered_after))
        fitted = fit_patience(waits)
        assert fitted == pytest.approx(true_patience, rel=0.10)
        naive = statistics.fmean(w for w, gave_up in waits if gave_up)  # abandons only
        assert naive < 0.8 * true_patience  # why censoring matters
    assert fit_patience([(30.0, False), (50.0, False)]) is None


async def test_report_command_writes_the_staffing_table(
    db_url: str, db_sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """``clinicall report --section staffing`` as a user runs it: the same advice as above."""
    await _history(db_sessions)
    config_file = tmp_path / "clinic.yaml"
    text = EXAMPLE.read_text(encoding="utf-8")
    therapy = "  therapy:\n    name: {uk: Терапія, ru: Терапия, en: General practice}\n"
    assert therapy in text
    config_file.write_text(text.replace(therapy, therapy + "    wrapup_s: 0\n"), encoding="utf-8")
    out = tmp_path / "staffing.csv"

    async def run(*extra: str) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "clinicall", "report", "--from", "2026-11-02", "--to",
            "2026-11-29", "--section", "staffing", "--format", "csv", "--out", str(out),
            "--db", db_url, "--config", str(config_file), *extra,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)  # fmt: skip
        _, stderr = await process.communicate()
        assert process.returncode is not None
        return process.returncode, stderr.decode()

    code, stderr = await run("--target-sl", "80/20")
    assert code == 0, stderr
    with out.open(newline="", encoding="utf-8") as f:
        table = {int(r["hour"]): r for r in csv.DictReader(f)}
    async with db_sessions() as session:
        report = await compute_staffing(session, start=WINDOW[0], end=WINDOW[1],
                                        config=load_config(config_file), target=Target())
    for row in report.section("staffing").rows:
        exported = table[int(str(row["hour"]))]
        assert exported["agents_erlang_a [count]"] == str(row["agents_erlang_a"])
        assert exported["agents_erlang_c [count]"] == str(row["agents_erlang_c"])
    under = [r for r in report.section("staffing").rows if r["staffed"] == "under"]
    assert under, "the history's three operators cannot carry the 11:00 peak"
    # The summary on stderr: the queue's line, the assumptions and the next step.
    assert f"  therapy: {len(report.section('staffing').rows)} hours with calls" in stderr
    assert f"under-staffed {len(under)} h: Tue " in stderr
    assert "Model: Poisson arrivals at the forecast rate" in stderr
    assert "Next: move operators' shifts into the under-staffed hours" in stderr
    code, stderr = await run("--to", "2026-11-04")
    assert code == 1
    assert "needs at least one whole week of history (got 3 days)" in stderr
    code, stderr = await run("--target-sl", "eighty")
    assert code == 1
    assert "--target-sl: expected PCT/SECONDS, got 'eighty'" in stderr
    assert "Traceback" not in stderr


async def test_the_staffing_command_reports_the_last_whole_weeks(
    db_url: str, db_sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """``clinicall staffing --weeks 4 --to SUNDAY`` is the report's staffing section over the
    four weeks ending that Sunday; a --to that is not a Sunday or no weeks is one line."""
    await _history(db_sessions)
    out = tmp_path / "staffing.json"

    async def run(*extra: str) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "clinicall", "staffing", "--format", "json", "--out",
            str(out), "--db", db_url, "--config", str(EXAMPLE), *extra,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)  # fmt: skip
        _, stderr = await process.communicate()
        assert process.returncode is not None
        return process.returncode, stderr.decode()

    code, stderr = await run("--weeks", "4", "--to", "2026-11-29", "--target-sl", "80/20",
                             "--max-abandon", "5")
    assert code == 0, stderr
    async with db_sessions() as session:
        report = await compute_staffing(session, start=WINDOW[0], end=WINDOW[1],
                                        config=load_config(EXAMPLE),
                                        target=Target(max_abandon=0.05))  # fmt: skip
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert exported["sections"]["staffing"] == json.loads(json.dumps(
        report.to_dict()))["sections"]["staffing"]
    assert report.section("staffing").rows
    code, stderr = await run("--weeks", "4", "--to", "2026-11-28")
    assert code == 1
    assert "--to 2026-11-28 is a Saturday: the history ends on a Sunday" in stderr
    code, stderr = await run("--weeks", "0")
    assert code == 1
    assert "--weeks: expected 1-104 whole weeks, got 0" in stderr
    assert "Traceback" not in stderr
