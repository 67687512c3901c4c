"""How long the sandbox FreeSWITCH takes to stop: the orderly shutdown beside the kill the
sandbox now uses when its run dir is removed next, in the same run, rounds alternating.

    python bench/bench_freeswitch_stop.py [--rounds 5]

Each round boots two sandboxes one after the other (the FreeSWITCH example clinic's generated
config and the simulated clinic's test context, as the tests' ``FreeswitchClinic`` runs it),
and stops one with ``keep_run_dir`` (the orderly ``fsctl shutdown``, what every stop did
before) and the other without (SIGKILL); the order of the two flips each round.  A stop is
timed from the call to ``stop()`` until the run dir is removed (by ``stop()`` itself, or here
right after the orderly one, as ``stop()`` did before).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from clinicall.sandbox.freeswitch_build import find_built  # noqa: E402
from clinicall.settings import load_config  # noqa: E402
from clinicall.simclinic.freeswitch import sandbox_for, with_ports  # noqa: E402

EXAMPLE = ROOT / "config" / "clinic.freeswitch.example.yaml"


async def one_stop(prefix: Path, *, orderly: bool) -> float:
    """Boot a sandbox and time its stop (orderly: keeping its run dir, removed here)."""
    fs = sandbox_for(prefix, with_ports(load_config(EXAMPLE)), name="stopbench")
    fs.keep_run_dir = orderly
    await fs.start()
    run_dir = fs.run_dir
    started = time.monotonic()
    await fs.stop()
    if orderly:  # what stop() did before: the orderly shutdown, then the run dir removed
        await asyncio.to_thread(shutil.rmtree, run_dir, True)
    return time.monotonic() - started


async def main(rounds: int) -> None:
    prefix = await asyncio.to_thread(find_built)
    if prefix is None:
        raise SystemExit("FreeSWITCH is not built here: scripts/setup builds it")
    times: dict[bool, list[float]] = {True: [], False: []}
    for n in range(rounds):
        order = (True, False) if n % 2 == 0 else (False, True)
        for orderly in order:
            times[orderly].append(await one_stop(prefix, orderly=orderly))
        print(f"round {n + 1}: orderly {times[True][-1]:.2f} s, kill {times[False][-1]:.2f} s",
              flush=True)
    for orderly, label in ((True, "orderly (fsctl shutdown)"), (False, "kill (run dir removed)")):
        values = times[orderly]
        print(f"{label:<26} min {min(values):.2f} s, median {statistics.median(values):.2f} s, "
              f"max {max(values):.2f} s over {len(values)} stops")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(parser.parse_args().rounds))
