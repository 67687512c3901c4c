"""The controller: one clinic's FastAGI IVR server, its AMI connection and its call account.

This is the one place where the parts are wired together (STYLE.md: feature parts built and
passed their dependencies explicitly).  ``ivr`` and ``routing`` stay pure; the engine
specifics live in ``agi_scripts`` and ``controller``; this module only connects them and owns
their lifetimes: ``async with Controller(config) as c`` starts everything and closing it
cancels and awaits everything it started.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Protocol, Self

from agi_scripts.asterisk_port import AsteriskCallPort
from agi_scripts.channel import AgiChannel
from agi_scripts.server import FastAgiServer, ScriptRouter
from agi_scripts.variables import IVR_SCRIPT
from clinicall.privacy import mask_number
from clinicall.settings.models import ClinicConfig
from controller.ami.client import AMIClient
from controller.ami.message import Message
from ivr.interpreter import run_ivr
from ivr.outcome import IvrOutcome
from ivr.plan import IvrPlan
from ivr.port import CallInfo

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class CallAccount(Protocol):
    """What the controller feeds the call account (``controller.tracking``) with."""

    async def record_ivr(self, info: CallInfo, outcome: IvrOutcome, started_at: datetime) -> None:
        ...

    async def handle_message(self, message: Message) -> None: ...

    async def engine_up(self) -> None:
        """The AMI link (re)connected: reconcile what was missed while it was down."""
        ...


class Controller:
    """Runs the IVR for every call Asterisk hands over and keeps the AMI link up."""

    def __init__(
        self,
        config: ClinicConfig,
        *,
        account: CallAccount | None = None,
        now: Clock = utc_now,
        agi_port: int | None = None,
    ) -> None:
        self.config = config
        self.account = account
        self.now = now
        self.plan = IvrPlan.compile(config)
        ast = config.asterisk
        self.agi = FastAgiServer(
            ScriptRouter({IVR_SCRIPT: self.ivr_session}),
            host=ast.agi_host,
            port=ast.agi_port if agi_port is None else agi_port,
        )
        self.ami = AMIClient(
            ast.ami_host, ast.ami_port, ast.ami_user, ast.ami_secret, on_status=self._ami_status
        )
        self.calls_handled = 0

    async def ivr_session(self, channel: AgiChannel) -> None:
        """One call through the IVR; its outcome goes to the call account."""
        started = self.now()
        port = await AsteriskCallPort.open(channel)
        outcome = await run_ivr(port, self.config, now=self.now, plan=self.plan)
        self.calls_handled += 1
        info = port.info
        log.info(
            "call %s from %s: %s, language %s, path %s, route %s",
            info.call_id,
            mask_number(info.caller_number),
            outcome.outcome,
            outcome.language,
            outcome.path or "-",
            outcome.route or "-",
        )
        if self.account is not None:
            await self.account.record_ivr(info, outcome, started)

    def _ami_status(self, up: bool, detail: str) -> None:
        log.info("AMI link %s%s", "up" if up else "down", f": {detail}" if detail else "")

    async def start(self) -> None:
        await self.agi.start()
        if self.account is not None:
            self.ami.add_handler(self.account.handle_message)
        await self.ami.start(wait=False)
        log.info(
            "controller up: FastAGI on %s:%s, AMI to %s:%s",
            self.config.asterisk.agi_host,
            self.agi.port,
            self.config.asterisk.ami_host,
            self.config.asterisk.ami_port,
        )

    async def close(self) -> None:
        await self.agi.close()
        await self.ami.close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
