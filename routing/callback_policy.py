"""One queue's callback policy, resolved once from the ``callbacks:`` section.

The config gives defaults and per-queue overrides (``callbacks.queues``); the policy functions
take the resolved value so that none of them has to know where a number came from, and a
queue without an override (or a job with no queue) simply gets the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta

from clinicall.routing.callback_order import SharePolicy
from clinicall.settings.models import CallbackOverride, Callbacks


@dataclass(frozen=True, slots=True)
class CallbackPolicy:
    """The rules for one queue's callbacks (docs/callbacks.md)."""

    missed_causes: frozenset[str]
    first_attempt: timedelta
    attempts: int
    spacing: timedelta
    closing_margin: timedelta
    patient_day: tuple[time, time]  # [start, end) on the patient's wall clock
    live_share: float
    share_window: int
    default_handle_s: float
    countries: frozenset[str]  # country codes without '+'; empty: any
    blocked_prefixes: tuple[str, ...]  # E.164 prefixes with '+'
    #: The estimated wait at which the queue offers a callback unasked (None: on the key only).
    offer_after: timedelta | None = None
    #: The caller hears their place and estimated wait as they join the queue.
    announce_wait: bool = False
    #: A callback never tried this long after its call goes ahead of the line (None: never).
    promote_after: timedelta | None = None

    @property
    def share(self) -> SharePolicy:
        """The live-caller share, as :mod:`clinicall.routing.callback_order` takes it."""
        return SharePolicy(live_share=self.live_share, window=self.share_window)


def policy_for(callbacks: Callbacks, queue: str | None) -> CallbackPolicy:
    """The policy of ``queue``: its override where it has one, the defaults elsewhere."""
    own = callbacks.queues.get(queue) if queue is not None else None
    own = own if own is not None else CallbackOverride()
    first = own.first_attempt_min
    attempts = own.attempts
    spacing = own.spacing_min
    share = own.live_share
    first = first if first is not None else callbacks.first_attempt_min
    attempts = attempts if attempts is not None else callbacks.attempts
    spacing = spacing if spacing is not None else callbacks.spacing_min
    share = share if share is not None else callbacks.live_share
    offer = own.offer_after_min if own.offer_after_min is not None else callbacks.offer_after_min
    promote = (own.promote_after_min if own.promote_after_min is not None
               else callbacks.promote_after_min)  # fmt: skip
    return CallbackPolicy(
        missed_causes=frozenset(callbacks.missed_causes),
        first_attempt=timedelta(minutes=first),
        attempts=attempts,
        spacing=timedelta(minutes=spacing),
        closing_margin=timedelta(minutes=callbacks.closing_margin_min),
        patient_day=(callbacks.patient_day.start, callbacks.patient_day.end),
        live_share=share,
        share_window=callbacks.share_window,
        default_handle_s=float(callbacks.default_handle_s),
        countries=frozenset(callbacks.numbers.countries),
        blocked_prefixes=tuple(callbacks.numbers.blocked_prefixes),
        offer_after=timedelta(minutes=offer) if offer is not None else None,
        announce_wait=(own.announce_wait if own.announce_wait is not None
                       else callbacks.announce_wait),
        promote_after=timedelta(minutes=promote) if promote is not None else None,
    )


def serving_queue(job_queue: str | None, front_desk: str) -> str:
    """The queue whose line and operators serve a job: its own queue, or, for a call missed
    before the patient chose one (after hours, or failed before the menus), the front desk: the
    queue of the IVR's fallback route, where a caller who cannot choose is sent.  Such a job
    takes its place in the front desk's line by its arrival, as any other (docs/callbacks.md,
    "A job with no queue")."""
    return job_queue if job_queue is not None else front_desk
