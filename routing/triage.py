"""Triage: what a route id from the menu means in queues, priority and overflow.

The rules are data (``routes`` in the clinic config); these functions only read them.  A route
names its first queue, the priority inside it, and optionally an overflow queue with the time
after which the caller moves there.  The caller's maximum wait in the first queue is that
overflow time when given, the queue's own ``max_wait_s`` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from clinicall.calltypes import QueueRequest
from clinicall.settings.models import ClinicConfig


class TriageError(LookupError):
    """A route or the queue it names does not exist in the config."""


@dataclass(frozen=True, slots=True)
class Decision:
    """Where a route sends the caller; :meth:`request` adds the call's own facts."""

    route: str
    queue: str
    priority: int
    max_wait_s: int
    overflow_queue: str | None

    def request(self, *, language: str, path: str) -> QueueRequest:
        return QueueRequest(
            queue=self.queue,
            priority=self.priority,
            max_wait_s=self.max_wait_s,
            overflow_queue=self.overflow_queue,
            language=language,
            path=path,
            route=self.route,
        )


def resolve(config: ClinicConfig, route_id: str) -> Decision:
    """The decision for ``route_id``; raises :class:`TriageError` for an unknown route or queue."""
    route = config.routes.get(route_id)
    if route is None:
        raise TriageError(f"unknown route {route_id!r}")
    queue = config.queues.get(route.queue)
    if queue is None:
        raise TriageError(f"route {route_id!r} names unknown queue {route.queue!r}")
    if route.overflow_to is not None and route.overflow_to not in config.queues:
        raise TriageError(f"route {route_id!r} overflows to unknown queue {route.overflow_to!r}")
    return Decision(
        route=route_id,
        queue=route.queue,
        priority=route.priority,
        max_wait_s=route.overflow_after_s or queue.max_wait_s,
        overflow_queue=route.overflow_to,
    )


def fallback(config: ClinicConfig) -> Decision:
    """The universal route: ``0`` from any menu, and callers the menu could not understand."""
    return resolve(config, config.ivr.fallback_route)


def resolve_all(config: ClinicConfig) -> dict[str, Decision]:
    """Every route resolved once (raises :class:`TriageError` on the first broken one)."""
    return {route_id: resolve(config, route_id) for route_id in config.routes}


def queue_chain(config: ClinicConfig, route_id: str) -> list[str]:
    """The queues a caller of ``route_id`` may pass through, in order (first, then overflow)."""
    decision = resolve(config, route_id)
    chain = [decision.queue]
    if decision.overflow_queue is not None and decision.overflow_queue != decision.queue:
        chain.append(decision.overflow_queue)
    return chain
