"""Each inbound call's links to the later calls of its number, kept on the call row.

Two KPIs relate a call to *later* calls: the repeat-call rate (did the caller call again
within 24 h / 7 days?) and returned missed calls (when was the number reached afterwards?).
Searching for those later calls at report time costs an indexed lookup per call, or a window
pass over the period and the days after it: seconds at a year of data.  So the call row keeps
both answers, as durations that no setting changes:

- ``repeat_gap_ms`` (inbound calls with a known caller): milliseconds from the call's start
  to the start of the caller's next inbound call, strictly later and within ``LINK_SEARCH``;
  NULL when there is none.
- ``return_delay_ms`` (missed inbound calls): milliseconds from the call's end (its start when
  the end is unknown) to its *return*, the earliest of: a later inbound call from the caller
  that an operator answered, a later answered outbound call to it (both strictly after the
  missed call's start and within ``LINK_SEARCH``), and the completion of a ``done`` callback
  job made from the call; NULL when none.

Both are pure functions of the ``calls``, ``queue_attempts`` and ``callbacks`` rows.  A writer
of those rows calls :func:`refresh` for the numbers it touched (calls) or
:func:`refresh_calls` (callback jobs), in its own transaction (both also mark the hours of the
calls they relink as changed, for the reports' hourly sums); :func:`rebuild` recomputes every
call (the migration that added the columns, bulk loads).  The tests prove that the refreshes
after each write leave the same values as a rebuild.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Update, and_, case, delete, func, literal, null, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from clinicall.db import sqlexpr as sx
from clinicall.db.changes import mark_changed
from clinicall.db.models import (
    Call,
    Callback,
    CallbackState,
    Direction,
    QueueAttempt,
    kpi_changed_hours,
)
from clinicall.db.models.rollups import HOURLY_SUM_TABLES

#: How far after a call its links are searched: longer than the 7 days of the repeat-call
#: rate and than any return horizon plus the longest call, so the reports' exact checks
#: (gap ≤ 24 h / 7 days, delay ≤ the horizon) never meet the search's edge.
LINK_SEARCH = timedelta(days=8)
_SEARCH_S = int(LINK_SEARCH.total_seconds())
NUMBERS_PER_STATEMENT = 100  # three bound parameters each


@dataclass(frozen=True, slots=True)
class Touched:
    """A number that a written call involved (caller of an inbound call, dialled number of an
    outbound one), and the call's start."""

    number: str
    at: datetime


def touched_by(direction: Direction | str, caller: str | None, dialled: str | None,
               started_at: datetime) -> Touched | None:
    """The number a call at ``started_at`` links with, or None (withheld number)."""
    number = caller if direction == Direction.INBOUND else dialled
    return Touched(number, started_at) if number else None


async def refresh(session: AsyncSession, touched: Iterable[Touched]) -> None:
    """Recompute the links of every call that a call of these numbers at these instants can
    change: the number's inbound calls that started up to ``LINK_SEARCH`` before it."""
    spans: dict[str, tuple[datetime, datetime]] = {}
    for t in touched:
        low, high = spans.get(t.number, (t.at, t.at))
        spans[t.number] = (min(low, t.at), max(high, t.at))
    # Up to NUMBERS_PER_STATEMENT numbers in one select and one update (a batch of calls from
    # distinct numbers cost two statements per number); each call's links depend on none of
    # the others' links, so relinking the union at once is relinking each number in turn.
    numbers = sorted(spans.items())
    for start in range(0, len(numbers), NUMBERS_PER_STATEMENT):
        await _refresh_where(session, or_(*(
            and_(Call.caller == number,
                 Call.started_at >= low - LINK_SEARCH - timedelta(seconds=1),
                 Call.started_at <= high)
            for number, (low, high) in numbers[start : start + NUMBERS_PER_STATEMENT])))


async def refresh_calls(session: AsyncSession, call_ids: Iterable[int]) -> None:
    """Recompute the links of these calls (after their callback jobs changed)."""
    ids = sorted(set(call_ids))
    if ids:
        await _refresh_where(session, Call.id.in_(ids))


async def _refresh_where(session: AsyncSession, *where: ColumnElement[bool]) -> None:
    """Recompute the links of the inbound calls ``where`` selects; their hours' KPI sums are
    marked changed."""
    dialect = (await session.connection()).dialect.name
    starts = await session.scalars(select(Call.started_at).where(
        Call.direction == Direction.INBOUND.value, *where))
    await mark_changed(session, starts)
    await session.execute(_links_update(dialect).where(*where)
                          .execution_options(synchronize_session=False))


async def rebuild(session: AsyncSession) -> None:
    """Recompute the links of every call, and drop the reports' hourly sums (the next report
    or keeper round sums them again)."""
    dialect = (await session.connection()).dialect.name
    await session.execute(rebuild_statement(dialect)
                          .execution_options(synchronize_session=False))
    for table in (*HOURLY_SUM_TABLES, kpi_changed_hours):
        await session.execute(delete(table))


def rebuild_statement(dialect: str) -> Update:
    """The UPDATE that recomputes every call's links (the migration runs it too)."""
    return _links_update(dialect)


@cache
def _links_update(dialect: str) -> Update:
    """UPDATE calls SET both links, for the inbound calls the caller's WHERE selects."""
    start_ms = sx.epoch_ms(Call.started_at, dialect)
    next_ms = sx.epoch_ms(_next_inbound(dialect), dialect)
    returned_ms = sx.least(dialect, *(sx.never_if_null(sx.epoch_ms(x, dialect))
                                      for x in (*_first_contacts(dialect), _done_callback())))
    end_ms = sx.epoch_ms(func.coalesce(Call.ended_at, Call.started_at), dialect)
    return update(Call).where(Call.direction == Direction.INBOUND.value).values(
        repeat_gap_ms=case((Call.caller.is_(None), null()), else_=next_ms - start_ms),
        return_delay_ms=case(
            (Call.missed.is_not(True), null()),
            else_=func.nullif(returned_ms, literal(sx.NEVER_MS)) - end_ms),
    )


def _bound(dialect: str) -> ColumnElement[Any]:
    return sx.plus_seconds(Call.started_at, _SEARCH_S, dialect)


def _next_inbound(dialect: str) -> Any:
    later = aliased(Call)
    return select(func.min(later.started_at)).where(
        later.caller == Call.caller, later.direction == Direction.INBOUND.value,
        later.started_at > Call.started_at, later.started_at < _bound(dialect),
    ).scalar_subquery()


def _first_contacts(dialect: str) -> tuple[Any, Any]:
    """The first answered inbound call from the caller and the first answered outbound call
    to it, after the call's start and within the search (MIN, not ORDER BY … LIMIT 1:
    PostgreSQL would walk the started_at index for the latter)."""
    later_in, later_out = aliased(Call), aliased(Call)
    answered = select(QueueAttempt.id).where(
        QueueAttempt.call_id == later_in.id, QueueAttempt.connected_at.is_not(None)).exists()
    first_in = select(func.min(later_in.started_at)).where(
        later_in.caller == Call.caller, later_in.direction == Direction.INBOUND.value,
        later_in.started_at > Call.started_at, later_in.started_at < _bound(dialect), answered,
    ).scalar_subquery()
    first_out = select(func.min(later_out.started_at)).where(
        later_out.dialled == Call.caller, later_out.direction == Direction.OUTBOUND.value,
        later_out.started_at > Call.started_at, later_out.started_at < _bound(dialect),
        later_out.answered_at.is_not(None),
    ).scalar_subquery()
    return first_in, first_out


def _done_callback() -> Any:
    """When the first completed callback job made from the call ended."""
    return select(func.min(Callback.completed_at)).where(
        Callback.origin_call_id == Call.id, Callback.state == CallbackState.DONE.value,
    ).scalar_subquery()


__all__ = ["LINK_SEARCH", "Touched", "rebuild", "rebuild_statement", "refresh",
           "refresh_calls", "touched_by"]
