"""The sandbox's error taxonomy: one root, so callers can tell "cannot run here" from a bug."""

from __future__ import annotations


class SandboxError(Exception):
    """Root of every error raised by the sandbox package."""


class SandboxUnavailable(SandboxError):
    """A real engine (Asterisk, FreeSWITCH) cannot run on this machine; the message says what to
    do next.

    Raised for conditions of the environment (not root, tool missing, archive unreachable), never
    for a defect in the configuration under test: test fixtures turn it into a failure with the
    message, or a skip when ``CLINICALL_SKIP_ASTERISK=1`` (``CLINICALL_SKIP_FREESWITCH=1``).
    """


class AsteriskBootError(SandboxError):
    """Asterisk started but did not become fully booted; carries the tail of its log."""

    def __init__(self, message: str, log_tail: str) -> None:
        super().__init__(f"{message}\n--- last lines of the Asterisk log ---\n{log_tail}")
        self.log_tail = log_tail


class AsteriskCommandError(SandboxError):
    """A CLI command sent with ``asterisk -rx`` failed to run (not: the command said no)."""


class FreeswitchBootError(SandboxError):
    """FreeSWITCH started but did not become ready; carries the tail of its console log."""

    def __init__(self, message: str, log_tail: str) -> None:
        super().__init__(f"{message}\n--- last lines of the FreeSWITCH log ---\n{log_tail}")
        self.log_tail = log_tail


class FreeswitchCommandError(SandboxError):
    """An API command sent with ``fs_cli -x`` could not be run (not: the command said no)."""
