"""The AMI layer's errors: one root, one type per way an action or a session can fail."""

from __future__ import annotations

from clinicall.controller.asterisk.ami.message import Message


class AMIError(Exception):
    """Root of every error raised by the AMI client."""


class AMIConnectionLost(AMIError):
    """The connection died (or was never up) while the action was pending.

    The action may or may not have been executed by Asterisk; it is never re-sent
    automatically (an Originate would dial the patient twice).
    """


class AMIAuthError(AMIError):
    """Asterisk refused the Login (wrong user or secret, or no permission)."""


class AMIActionError(AMIError):
    """Asterisk answered ``Response: Error``; ``response`` keeps the raw frame for diagnosis."""

    def __init__(self, action: str, response: Message) -> None:
        self.action = action
        self.response = response
        self.message = response.get("Message", "") or ""
        super().__init__(f"AMI action {action} failed: {self.message or 'no message'}")
