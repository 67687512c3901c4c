"""What happened to one simulated call, as the real Asterisk reported it over AMI.

The integration tests and the demo assert on this, not on what clinicall believes: the queue
the caller joined (QueueCallerJoin), the operator who answered (AgentConnect), the prompts
Asterisk actually played (AGIExecStart of ``STREAM FILE``/``GET DATA``), the variables the IVR
left on the channel (VarSet CLINICALL_*), and how the call ended.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.ami_headers import unescape_value

_PLAY_COMMANDS = ("STREAM FILE", "GET DATA")

Match = Callable[[Message], bool]


def played_prompt(message: Message) -> str | None:
    """The sound an ``AGIExecStart`` of ``STREAM FILE``/``GET DATA`` plays (None: another)."""
    if message.get("Event") != "AGIExecStart":
        return None
    command = message.get("Command", "")
    for verb in _PLAY_COMMANDS:
        if command.upper().startswith(verb + " "):
            return command[len(verb) + 1 :].split(" ", 1)[0].strip('"')
    return None


@dataclass
class CallTrace:
    """Every AMI event of one call (all channels sharing its linkedid), in wire order."""

    linkedid: str
    events: list[Message] = field(default_factory=list)

    def named(self, event: str) -> list[Message]:
        return [m for m in self.events if m.get("Event") == event]

    @property
    def call_key(self) -> str:
        """The call's key in the store: its linkedid."""
        return self.linkedid

    @property
    def queues_joined(self) -> list[str]:
        return [m.get("Queue", "") for m in self.named("QueueCallerJoin")]

    @property
    def operators_connected(self) -> list[str]:
        return [m.get("MemberName", "") for m in self.named("AgentConnect")]

    @property
    def abandoned(self) -> list[str]:
        return [m.get("Queue", "") for m in self.named("QueueCallerAbandon")]

    @property
    def prompts_played(self) -> list[str]:
        """Sound files the IVR asked Asterisk to play, in order (``clinicall/uk/menu_main``)."""
        return [p for m in self.named("AGIExecStart") if (p := played_prompt(m)) is not None]

    def variable(self, name: str) -> str | None:
        """The last value the channel variable ``name`` was set to (None: never set)."""
        value = None
        for m in self.named("VarSet"):
            if m.get("Variable") == name:
                value = unescape_value(m.get("Value", ""))
        return value

    @property
    def agi_hangup_seen(self) -> bool:
        return any(m.get("SubEvent") == "End" for m in self.named("AsyncAGIEnd")) or bool(
            self.named("AGIExecEnd")
        )


class CallTracer:
    """Groups AMI events by linkedid; a call ends when its last channel has hung up."""

    def __init__(self) -> None:
        self._traces: dict[str, CallTrace] = {}
        self._open_channels: defaultdict[str, set[str]] = defaultdict(set)
        self._ended: dict[str, asyncio.Event] = {}
        self._waiters: list[tuple[str, Match, asyncio.Future[Message]]] = []

    def expect(self, linkedid: str) -> None:
        self._traces.setdefault(linkedid, CallTrace(linkedid))
        self._ended.setdefault(linkedid, asyncio.Event())

    def __call__(self, message: Message) -> None:
        linkedid = message.get("Linkedid") or self._completed_by(message)
        if not linkedid or linkedid not in self._traces:
            return
        self._traces[linkedid].events.append(message)
        event = message.get("Event")
        for waiter in [w for w in self._waiters if w[0] == linkedid and w[1](message)]:
            self._waiters.remove(waiter)
            if not waiter[2].done():
                waiter[2].set_result(message)
        uniqueid = message.get("Uniqueid", "")
        if event == "Newchannel":
            self._open_channels[linkedid].add(uniqueid)
        elif event == "Hangup":
            channels = self._open_channels[linkedid]
            channels.discard(uniqueid)
            if not channels:
                self._ended[linkedid].set()

    def _completed_by(self, message: Message) -> str | None:
        """The call of an AgentComplete that names no channel.  Asterisk 22 sends some with
        only Queue, Interface, MemberName, HoldTime, TalkTime and Reason (both channels were
        gone when it was built); it belongs to the first call that this member was connected
        to in this queue and that has no completion yet."""
        if message.get("Event") != "AgentComplete":
            return None
        member = (message.get("Queue"), message.get("Interface"))
        for linkedid, trace in self._traces.items():
            connected = any((m.get("Queue"), m.get("Interface")) == member
                            for m in trace.named("AgentConnect"))
            if connected and not trace.named("AgentComplete"):
                return linkedid
        return None

    async def finished(self, linkedid: str, timeout: float) -> CallTrace:  # noqa: ASYNC109
        """Wait until every channel of the call has hung up; raise TimeoutError after timeout."""
        async with asyncio.timeout(timeout):
            await self._ended[linkedid].wait()
        return self._traces[linkedid]

    async def wait_for(self, linkedid: str, event: str, timeout: float) -> Message:  # noqa: ASYNC109
        """The first ``event`` of the call, waiting up to ``timeout`` s for it to arrive."""
        return await self.wait_until(linkedid, lambda m: m.get("Event") == event, timeout)

    async def wait_for_prompt(self, linkedid: str, prompt: str, timeout: float) -> Message:  # noqa: ASYNC109
        """The first time Asterisk starts playing ``prompt`` on the call (``AGIExecStart``)."""
        return await self.wait_until(linkedid, lambda m: played_prompt(m) == prompt, timeout)

    async def wait_until(self, linkedid: str, match: Match, timeout: float) -> Message:  # noqa: ASYNC109
        """The call's first event that ``match`` accepts, waiting up to ``timeout`` s."""
        seen = [m for m in self._traces[linkedid].events if match(m)]
        if seen:
            return seen[0]
        waiter = (linkedid, match, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                message: Message = await waiter[2]
                return message
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def trace(self, linkedid: str) -> CallTrace:
        return self._traces[linkedid]
