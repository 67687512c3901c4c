"""Erlang A against an independent discrete-event simulation written with SimPy.

The project's own simulator (``clinicall.simclinic.queueing``) takes callers in arrival order;
this one is SimPy's general event loop: a pool of ``agents`` operators as a ``Resource``, each
patient a process that requests an operator and gives up when its patience runs out first
(SimPy's reneging pattern).  A test-only dependency (the project's ``dev`` extra).
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import pytest

from clinicall.reports.erlang import erlang_a_performance

simpy = pytest.importorskip("simpy", reason="SimPy is in the dev extra: pip install -e .[dev]")

RATE, AHT, PATIENCE, T = 60 / 3600, 240.0, 120.0, 20.0
BATCH_S, BATCHES = 50 * 3600.0, 20


@dataclass
class _Counts:
    offered: int = 0
    within_t: int = 0
    abandoned: int = 0


def _batch(agents: int, rng: random.Random) -> _Counts:
    """One batch: patients arriving over BATCH_S, each followed until answered or gone."""
    env = simpy.Environment()
    operators = simpy.Resource(env, capacity=agents)
    counts = _Counts()

    def patient() -> Generator[Any, Any, None]:
        arrived = env.now
        with operators.request() as request:
            outcome = yield request | env.timeout(rng.expovariate(1 / PATIENCE))
            if request not in outcome:
                counts.abandoned += 1
                return
            counts.within_t += env.now - arrived <= T
            yield env.timeout(rng.expovariate(1 / AHT))

    def arrivals() -> Generator[Any, Any, None]:
        while True:
            yield env.timeout(rng.expovariate(RATE))
            if env.now >= BATCH_S:
                return
            counts.offered += 1
            env.process(patient())

    env.process(arrivals())
    env.run()  # until every patient is answered and served, or gone
    return counts


def _ci(values: list[float]) -> tuple[float, float]:
    mean = statistics.fmean(values)
    half = 2.093 * statistics.stdev(values) / math.sqrt(len(values))  # t(19), 95 %
    return mean - half, mean + half


@pytest.mark.parametrize("agents", [4, 6, 7])
def test_erlang_a_agrees_with_simpy(agents: int) -> None:
    """60 calls/h, AHT 240 s, mean patience 120 s: Erlang A's SL(20 s) and abandon probability
    fall in the 95 % confidence interval of 20 SimPy batches of 50 hours."""
    rng = random.Random(1000 + agents)
    batches = [_batch(agents, rng) for _ in range(BATCHES)]
    model = erlang_a_performance(RATE, AHT, PATIENCE, agents, T)
    low, high = _ci([b.within_t / b.offered for b in batches])
    assert low <= model.service_level <= high, (model.service_level, low, high)
    low, high = _ci([b.abandoned / b.offered for b in batches])
    assert low <= model.abandon_probability <= high, (model.abandon_probability, low, high)
