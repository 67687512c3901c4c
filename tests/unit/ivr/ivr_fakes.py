"""A scripted CallPort: records every call, answers collects from a script of key presses."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml

from clinicall.calltypes import CallInfo, QueueRequest
from clinicall.ivr.port import CallerHungUp, Recorded
from clinicall.settings.models import ClinicConfig

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "clinic.example.yaml"
HANGUP = "<hangup>"  # script item: the caller hangs up during this collect
TIMEOUT = ""  # script item: nothing pressed
GENERAL_NUMBER = "+380441234567"  # no language: the caller gets the language menu
ENGLISH_NUMBER = "+380441234568"


def load_example() -> ClinicConfig:
    with EXAMPLE.open(encoding="utf-8") as f:
        return ClinicConfig.model_validate(yaml.safe_load(f))


class FakePort:
    """Answers ``collect`` from ``script``; raises CallerHungUp on a HANGUP item, at call number
    ``hangup_at`` (0-based, any method), or when the script runs out and ``exhausted_hangs_up``."""

    def __init__(
        self,
        script: Iterable[str] = (),
        *,
        dialled: str = GENERAL_NUMBER,
        hangup_at: int | None = None,
        exhausted_hangs_up: bool = False,
    ) -> None:
        self.script = list(script)
        self.hangup_at = hangup_at
        self.exhausted_hangs_up = exhausted_hangs_up
        self.calls: list[tuple[str, object]] = []
        self.collects: list[list[str]] = []
        self.played: list[str] = []
        self.enqueued: list[QueueRequest] = []
        self.recorded: list[tuple[str, str, float, float, str]] = []
        self.hang_up_while_recording = False
        self.hung_up = False
        self._info = CallInfo("c1", "ch1", "+380501112233", "", dialled, "asterisk")

    @property
    def info(self) -> CallInfo:
        return self._info

    def _step(self, name: str, arg: object = None) -> None:
        if self.hung_up or (self.hangup_at is not None and len(self.calls) >= self.hangup_at):
            self.hung_up = True
            raise CallerHungUp
        self.calls.append((name, arg))

    async def answer(self) -> None:
        self._step("answer")

    async def set_language(self, language: str) -> None:
        self._step("set_language", language)

    async def play(self, prompts: list[str], *, digits: str = "") -> str:
        self._step("play", tuple(prompts))
        self.played += prompts
        return ""

    async def collect(
        self, prompts: list[str], *, digits: str, max_digits: int, timeout_s: float
    ) -> str:
        self._step("collect", (tuple(prompts), digits, max_digits, timeout_s))
        self.collects.append(list(prompts))
        self.played += prompts
        if not self.script:
            if self.exhausted_hangs_up:
                self.hung_up = True
                raise CallerHungUp
            raise AssertionError(f"unexpected collect {prompts}: the script is exhausted")
        key = self.script.pop(0)
        if key == HANGUP:
            self.hung_up = True
            raise CallerHungUp
        return key

    async def say_number(self, number: int, *, digits: str = "") -> str:
        self._step("say_number", number)
        return ""

    async def set_variable(self, name: str, value: str) -> None:
        self._step("set_variable", (name, value))

    async def enqueue(self, request: QueueRequest) -> None:
        self._step("enqueue", request)
        self.enqueued.append(request)

    async def record(self, name: str, *, fmt: str, max_s: float, silence_s: float,
                     finish_keys: str, beep: bool = True) -> Recorded:
        self._step("record", name)
        self.recorded.append((name, fmt, max_s, silence_s, finish_keys))
        if self.hang_up_while_recording:
            self.hung_up = True
            raise CallerHungUp
        return Recorded("#", 4.5)

    async def hangup(self) -> None:
        self._step("hangup")
        self.hung_up = True

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]
