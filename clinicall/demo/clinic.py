"""What the demo needs of a simulated clinic, whichever engine runs it: the small interface
``SimulatedClinic`` (Asterisk) and ``FreeswitchClinic`` (FreeSWITCH) both implement, so the
demo's steps are written once and only the choice of clinic names the engine."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Protocol, TypeVar

from clinicall.controller.port import Engine
from clinicall.settings.models import ClinicConfig

#: How a clinic names one patient's call (Asterisk: its linkedid; FreeSWITCH: its trace).
Call = TypeVar("Call")


class TraceView(Protocol):
    """What either engine's simulated clinic says happened to a call."""

    @property
    def queues_joined(self) -> list[str]: ...

    @property
    def operators_connected(self) -> list[str]: ...

    @property
    def abandoned(self) -> list[str]: ...

    @property
    def prompts_played(self) -> list[str]: ...

    @property
    def call_key(self) -> str:
        """The call's key in the store (the account's ``calls.call_key``)."""
        ...

    def variable(self, name: str) -> str | None: ...


class PlacedCallWatch(Protocol):
    """A call the clinic places (a callback, agent first), step by step as the engine reports
    it; ``events`` are the engine's own events of that call in order, (name, channel)."""

    @property
    def events(self) -> list[tuple[str, str]]: ...

    async def operator_rung(self, timeout: float) -> str: ...  # noqa: ASYNC109

    async def patient_dialled(self, timeout: float) -> None: ...  # noqa: ASYNC109

    async def patient_status(self, timeout: float) -> str: ...  # noqa: ASYNC109

    async def ended(self, timeout: float) -> None: ...  # noqa: ASYNC109


class DemoClinic(Protocol[Call]):
    """A running simulated clinic as the demo drives it."""

    @property
    def config(self) -> ClinicConfig: ...

    @property
    def recordings_spool(self) -> Path:
        """Where the engine writes the calls' recordings (the importer's spool)."""
        ...

    async def operators_answer_after(self, ring_s: Mapping[str, int], /) -> None:
        """Every operator answers; those in ``ring_s`` let the phone ring that long first."""
        ...

    async def call(self, *, digits: str, hold_s: int, number: str | None,
                   caller: str) -> Call: ...  # fmt: skip

    async def hang_up_after_join(self, call: Call, wait_s: float, /) -> None: ...

    async def press_when_prompt(self, call: Call, prompt: str, keys: str,
                                timeout: float, /) -> None:  # noqa: ASYNC109  # fmt: skip
        """The patient presses ``keys`` once the engine starts playing ``prompt``."""
        ...

    async def hang_up_when_prompt(self, call: Call, prompt: str,
                                  timeout: float, /) -> None:  # noqa: ASYNC109  # fmt: skip
        """The patient hangs up once the engine starts playing ``prompt``."""
        ...

    async def finished(self, call: Call, timeout: float, /) -> TraceView: ...  # noqa: ASYNC109

    def route_placed_calls(self, engine: Engine, /) -> None:
        """Point the engine's placed calls at the simulated patients (who answer)."""
        ...

    def watch_placed(self, call_id: str, number: str,
                     /) -> AbstractAsyncContextManager[PlacedCallWatch]:  # fmt: skip
        """Follow the call the clinic places with id ``call_id`` to ``number``."""
        ...
