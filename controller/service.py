"""The controller: every call the engine hands over runs through the IVR, and its outcome and
the engine's facts go to the call account; a call handed back after its operator hung up runs
the post-call survey (``ivr.survey``), whose answers go to the account too.

Engine-neutral: it is given an ``Engine`` (``controller.port``) and never learns which one.
``ivr`` and ``routing`` stay pure; the wiring (``clinicall.app``) builds the engine from the
clinic config and owns the lifetimes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Protocol, Self

from clinicall.agi_scripts import variables as v
from clinicall.calltypes import (
    AnsweredCall,
    CallbackLeg,
    CallInfo,
    IvrOutcome,
    QueuedCall,
    QueueRequest,
    SurveyOutcome,
)
from clinicall.controller.facts import Fact
from clinicall.controller.port import Engine
from clinicall.ivr.callback_call import CallbackCall, Greeting, run_greeting, run_whisper
from clinicall.ivr.callback_offer import run_callback_offer
from clinicall.ivr.interpreter import run_ivr
from clinicall.ivr.plan import IvrPlan
from clinicall.ivr.port import CallPort
from clinicall.ivr.reminder import ReminderAnswer, ReminderCall, run_reminder
from clinicall.ivr.survey import run_survey
from clinicall.ivr.voice_message import VoiceMessage
from clinicall.ivr.wait_announcement import Place
from clinicall.privacy import mask_number
from clinicall.routing.callable_numbers import NumberCheck
from clinicall.routing.callback_policy import policy_for
from clinicall.settings.models import ClinicConfig

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
#: The longest a caller about to join a queue waits for their place and wait to be worked
#: out (queue status and the store); past it they join unannounced.
JOIN_PLACE_DEADLINE_S = 2.0


def utc_now() -> datetime:
    return datetime.now(UTC)


class CallAccount(Protocol):
    """What the controller feeds the call account (``controller.tracking.CallTracker``)."""

    async def record_ivr(
        self, info: CallInfo, outcome: IvrOutcome, started_at: datetime
    ) -> None: ...

    def handle_fact(self, fact: Fact) -> None:
        """Every live fact, in wire order; must not block (the tracker batches)."""
        ...


class SurveyAccount(Protocol):
    """Where the post-call survey's answers go (``controller.tracking.CallTracker``)."""

    async def record_survey(self, info: CallInfo, outcome: SurveyOutcome) -> None:
        """``info.answered`` names what the answers rate; never raises (retries, logs)."""
        ...


class MessageAccount(Protocol):
    """Where the complaint route's voice messages go (a case is opened: app wiring,
    recordings.voice_complaints)."""

    async def record_message(self, message: VoiceMessage) -> None:
        """Never raises (logs)."""
        ...


class ReminderDesk(Protocol):
    """The appointment a reminder call is about, and where its answer goes
    (``controller.reminder_book.ReminderBook``)."""

    async def reminder_call(self, appointment_id: str) -> ReminderCall | None: ...

    async def record_answer(self, appointment_id: str, answer: ReminderAnswer) -> None: ...


class OfferDesk(Protocol):
    """The in-queue callback offer's place, number policy and job writer
    (``controller.offer_desk.CallbackOfferDesk``)."""

    def check(self, queue: str) -> Callable[[str | None], NumberCheck]: ...

    async def place(self, info: CallInfo, queued: QueuedCall) -> Place: ...

    async def place_at_join(self, info: CallInfo, queue: str, priority: int) -> Place: ...

    async def book(self, info: CallInfo, queued: QueuedCall, number: str,
                   language: str) -> bool: ...


class CallbackDesk(Protocol):
    """What the callback call's whisper and greeting say about a job
    (``controller.callback_book.CallbackBook``)."""

    async def callback_call(self, job_id: str) -> CallbackCall | None: ...


class Controller:
    """Runs the IVR for every call the engine hands over; see the module docstring."""

    def __init__(
        self,
        config: ClinicConfig,
        engine: Engine,
        *,
        account: CallAccount | None = None,
        surveys: SurveyAccount | None = None,
        now: Clock = utc_now,
        messages: MessageAccount | None = None,
        reminders: ReminderDesk | None = None,
        offers: OfferDesk | None = None,
        callbacks: CallbackDesk | None = None,
    ) -> None:
        self.config = config
        self.engine = engine
        self.account = account
        self.surveys = surveys
        self.messages = messages
        self.reminders = reminders
        self.offers = offers
        self.callbacks = callbacks
        self.now = now
        self.join_place_deadline_s = JOIN_PLACE_DEADLINE_S
        self.plan = IvrPlan.compile(config)
        self.calls_handled = 0
        self.surveys_handled = 0
        self._handled = asyncio.Condition()  # announces each call the IVR is done with
        self._writes: set[asyncio.Task[None]] = set()

    async def ivr_session(self, port: CallPort) -> None:
        """One call through the IVR; its outcome goes to the call account.  A call handed back
        after its operator hung up (``info.answered``) runs the post-call survey instead.

        ``self.now`` is the clinic's clock for opening hours (the demo and tests pin it); the
        account always records the real time.
        """
        if port.info.reminder is not None:
            await self.reminder_session(port, port.info.reminder)
            return
        if port.info.callback is not None:
            await self.callback_session(port, port.info.callback)
            return
        answered = port.info.answered
        if answered is not None:
            await self.survey_session(port, answered)
            return
        if port.info.queued is not None:
            await self.offer_session(port, port.info.queued)
            return
        started = utc_now()
        outcome = await run_ivr(port, self.config, now=self.now, plan=self.plan,
                                message_left=self._message_left if self.messages else None,
                                join_place=self._join_place(port))  # fmt: skip
        async with self._handled:
            self.calls_handled += 1
            self._handled.notify_all()
        info = port.info
        log.info(
            "call %s from %s: %s, language %s, path %s, route %s",
            info.call_id,
            mask_number(info.caller_number),
            outcome.outcome,
            outcome.language,
            outcome.path or "-",
            outcome.route or "-",
        )
        if self.account is not None:
            # Returning ends the call's IVR session and the engine moves the caller on to its
            # queue: the patient must never wait for the database, so the write runs on its own
            # (owned here, awaited on close).
            self._own(self.account.record_ivr(info, outcome, started))

    def _join_place(self, port: CallPort) -> Callable[[QueueRequest], Awaitable[Place | None]]:
        """The place and wait a caller hears as they join a queue that announces it
        (``callbacks.announce_wait``); None, and the caller joins unannounced, when the queue
        does not, callbacks are off, or the engine or the store fails or is slower than
        ``join_place_deadline_s``."""
        desk = self.offers

        async def place(request: QueueRequest) -> Place | None:
            if desk is None or not policy_for(self.config.callbacks,
                                              request.queue).announce_wait:  # fmt: skip
                return None
            try:
                async with asyncio.timeout(self.join_place_deadline_s):
                    return await desk.place_at_join(port.info, request.queue, request.priority)
            except TimeoutError:
                log.warning("call %s: no wait estimate for queue %s within %.1f s",
                            port.info.call_id, request.queue, self.join_place_deadline_s)
            except Exception:  # the patient joins all the same
                log.exception("call %s: no wait estimate for queue %s", port.info.call_id,
                              request.queue)
            return None

        return place

    async def survey_session(self, port: CallPort, answered: AnsweredCall) -> None:
        """The post-call survey of an answered call; its answers go to the survey account."""
        info = port.info
        outcome = await run_survey(port, self.plan, language=answered.language)
        async with self._handled:
            self.surveys_handled += 1
            self._handled.notify_all()
        log.info("call %s survey (queue %s, operator %s): CSAT %s, NPS %s%s", info.call_id,
                 answered.queue or "-", answered.operator or "-",
                 outcome.csat if outcome.csat is not None else "-",
                 outcome.nps if outcome.nps is not None else "-",
                 "" if outcome.complete else ", partial")  # fmt: skip
        if self.surveys is not None:
            self._own(self.surveys.record_survey(info, outcome))

    def _message_left(self, message: VoiceMessage) -> None:
        """The case is opened beside the call (owned, awaited on close)."""
        if self.messages is not None:
            self._own(self.messages.record_message(message))

    async def reminder_session(self, port: CallPort, appointment_id: str) -> None:
        """An answered reminder call (docs/reminders.md): the appointment announced, the
        patient's key stored on it."""
        call = await self.reminders.reminder_call(appointment_id) if self.reminders else None
        if call is None or self.reminders is None:
            log.warning("reminder call %s: no appointment %s", port.info.call_id, appointment_id)
            await port.hangup()
            return
        answer = await run_reminder(port, self.plan, self.config, call)
        log.info("reminder call %s, appointment %s: %s", port.info.call_id, appointment_id,
                 answer)
        self._own(self.reminders.record_answer(appointment_id, answer))

    async def callback_session(self, port: CallPort, leg: CallbackLeg) -> None:
        """A leg of a callback call (docs/callbacks.md, "The callback call"): the operator's
        whisper or the patient's greeting.  Returning hands the leg back to the engine, which
        dials the patient or bridges the two whatever was said."""
        if self.callbacks is None:  # another process runs the callbacks (the demo): no words
            log.info("callback call %s: callbacks are not enabled here", port.info.call_id)
            return
        call = await self.callbacks.callback_call(leg.job)
        if call is None:
            log.warning("callback call %s: no job %s", port.info.call_id, leg.job)
            return
        if leg.side == "operator":
            heard = await run_whisper(port, self.plan, call, now=utc_now())
            log.info("callback call %s, job %s: whisper %s", port.info.call_id, leg.job,
                     "said" if heard else "cut by a hang-up")  # fmt: skip
            return
        greeting = await run_greeting(port, self.plan, call,
                                      confirm_key=self.config.callbacks.confirm_key)
        if greeting == Greeting.UNCONFIRMED:  # the engine does not put them through
            await port.set_variable(v.CLINICALL_CONFIRMED, "0")
        log.info("callback call %s, job %s: greeting %s", port.info.call_id, leg.job,
                 greeting.value)  # fmt: skip

    async def offer_session(self, port: CallPort, queued: QueuedCall) -> None:
        """A waiting caller pressed the offer key (docs/callbacks.md, "The offer in the
        queue"): their place and wait, the offer, the number and the job.  Returning without
        a booking hands the caller back to the engine's queue."""
        info = port.info
        if self.offers is None:  # callbacks are off: straight back to the queue
            log.warning("offer on call %s: callbacks are not enabled", info.call_id)
            return
        if not queued.queue or queued.queued_at is None:  # no place to keep: no offer
            log.warning("offer on call %s: the engine gave no queue place", info.call_id)
            return
        desk = self.offers
        language = queued.language if queued.language in self.config.languages \
            else self.config.default_language
        place = await desk.place(info, queued)

        async def book(number: str) -> bool:
            return await desk.book(info, queued, number, language)

        outcome = await run_callback_offer(port, language=language, position=place.position,
                                           wait=place.wait, check=desk.check(queued.queue),
                                           book=book)  # fmt: skip
        log.info("offer on call %s in %s: %s", info.call_id, queued.queue, outcome.result)

    def _own(self, write: Coroutine[Any, Any, None]) -> None:
        """Run an account write on its own (the patient never waits for the store); it is
        awaited on close."""
        task = asyncio.create_task(write)
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def writes_done(self) -> None:
        """Until every account write started so far has finished."""
        if self._writes:
            await asyncio.gather(*self._writes)

    async def wait_surveyed(self, count: int) -> None:
        """Until ``count`` post-call surveys have ended since the controller started."""
        async with self._handled:
            await self._handled.wait_for(lambda: self.surveys_handled >= count)

    async def wait_written(self) -> None:
        """Until every IVR outcome handed to the account so far is written (or failed)."""
        if self._writes:
            await asyncio.wait(set(self._writes))

    async def wait_handled(self, count: int) -> None:
        """Until the IVR has finished ``count`` calls since the controller started."""
        async with self._handled:
            await self._handled.wait_for(lambda: self.calls_handled >= count)

    async def start(self) -> None:
        if self.account is not None:
            self.engine.subscribe(self.account.handle_fact)
        await self.engine.serve_calls(self.ivr_session)
        await self.engine.start()
        log.info("controller up on %s", self.engine.name)

    async def close(self) -> None:
        await self.engine.close()
        if self._writes:  # IVR outcomes still being written: let them land in the account
            await asyncio.gather(*self._writes)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
