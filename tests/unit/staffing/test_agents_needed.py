"""``agents_needed`` starts its search at the bound sl·load (fewer operators cannot answer the
target's share of the calls): on a grid it gives what a scan from zero operators gives."""

from __future__ import annotations

import itertools

from clinicall.reports.erlang import erlang_a_performance, erlang_c_performance
from clinicall.reports.staffing import MAX_AGENTS, Target, agents_needed

TARGETS = [Target(), Target(sl=0.95, t_s=10, max_abandon=0.03), Target(sl=0.5, t_s=60),
           Target(sl=0.99, t_s=120)]  # fmt: skip


def _scan(rate: float, aht: float, patience: float | None, target: Target) -> int | None:
    t = target.t_s or 20.0
    for agents in range(MAX_AGENTS + 1):
        if patience is None:
            perf = erlang_c_performance(rate, aht, agents, t)
        else:
            perf = erlang_a_performance(rate, aht, patience, agents, t)
        if perf.service_level >= target.sl and perf.abandon_probability <= target.max_abandon:
            return agents
    return None


def test_the_lower_bound_never_skips_the_answer() -> None:
    grid = itertools.product((0.5, 3, 30, 120, 600), (60, 240, 600), (None, 30, 120, 600),
                             TARGETS)  # fmt: skip
    for calls, aht, patience, target in grid:
        rate = calls / 3600
        expected = _scan(rate, aht, patience, target)
        assert agents_needed(rate, aht, patience, target.t_s or 20.0, target) == expected, (
            calls, aht, patience, target)  # fmt: skip
