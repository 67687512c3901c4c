"""``clinicall demo --engine``: the Asterisk demo is the one there is; FreeSWITCH says so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_demo_on_freeswitch_says_in_one_line_it_is_not_available_yet(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "clinicall", "demo", "--engine", "freeswitch"],
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)},
                          capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=60, check=False)  # fmt: skip
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stdout + done.stderr
    error, hint = done.stderr.splitlines()
    assert error.startswith("clinicall demo: error: the demo on FreeSWITCH is not available yet")
    assert hint.startswith("  -> ")
    assert sorted(tmp_path.rglob("*")) == []  # nothing started, nothing written
