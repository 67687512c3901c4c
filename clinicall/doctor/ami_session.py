"""One short AMI session for the doctor: connect, log in once, ask, leave.

Unlike the controller's client it never retries: a refused login is the answer the doctor
reports.  It reuses the controller's connection (parser and action bookkeeping).  Events are
off unless asked for (``events="user"`` for the FastAGI probe's ``UserEvent``); a check awaits
the one it wants with :meth:`AmiSession.expect`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType

from clinicall.controller.asterisk.ami.connection import ActionResult, AMIConnection
from clinicall.controller.asterisk.ami.errors import AMIActionError
from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.ami.protocol import FieldValue
from clinicall.settings.models import AsteriskEngine


class LoginRefused(Exception):
    """Asterisk answered the Login with an error (wrong user or secret, or not permitted)."""


class AmiSession:
    """``async with AmiSession(settings, timeout_s) as ami: await ami.action(...)``."""

    def __init__(self, settings: AsteriskEngine, timeout_s: float, *, events: str = "off"
                 ) -> None:
        self.settings = settings
        self.timeout_s = timeout_s
        self.events = events
        self._conn: AMIConnection | None = None
        self._expected: list[tuple[Callable[[Message], bool], asyncio.Future[Message]]] = []

    async def __aenter__(self) -> AmiSession:
        s = self.settings
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(s.ami_host, s.ami_port), self.timeout_s)
        conn = AMIConnection(reader, writer, self._on_event)
        conn.start()
        try:
            await conn.send_action("Login", {"Username": s.ami_user, "Secret": s.ami_secret,
                                             "Events": self.events}, self.timeout_s)
        except AMIActionError as exc:
            await conn.close("login refused")
            raise LoginRefused(exc.message or "no reason given") from None
        except BaseException:
            await conn.close("login failed")
            raise
        self._conn = conn
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._conn is not None:
            await self._conn.close("doctor done")

    async def action(self, name: str, fields: dict[str, FieldValue] | None = None
                     ) -> ActionResult:
        assert self._conn is not None
        return await self._conn.send_action(name, fields, self.timeout_s)

    def expect(self, wanted: Callable[[Message], bool]) -> asyncio.Future[Message]:
        """The first event from now on for which ``wanted`` is true (ask before the action
        that causes it; the caller bounds the wait, and cancelling the future forgets it)."""
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._expected.append((wanted, future))
        return future

    def _on_event(self, message: Message) -> None:
        waiting = []
        for wanted, future in self._expected:
            if future.done():
                continue
            if wanted(message):
                future.set_result(message)
            else:
                waiting.append((wanted, future))
        self._expected = waiting
