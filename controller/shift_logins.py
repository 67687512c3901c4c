"""Operators logged in to their queues when the controller starts: the start of a shift.

The generated queue config lists no members (a member a config lists is static, and Asterisk
refuses to ``QueueRemove`` it, so an operator could never log out); every operator is a dynamic
member instead, added through the engine port.  Who adds them (docs/engines/asterisk.md,
"Queue members"):

- at every engine link-up this reads the engine's queue members (``queue_status``) and, for
  each configured operator the engine lists in **none** of the clinic's queues, adds them to
  their configured queues (their skills) with the configured penalty;
- an operator the engine lists in at least one queue is left as the engine has them: they
  logged in or out of single queues themselves, and the engine keeps that across its own
  restarts (Asterisk: ``persistentmembers``);
- a queue an operator logged out of from the console during this controller's life is never
  added back by a link-up (``logged_out`` / ``logged_in``, told by the desk), so an engine
  restart that lost its members does not undo a logout; a new controller start is a new shift.

A failed read or add is logged and waits for the next link-up; nothing is retried in a loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from clinicall.controller.facts import EngineLink, Fact
from clinicall.controller.port import EngineControl, EngineError, QueueStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Skills:
    """One operator's configured queues (queue id → penalty)."""

    operator_id: str
    queues: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class Login:
    queue: str
    operator_id: str
    penalty: int


def logins_due(skills: Iterable[Skills], status: Iterable[QueueStatus],
               logged_out: set[tuple[str, str]]) -> list[Login]:
    """The queue logins a link-up owes: see the module docstring.  Pure, for the tests."""
    status = list(status)
    clinic_queues = {s.queue for s in status}
    present = {m.member_name for s in status for m in s.members}
    due: list[Login] = []
    for operator in skills:
        if operator.operator_id in present:
            continue
        for queue, penalty in operator.queues.items():
            if queue in clinic_queues and (operator.operator_id, queue) not in logged_out:
                due.append(Login(queue, operator.operator_id, penalty))
    return due


class ShiftLogins:
    """Subscribe ``handle_fact`` to the engine; ``close`` when done."""

    def __init__(self, control: EngineControl, skills: Iterable[Skills],
                 member_of: Callable[[str], str]) -> None:
        self._control, self._skills = control, list(skills)
        self._member_of = member_of
        self._logged_out: set[tuple[str, str]] = set()
        self._task: asyncio.Task[None] | None = None
        self.done = asyncio.Event()  # set after each attempt (tests wait on it)
        self.added: list[Login] = []  # what the last attempt added

    def penalty(self, operator_id: str, queue: str) -> int:
        """The operator's configured penalty in ``queue`` (0 if not configured)."""
        return next((s.queues.get(queue, 0) for s in self._skills
                     if s.operator_id == operator_id), 0)

    def logged_out(self, operator_id: str, queue: str) -> None:
        """The operator logged out of ``queue`` themselves: no link-up adds them back."""
        self._logged_out.add((operator_id, queue))

    def logged_in(self, operator_id: str, queue: str) -> None:
        self._logged_out.discard((operator_id, queue))

    def handle_fact(self, fact: Fact) -> None:
        if isinstance(fact, EngineLink) and fact.up and (self._task is None
                                                          or self._task.done()):
            self._task = asyncio.create_task(self._log_in(), name="shift-logins")

    async def _log_in(self) -> None:
        self.done.clear()
        try:
            await self._add_due()
        finally:
            self.done.set()

    async def _add_due(self) -> None:
        self.added = []
        try:
            status = await self._control.queue_status()
        except EngineError as exc:
            log.warning("operators not logged in at link-up (queue status unread): %s", exc)
            return
        for login in logins_due(self._skills, status, self._logged_out):
            try:
                await self._control.queue_member_add(
                    login.queue, self._member_of(login.operator_id), name=login.operator_id,
                    penalty=login.penalty)
            except EngineError as exc:
                log.warning("operator %s not logged in to %s: %s", login.operator_id,
                            login.queue, exc)
                continue
            self.added.append(login)
        if self.added:
            log.info("logged in %d operator queue memberships at link-up", len(self.added))

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
