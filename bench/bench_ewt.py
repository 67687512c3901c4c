"""Estimated-wait error on a simulated day: clinicall's estimator against Asterisk's moving
average and last-to-enter-service, median and p90 absolute error, side by side.

The day is the M/M/N+M simulator's (``clinicall.simclinic.queueing``: Poisson arrivals,
exponential handle times and patience, first come first served).  At each caller's arrival the
three estimators see only what was known then:

- clinicall (``routing.wait_estimate.estimate_wait_s``): the live callers ahead and the free
  operators at that instant, the handle times of the last 20 calls that ended, and the
  abandonment rate (``abandon_rate_per_s``: abandons over seconds waited) of the last 50
  callers who left the line (answered or not), as ``db/queue_history.py`` reads them from
  the account for the offer;
- Asterisk's ``Holdtime``: the moving average ``app_queue`` keeps, ``(3 * old + wait) / 4``
  on each answer (docs/engines/asterisk.md);
- last-to-enter-service: the wait of the caller most recently answered.

Only answered callers are measured (an abandoned caller's wait is censored), as the report
does (docs/callbacks.md, "The estimator's error").

Run: PYTHONPATH=. .venv/bin/python bench/bench_ewt.py [seed]
"""

from __future__ import annotations

import bisect
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass

from clinicall.routing.wait_estimate import (
    ErrorStats,
    abandon_rate_per_s,
    estimate_errors,
    estimate_wait_s,
)
from clinicall.simclinic.queueing import SimCall, arrivals, simulate

DAY_S = 10 * 3600.0
AGENTS = 4
AHT_S = 180.0
PATIENCE_S = 240.0
RECENT_HANDLES = 20
RECENT_LEAVERS = 50
#: Offered load per operator (arrival rate x handle time / operators).
LOADS = (0.8, 0.95, 1.1)


@dataclass(frozen=True, slots=True)
class Event:
    """A caller's leaving the line (answered or abandoned) or an operator's call ending."""

    at: float
    kind: str  # "answer", "abandon", "end"
    value: float  # the wait (answer, abandon) or the handle time (end)


def _events(calls: list[SimCall]) -> list[Event]:
    out: list[Event] = []
    for call in calls:
        left = call.arrived_s + call.wait_s
        if call.talk_s is None:
            out.append(Event(left, "abandon", call.wait_s))
        else:
            out.append(Event(left, "answer", call.wait_s))
            out.append(Event(left + call.talk_s, "end", call.talk_s))
    out.sort(key=lambda e: e.at)
    return out


def _measure(calls: list[SimCall]) -> dict[str, ErrorStats]:
    events = _events(calls)
    times = [e.at for e in events]
    pairs: dict[str, list[tuple[float, float]]] = {"clinicall": [], "asterisk": [], "les": []}
    holdtime = 0.0
    last_wait: float | None = None
    handles: list[float] = []
    leavers: list[tuple[bool, float]] = []  # (abandoned, seconds waited)
    done = 0
    for i, call in enumerate(calls):
        at = call.arrived_s
        for event in events[done:bisect.bisect_left(times, at)]:
            if event.kind == "answer":
                holdtime = (3 * holdtime + event.value) / 4
                last_wait = event.value
            if event.kind in ("answer", "abandon"):
                leavers.append((event.kind == "abandon", event.value))
            if event.kind == "end":
                handles.append(event.value)
        done = bisect.bisect_left(times, at)
        if call.talk_s is None:
            continue
        ahead = sum(1 for c in calls[:i] if c.arrived_s + c.wait_s > at)
        busy = sum(1 for c in calls[:i] if c.talk_s is not None
                   and c.arrived_s + c.wait_s <= at < c.arrived_s + c.wait_s + c.talk_s)
        recent = leavers[-RECENT_LEAVERS:]
        ours = estimate_wait_s(
            live_ahead=ahead, callbacks_ahead=0, logged_in=AGENTS, free=AGENTS - busy,
            recent_handle_s=handles[-RECENT_HANDLES:],
            abandon_per_s=abandon_rate_per_s(sum(a for a, _ in recent),
                                             sum(w for _, w in recent)),
            default_handle_s=AHT_S)
        if ours is not None:
            pairs["clinicall"].append((ours, call.wait_s))
        pairs["asterisk"].append((holdtime, call.wait_s))
        if last_wait is not None:
            pairs["les"].append((last_wait, call.wait_s))
    return {name: estimate_errors(p) for name, p in pairs.items()}


def _cell(stats: ErrorStats, pick: Callable[[ErrorStats], float | None]) -> str:
    value = pick(stats)
    return "-" if value is None else f"{value:6.1f}"


def main(seed: int) -> None:
    print(f"EWT absolute error (s) on a simulated {DAY_S / 3600:.0f} h day: {AGENTS} operators, "
          f"handle {AHT_S:.0f} s, patience {PATIENCE_S:.0f} s, seed {seed}")
    print(f"{'load':>5} {'answered':>8} {'abandon':>7} | {'estimator':<10} "
          f"{'median':>7} {'p90':>7}")
    for load in LOADS:
        rng = random.Random(seed)
        rate = load * AGENTS / AHT_S
        arrived = list(arrivals(rng, rate, 0.0, DAY_S))
        calls = simulate(rng, arrived, agents=AGENTS, aht_s=AHT_S, patience_s=PATIENCE_S)
        answered = sum(1 for c in calls if c.answered)
        abandoned = 1 - answered / len(calls)
        for n, (name, stats) in enumerate(_measure(calls).items()):
            head = (f"{load:5.2f} {answered:8d} {abandoned:7.1%}" if n == 0
                    else f"{'':5} {'':8} {'':7}")
            print(f"{head} | {name:<10} {_cell(stats, lambda s: s.median_s):>7} "
                  f"{_cell(stats, lambda s: s.p90_s):>7}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
