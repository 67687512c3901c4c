"""The one writer of the rows the reports are derived from, and the guard that enforces it.

Calls, queue and ring attempts, callback jobs and survey answers feed two derived caches: the
links between the calls of a number (``call_links``) and the reports' hourly sums (marked by
``changes``).  Whoever writes those rows must refresh both in the same transaction, or the
reports silently drift.  So every such write goes through :class:`StoreWriter`::

    async with session.begin(), StoreWriter(session) as writer:
        ... add / change / delete calls, attempts, callbacks, survey answers ...
        writer.call_changed(direction, caller, dialled, started_at, joins)  # old and new
        writer.callbacks_changed([origin_call_id])

and on the way out the writer marks the hours and relinks the numbers it was told about, once
for the whole batch.  A flush or an ORM statement that touches a guarded table while no writer
is open on the session raises :class:`UnguardedWrite` (``install_guard``, done once when the
store is opened), so the callback scheduler, the survey or the recording importer cannot forget
the invariants: their first test fails.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from clinicall.db import call_links
from clinicall.db.changes import mark_changed
from clinicall.db.models import Call, Callback, Direction, QueueAttempt, RingAttempt, SurveyAnswer

#: The tables whose rows only a ``StoreWriter`` may write.
GUARDED = frozenset(m.__tablename__ for m in (Call, QueueAttempt, RingAttempt, Callback,
                                                SurveyAnswer))  # fmt: skip
_OPEN = "clinicall.writers_open"


class UnguardedWrite(RuntimeError):
    """A write to a guarded table outside a ``StoreWriter``."""


class StoreWriter:
    """See the module docstring.  Use within the session's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._touched: list[call_links.Touched] = []
        self._instants: list[datetime] = []
        self._callback_calls: set[int] = set()

    def call_changed(self, direction: Direction | str, caller: str | None, dialled: str | None,
                     started_at: datetime, joins: Iterable[datetime | None] = ()) -> None:
        """A call with these values was written or is being replaced or deleted (tell both the
        old and the new values): its number is relinked and its hours re-summed."""
        touched = call_links.touched_by(direction, caller, dialled, started_at)
        if touched is not None:
            self._touched.append(touched)
        self._instants += [started_at, *(j for j in joins if j is not None)]

    def instants_changed(self, instants: Iterable[datetime | None]) -> None:
        """Rows at these instants changed (survey answers: their call's start)."""
        self._instants += [at for at in instants if at is not None]

    def callbacks_changed(self, origin_call_ids: Iterable[int]) -> None:
        """Callback jobs made from these calls were written: the calls' returns change."""
        self._callback_calls.update(origin_call_ids)

    async def apply(self) -> None:
        """Flush the writes so far and refresh what they changed (also done on leaving the
        ``async with``)."""
        await self.session.flush()
        touched, instants, calls = self._touched, self._instants, sorted(self._callback_calls)
        self._touched, self._instants, self._callback_calls = [], [], set()
        await mark_changed(self.session, instants)
        await call_links.refresh(self.session, touched)
        await call_links.refresh_calls(self.session, calls)

    async def __aenter__(self) -> Self:
        info = self.session.sync_session.info
        info[_OPEN] = info.get(_OPEN, 0) + 1
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                await self.apply()
        finally:
            self.session.sync_session.info[_OPEN] -= 1


def writer_open(session: Session) -> bool:
    return bool(session.info.get(_OPEN))


def _check_flush(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    if writer_open(session):
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(getattr(obj, "__table__", None), "name", None)
        if table in GUARDED:
            raise _refused(table)


def _check_statement(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete) or writer_open(state.session):
        return
    table = getattr(getattr(state.statement, "table", None), "name", None)
    if table in GUARDED:
        raise _refused(table)


def _refused(table: str) -> UnguardedWrite:
    return UnguardedWrite(f"{table} rows are written only through StoreWriter "
                          "(clinicall.db.writer): it keeps call links and hourly sums")


def install_guard() -> None:
    """Refuse writes of guarded tables outside a writer, in every session (idempotent)."""
    if not event.contains(Session, "before_flush", _check_flush):
        event.listen(Session, "before_flush", _check_flush)
        event.listen(Session, "do_orm_execute", _check_statement)
