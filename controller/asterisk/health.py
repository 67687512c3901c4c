"""The AMI link's health, as the engine port reports it (``EngineHealth``).

Fed by the AMI client's status hook (up after login, down on loss) and by every frame it
delivers; read by ``/metrics`` and ``/api/live``.  Before this, "connected" meant only that a
controller object existed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from clinicall.controller.port import EngineHealth


def utc_now() -> datetime:
    return datetime.now(UTC)


class AmiHealth:
    """Up/down, since when, the last frame's time and how many times the link came back."""

    def __init__(self, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.clock = clock
        self.up = False
        self.since: datetime | None = None
        self.last_event_at: datetime | None = None
        self.reconnects = 0
        self.events_received = 0
        self.detail = "not connected yet"
        self._was_up = False

    def on_status(self, up: bool, detail: str) -> None:
        if up and self._was_up and not self.up:
            self.reconnects += 1
        self._was_up = self._was_up or up
        if up != self.up or self.since is None:
            self.since = self.clock()
        self.up, self.detail = up, detail

    def on_event(self) -> None:
        self.last_event_at = self.clock()
        self.events_received += 1

    def snapshot(self) -> EngineHealth:
        return EngineHealth(engine="asterisk", up=self.up, since=self.since,
                            last_event_at=self.last_event_at, reconnects=self.reconnects,
                            detail=self.detail, events_received=self.events_received)  # fmt: skip
