"""A call the simulated FreeSWITCH clinic places (a callback, agent first), followed step by
step on an Event Socket link of its own: the operator's leg created (its loopback contact is
named by the operator: ``loopback/<id>_...``), the patient's leg created (``loopback/<number>``)
once the operator answered and the whisper ended, the callback dialplan's
``clinicall::callback`` ``Status``, the operator leg's end (docs/engines/freeswitch.md, "The
callback call")."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from clinicall.controller.freeswitch.control import CALLBACK_SUBCLASS
from clinicall.controller.freeswitch.esl.client import EslClient
from clinicall.controller.freeswitch.esl.message import EslEvent
from clinicall.sandbox.freeswitch import FreeswitchSandbox

EVENTS = ("CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP_COMPLETE")
Match = Callable[[str, str], bool]


class FreeswitchPlacedCall:
    """The demo's ``PlacedCallWatch`` on FreeSWITCH."""

    def __init__(self, call_id: str, number: str) -> None:
        self.call_id, self.patient_channel = call_id, f"loopback/{number}-a"
        self._events: list[tuple[str, str]] = []  # (event, channel) of this call's legs
        self.statuses: list[str] = []
        self._changed = asyncio.Event()

    @property
    def events(self) -> list[tuple[str, str]]:
        return list(self._events)

    def on_event(self, event: EslEvent) -> None:
        if event.name == "CUSTOM":
            if event.subclass == CALLBACK_SUBCLASS:  # the clinic places one call at a time
                self.statuses.append(event.get("Status", ""))
                self._events.append((f"CUSTOM {CALLBACK_SUBCLASS}", event.get("Channel-Name", "")))
                self._changed.set()
            return
        channel = event.get("Channel-Name", "")
        if event.unique_id == self.call_id or channel == self.patient_channel:
            self._events.append((event.name, channel))
            self._changed.set()

    async def _until(self, match: Match, timeout: float) -> str:  # noqa: ASYNC109
        """The channel of the first event ``match(event, channel)`` accepts, once there."""
        async with asyncio.timeout(timeout):
            while True:
                self._changed.clear()
                found = next((ch for name, ch in self._events if match(name, ch)), None)
                if found is not None:
                    return found
                await self._changed.wait()

    async def operator_rung(self, timeout: float) -> str:  # noqa: ASYNC109
        channel = await self._until(lambda n, ch: n == "CHANNEL_CREATE"
                                    and ch != self.patient_channel, timeout)  # fmt: skip
        return channel.removeprefix("loopback/").split("_", 1)[0]

    async def patient_dialled(self, timeout: float) -> None:  # noqa: ASYNC109
        await self._until(lambda n, ch: n == "CHANNEL_CREATE" and ch == self.patient_channel,
                          timeout)  # fmt: skip

    async def patient_status(self, timeout: float) -> str:  # noqa: ASYNC109
        await self._until(lambda n, _ch: n.startswith("CUSTOM"), timeout)
        return self.statuses[0]

    async def ended(self, timeout: float) -> None:  # noqa: ASYNC109
        await self._until(lambda n, ch: n == "CHANNEL_HANGUP_COMPLETE"
                          and ch != self.patient_channel, timeout)  # fmt: skip


@asynccontextmanager
async def watching(fs: FreeswitchSandbox, call_id: str,
                   number: str) -> AsyncIterator[FreeswitchPlacedCall]:  # fmt: skip
    """A link of its own following the call ``call_id`` to ``number``."""
    assert fs.esl_port is not None
    watch = FreeswitchPlacedCall(call_id, number)
    esl = EslClient(fs.esl_host, fs.esl_port, fs.esl_password, events=EVENTS,
                    subclasses=(CALLBACK_SUBCLASS,))  # fmt: skip
    esl.add_handler(watch.on_event)
    await esl.start()
    try:
        await esl.wait_connected(10)
        yield watch
    finally:
        await esl.close()
