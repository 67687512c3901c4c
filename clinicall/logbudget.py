"""A budget for repeated log lines: one line per cause per interval, with a count.

An outage repeats itself: every write to a stopped database, every reconnect, every broken
peer fails the same way, and without a budget a 6 s outage wrote tens of thousands of lines
(most of them tracebacks), burying the one line that says what happened.  ``RepeatBudget``
is a :class:`logging.Filter` for a handler: the first record of a cause passes, later ones
within ``interval_s`` are counted and dropped, and the first one after the interval passes
with "(N more like this in the last S s)" appended.  A cause is the logger, the level and the
message *template* (``record.msg`` before ``%`` formatting), so "journal write failed: %s"
is one cause whatever the error text.  A repeat keeps no traceback: the first one showed it.

The table of causes is bounded (``max_causes``, oldest forgotten first), so a peer that
varies a logged text cannot grow it.  docs/architecture.md, "Logs", says which lines are
budgeted and how the store's outage is logged.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_INTERVAL_S = 60.0
MAX_CAUSES = 1024
EXCERPT_CHARS = 80  # how much peer-supplied text an error message or a log line may quote

Cause = tuple[str, int, str]


@dataclass(slots=True)
class _Seen:
    passed_at: float  # when a record of this cause last passed
    dropped: int = 0  # records dropped since


class RepeatBudget(logging.Filter):
    """Lets one record per cause through per ``interval_s``; see the module docstring."""

    def __init__(
        self,
        interval_s: float = DEFAULT_INTERVAL_S,
        *,
        max_causes: int = MAX_CAUSES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.interval_s, self.max_causes, self.clock = interval_s, max_causes, clock
        self._causes: OrderedDict[Cause, _Seen] = OrderedDict()
        self.dropped = 0  # records dropped in all, for tests and health pages

    def filter(self, record: logging.LogRecord) -> bool:
        cause = (record.name, record.levelno, str(record.msg))
        now = self.clock()
        seen = self._causes.get(cause)
        if seen is None:
            self._causes[cause] = _Seen(now)
            if len(self._causes) > self.max_causes:
                self._causes.popitem(last=False)
            return True
        self._causes.move_to_end(cause)
        if now - seen.passed_at < self.interval_s:
            seen.dropped += 1
            self.dropped += 1
            return False
        if seen.dropped:
            _note_repeats(record, seen.dropped, now - seen.passed_at)
        seen.passed_at, seen.dropped = now, 0
        return True

    def causes(self) -> int:
        return len(self._causes)


def _note_repeats(record: logging.LogRecord, dropped: int, span_s: float) -> None:
    """Says how many were dropped, and drops this repeat's traceback (the first had one)."""
    record.msg = f"{record.getMessage()} ({dropped} more like this in the last {span_s:.0f} s)"
    record.args = None
    record.exc_info, record.exc_text = None, None


def install(handler: logging.Handler, interval_s: float = DEFAULT_INTERVAL_S) -> RepeatBudget:
    """Puts a budget on ``handler`` (the CLI does so on its stderr handler) and returns it."""
    budget = RepeatBudget(interval_s)
    handler.addFilter(budget)
    return budget


def excerpt(text: str | bytes, limit: int = EXCERPT_CHARS) -> str:
    """Peer-supplied text fit for a log line: at most ``limit`` characters, escaped.

    ``repr`` escapes CR, LF and control characters, so a peer cannot forge log lines.
    """
    cut = text[:limit]
    suffix = f"... ({len(text)} in all)" if len(text) > limit else ""
    return f"{cut!r}{suffix}"
