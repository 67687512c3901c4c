"""The Event Socket layer's errors: one root, one type per way a command or a session fails.

How the engine port maps them (``controller/port.py``): ``EslNotConnected`` is
``EngineUnavailable`` (nothing was sent), ``EslLinkLost`` is ``OutcomeUnknown`` (sent, then the
link died: never re-sent), ``TimeoutError`` is ``EngineTimeout``, ``EslCommandError`` is
``EngineRefused`` (or, for a failed originate's ``-ERR CAUSE``, ``OriginateFailed``).
"""

from __future__ import annotations


class EslError(Exception):
    """Root of every error raised by the Event Socket client and the outbound sessions."""


class EslNotConnected(EslError):
    """No live link: the command was not sent."""


class EslLinkLost(EslError):
    """The link died after the command was sent and before its answer.

    FreeSWITCH may or may not have run it; it is never re-sent automatically (a ``bgapi
    originate`` re-sent after a reconnect would dial the patient twice)."""


class EslAuthError(EslError):
    """FreeSWITCH refused the password (``-ERR invalid``)."""


class EslRejected(EslAuthError):
    """FreeSWITCH's ACL refused the connection (``text/rude-rejection``)."""


class EslCommandError(EslError):
    """FreeSWITCH answered a command with ``-ERR ...``; ``reply`` is its text."""

    def __init__(self, command: str, reply: str) -> None:
        self.command = command
        self.reply = reply
        super().__init__(f"ESL {command}: {reply}")


class EslHungUp(EslError):
    """The outbound session's channel hung up (or its socket closed): the command was not sent
    or its application cannot complete."""
