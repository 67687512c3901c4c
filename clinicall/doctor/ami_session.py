"""One short AMI session for the doctor: connect, log in once, ask, leave.

Unlike the controller's client it never retries: a refused login is the answer the doctor
reports.  It reuses the controller's connection (parser and action bookkeeping).
"""

from __future__ import annotations

import asyncio
from types import TracebackType

from clinicall.controller.asterisk.ami.connection import ActionResult, AMIConnection
from clinicall.controller.asterisk.ami.errors import AMIActionError
from clinicall.controller.asterisk.ami.protocol import FieldValue
from clinicall.settings.models import AsteriskEngine


class LoginRefused(Exception):
    """Asterisk answered the Login with an error (wrong user or secret, or not permitted)."""


class AmiSession:
    """``async with AmiSession(settings, timeout_s) as ami: await ami.action(...)``."""

    def __init__(self, settings: AsteriskEngine, timeout_s: float) -> None:
        self.settings = settings
        self.timeout_s = timeout_s
        self._conn: AMIConnection | None = None

    async def __aenter__(self) -> AmiSession:
        s = self.settings
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(s.ami_host, s.ami_port), self.timeout_s)
        conn = AMIConnection(reader, writer, lambda message: None)
        conn.start()
        try:
            await conn.send_action("Login", {"Username": s.ami_user, "Secret": s.ami_secret,
                                             "Events": "off"}, self.timeout_s)
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
