"""The FreeSWITCH engine: the engine port (``controller.port.Engine``) over the Event Socket.

One object per FreeSWITCH, built by the wiring from the clinic config's ``engine:`` section:

- live facts: every event of the inbound link (channels, ``callcenter::info``, recordings, the
  link's own up/down) goes through ``EslFactDecoder`` to the subscribers, in wire order;
- control: ``FreeswitchControl`` (bgapi originate, callcenter_config, uuid_kill, uuid_setvar);
  it also hears the ``clinicall::callback`` events the callback dialplan fires;
- per-call sessions: the outbound-socket server the dialplan's ``socket`` connects to, each
  call handed over as a ``FreeswitchCallPort``;
- health: the inbound link's state, last event and reconnects;
- the durable record: mod_cdr_csv's ``<cdr_dir>/clinicall.csv`` from the account's cursor
  (``cdr.CdrRecord``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from clinicall.controller.freeswitch.call_port import FreeswitchCallPort
from clinicall.controller.freeswitch.cdr import CdrRecord
from clinicall.controller.freeswitch.control import (
    ACCOUNT,
    CALLBACK_SUBCLASS,
    ORIGINATE_CONTEXT,
    QUEUE_DOMAIN,
    FreeswitchControl,
    call_id_for,
)
from clinicall.controller.freeswitch.esl.client import EslClient
from clinicall.controller.freeswitch.esl.message import EslEvent
from clinicall.controller.freeswitch.esl.outbound import OutboundServer, OutboundSession
from clinicall.controller.freeswitch.esl_facts import CALLCENTER, EslFactDecoder
from clinicall.controller.port import CallHandler, EngineHealth, FactHandler, ReconcileBatch
from clinicall.settings.models import FreeswitchEngine as FreeswitchSettings

log = logging.getLogger(__name__)

#: The events the account follows (controller/freeswitch/esl_facts.py decodes them).
EVENTS = ("CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE",
          "RECORD_START", "RECORD_STOP")  # fmt: skip


class FreeswitchEngine:
    """See the module docstring.  ``start`` connects the inbound event socket (in the
    background, with backoff); ``serve_calls`` opens the outbound-socket port; ``close``
    stops both."""

    name = "freeswitch"

    def __init__(
        self,
        settings: FreeswitchSettings,
        *,
        outbound_port: int | None = None,
        originate_context: str = ORIGINATE_CONTEXT,
    ) -> None:
        self.settings = settings
        self.outbound_port = settings.outbound_port if outbound_port is None else outbound_port
        self.esl = EslClient(settings.esl_host, settings.esl_port, settings.esl_password,
                             events=EVENTS, subclasses=(CALLCENTER, CALLBACK_SUBCLASS),
                             on_status=self._on_status)  # fmt: skip
        self._control = FreeswitchControl(self.esl, originate_context=originate_context)
        self.record = CdrRecord(Path(settings.cdr_dir) / f"{ACCOUNT}.csv",
                                queue_domain=QUEUE_DOMAIN)  # fmt: skip
        self.decoder = EslFactDecoder(recordings_dir=settings.recordings_dir, account=ACCOUNT,
                                      queue_domain=QUEUE_DOMAIN)  # fmt: skip
        self._handlers: list[FactHandler] = []
        self.outbound: OutboundServer | None = None
        self.esl.add_handler(self._on_event)

    # ---- facts -------------------------------------------------------------------------

    def subscribe(self, handler: FactHandler) -> None:
        self._handlers.append(handler)

    @property
    def control(self) -> FreeswitchControl:
        return self._control

    def call_id_for(self, key: str) -> str:
        """The originated call's ``origination_uuid`` for ``key`` (``control.call_id_for``)."""
        return call_id_for(key)

    def _on_event(self, event: EslEvent) -> None:
        self._control.on_event(event)  # a callback's patient leg: its outcome
        for fact in self.decoder.decode(event):
            for handler in self._handlers:
                handler(fact)

    @property
    def record_name(self) -> str:
        return self.record.record_name

    async def reconcile(self, cursor: Mapping[str, Any] | None) -> ReconcileBatch:
        return await self.record.reconcile(cursor)

    # ---- health ------------------------------------------------------------------------

    def health(self) -> EngineHealth:
        h = self.esl.health()
        return EngineHealth(engine=self.name, up=h.up, since=h.since,
                            last_event_at=h.last_event_at, reconnects=h.reconnects,
                            detail=h.last_error)  # fmt: skip

    async def wait_up(self, timeout_s: float) -> None:
        """Until the inbound link is up and subscribed (TimeoutError after ``timeout_s``)."""
        await self.esl.wait_connected(timeout_s)

    def _on_status(self, up: bool, detail: str) -> None:
        if not up:
            self._control.on_link_lost(detail)

    # ---- calls -------------------------------------------------------------------------

    async def serve_calls(self, handler: CallHandler) -> None:
        """Open the outbound-socket port: each call the dialplan hands over runs ``handler``."""

        async def session(call: OutboundSession) -> None:
            await handler(await FreeswitchCallPort.open(call))

        self.outbound = OutboundServer(session, host=self.settings.outbound_host,
                                       port=self.outbound_port)  # fmt: skip
        await self.outbound.start()
        log.info("FreeSWITCH outbound socket on %s:%s", self.settings.outbound_host,
                 self.outbound.port)  # fmt: skip

    # ---- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        await self.esl.start(wait=False)
        log.info("Event Socket to %s:%s", self.settings.esl_host, self.settings.esl_port)

    async def close(self) -> None:
        if self.outbound is not None:
            await self.outbound.close()
        await self.esl.close()
