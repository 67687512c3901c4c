"""The appointment reminder call: the patient the clinic called hears the appointment and
answers with a key (docs/reminders.md).

The engine placed the call (patient first) and hands it over answered.  The patient hears, in
their language: who (the doctor), what (the specialty, by its queue's name), when (the day and
month, the hour and minutes, in the clinic's zone; numbers said with the engine's own sounds,
``CallPort.say_number``), then the keys: 1 confirms, 2 cancels, 0 goes to an operator of the
specialty's queue.  Any key stops the announcement (barge-in).  A wrong key or silence repeats
it, up to ``TRIES`` times in all; then the call ends unanswered (``no_input``).

Written against ``CallPort`` only, like the menus and the survey.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from clinicall.ivr import prompts
from clinicall.ivr.plan import IvrPlan
from clinicall.ivr.port import CallerHungUp, CallPort
from clinicall.routing.triage import resolve
from clinicall.settings.models import ClinicConfig

KEYS = "120"
TRIES = 3
ReminderAnswer = Literal["confirmed", "cancelled", "operator", "no_input", "hangup"]


@dataclass(frozen=True, slots=True)
class ReminderCall:
    """What the reminder says: ``starts_at`` is the appointment in the clinic's zone."""

    language: str
    doctor: str  # a doctor id of the config
    specialty: str  # a route id of the config
    starts_at: datetime


class _Reminder:
    def __init__(self, port: CallPort, plan: IvrPlan, call: ReminderCall) -> None:
        self.port, self.plan, self.call = port, plan, call
        self.language = call.language if call.language in plan.names else plan.default_language
        self.names = plan.names[self.language]

    def say(self, key: str) -> list[str]:
        return self.plan.say(self.language, key)

    async def announce(self, lead: list[str]) -> str:
        """The appointment, then the keys; the key pressed ('' for none)."""
        call = self.call
        first = [*lead, *self.say(prompts.reminder_doctor_key(call.doctor)),
                 *self.say(prompts.reminder_route_key(call.specialty)),
                 *self.say(prompts.REMINDER_ON)]  # fmt: skip
        steps: list[int | list[str]] = [
            first, call.starts_at.day,
            [*self.say(prompts.month_key(call.starts_at.month)), *self.say(prompts.REMINDER_AT)],
            call.starts_at.hour,
        ]  # fmt: skip
        if call.starts_at.minute:
            steps.append(call.starts_at.minute)
        for value in steps:
            if isinstance(value, int):
                pressed = await self.port.say_number(value, digits=KEYS)
            else:
                pressed = await self.port.play(value, digits=KEYS)
            if pressed:
                return pressed
        return await self.port.collect(self.say(prompts.REMINDER_KEYS), digits=KEYS,
                                       max_digits=1, timeout_s=self.plan.digit_timeout_s)


async def run_reminder(port: CallPort, plan: IvrPlan, config: ClinicConfig,
                       call: ReminderCall) -> ReminderAnswer:  # fmt: skip
    """Announce the appointment and take the patient's answer (see the module docstring);
    never raises :class:`CallerHungUp` (the answer is then ``hangup``).

    Raises :class:`ivr.port.PortError` when the engine fails a command."""
    reminder = _Reminder(port, plan, call)
    try:
        await port.set_language(reminder.language)
        lead: list[str] = []
        for _ in range(TRIES):
            pressed = await reminder.announce(lead)
            if pressed == "1":
                await port.play(reminder.say(prompts.REMINDER_CONFIRMED))
                return "confirmed"
            if pressed == "2":
                await port.play(reminder.say(prompts.REMINDER_CANCELLED))
                return "cancelled"
            if pressed == "0":
                decision = resolve(config, call.specialty)
                await port.enqueue(decision.request(language=reminder.language,
                                                    path="reminder:0"))
                return "operator"
            lead = reminder.say(prompts.NO_INPUT if not pressed else prompts.INVALID)
        await port.play(reminder.say(prompts.GOODBYE))
    except CallerHungUp:
        return "hangup"
    return "no_input"
