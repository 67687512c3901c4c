"""The Asterisk engine: the engine port (``controller.port.Engine``) over AMI, FastAGI and
queue_log.

One object per Asterisk, built by the wiring from the clinic config's ``engine:`` section:

- live facts: every AMI frame goes through ``AmiFactDecoder`` to the subscribers, in wire order;
- the durable record: ``queue_log`` from the account's cursor (``record.QueueLogRecord``);
- control: ``AsteriskControl`` (Originate, QueueAdd/Remove/Pause, QueueStatus, Hangup, Setvar);
- per-call sessions: the FastAGI server, each call handed over as an ``AsteriskCallPort``
  (only from the addresses in ``agi_allow``);
- health: the AMI link's state, last event and reconnects (``AmiHealth``), and the FastAGI
  server's counts of connections it closed before their session (dropped for the pending
  budget, malformed, refused for their address, timed out before their environment).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from clinicall.agi_scripts.asterisk_port import AsteriskCallPort
from clinicall.agi_scripts.channel import AgiChannel
from clinicall.agi_scripts.doctor import answer_doctor
from clinicall.agi_scripts.peers import PeerAllowList
from clinicall.agi_scripts.server import FastAgiServer, ScriptRouter
from clinicall.agi_scripts.variables import (
    CALLBACK_SCRIPT,
    DOCTOR_SCRIPT,
    IVR_SCRIPT,
    OFFER_SCRIPT,
    REMINDER_SCRIPT,
    SURVEY_SCRIPT,
)
from clinicall.controller.asterisk.ami.client import AMIClient
from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.ami_facts import AmiFactDecoder
from clinicall.controller.asterisk.control import AsteriskControl, call_id_for
from clinicall.controller.asterisk.health import AmiHealth
from clinicall.controller.asterisk.record import QueueLogRecord
from clinicall.controller.port import CallHandler, EngineHealth, FactHandler, ReconcileBatch
from clinicall.settings.models import AsteriskEngine as AsteriskSettings

log = logging.getLogger(__name__)


class AsteriskEngine:
    """See the module docstring.  ``start`` connects AMI (in the background, with backoff);
    ``serve_calls`` opens the FastAGI port; ``close`` stops both."""

    name = "asterisk"

    def __init__(
        self,
        settings: AsteriskSettings,
        *,
        agi_port: int | None = None,
        queue_log: str | os.PathLike[str] | None = None,
    ) -> None:
        self.settings = settings
        self.agi_port = settings.agi_port if agi_port is None else agi_port
        self.health_state = AmiHealth()
        self.ami = AMIClient(settings.ami_host, settings.ami_port, settings.ami_user,
                             settings.ami_secret, on_status=self._on_status)  # fmt: skip
        self._control = AsteriskControl(self.ami)
        self.record = QueueLogRecord(queue_log if queue_log is not None else settings.queue_log)
        self.decoder = AmiFactDecoder()
        self._handlers: list[FactHandler] = []
        self.agi: FastAgiServer | None = None
        self.ami.add_handler(self._on_message)

    # ---- facts -------------------------------------------------------------------------

    def subscribe(self, handler: FactHandler) -> None:
        self._handlers.append(handler)

    @property
    def control(self) -> AsteriskControl:
        return self._control

    def _on_message(self, message: Message) -> None:
        self.health_state.on_event()
        self._control.on_message(message)
        for fact in self.decoder.decode(message):
            for handler in self._handlers:
                handler(fact)

    @property
    def record_name(self) -> str:
        return self.record.record_name

    async def reconcile(self, cursor: Mapping[str, Any] | None) -> ReconcileBatch:
        return await self.record.reconcile(cursor)

    # ---- health ------------------------------------------------------------------------

    def call_id_for(self, key: str) -> str:
        """The originate's ChannelId for ``key`` (``control.call_id_for``)."""
        return call_id_for(key)

    def health(self) -> EngineHealth:
        health = self.health_state.snapshot()
        agi = self.agi
        if agi is None:  # not serving calls (yet): nothing dropped
            return health
        return replace(health, call_connections_dropped=agi.pending_dropped_count,
                       call_connections_malformed=agi.malformed_count,
                       call_connections_refused=agi.refused_count,
                       call_connections_timed_out=agi.env_timeout_count)

    async def wait_up(self, timeout_s: float) -> None:
        """Until the AMI link is up (TimeoutError after ``timeout_s``)."""
        await self.ami.wait_connected(timeout_s)

    def _on_status(self, up: bool, detail: str) -> None:
        self.health_state.on_status(up, detail)
        if not up:
            self._control.on_link_lost(detail)
        log.info("AMI link %s%s", "up" if up else "down", f": {detail}" if detail else "")

    # ---- calls -------------------------------------------------------------------------

    async def serve_calls(self, handler: CallHandler) -> None:
        """Open the FastAGI port: each call the dialplan hands over runs ``handler`` (the IVR,
        and the post-call survey: its port's ``info.answered`` is set)."""

        async def session(channel: AgiChannel) -> None:
            await handler(await AsteriskCallPort.open(channel))

        allow = PeerAllowList.parse(self.settings.agi_allow)  # checked by the config loader
        router = ScriptRouter({IVR_SCRIPT: session, SURVEY_SCRIPT: session,
                               REMINDER_SCRIPT: session, OFFER_SCRIPT: session,
                               CALLBACK_SCRIPT: session,
                               DOCTOR_SCRIPT: answer_doctor})  # no call: 'clinicall doctor'
        self.agi = FastAgiServer(router, host=self.settings.agi_host, port=self.agi_port,
                                 allow=allow)
        await self.agi.start()
        log.info("FastAGI on %s:%s, serving %s", self.settings.agi_host, self.agi.port,
                 ", ".join(self.settings.agi_allow))  # fmt: skip

    # ---- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        await self.ami.start(wait=False)
        log.info("AMI to %s:%s", self.settings.ami_host, self.settings.ami_port)

    async def close(self) -> None:
        if self.agi is not None:
            await self.agi.close()
        await self.ami.close()
