"""What the simulated patients' ports share: a :class:`CallPort` in virtual time, where every
prompt takes :data:`PROMPT_S` seconds (the day's prompts are not measured: a mean length of the
spoken prompts) and nothing reaches an engine.  ``patient_port`` (the IVR) and ``survey_port``
(the post-call survey) add how their patient answers."""

from __future__ import annotations

from clinicall.calltypes import CallInfo, QueueRequest
from clinicall.ivr.port import Recorded

PROMPT_S = 4.0


class VirtualPort:
    """``elapsed_s``: the virtual time since the session began."""

    def __init__(self, info: CallInfo) -> None:
        self._info = info
        self.elapsed_s = 0.0

    @property
    def info(self) -> CallInfo:
        return self._info

    async def answer(self) -> None:
        return None

    async def set_language(self, language: str) -> None:
        return None

    async def play(self, prompts: list[str], *, digits: str = "") -> str:
        self.elapsed_s += PROMPT_S * len(prompts)
        return ""

    async def say_number(self, number: int, *, digits: str = "") -> str:
        self.elapsed_s += PROMPT_S
        return ""

    async def set_variable(self, name: str, value: str) -> None:
        return None

    async def enqueue(self, request: QueueRequest) -> None:
        return None

    async def record(self, name: str, *, fmt: str, max_s: float, silence_s: float,
                     finish_keys: str, beep: bool = True) -> Recorded:  # fmt: skip
        return Recorded("", 0.0)

    async def hangup(self) -> None:
        return None
