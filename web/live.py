"""The live view: what the controller's live state says now, as plain JSON-ready data.

``LiveSource`` is what the web needs of ``controller.tracking.live.LiveState`` (its
``snapshot``); the web never imports the controller, it is handed the object.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Protocol

from clinicall.reports.metrics import QueueLive
from clinicall.settings.models import ClinicConfig


class QueueNowLike(Protocol):
    @property
    def waiting(self) -> int: ...
    @property
    def longest_wait_s(self) -> float: ...
    @property
    def available(self) -> int: ...
    @property
    def paused(self) -> int: ...
    @property
    def in_call(self) -> int: ...


class LiveSource(Protocol):
    def snapshot(self, now: datetime) -> Mapping[str, QueueNowLike]: ...


LIVE_FIELDS = ("waiting", "longest_wait_s", "available", "paused", "in_call")


def queue_name(config: ClinicConfig, queue: str) -> str:
    """The queue's name in the clinic's default language (its id when not configured)."""
    names = config.queues[queue].name if queue in config.queues else None
    return names.get(config.default_language, queue) if names else queue


def live_view(config: ClinicConfig, live: LiveSource | None, now: datetime) -> dict[str, object]:
    """Every configured queue (and any other the engine reports) with its state now.

    ``connected`` is False when the web runs without a controller: the numbers are then zeros.
    """
    snapshot = dict(live.snapshot(now)) if live is not None else {}
    queues: dict[str, dict[str, object]] = {}
    for queue in [*config.queues, *sorted(set(snapshot) - set(config.queues))]:
        state = snapshot.get(queue)
        row: dict[str, object] = {"name": queue_name(config, queue)}
        for field in LIVE_FIELDS:
            value = getattr(state, field) if state is not None else 0
            row[field] = round(value, 1) if field == "longest_wait_s" else value
        queues[queue] = row
    return {"at": now.isoformat(), "connected": live is not None, "queues": queues}


class MetricsLive:
    """The live source as the Prometheus collector reads it (``reports.metrics.LiveState``)."""

    def __init__(self, live: LiveSource, clock: Callable[[], datetime]) -> None:
        self._live, self._clock = live, clock

    def queues_live(self) -> dict[str, QueueLive]:
        return {
            queue: QueueLive(q.waiting, q.longest_wait_s, q.available, q.paused)
            for queue, q in self._live.snapshot(self._clock()).items()
        }
