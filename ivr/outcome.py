"""What an IVR session ended with, and the path of key presses that led there.

The path is every key press in order, as ``<step>:<key>`` joined by ``/``; ``<step>`` is
``lang`` for the language menu, a menu id, or ``more`` for the "press 0 for an operator" question
after a self-service answer.  The key is the digit pressed (``*`` = back one menu), followed by
``?`` when the menu had no such option (``main:7?``); ``-`` means nothing was pressed before the
timeout (``main:-``).  Example: ``lang:2/main:9?/main:1/appointments:3``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from clinicall.ivr.port import QueueRequest

Outcome = Literal["queue", "selfserved", "afterhours", "hangup", "fallback"]
"""queue: sent to the chosen queue; selfserved: heard an answer and left without an operator;
afterhours: the clinic was closed (no queue); hangup: hung up in the menus; fallback: invalid
or no input ``max_attempts`` times, sent to the universal queue."""

NO_INPUT = "-"
INVALID = "?"


@dataclass(frozen=True, slots=True)
class IvrOutcome:
    language: str
    path: str
    #: The route id chosen; for a call that only heard answers, the last answer's prompt key
    #: (``info_hours``, ``service_<id>``): what the patient called about, for the topics KPI.
    #: None: nothing was chosen.
    route: str | None
    request: QueueRequest | None  # what was sent to port.enqueue (None: no queue entered)
    outcome: Outcome


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
