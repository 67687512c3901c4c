"""Running the doctor: the checks, printed one line each, and the exit code (1 on any FAIL)."""

from __future__ import annotations

from collections.abc import Callable

from clinicall.doctor.checks import Options, run_checks
from clinicall.doctor.result import Check
from clinicall.settings.models import ClinicConfig


async def doctor(config: ClinicConfig, options: Options,
                 out: Callable[[str], None] = print) -> list[Check]:
    checks = await run_checks(config, options)
    for check in checks:
        for line in check.lines():
            out(line)
    failing = [c.name for c in checks if not c.ok]
    out(f"{len(checks) - len(failing)} OK, {len(failing)} to fix"
        + (f": {', '.join(failing)}" if failing else ""))
    return checks
