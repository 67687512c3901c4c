"""A limit on failed logins per user name, so a password cannot be guessed at speed.

In memory and per process: enough for one web server (a restart forgets, which costs an
attacker one restart per 5 guesses).  Keys are user names as typed, folded to lower case.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta


class LoginThrottle:
    """At most ``limit`` failed logins per user name within ``window``."""

    def __init__(self, limit: int = 5, window: timedelta = timedelta(minutes=1)) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[datetime]] = {}

    def blocked(self, username: str, now: datetime) -> bool:
        """Whether this user name has used up its failed attempts for now."""
        recent = self._recent(username.lower(), now)
        return recent is not None and len(recent) >= self.limit

    def failed(self, username: str, now: datetime) -> None:
        key = username.lower()
        self._recent(key, now)
        self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, username: str) -> None:
        self._failures.pop(username.lower(), None)

    def _recent(self, key: str, now: datetime) -> deque[datetime] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and now - times[0] >= self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times
