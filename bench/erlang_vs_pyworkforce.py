"""Erlang A and C (``reports/erlang.py``) beside pyworkforce's Erlang C, on a grid of queues.

pyworkforce is never a dependency of the project: run this in a throw-away virtualenv that has
it (``python -m venv /tmp/pwf && /tmp/pwf/bin/pip install pyworkforce``), from the repository
root: ``/tmp/pwf/bin/python bench/erlang_vs_pyworkforce.py``.  ``reports/erlang.py`` is plain
Python and is loaded by its path, so the venv needs nothing of the project.

For each queue (calls per hour, AHT, mean patience) and the target 80 % answered within 20 s:
the operators pyworkforce's Erlang C asks for, ours by Erlang C, ours by Erlang A (with that
patience) and Erlang A's predicted service level and abandon rate at that staffing; then the
largest difference between the two Erlang C service levels over every staffing from the load
up to 20 operators more.  Prints a table (bench/README.md keeps one).
"""

from __future__ import annotations

import importlib.util
import math
import sys
import time
from pathlib import Path
from types import ModuleType

from pyworkforce.queuing import ErlangC  # type: ignore[import-not-found, unused-ignore]

ROOT = Path(__file__).resolve().parents[1]
TARGET_SL, T_S = 0.8, 20.0
GRID = [(calls, aht, patience) for calls in (10, 30, 60, 120, 300)
        for aht in (180, 240, 360) for patience in (60, 120, 300)]  # fmt: skip


def _erlang() -> ModuleType:
    spec = importlib.util.spec_from_file_location("erlang", ROOT / "reports" / "erlang.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["erlang"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def main() -> None:
    erlang = _erlang()
    print(
        "calls/h  AHT s  patience s  pyworkforce C  ours C  ours A  A: SL %  A: abandon %  "
        "max |SL_C diff|"
    )
    worst, began, cpu_began = 0.0, time.perf_counter(), time.process_time()
    for calls, aht, patience in GRID:
        rate = calls / 3600
        theirs = ErlangC(transactions=calls, aht=aht / 60, asa=T_S / 60, interval=60)
        needed = theirs.required_positions(service_level=TARGET_SL)["raw_positions"]
        start = math.floor(rate * aht) + 1
        ours_c = next(n for n in range(start, 1000)
                      if erlang.erlang_c_performance(rate, aht, n, T_S).service_level
                      >= TARGET_SL)  # fmt: skip
        ours_a = next(n for n in range(1, 1000)
                      if erlang.erlang_a_performance(rate, aht, patience, n, T_S).service_level
                      >= TARGET_SL)  # fmt: skip
        perf = erlang.erlang_a_performance(rate, aht, patience, ours_a, T_S)
        diff = max(abs(theirs.service_level(positions=n)
                       - erlang.erlang_c_performance(rate, aht, n, T_S).service_level)
                   for n in range(start, start + 20))  # fmt: skip
        worst = max(worst, diff)
        print(
            f"{calls:7d}  {aht:5d}  {patience:10d}  {needed:13d}  {ours_c:6d}  {ours_a:6d}  "
            f"{100 * perf.service_level:7.1f}  {100 * perf.abandon_probability:12.2f}  "
            f"{diff:15.1e}"
        )
    print(
        f"\n{len(GRID)} queues in {time.perf_counter() - began:.2f} s "
        f"({time.process_time() - cpu_began:.2f} s CPU, both libraries); Erlang C service "
        f"levels differ by at most {worst:.1e}"
    )


if __name__ == "__main__":
    main()
