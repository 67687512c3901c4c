"""Two controllers' schedulers on one PostgreSQL with 1,000 due jobs and one engine: every job
is dialled exactly once (the engine's own list of originates is the judge, not the store)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from callback_fakes import TUESDAY_10_KYIV, Clock, ScriptedControl, add_due_jobs, scheduler

from clinicall.db import create_engine, session_factory

JOBS = 1000
OPERATORS = 50



@pytest.mark.postgres
async def test_two_schedulers_dial_each_of_1000_jobs_exactly_once(postgres_db_url: str) -> None:
    engines = [create_engine(postgres_db_url) for _ in range(2)]  # a pool per controller
    try:
        one, two = (session_factory(e) for e in engines)
        await add_due_jobs(one, JOBS)
        engine = ScriptedControl(members=OPERATORS)  # the one PBX both controllers drive
        clock = Clock(TUESDAY_10_KYIV + timedelta(minutes=1))
        first = scheduler(one, engine, clock, owner="controller-1")
        second = scheduler(two, engine, clock, owner="controller-2")
        rounds = 0
        while len(engine.sent) < JOBS and rounds < 10 * JOBS // OPERATORS:
            rounds += 1
            await asyncio.gather(first.run_once(), second.run_once())
            await asyncio.gather(first.attempts_done(), second.attempts_done())
        dials = Counter(request.number for request in engine.sent)
        assert len(dials) == JOBS
        assert [number for number, n in dials.items() if n > 1] == []
        jobs = await first.store.jobs(limit=2 * JOBS)
        assert Counter(job.state for job in jobs) == {"done": JOBS}
        owners = set()
        for job in jobs[:200]:
            owners |= {attempt.owner for attempt in await first.store.attempts(job.id)}
        assert owners == {"controller-1", "controller-2"}  # both took part
    finally:
        for e in engines:
            await e.dispose()
