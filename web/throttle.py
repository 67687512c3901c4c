"""Limits on failed logins, by client address and by user name, in bounded memory.

Three counters of recent failures, each a fixed window that opens at the first failure:

- per **address** (``address_limit`` in ``address_window``): one client guessing many names,
  or one name many times, is stopped whatever the name;
- per **address and name** (``pair_limit`` in ``pair_window``): the classic "five wrong
  passwords, wait a minute", for that client and that name only;
- per **name** (``name_limit`` in ``name_window``): many addresses guessing one name.

Why the name rule cannot lock out the real user: a per-name lock that applied to everyone
would let anyone who knows a user name keep that user out (five wrong passwords a minute, from
anywhere, were enough before).  So the name lock applies only to addresses that have already
failed for that name within its window.  An address with no recent failure for the name always
gets its password checked: the manager at a fresh address (home, the clinic's other office)
gets in with the right password while an attacker's address is locked.  What an attacker gains
is one guess per fresh address during a name lock: bounded by the addresses they own, and each
guess locks that address for the name.  The cost of the rule is a user who shares the
attacker's address (the same NAT, or a reverse proxy that hides client addresses, see
docs/web-security.md): that user waits out the window like the attacker.

A correct password clears the (address, name) counter only: the attacker's counters for the
name and for their own address stay.

Memory is bounded: each table is an LRU of at most ``max_keys`` keys (an ``OrderedDict`` in
order of last failure), expired windows are dropped from the old end as new failures come, and
when a table is full the least recently failed key is evicted.  Eviction forgets the oldest
failures first; a client flooding distinct names is still held by its address counter, which
each of its failures refreshes.  In memory and per process: a restart forgets.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=str | tuple[str, str])
MAX_KEYS = 10_000
MAX_NAME = 256


@dataclass(slots=True)
class _Window:
    opened: datetime
    failures: int


class FailureTable(Generic[Key]):
    """Failures per key in a window that opens at the key's first failure; at most
    ``max_keys`` keys, least recently failed evicted first."""

    def __init__(self, limit: int, window: timedelta, max_keys: int = MAX_KEYS) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._windows: OrderedDict[Key, _Window] = OrderedDict()

    def __len__(self) -> int:
        return len(self._windows)

    def failures(self, key: Key, now: datetime) -> int:
        entry = self._windows.get(key)
        if entry is None or now - entry.opened >= self.window:
            return 0
        return entry.failures

    def wait(self, key: Key, now: datetime) -> float | None:
        """Seconds until ``key`` may try again, None when it is not locked."""
        entry = self._windows.get(key)
        if entry is None or entry.failures < self.limit:
            return None
        left = (entry.opened + self.window - now).total_seconds()
        return left if left > 0 else None

    def add(self, key: Key, now: datetime) -> None:
        entry = self._windows.get(key)
        if entry is None or now - entry.opened >= self.window:
            entry = _Window(now, 0)
            self._windows[key] = entry
        entry.failures += 1
        self._windows.move_to_end(key)
        self._prune(now)

    def forget(self, key: Key) -> None:
        self._windows.pop(key, None)

    def _prune(self, now: datetime) -> None:
        # The oldest failure is at the front; a window that opened before it is over too.
        while self._windows:
            key, entry = next(iter(self._windows.items()))
            if now - entry.opened < self.window and len(self._windows) <= self.max_keys:
                break
            del self._windows[key]


class LoginThrottle:
    """The three counters together (see the module docstring for the rule and why)."""

    def __init__(self, *, address_limit: int = 20, address_window: timedelta = timedelta(
                     minutes=10),
                 pair_limit: int = 5, pair_window: timedelta = timedelta(minutes=1),
                 name_limit: int = 20, name_window: timedelta = timedelta(minutes=10),
                 max_keys: int = MAX_KEYS) -> None:
        self.by_address: FailureTable[str] = FailureTable(address_limit, address_window,
                                                          max_keys)
        self.by_pair: FailureTable[tuple[str, str]] = FailureTable(pair_limit, pair_window,
                                                                   max_keys)
        self.by_name: FailureTable[str] = FailureTable(name_limit, name_window, max_keys)

    def wait(self, address: str, username: str, now: datetime) -> int | None:
        """Whole seconds this address must wait before trying this name again, or None when
        the password may be checked now."""
        name = _fold(username)
        waits = [self.by_address.wait(address, now), self.by_pair.wait((address, name), now)]
        if self.by_pair.failures((address, name), now) > 0:
            waits.append(self.by_name.wait(name, now))  # only where this name failed before
        longest = max((w for w in waits if w is not None), default=None)
        return None if longest is None else max(1, math.ceil(longest))

    def failed(self, address: str, username: str, now: datetime) -> None:
        name = _fold(username)
        self.by_address.add(address, now)
        self.by_pair.add((address, name), now)
        self.by_name.add(name, now)

    def succeeded(self, address: str, username: str) -> None:
        self.by_pair.forget((address, _fold(username)))

    def sizes(self) -> tuple[int, int, int]:
        """Keys held: (addresses, address-name pairs, names)."""
        return len(self.by_address), len(self.by_pair), len(self.by_name)


def _fold(username: str) -> str:
    return username[:MAX_NAME].lower()
