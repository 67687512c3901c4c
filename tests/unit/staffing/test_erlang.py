"""Erlang C against published values, Erlang A against its limits and a simulation."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from clinicall.reports.erlang import (
    ModelError,
    erlang_a_performance,
    erlang_b,
    erlang_c,
    erlang_c_performance,
)
from clinicall.simclinic.queueing import abandon_rate, arrivals, service_level, simulate


def test_erlang_b_and_c_published_values() -> None:
    # Erlang B tables: 10 Erlangs on 10 lines block 21.46 %; on 15 lines 3.65 %
    assert erlang_b(10, 10.0) == pytest.approx(0.21458, abs=5e-5)
    assert erlang_b(15, 10.0) == pytest.approx(0.03650, abs=5e-5)
    # The usual worked example: 100 calls in 30 min, AHT 180 s (A = 10 Erlangs), 14 agents:
    # probability of waiting 17.41 %, ASA 7.8 s.
    assert erlang_c(14, 10.0) == pytest.approx(0.1741, abs=5e-5)
    perf = erlang_c_performance(100 / 1800, 180, 14, 20)
    assert perf.asa_s == pytest.approx(7.8, abs=0.05)
    # SL = 1 - C e^{-(N - A) t / AHT}, written out
    assert perf.service_level == pytest.approx(1 - 0.174132 * math.exp(-4 * 20 / 180), abs=1e-6)


def test_erlang_c_with_too_few_agents_never_serves_in_time() -> None:
    perf = erlang_c_performance(60 / 3600, 240, 4, 20)  # A = 4 Erlangs on 4 agents
    assert (perf.service_level, perf.wait_probability, perf.asa_s) == (0.0, 1.0, math.inf)
    assert erlang_c_performance(0.0, 240, 0, 20).service_level == 1.0


def test_erlang_a_with_endless_patience_is_erlang_c() -> None:
    for agents in (11, 12, 14, 18):
        a = erlang_a_performance(100 / 1800, 180, 1e12, agents, 20)
        c = erlang_c_performance(100 / 1800, 180, agents, 20)
        assert a.service_level == pytest.approx(c.service_level, abs=1e-7)
        assert a.wait_probability == pytest.approx(c.wait_probability, abs=1e-7)
        assert a.asa_s == pytest.approx(c.asa_s, rel=1e-5)
        assert a.abandon_probability < 1e-8


def test_erlang_a_conserves_callers() -> None:
    """Throughput: answered + abandoned = offered, i.e. busy agents = λ(1 − P(ab))·AHT."""
    rate, aht, patience = 60 / 3600, 240.0, 120.0
    for agents in (2, 4, 6, 7):
        perf = erlang_a_performance(rate, aht, patience, agents, 1e9)  # t → ∞: all answered
        assert perf.service_level == pytest.approx(1 - perf.abandon_probability, abs=1e-9)


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ModelError):
        erlang_a_performance(1.0, 100, 0, 3, 20)
    with pytest.raises(ModelError):
        erlang_c_performance(-1.0, 100, 3, 20)
    with pytest.raises(ModelError, match="finite patience"):
        erlang_a_performance(1.0, 100, math.inf, 0, 20)


def _simulated(agents: int, seed: int) -> tuple[list[float], list[float]]:
    """Service level and abandon rate of 20 independent 50-hour batches."""
    rng = random.Random(seed)
    sls, abandons = [], []
    for _ in range(20):
        arrived = list(arrivals(rng, 60 / 3600, 0.0, 50 * 3600.0))
        calls = simulate(rng, arrived, agents=agents, aht_s=240.0, patience_s=120.0)
        sls.append(service_level(calls, 20.0))
        abandons.append(abandon_rate(calls))
    return sls, abandons


def _ci(values: list[float]) -> tuple[float, float]:
    mean = statistics.fmean(values)
    half = 2.093 * statistics.stdev(values) / math.sqrt(len(values))  # t(19), 95 %
    return mean - half, mean + half


@pytest.mark.parametrize("agents", [4, 6, 7])
def test_erlang_a_agrees_with_a_simulation_and_erlang_c_does_not(agents: int) -> None:
    """60 calls/h, AHT 240 s, mean patience 120 s: Erlang A's SL(20 s) and abandon probability
    fall in the simulation's 95 % confidence interval; Erlang C's SL is further off."""
    sls, abandons = _simulated(agents, seed=agents)
    a = erlang_a_performance(60 / 3600, 240.0, 120.0, agents, 20.0)
    c = erlang_c_performance(60 / 3600, 240.0, agents, 20.0)
    low, high = _ci(sls)
    assert low <= a.service_level <= high, (a.service_level, low, high)
    low, high = _ci(abandons)
    assert low <= a.abandon_probability <= high, (a.abandon_probability, low, high)
    simulated = statistics.fmean(sls)
    assert abs(c.service_level - simulated) > 5 * abs(a.service_level - simulated)
