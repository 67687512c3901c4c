"""The callback offer at the wait threshold: a waiting caller whose estimated wait passed the
queue's ``offer_after_min`` is taken into the in-queue offer unasked (docs/callbacks.md, "The
offer in the queue").

The patient's own key already reaches the offer; this watcher does the rest of issue 11's
item 1.  One owned task runs a round every ``interval_s``: it reads the queues
(``queue_status``), places each waiting caller among the live callers and pending callbacks of
their queue (``routing.callback_order``), estimates their wait as the offer itself does
(``routing.wait_estimate``), and when ``offer_due`` asks the engine to take the caller out of
the queue into the offer (``EngineControl.offer_callback``).  The engine adapter decides how;
this module knows no engine.

**Once per caller.**  A caller who declines goes back to their place under the same channel
id, and is not offered again: the channel is remembered, and the account's stay they left by
the key (``kept_places``) tells any controller, after a restart too, that they had their offer
(and where their place is).  A caller the engine did not move
(on Asterisk a key that arrives while app_queue speaks its own announcement is lost,
docs/engines/asterisk.md) is still in the same stay, which ``still_waiting`` tells from a
rejoin by the wait the engine reports; such a caller is asked again, ``RESEND_AFTER`` later,
at most ``TRIES`` times in all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from clinicall.controller.callbacks.scheduler import callback_waiters, free_members, live_waiters
from clinicall.controller.facts import MemberState
from clinicall.controller.port import EngineControl, EngineError, EngineUnavailable, QueueStatus
from clinicall.db.callbacks import JobRow
from clinicall.db.queue_history import NO_HISTORY, QueueHistory, RecentQueues
from clinicall.ivr.callback_offer import offer_due
from clinicall.routing.callback_order import Waiter, WaiterKind, ahead_of
from clinicall.routing.callback_policy import policy_for
from clinicall.routing.wait_estimate import abandon_rate_per_s, estimate_wait_s
from clinicall.settings.models import ClinicConfig

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
#: A caller the engine left in the queue is asked again after this long (an app_queue
#: announcement lasts a few seconds) ...
RESEND_AFTER = timedelta(seconds=6)
#: ... and at most this many times in all.
TRIES = 3
#: Callers offered longer ago than this are forgotten (longer than any queue's maximum wait).
FORGET_AFTER = timedelta(hours=12)
#: The engine reports whole seconds of wait.
WAIT_GRAIN_S = 1.0
#: Pending callbacks read to place a caller among them (more than any line is long).
LINE_LIMIT = 500
_ABSENT = (MemberState.OFFLINE, MemberState.UNKNOWN)


class CallbackLine(Protocol):
    """The pending callbacks of a queue in line order, and the first joins of callers back
    after an offer (``db.callbacks.CallbackStore.line`` and ``kept_places``)."""

    async def line(self, queue: str | None, now: datetime, *, limit: int) -> list[JobRow]: ...

    async def kept_places(self, queue: str,
                          channel_ids: Iterable[str]) -> dict[str, datetime]: ...


@dataclass(frozen=True, slots=True)
class Offered:
    """A caller the engine was asked to take into the offer: when last, and how often."""

    at: datetime
    tries: int = 1


def still_waiting(offered: Offered, wait_s: float, now: datetime) -> bool:
    """Whether a caller offered at ``offered.at`` is still in the same stay in the queue (the
    engine never moved them) rather than back after the offer: a rejoin restarts the engine's
    wait, so it is then shorter than the time since the offer."""
    return wait_s + WAIT_GRAIN_S >= (now - offered.at).total_seconds()


def ask_again(offered: Offered, wait_s: float, now: datetime) -> bool:
    """Whether to ask the engine again for a caller it was already asked to move."""
    return (offered.tries < TRIES and now - offered.at >= RESEND_AFTER
            and still_waiting(offered, wait_s, now))  # fmt: skip


def estimated_wait_s(status: QueueStatus, me: Waiter, callbacks: list[Waiter],
                     now: datetime, default_handle_s: float,
                     recent: QueueHistory = NO_HISTORY,
                     kept: Mapping[str, datetime] | None = None) -> float | None:  # fmt: skip
    """The wait of the live caller ``me`` as the offer announces it (``controller.offer_desk``:
    the live callers (at their kept places) and callbacks ahead, the operators logged in and
    free, the queue's recent handle times and abandons)."""
    live_ahead, callbacks_ahead = ahead_of(me, [*live_waiters(status, now, kept), *callbacks])
    logged_in = sum(1 for m in status.members if m.state not in _ABSENT)
    return estimate_wait_s(
        live_ahead=live_ahead, callbacks_ahead=callbacks_ahead, logged_in=logged_in,
        free=len(free_members(status, set())), recent_handle_s=recent.handle_s,
        abandon_per_s=abandon_rate_per_s(recent.abandoned, recent.waited_s),
        default_handle_s=default_handle_s)  # fmt: skip


class ThresholdOffers:
    """See the module docstring.  ``clock``: real time (the engine's waits are real)."""

    def __init__(self, control: EngineControl, line: CallbackLine, config: ClinicConfig, *,
                 clock: Clock, interval_s: float = 1.0,
                 history: RecentQueues | None = None) -> None:  # fmt: skip
        self.control, self.line, self.config = control, line, config
        self.history = history  # None: no history (the configured handle time, no correction)
        self.clock, self.interval_s = clock, interval_s
        self.offered: dict[str, Offered] = {}  # channel id → the last request to the engine
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def thresholds(self) -> dict[str, float]:
        """The queues that offer at a wait threshold, and the threshold in seconds."""
        found = {}
        for queue in self.config.queues:
            after = policy_for(self.config.callbacks, queue).offer_after
            if after is not None:
                found[queue] = after.total_seconds()
        return found

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="callback-threshold-offers")

    async def close(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                await self.run_once()
            except Exception:  # the store or the engine failed this round: try the next
                log.exception("threshold offers: round failed")
            try:
                async with asyncio.timeout(self.interval_s):
                    await self._stop.wait()
            except TimeoutError:
                pass

    async def run_once(self) -> list[str]:
        """One round; the channels the engine was asked to take into the offer."""
        thresholds = self.thresholds()
        if not thresholds:
            return []
        now = self.clock()
        self.offered = {k: o for k, o in self.offered.items() if now - o.at < FORGET_AFTER}
        try:
            statuses = await self.control.queue_status()
        except EngineUnavailable as error:  # the link is down: said by the engine's health
            log.debug("threshold offers: no queue status (%s)", error)
            return []
        except EngineError as error:
            log.warning("threshold offers: no queue status (%s)", error)
            return []
        sent: list[str] = []
        for status in statuses:
            threshold = thresholds.get(status.queue)
            if threshold is not None and status.entries:
                sent += await self._queue_round(status, threshold, now)
        return sent

    async def _queue_round(self, status: QueueStatus, threshold: float,
                           now: datetime) -> list[str]:  # fmt: skip
        """One queue's waiting callers: the ones due are taken into the offer."""
        callbacks = callback_waiters(await self.line.line(status.queue, now, limit=LINE_LIMIT),
                                     now, self.config.callbacks)  # fmt: skip
        kept = await self.line.kept_places(status.queue, (e.channel_id for e in status.entries))
        recent = (await self.history.history(status.queue, now) if self.history is not None
                  else NO_HISTORY)  # fmt: skip
        sent: list[str] = []
        for entry in status.entries:
            channel = entry.channel_id
            if not channel:  # the engine named no channel: nothing to move
                continue
            previous = self.offered.get(channel)
            if previous is not None:
                if not ask_again(previous, entry.wait_s, now):
                    continue
            elif channel in kept:  # back after an offer (any controller's, or their key's)
                continue
            else:
                me = Waiter(WaiterKind.LIVE, channel, now - timedelta(seconds=entry.wait_s),
                            entry.priority)  # fmt: skip
                estimate = estimated_wait_s(status, me, callbacks, now,
                                            self.config.callbacks.default_handle_s, recent,
                                            kept)  # fmt: skip
                if not offer_due(estimate, threshold):
                    continue
                log.info("threshold offer due to %s in %s: estimate %s s", channel,
                         status.queue, f"{estimate:.0f}" if estimate is not None else "none")
            tries = previous.tries + 1 if previous is not None else 1
            self.offered[channel] = Offered(now, tries)
            try:
                await self.control.offer_callback(channel)
            except EngineError as error:
                log.warning("threshold offer to %s in %s not sent (%s)", channel, status.queue,
                            error)  # fmt: skip
                continue
            log.info("threshold offer to %s in %s (try %d)", channel, status.queue, tries)
            sent.append(channel)
        return sent
