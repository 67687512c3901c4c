"""The callback call's two IVR flows (docs/callbacks.md, "The callback call").

Agent first: the reserved operator is rung, and once they answer the engine hands their leg
to :func:`run_whisper`: in the clinic's default language, who is being called back (the last
digits of the number), why (missed call or asked for one, and the topic: the route's queue),
in which language the patient speaks, and how many minutes ago they called.  Any key stops
the whisper (an operator who has heard enough).  Then the engine dials the patient, and the
moment they answer, before the two are bridged, hands the patient's leg to
:func:`run_greeting`: the clinic's name and that an operator is on the line, in the
patient's language, and, when the clinic sets ``callbacks.confirm_key``, the key to press to
be put through (an answering machine that picks up is then not bridged to the operator).

Both are written against ``CallPort`` only, like the menus, the reminder and the survey; the
engine goes on with the call whatever the flow did (a controller that is down costs the
words, not the call).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from clinicall.ivr import prompts
from clinicall.ivr.plan import IvrPlan
from clinicall.ivr.port import CallerHungUp, CallPort

#: Any key ends the whisper.
SKIP_KEYS = "0123456789*#"
#: How many of the number's last digits the whisper says.
NUMBER_DIGITS = 4


@dataclass(frozen=True, slots=True)
class CallbackCall:
    """What the whisper and the greeting say about one callback job."""

    phone: str  # E.164
    reason: str  # CallbackReason's value
    queue: str | None  # the job's queue (None: the front desk serves it)
    language: str | None  # the patient's, when the IVR knew it
    arrived_at: datetime  # the patient's call (their place in line)


def whisper_words(plan: IvrPlan, call: CallbackCall) -> list[str]:
    """The whisper's sentences before the numbers (in the clinic's default language)."""
    lang = plan.default_language
    words = [*plan.say(lang, prompts.callback_reason_key(call.reason))]
    if call.queue:
        words += plan.say(lang, prompts.callback_queue_key(call.queue))
    if call.language:
        words += plan.say(lang, prompts.callback_speaks_key(call.language))
    return words


async def run_whisper(port: CallPort, plan: IvrPlan, call: CallbackCall, *,
                      now: datetime) -> bool:  # fmt: skip
    """Tell the operator who they are about to speak to (see the module docstring).  True when
    it was said to the end or skipped by a key; False when the operator hung up.

    Raises :class:`ivr.port.PortError` when the engine fails a command."""
    lang = plan.default_language
    digits = [int(d) for d in call.phone if d.isdigit()][-NUMBER_DIGITS:]
    minutes = max(0, int((now - call.arrived_at).total_seconds() // 60))
    try:
        await port.set_language(lang)
        steps: list[int | list[str]] = [
            whisper_words(plan, call), plan.say(lang, prompts.CALLBACK_NUMBER_ENDS), *digits,
            plan.say(lang, prompts.CALLBACK_MINUTES_AGO), minutes]  # fmt: skip
        for step in steps:
            if isinstance(step, int):
                pressed = await port.say_number(step, digits=SKIP_KEYS)
            else:
                pressed = await port.play(step, digits=SKIP_KEYS) if step else ""
            if pressed:
                break
    except CallerHungUp:
        return False
    return True


class Greeting(StrEnum):
    """How the patient's greeting ended."""

    SAID = "said"  # no confirm key: the patient is put through after it
    CONFIRMED = "confirmed"  # they pressed the confirm key
    UNCONFIRMED = "unconfirmed"  # no key in the tries (an answering machine, say)
    HUNG_UP = "hung_up"


#: The confirm key is asked for this often, each time waiting this long after the prompt.
CONFIRM_TRIES = 2
CONFIRM_WAIT_S = 5.0


async def run_greeting(port: CallPort, plan: IvrPlan, call: CallbackCall, *,
                       confirm_key: str | None = None) -> Greeting:  # fmt: skip
    """Greet the patient who answered the callback, in their language; with ``confirm_key``,
    ask them to press it to be put through (pressed during the greeting too), twice at most.
    The engine puts them through unless this returns ``UNCONFIRMED`` (the controller tells it).

    Raises :class:`ivr.port.PortError` when the engine fails a command."""
    lang = call.language if call.language and call.language in plan.names \
        else plan.default_language
    greeting = plan.say(lang, prompts.CALLBACK_GREETING)
    try:
        await port.set_language(lang)
        if confirm_key is None:
            await port.play(greeting)
            return Greeting.SAID
        asked = [*greeting, *plan.say(lang, prompts.CALLBACK_CONFIRM)]
        for _ in range(CONFIRM_TRIES):
            pressed = await port.collect(asked, digits=confirm_key, max_digits=1,
                                         timeout_s=CONFIRM_WAIT_S)  # fmt: skip
            if pressed == confirm_key:
                return Greeting.CONFIRMED
            asked = plan.say(lang, prompts.CALLBACK_CONFIRM)
    except CallerHungUp:
        return Greeting.HUNG_UP
    return Greeting.UNCONFIRMED
