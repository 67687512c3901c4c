"""A simulated queue of patients, without a PBX: Poisson arrivals, exponential handle times and
patience, ``agents`` operators serving first come, first served (the M/M/N+M model).

Used to check the staffing models (``reports.erlang``) and to make a clinic's day of calls for
the staffing report.  Because service is first come, first served and a patient who gives up
frees no operator, the callers can be taken in arrival order: each is answered by the operator
free earliest, if that is within the caller's patience, else abandons.  Exact, and fast enough
for a year of calls in pure Python.  Seeded: the same seed gives the same day.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SimCall:
    """One simulated caller: arrival (s from the start), wait, and talk (None: abandoned)."""

    arrived_s: float
    wait_s: float
    talk_s: float | None

    @property
    def answered(self) -> bool:
        return self.talk_s is not None


def arrivals(rng: random.Random, rate_per_s: float, start_s: float, end_s: float
             ) -> Iterator[float]:  # fmt: skip
    """Poisson arrival instants in [start_s, end_s)."""
    if rate_per_s <= 0:
        return
    at = start_s + rng.expovariate(rate_per_s)
    while at < end_s:
        yield at
        at += rng.expovariate(rate_per_s)


def simulate(rng: random.Random, arrived: list[float], *, agents: int, aht_s: float,
             patience_s: float) -> list[SimCall]:  # fmt: skip
    """Serve the callers arriving at ``arrived`` (sorted) with ``agents`` operators."""
    free = [0.0] * agents
    heapq.heapify(free)
    out = []
    for at in arrived:
        patience = rng.expovariate(1.0 / patience_s)
        start = max(at, free[0]) if agents else float("inf")
        if start - at > patience:
            out.append(SimCall(at, patience, None))
            continue
        talk = rng.expovariate(1.0 / aht_s)
        heapq.heapreplace(free, start + talk)
        out.append(SimCall(at, start - at, talk))
    return out


def service_level(calls: list[SimCall], t: float) -> float:
    """Answered within ``t`` / offered (docs/kpi.md, without short abandons)."""
    if not calls:
        return 1.0
    return sum(1 for c in calls if c.answered and c.wait_s <= t) / len(calls)


def abandon_rate(calls: list[SimCall]) -> float:
    return sum(1 for c in calls if not c.answered) / len(calls) if calls else 0.0
