"""Where the clinic config is, by one rule every command follows.

The file named on the command line (``--config FILE``, or the positional ``FILE`` of the
commands that always took one), else ``$CLINICALL_CONFIG``, else
``/etc/clinicall/clinic.yaml``, else ``./clinic.yaml``.  A file that was named (on the command
line or in the environment) is used even when it is missing, so the error names it; the two
defaults are only taken when they exist.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

ENV = "CLINICALL_CONFIG"
SYSTEM = Path("/etc/clinicall/clinic.yaml")
LOCAL = Path("clinic.yaml")
#: Where a command looks when no config is named on its command line (for ``--help``).
DEFAULTS = f"${ENV}, else {SYSTEM}, else ./{LOCAL}"
#: The whole rule in one line.
RULE = f"--config FILE, else {DEFAULTS}"


class NoConfigFound(Exception):
    """No config was named and neither default file exists."""

    def __init__(self) -> None:
        super().__init__(f"no clinic config: none given, ${ENV} is not set, and neither "
                         f"{SYSTEM} nor ./{LOCAL} exists")


def find_config(given: Path | None, environ: Mapping[str, str] | None = None, *,
                defaults: tuple[Path, ...] = (SYSTEM, LOCAL)) -> Path:
    """The config to use: ``given``, else the environment's, else the first default that
    exists; NoConfigFound when there is none."""
    if given is not None:
        return given
    named = (os.environ if environ is None else environ).get(ENV, "")
    if named:
        return Path(named)
    for path in defaults:
        if path.is_file():
            return path
    raise NoConfigFound
