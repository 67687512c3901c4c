"""What is wrong with a config file, said so that a person can find and fix it.

Every check (YAML syntax, field types, cross-references) reports :class:`ConfigProblem` values
rather than raising, so that :func:`clinicall.settings.loader.load_config` can show *every*
problem at once, each with the file, line and key, instead of one per run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One problem at one place: ``config/clinic.yaml:42: queues.ultrasound.ring_s: expected ...``.

    ``line`` and ``column`` are 1-based; ``line`` is 0 when the place is unknown.  ``key_path``
    is dotted with list indices in brackets (``operators[1].queues``); empty for the whole file.
    """

    file: str
    line: int
    column: int
    key_path: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        tag = "warning: " if self.severity == "warning" else ""
        key = f"{self.key_path}: " if self.key_path else ""
        return f"{where}: {tag}{key}{self.message}"


class ConfigError(Exception):
    """The config cannot be used; ``problems`` lists every error found (warnings too)."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        super().__init__("\n".join(str(p) for p in errors) or "invalid config")

    @property
    def errors(self) -> list[ConfigProblem]:
        return [p for p in self.problems if p.severity == "error"]
