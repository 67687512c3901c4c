"""The menu interpreter: one call through the clinic's IVR, against :class:`CallPort` only.

Flow: answer; choose the language (by the dialled number, else the language menu, else the
default); outside opening hours play the hours and end ("afterhours"); else the main menu with
the welcome and emergency notice in front.  Each menu prompt is played with barge-in through
``collect``, so a caller who knows the menu types ahead.  An option leads to a submenu, a queue
(play ``queue_<id>``, then ``enqueue``) or a self-service answer followed by ``info_more``.
``0`` from any menu goes to the operator route; ``*`` goes back one menu.  Invalid or no input
repeats the menu with ``invalid``/``no_input`` in front, and after ``max_attempts`` misses the
caller goes to the operator queue ("fallback"), never hung up on.  :class:`CallerHungUp`
ends the session quietly with the path so far.  Before a queue whose ``survey`` is ``ask``, the
patient is asked whether they agree to the post-call survey (``1`` = yes, path step
``survey``); the survey itself runs when the engine hands the call back (:mod:`ivr.survey`).

Outcomes and the path format are described in :mod:`ivr.outcome`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from clinicall.calltypes import IvrOutcome, Outcome, QueueRequest
from clinicall.ivr import prompts
from clinicall.ivr.outcome import Path
from clinicall.ivr.plan import CompiledMenu, GoTo, IvrPlan, Route, Say, plan_for
from clinicall.ivr.port import CallerHungUp, CallPort
from clinicall.ivr.voice_message import VoiceMessage, leave_message
from clinicall.ivr.wait_announcement import Place, announce_place
from clinicall.settings.models import ClinicConfig

#: Every key is collected, so a wrong key is answered at once rather than ignored until timeout.
ALL_KEYS = "0123456789*#"
OPERATOR_KEY = "0"
BACK_KEY = "*"
#: Menu steps one call may take before it is sent to the operator (a loop guard, never reached
#: by a real caller: 64 key presses).
MAX_STEPS = 64
LANGUAGE_STEP = "lang"
MORE_STEP = "more"
SURVEY_STEP = "survey"
SURVEY_YES = "1"


class AfterHours(Protocol):
    """The seam for after-hours handling beyond the closed message (e.g. a callback offer).

    Called after ``closed`` was played and before ``goodbye``; it may use the port (collect a
    key, play prompts).  :class:`CallerHungUp` raised inside ends the call as "afterhours".
    """

    async def __call__(self, port: CallPort, *, language: str, path: Path) -> None: ...


#: The place and estimated wait of a caller about to join the request's queue, or None when
#: the queue announces none (``controller.service``: ``callbacks.announce_wait``).
JoinPlace = Callable[[QueueRequest], Awaitable[Place | None]]


class _Session:
    """The state of one call: language, path, what was reached."""

    def __init__(self, port: CallPort, plan: IvrPlan,
                 message_left: Callable[[VoiceMessage], None] | None = None,
                 now: Callable[[], datetime] | None = None,
                 join_place: JoinPlace | None = None) -> None:  # fmt: skip
        self.port = port
        self.plan = plan
        self.message_left = message_left
        self.now = now
        self.join_place = join_place
        self.language = plan.default_language
        self.names = plan.names[self.language]
        self.path = Path()
        self.route: str | None = None
        self.request: QueueRequest | None = None
        self.on_hangup: Outcome = "hangup"

    def end(self, outcome: Outcome) -> IvrOutcome:
        return IvrOutcome(self.language, str(self.path), self.route, self.request, outcome)

    async def collect(self, keys: list[str]) -> str:
        names = self.names
        got = await self.port.collect(
            [names[k] for k in keys],
            digits=ALL_KEYS,
            max_digits=1,
            timeout_s=self.plan.digit_timeout_s,
        )
        return got[:1]

    async def choose_language(self) -> None:
        plan = self.plan
        language = plan.language_for(self.port.info.dialled_number)
        if language is None and plan.ask_language:
            language = await self._language_menu()
        self.language = language or plan.default_language
        self.names = plan.names[self.language]
        await self.port.set_language(self.language)

    async def _language_menu(self) -> str | None:
        plan = self.plan
        menu = [plan.names[lang][prompts.LANGUAGE_MENU] for lang in plan.languages]
        key = (
            await self.port.collect(
                menu, digits=ALL_KEYS, max_digits=1, timeout_s=plan.digit_timeout_s
            )
        )[:1]
        if not key:
            self.path.timeout(LANGUAGE_STEP)
            return None
        if key.isdigit() and 1 <= int(key) <= len(plan.languages):
            self.path.press(LANGUAGE_STEP, key)
            return plan.languages[int(key) - 1]
        self.path.invalid(LANGUAGE_STEP, key)
        return None

    async def after_hours(self, at: datetime, hook: AfterHours | None) -> IvrOutcome:
        self.on_hangup = "afterhours"
        keys = [prompts.WELCOME, prompts.EMERGENCY]
        holiday = self.plan.holidays.get(at.astimezone(self.plan.hours.zone).date())
        if holiday is not None:
            keys.append(holiday)
        keys.append(prompts.CLOSED)
        await self.port.play([self.names[k] for k in keys])
        if hook is not None:
            await hook(self.port, language=self.language, path=self.path)
        await self.port.play([self.names[prompts.GOODBYE]])
        await self.port.hangup()
        return self.end("afterhours")

    async def send(self, target: Route, outcome: Outcome) -> IvrOutcome:
        self.route = target.decision.route
        if await self.voice_message(target):
            await self.port.hangup()
            return self.end("selfserved")
        survey = await self.survey_consent(target.decision.queue)
        await self.port.play([self.names[target.announce]])
        request = target.decision.request(language=self.language, path=str(self.path))
        if survey:
            request = dataclasses.replace(request, survey=True)
        if self.join_place is not None and (place := await self.join_place(request)):
            await announce_place(self.port, self.language, place.position, place.wait)
        await self.port.enqueue(request)
        self.request = request
        return self.end(outcome)

    async def voice_message(self, target: Route) -> bool:
        """On the complaint route, the voice message (ivr.voice_message); True when the
        patient left one (the call then ends)."""
        settings = self.plan.complaint_message
        if (settings is None or self.message_left is None or self.now is None
                or target.decision.route != settings.route):
            return False
        handed_on = self.message_left

        def deliver(message: VoiceMessage) -> None:
            self.on_hangup = "selfserved"  # even when the patient hangs up to finish
            handed_on(message)

        return await leave_message(self.port, self.names, settings, language=self.language,
                                   path=self.path, timeout_s=self.plan.digit_timeout_s,
                                   now=self.now(), deliver=deliver)

    async def survey_consent(self, queue: str) -> bool:
        """Whether the patient will hear the post-call survey (asked when the queue says so)."""
        mode = self.plan.surveys.get(queue, "off")
        if mode != "ask":
            return mode == "always"
        key = await self.collect([prompts.SURVEY_OFFER])
        if key:
            self.path.press(SURVEY_STEP, key)
        else:
            self.path.timeout(SURVEY_STEP)
        return key == SURVEY_YES

    async def menus(self) -> IvrOutcome:
        plan = self.plan
        stack: list[CompiledMenu] = []
        menu = plan.menus[plan.main]
        lead = [prompts.WELCOME, prompts.EMERGENCY]
        misses = 0
        for _ in range(MAX_STEPS):
            key = await self.collect([*lead, menu.prompt])
            lead = []
            action = menu.options.get(key) if key else None
            if action is None:
                if not key:
                    self.path.timeout(menu.id)
                    lead, misses = [prompts.NO_INPUT], misses + 1
                elif key == OPERATOR_KEY:
                    self.path.press(menu.id, key)
                    return await self.send(plan.operator, "queue")
                elif key == BACK_KEY:
                    self.path.press(menu.id, key)
                    menu, misses = (stack.pop() if stack else menu), 0
                else:
                    self.path.invalid(menu.id, key)
                    lead, misses = [prompts.INVALID], misses + 1
                if misses >= plan.max_attempts:
                    return await self.send(plan.operator, "fallback")
                continue
            self.path.press(menu.id, key)
            if isinstance(action, Route):
                return await self.send(action, "queue")
            misses = 0
            if isinstance(action, GoTo):
                stack.append(menu)
                menu = plan.menus[action.menu]
            else:
                done = await self.answer(action)
                if done is not None:
                    return done
                stack.clear()
                menu = plan.menus[plan.main]
        return await self.send(plan.operator, "fallback")

    async def answer(self, say: Say) -> IvrOutcome | None:
        """Play the answer; then ``0`` = operator, silence = goodbye, other keys = main menu.

        Returns the outcome when the call ends here, None to go back to the main menu.
        """
        self.on_hangup = "selfserved"
        self.route = say.answer  # the topic, until the patient chooses a queue after all
        key = await self.collect([say.answer, prompts.INFO_MORE])
        if not key:
            self.path.timeout(MORE_STEP)
            await self.port.play([self.names[prompts.GOODBYE]])
            await self.port.hangup()
            return self.end("selfserved")
        self.path.press(MORE_STEP, key)
        if key == OPERATOR_KEY:
            return await self.send(self.plan.operator, "queue")
        return None


async def run_ivr(
    port: CallPort,
    config: ClinicConfig,
    *,
    now: Callable[[], datetime],
    plan: IvrPlan | None = None,
    after_hours: AfterHours | None = None,
    message_left: Callable[[VoiceMessage], None] | None = None,
    join_place: JoinPlace | None = None,
) -> IvrOutcome:
    """Run one call through the IVR and say how it ended (see the module docstring).

    ``now`` gives the current aware time (injected for tests); ``plan`` is the config compiled
    with :meth:`IvrPlan.compile`; when not given, :func:`ivr.plan.plan_for` compiles it once per
    config object.
    ``message_left`` gets the complaint route's voice message (ivr.voice_message; without it
    the route goes to its queue as before).
    ``join_place`` gives the place and wait a caller hears before joining a queue (said
    after the queue's own announcement; None from it: nothing is said).
    Raises :class:`ivr.port.PortError` when the engine fails a command; never
    :class:`CallerHungUp`.
    """
    session = _Session(port, plan if plan is not None else plan_for(config), message_left, now,
                       join_place)
    try:
        await port.answer()
        await session.choose_language()
        at = now()
        if not session.plan.hours.is_open(at):
            return await session.after_hours(at, after_hours)
        return await session.menus()
    except CallerHungUp:
        return session.end(session.on_hangup)
