"""The store's outage, logged as two lines however long it lasts.

While the store is unreachable every write fails the same way, and the tracker keeps the
facts in memory and retries with backoff (nothing is lost while the process lives).  So the
first failure logs one line (why, and how many facts wait), the first success after it one
more (for how long, how many writes failed); the failures in between are only counted.  A
failure that is not the store being unreachable (``db.reach.unreachable`` says None) is a
defect: logged with its traceback every time (the log handler's repeat budget bounds it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from clinicall.db.reach import unreachable


class StoreOutage:
    """Tracks one store outage for the log; ``failed`` on every error, ``reached`` on success."""

    def __init__(self, logger: logging.Logger, clock: Callable[[], float] = time.monotonic) -> None:
        self.logger, self.clock = logger, clock
        self.since: float | None = None  # monotonic start of the outage, None when reachable
        self.failures = 0  # failed writes in this outage

    def failed(self, exc: BaseException, what: str, pending: int) -> None:
        reason = unreachable(exc)
        if reason is None:
            self.logger.warning("call tracking: %s failed", what, exc_info=exc)
            return
        self.failures += 1
        if self.since is None:
            self.since = self.clock()
            self.logger.warning(
                "call tracking: the store is unreachable (%s); %d facts kept in memory, "
                "retrying with backoff", reason, pending)

    def reached(self) -> None:
        if self.since is None:
            return
        self.logger.warning(
            "call tracking: the store is reachable again after %.0f s (%d writes failed "
            "meanwhile); catching up", self.clock() - self.since, self.failures)
        self.since, self.failures = None, 0
