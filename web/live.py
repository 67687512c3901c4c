"""The live view: what the controller's live state says now, as plain JSON-ready data.

``LiveSource`` is what the web needs of ``controller.tracking.live.LiveState`` (its
``snapshot``); the web never imports the controller, it is handed the object.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Protocol

from clinicall.reports.metrics import AccountLive, LinkLive, QueueLive
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


class EngineHealthLike(Protocol):
    """What the web shows of the engine port's health (``controller.port.EngineHealth``)."""

    @property
    def engine(self) -> str: ...
    @property
    def up(self) -> bool: ...
    @property
    def since(self) -> datetime | None: ...
    @property
    def last_event_at(self) -> datetime | None: ...
    @property
    def reconnects(self) -> int: ...
    @property
    def detail(self) -> str: ...
    @property
    def call_connections_dropped(self) -> int: ...
    @property
    def call_connections_malformed(self) -> int: ...
    @property
    def call_connections_refused(self) -> int: ...
    @property
    def call_connections_timed_out(self) -> int: ...


HealthSource = Callable[[], EngineHealthLike]


class AccountHealthLike(Protocol):
    """What the web shows of the call account (``controller.tracking.tracker.AccountHealth``)."""

    @property
    def store_up(self) -> bool: ...
    @property
    def pending(self) -> int: ...
    @property
    def ivr_unconfirmed(self) -> int: ...


AccountSource = Callable[[], AccountHealthLike]


LIVE_FIELDS = ("waiting", "longest_wait_s", "available", "paused", "in_call")


def queue_name(config: ClinicConfig, queue: str, lang: str | None = None) -> str:
    """The queue's name in ``lang`` where the config has it, else in the clinic's default
    language (its id when not configured)."""
    names = config.queues[queue].name if queue in config.queues else None
    if not names:
        return queue
    chosen = next((text for code, text in names.items() if code == lang), "")
    return chosen or names.get(config.default_language, queue)


def live_view(config: ClinicConfig, live: LiveSource | None, now: datetime,
              health: HealthSource | None = None,
              account: AccountSource | None = None) -> dict[str, object]:
    """Every configured queue (and any other the engine reports) with its state now, the
    engine link's health and the call account's.

    ``connected`` is True only while the link to the PBX is up (False without a controller:
    the numbers are then zeros, or the last known ones while the link is down).
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
    link = health() if health is not None else None
    books = account() if account is not None else None
    return {"at": now.isoformat(), "connected": link is not None and link.up,
            "engine": _engine(link), "account": _account(books), "queues": queues}


def _account(books: AccountHealthLike | None) -> dict[str, object] | None:
    if books is None:
        return None
    return {"store_up": books.store_up, "pending": books.pending,
            "ivr_unconfirmed": books.ivr_unconfirmed}


def _engine(link: EngineHealthLike | None) -> dict[str, object] | None:
    if link is None:
        return None
    return {"name": link.engine, "up": link.up, "detail": link.detail,
            "since": link.since.isoformat() if link.since else None,
            "last_event_at": link.last_event_at.isoformat() if link.last_event_at else None,
            "reconnects": link.reconnects,
            "call_connections_dropped": link.call_connections_dropped,
            "call_connections_malformed": link.call_connections_malformed,
            "call_connections_refused": link.call_connections_refused,
            "call_connections_timed_out": link.call_connections_timed_out}


class MetricsLive:
    """The live source as the Prometheus collector reads it (``reports.metrics.LiveState``)."""

    def __init__(self, live: LiveSource, clock: Callable[[], datetime],
                 health: HealthSource | None = None,
                 account: AccountSource | None = None) -> None:
        self._live, self._clock, self._health, self._account = live, clock, health, account

    def account_live(self) -> AccountLive | None:
        if self._account is None:
            return None
        books = self._account()
        return AccountLive(books.store_up, books.pending, books.ivr_unconfirmed)

    def link_live(self) -> LinkLive | None:
        if self._health is None:
            return None
        link = self._health()
        age = ((self._clock() - link.last_event_at).total_seconds()
               if link.last_event_at is not None else None)
        return LinkLive(link.engine, link.up, link.reconnects, age,
                        link.call_connections_dropped, link.call_connections_malformed,
                        link.call_connections_refused, link.call_connections_timed_out)

    def queues_live(self) -> dict[str, QueueLive]:
        return {
            queue: QueueLive(q.waiting, q.longest_wait_s, q.available, q.paused)
            for queue, q in self._live.snapshot(self._clock()).items()
        }
