"""The one call-control interface the IVR talks to, whatever engine carries the call.

``agi_scripts`` adapts a live Asterisk channel (FastAGI) and, later, a FreeSWITCH channel
(Event Socket outbound) to this protocol.  The menu interpreter never sees a socket: it calls
these coroutines and reacts to their results and to :class:`CallerHungUp`.

Prompts are names relative to the engine's sound directory, without extension and already
resolved for the call's language (``clinicall/uk/menu_main``, ``ru/digits/1``); the adapter only
transports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from clinicall.calltypes import CallInfo, QueueRequest


class CallerHungUp(Exception):  # control flow, not an error: hence no "Error" suffix
    """The caller hung up.  Raised by any port method once the engine reports the hang-up."""


class PortError(Exception):
    """The engine refused or failed a command (invalid command, channel gone wrong, ...)."""


@dataclass(frozen=True, slots=True)
class Recorded:
    """What :meth:`CallPort.record` left: the key that ended it ('' for the time limit or
    silence) and the engine's measure of the audio written, in seconds."""

    key: str
    seconds: float


class CallPort(Protocol):
    """Engine-neutral call control used by the IVR (see module docstring)."""

    @property
    def info(self) -> CallInfo: ...

    async def answer(self) -> None: ...

    async def set_language(self, language: str) -> None: ...

    async def play(self, prompts: list[str], *, digits: str = "") -> str:
        """Play prompts in order; return the first of ``digits`` pressed ('' if none).

        Pressing a key stops playback at once (barge-in).
        """
        ...

    async def collect(
        self, prompts: list[str], *, digits: str, max_digits: int, timeout_s: float
    ) -> str:
        """Play prompts, then wait up to ``timeout_s`` for digits; return what was pressed ('')."""
        ...

    async def say_number(self, number: int, *, digits: str = "") -> str:
        """Speak a number in the call's language with the engine's own sounds (barge-in)."""
        ...

    async def set_variable(self, name: str, value: str) -> None: ...

    async def enqueue(self, request: QueueRequest) -> None:
        """Hand the caller to the engine's queue; the IVR session ends after this."""
        ...

    async def record(self, name: str, *, fmt: str, max_s: float, silence_s: float,
                     finish_keys: str, beep: bool = True) -> Recorded:
        """Record what the caller says into ``name.fmt``, a name relative to the engine's
        recording spool (the directory its call recordings go to, ``recordings.spool_dir``
        on this host), after a beep, until one of ``finish_keys``, ``silence_s`` of silence
        or ``max_s``; an existing file is overwritten (a re-recording).  Asterisk: AGI
        ``RECORD FILE``; FreeSWITCH: the ``record`` application (``record_session`` records a
        bridged call, not a message)."""
        ...

    async def hangup(self) -> None: ...
