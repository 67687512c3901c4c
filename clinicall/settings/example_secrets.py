"""Secrets still at the example config's ``change-me`` values.

config/clinic.example.yaml ships with ``change-me-…`` secrets so the demo and the tests run
as they are; a clinic that keeps them has an AMI login and operators' SIP passwords that
anyone who read the example knows.  ``clinicall run`` refuses them unless told this is a
trial, and ``clinicall check-config`` points at each one with its line.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import yaml

from clinicall.settings import yamlmarks
from clinicall.settings.models import AsteriskEngine, ClinicConfig
from clinicall.settings.problems import ConfigProblem

MARK = "change-me"
WARNING = "still the example's 'change-me' secret, which 'clinicall run' refuses; set your own"


def is_example_secret(secret: str) -> bool:
    return MARK in secret.lower()


def example_secret_locs(config: ClinicConfig) -> list[tuple[str | int, ...]]:
    """Where (as the file spells it) a secret is still an example one."""
    engine = config.engine
    found: list[tuple[str | int, ...]] = []
    if isinstance(engine, AsteriskEngine):
        if is_example_secret(engine.ami_secret):
            found.append(("engine", "ami_secret"))
    elif is_example_secret(engine.esl_password):
        found.append(("engine", "esl_password"))
    found += [("operators", i, "secret") for i, op in enumerate(config.operators)
              if is_example_secret(op.secret)]
    return found


def example_secrets(config: ClinicConfig) -> list[str]:
    """The keys, dotted (``operators[0].secret``), whose secret is still an example one."""
    return [dotted(loc) for loc in example_secret_locs(config)]


def example_secret_warnings(path: str | PathLike[str],
                            config: ClinicConfig) -> list[ConfigProblem]:
    """A warning with the file and line for each example secret of the config read from
    ``path``, in file order (line 0 when the file cannot be read again)."""
    locs = example_secret_locs(config)
    if not locs:
        return []
    try:
        _, root = yamlmarks.parse(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, ValueError, yaml.YAMLError):
        root = None
    out = []
    for loc in locs:
        place = yamlmarks.locate(root, loc)
        line, column = (place.line, place.column) if place.complete else (0, 0)
        out.append(ConfigProblem(str(path), line, column, dotted(loc), WARNING, "warning"))
    return sorted(out, key=lambda p: (p.line, p.column))


def dotted(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
