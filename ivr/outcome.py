"""The path of key presses of an IVR session (what it ended with: ``clinicall.calltypes``).

The path is every key press in order, as ``<step>:<key>`` joined by ``/``; ``<step>`` is
``lang`` for the language menu, a menu id, or ``more`` for the "press 0 for an operator" question
after a self-service answer, or ``survey`` for the post-call survey offer (``survey:1``:
agreed).  The key is the digit pressed (``*`` = back one menu), followed by
``?`` when the menu had no such option (``main:7?``); ``-`` means nothing was pressed before the
timeout (``main:-``).  Example: ``lang:2/main:9?/main:1/appointments:3``.
"""

from __future__ import annotations

NO_INPUT = "-"
INVALID = "?"


class Path:
    """The key presses of one call, appended as they happen."""

    __slots__ = ("_steps",)

    def __init__(self) -> None:
        self._steps: list[str] = []

    def press(self, step: str, key: str) -> None:
        self._steps.append(f"{step}:{key}")

    def timeout(self, step: str) -> None:
        self._steps.append(f"{step}:{NO_INPUT}")

    def invalid(self, step: str, key: str) -> None:
        self._steps.append(f"{step}:{key}{INVALID}")

    def __str__(self) -> str:
        return "/".join(self._steps)
