"""A simulated clinic on a real Asterisk: the generated config, prompts, operators, patients.

Used by the demo and by the integration tests.  It starts a private Asterisk 22 from the cached
Debian root with exactly the config ``clinicall asterisk-config --simulated`` generates, included
as a fresh install includes it (``installed_asterisk_config``; queue
members are ``Local/<id>@clinicall-sim-operators/n``), drops the clinic's spoken prompts into
its sound directory, and places patients as AMI Originates of ``Local/s@clinicall-sim-patient``
that press keys with ``SendDTMF``.  It does not start the controller: the caller runs
``clinicall.app.Controller`` against :attr:`SimulatedClinic.config`, or leaves it down to
exercise the fail-open dialplan.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from clinicall.asterisk_config import installed_asterisk_config
from clinicall.asterisk_config import simulation as sim
from clinicall.asterisk_config.dialplan import INBOUND
from clinicall.asterisk_config.manager import OBSERVER_USER
from clinicall.asterisk_config.queues import member_interface
from clinicall.controller.asterisk.ami.client import AMIClient
from clinicall.controller.port import Engine
from clinicall.prompt_build import build_prompts, prompt_texts
from clinicall.sandbox.asterisk import AsteriskSandbox
from clinicall.sandbox.ports import EnginePorts
from clinicall.sandbox.rootfs import default_cache_dir
from clinicall.settings.models import ClinicConfig
from clinicall.simclinic.calltrace import CallTrace, CallTracer
from clinicall.simclinic.placed import AsteriskPlacedCall

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
#: The uniqueid suffix of the patient's own leg (``;2``, running ``clinicall-sim-patient``).
PATIENT_LEG = "-p"
KEY_PAUSE_S = 0.2  # between two keys a simulated patient presses


def with_ports(config: ClinicConfig, ports: EnginePorts) -> ClinicConfig:
    """The clinic config pointed at a sandbox's private loopback ports."""
    asterisk = config.asterisk_engine().model_copy(
        update={"ami_port": ports.ami, "sip_port": ports.sip, "agi_port": ports.agi}
    )
    return config.model_copy(update={"engine": asterisk})


class SimulatedClinic:
    """A running sandbox Asterisk with the clinic's config; see the module docstring."""

    def __init__(self, config: ClinicConfig, asterisk: AsteriskSandbox, ami: AMIClient) -> None:
        self.config = config
        self.asterisk = asterisk
        self.ami = ami
        self.tracer = CallTracer()
        ami.add_handler(self.tracer)

    @classmethod
    @asynccontextmanager
    async def run(
        cls,
        config: ClinicConfig,
        *,
        root: Path,
        name: str = "clinic",
        progress: Progress = lambda line: None,
        own_files: Mapping[str, str] | None = None,
        ports: EnginePorts | None = None,
        log_in_operators: bool = True,
    ) -> AsyncIterator[SimulatedClinic]:
        """``own_files``: the administrator's files (``extensions.conf`` with their contexts
        and the ``#include``), in place of a fresh install's.  ``log_in_operators``: add every
        simulated operator to their configured queues, as the controller does at start
        (the generated config has no static members: docs/engines/asterisk.md)."""
        ports = ports or EnginePorts.pick()
        config = with_ports(config, ports)
        conf = {**installed_asterisk_config(config, simulated=True), **(own_files or {})}
        asterisk = AsteriskSandbox(
            root, conf, name=name, ami_port=ports.ami, sip_port=ports.sip, agi_port=ports.agi
        )
        async with asterisk:
            progress(f"Asterisk up in {asterisk.boot_seconds:.2f} s; AMI on port {ports.ami}")
            # Sound files are looked up when played, so the prompts may land after boot.
            cache = Path(os.environ.get("CLINICALL_CACHE") or default_cache_dir()) / "prompts"
            items = prompt_texts(config)
            progress(f"speaking {len(items)} clinic prompts (cached in {cache})")
            recorded = config.ivr.recorded_prompts
            await build_prompts(items, asterisk.sounds_dir, cache_dir=cache,
                                recorded=Path(recorded) if recorded else None)
            settings = config.asterisk_engine()
            # the observer user sees every event; the controller's own user is filtered
            ami = AMIClient("127.0.0.1", ports.ami, OBSERVER_USER, settings.ami_secret,
                            ping_interval=2.0, ping_timeout=2.0)
            async with ami:
                await ami.wait_connected(10)
                clinic = cls(config, asterisk, ami)
                if log_in_operators:
                    await clinic.log_in_operators()
                yield clinic

    async def log_in_operators(self) -> None:
        """Every operator into their configured queues, with their penalty (``QueueAdd``)."""
        for op in self.config.operators:
            for queue, penalty in op.queues.items():
                await self.ami.action("QueueAdd", {
                    "Queue": queue, "Interface": member_interface(op.id, simulated=True),
                    "MemberName": op.id, "Penalty": str(penalty)})

    async def set_operator(self, operator_id: str, behaviour: str = "answer", *,
                           talk_s: int | None = None, ring_s: int | None = None) -> None:
        """Make a simulated operator ``answer`` (after ``ring_s``, talking ``talk_s`` seconds)
        or ``noanswer``."""
        values = {sim.OP_BEHAVIOUR: behaviour, sim.OP_TALK: talk_s, sim.OP_RING: ring_s}
        for prefix, value in values.items():
            if value is not None:
                await self.ami.action("Setvar", {"Variable": prefix + operator_id,
                                                 "Value": str(value)})

    async def call(self, *, digits: str = "", hold_s: int = 30, number: str | None = None,
                   caller: str = "+380501112233", tone_hz: int | None = None) -> str:
        """Place one patient call; return its linkedid (wait with :meth:`finished`).

        ``digits`` are pressed one second after the IVR answers (``w`` waits 0.5 s between
        keys); the patient then stays on the line ``hold_s`` seconds unless the call ends first,
        playing a tone of ``tone_hz`` meanwhile if given (a patient who talks).
        """
        linkedid = f"sim-{uuid.uuid4().hex[:12]}"
        self.tracer.expect(linkedid)
        await self.ami.action("Originate", {
            "Channel": f"Local/s@{sim.PATIENT}/n",
            "Context": INBOUND,
            "Exten": number or self.config.numbers[0].number,
            "Priority": "1",
            "CallerID": f"Patient <{caller}>",
            "ChannelId": linkedid,
            "OtherChannelId": linkedid + PATIENT_LEG,
            "Variable": [f"{sim.DIGITS}={digits}", f"{sim.HOLD}={hold_s}",
                         f"{sim.TONE}={tone_hz or ''}"],
            "Async": "true",
        })
        return linkedid

    async def hang_up_after_join(self, linkedid: str, wait_s: float) -> None:
        """The patient hangs up ``wait_s`` seconds after joining a queue (an abandon)."""
        await self.tracer.wait_for(linkedid, "QueueCallerJoin", timeout=30)
        await asyncio.sleep(wait_s)
        await self.hang_up(linkedid)

    async def hang_up(self, linkedid: str) -> None:
        """The patient hangs up now (the caller's channel, as a real patient would)."""
        trace = self.tracer.trace(linkedid)
        channel = next(m.get("Channel", "") for m in trace.named("Newchannel")
                       if m.get("Uniqueid") == linkedid)
        await self.ami.action("Hangup", {"Channel": channel, "Cause": "16"})

    async def press(self, linkedid: str, digits: str) -> None:
        """The patient presses ``digits`` now: one AMI ``PlayDTMF`` per key (250 ms, Asterisk
        sends it before it answers), sent from the patient's own leg of the Local channel.

        A human leaves a pause between keys, and so must the simulation: Asterisk holds back a
        key that follows the last one within 45 ms until the channel reads its next frame,
        and a silent Local channel sends none (``SendDTMF`` leaves 100 ms between keys).
        """
        trace = self.tracer.trace(linkedid)
        channel = next(m.get("Channel", "") for m in trace.named("Newchannel")
                       if m.get("Uniqueid") == linkedid + PATIENT_LEG)
        for i, digit in enumerate(digits):
            if i:
                await asyncio.sleep(KEY_PAUSE_S)  # the patient's pause, not a wait for a signal
            await self.ami.action("PlayDTMF", {"Channel": channel, "Digit": digit,
                                               "Duration": "250"})

    async def finished(self, linkedid: str, timeout: float = 60.0) -> CallTrace:  # noqa: ASYNC109
        return await self.tracer.finished(linkedid, timeout)

    # ---- what the demo drives (clinicall/demo/clinic.py, ``DemoClinic``) ------------------

    @property
    def recordings_spool(self) -> Path:
        """MixMonitor's spool as this host sees it."""
        layout = self.asterisk.layout
        return layout.host(layout.dir("spool")) / "monitor"

    async def operators_answer_after(self, ring_s: Mapping[str, int]) -> None:
        """Every operator answers (the n-th talks 4 + 2n s); those in ``ring_s`` ring that
        long first."""
        for i, op in enumerate(self.config.operators):
            await self.set_operator(op.id, "answer", talk_s=4 + 2 * i, ring_s=ring_s.get(op.id))

    async def press_when_prompt(self, linkedid: str, prompt: str, keys: str,
                                timeout: float) -> None:  # noqa: ASYNC109  # fmt: skip
        await self.tracer.wait_for_prompt(linkedid, prompt, timeout=timeout)
        await self.press(linkedid, keys)

    async def hang_up_when_prompt(self, linkedid: str, prompt: str,
                                  timeout: float) -> None:  # noqa: ASYNC109  # fmt: skip
        """The patient hangs up once Asterisk starts playing ``prompt`` (``AGIExecStart``)."""
        await self.tracer.wait_for_prompt(linkedid, prompt, timeout=timeout)
        await self.hang_up(linkedid)

    def route_placed_calls(self, engine: Engine) -> None:
        """Nothing to do: the simulated config's dialplan answers the patients it dials."""

    @asynccontextmanager
    async def watch_placed(self, call_id: str, number: str) -> AsyncIterator[AsteriskPlacedCall]:
        self.tracer.expect(call_id)
        yield AsteriskPlacedCall(self.tracer, call_id)
