"""The operator's desk: what an operator does from the web console, through the engine port.

Log in to and out of a queue (``queue_member_add`` / ``queue_member_remove``), pause with a
reason and resume (``queue_member_pause``), and read what their phone does now: their queue
memberships from the live state and the call that rings them or that they talk on, with the
caller's number in E.164.  The web never imports the controller: the wiring hands it this
object (docs/console.md).

An operator is found in the engine by the member name the clinic's queues give them, their
operator id (Asterisk: ``log_membername_as_agent``); a member not seen yet (never logged in
since the link came up) gets ``default_member(operator_id)`` (Asterisk: ``PJSIP/<id>``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from clinicall.controller.port import EngineControl
from clinicall.controller.shift_logins import ShiftLogins
from clinicall.controller.tracking.live import LiveState, MemberNow
from clinicall.controller.tracking.live_calls import LiveCall
from clinicall.controller.tracking.phone import to_e164


@dataclass(frozen=True, slots=True)
class DeskCall:
    """The operator's call now, with the caller's number as the store keeps it (E.164)."""

    call: LiveCall
    caller_e164: str | None


class OperatorDesk:
    def __init__(self, control: EngineControl, live: LiveState,
                 default_member: Callable[[str], str], *, country_code: str = "",
                 shift: ShiftLogins | None = None) -> None:
        self._control, self._live = control, live
        self._default_member, self._country = default_member, country_code
        self._shift = shift  # told of logins and logouts, so a link-up does not undo them

    def memberships(self, operator_id: str) -> list[MemberNow]:
        """The operator's queue memberships the engine reported (logged in: not offline)."""
        return [m for m in self._live.members() if m.name == operator_id]

    def member_of(self, operator_id: str) -> str:
        seen = self.memberships(operator_id)
        return seen[0].member if seen else self._default_member(operator_id)

    async def log_in(self, operator_id: str, queue: str) -> None:
        penalty = self._shift.penalty(operator_id, queue) if self._shift is not None else 0
        await self._control.queue_member_add(queue, self.member_of(operator_id),
                                             name=operator_id, penalty=penalty)
        if self._shift is not None:
            self._shift.logged_in(operator_id, queue)

    async def log_out(self, operator_id: str, queue: str) -> None:
        await self._control.queue_member_remove(queue, self.member_of(operator_id))
        if self._shift is not None:
            self._shift.logged_out(operator_id, queue)

    async def pause(self, operator_id: str, *, paused: bool, reason: str = "") -> None:
        """Pause (with ``reason``) or resume in every queue the operator is in."""
        await self._control.queue_member_pause(self.member_of(operator_id), paused=paused,
                                               reason=reason if paused else "")

    def call_now(self, operator_id: str) -> DeskCall | None:
        for membership in self.memberships(operator_id):
            call = self._live.calls.of_member(membership.member)
            if call is not None:
                number = to_e164(call.caller_number, country_code=self._country)
                return DeskCall(call, number)
        return None
