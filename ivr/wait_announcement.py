"""The place and estimated wait a caller hears: in the queue's callback offer, and as they
join a queue that announces the wait (``callbacks.announce_wait``; docs/callbacks.md,
"Estimated wait").  The wait is a range ("less than 5 minutes"), never a number of seconds.
"""

from __future__ import annotations

from typing import Protocol

from clinicall.ivr import prompts
from clinicall.ivr.port import CallPort
from clinicall.routing.wait_estimate import WaitRange


class Place(Protocol):
    """A caller's 1-based place in the line and their wait as a range (None: unknown)."""

    @property
    def position(self) -> int | None: ...

    @property
    def wait(self) -> WaitRange | None: ...


async def announce_place(port: CallPort, language: str, position: int | None,
                         wait: WaitRange | None, *, digits: str = "") -> str:  # fmt: skip
    """Speak the place and the wait; return the first of ``digits`` pressed meanwhile (the
    rest is then not spoken), or ``""``."""
    if position is not None:
        if key := await port.play([prompts.prompt_name(language, prompts.QUEUE_POSITION)],
                                  digits=digits):  # fmt: skip
            return key
        if key := await port.say_number(position, digits=digits):
            return key
    if wait is not None:
        name = prompts.prompt_name(language, prompts.wait_key(wait.low_min, wait.high_min))
        return await port.play([name], digits=digits)
    return ""
