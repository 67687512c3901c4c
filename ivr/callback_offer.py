"""The in-queue callback offer: a waiting patient keeps their place without holding the line.

The engine hands a waiting caller to this flow when the announced wait passes the queue's
threshold or when the caller presses the offer key (docs/callbacks.md, "The offer in the
queue").  The flow speaks the position and the estimated wait as a range, offers the callback,
takes the number (the one they call from, or one they type) and checks it with
``routing.callable_numbers``; only once ``book`` has stored the job does it confirm, in the
patient's language, and hang up.  A job that could not be stored is never confirmed: the
patient is told to stay and keeps waiting in the queue.

The flow knows no engine and no store: it talks to :class:`~clinicall.ivr.port.CallPort` and
is given ``check`` (the number policy) and ``book`` (the job writer) by its caller.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from clinicall.ivr import prompts
from clinicall.ivr.port import CallerHungUp, CallPort
from clinicall.ivr.wait_announcement import announce_place
from clinicall.routing.callable_numbers import NumberCheck, Refusal
from clinicall.routing.wait_estimate import WaitRange

OFFER_KEY = "1"
SAME_NUMBER_KEY = "1"
OTHER_NUMBER_KEY = "2"
NUMBER_KEYS = "0123456789#"
MAX_NUMBER_DIGITS = 16  # 15 digits of E.164 and a national trunk prefix
NUMBER_TIMEOUT_S = 10.0  # a patient typing a number pauses longer than between menu keys
TRIES = 2  # a refused number is asked once more


class OfferResult(StrEnum):
    """How the offer ended (stored with the call's path; docs/callbacks.md)."""

    BOOKED = "booked"  # the job is stored and confirmed; the patient was hung up on
    DECLINED = "declined"  # no key, or no number chosen: back to the queue
    REFUSED = "refused"  # every number given was refused: back to the queue
    NOT_BOOKED = "not_booked"  # the store refused the job: back to the queue
    HUNG_UP = "hung_up"  # the patient hung up before a job was stored


@dataclass(frozen=True, slots=True)
class OfferOutcome:
    """The offer's result, the number booked (E.164) and the last refusal heard."""

    result: OfferResult
    number: str | None = None
    refusal: Refusal | None = None


def offer_due(wait_s: float | None, threshold_s: float | None) -> bool:
    """Whether the queue offers the callback unasked: the estimate passed the threshold.

    No estimate (nobody logged in) offers it too, since the wait is unbounded; no threshold
    (None) means the offer is made only on the caller's key.
    """
    if threshold_s is None:
        return False
    return wait_s is None or wait_s >= threshold_s


class _Offer:
    def __init__(
        self,
        port: CallPort,
        language: str,
        check: Callable[[str | None], NumberCheck],
        digit_timeout_s: float,
    ) -> None:
        self.port = port
        self.language = language
        self.check = check
        self.digit_timeout_s = digit_timeout_s
        self.refusal: Refusal | None = None

    def name(self, key: str) -> str:
        return prompts.prompt_name(self.language, key)

    async def choose_number(self) -> str | None:
        """The E.164 number to call back, or None (declined, silent, or refused twice)."""
        own = self.check(self.port.info.caller_number)
        if own.callable:
            got = await self.port.collect(
                [self.name(prompts.CALLBACK_SAME_NUMBER)],
                digits=SAME_NUMBER_KEY + OTHER_NUMBER_KEY,
                max_digits=1,
                timeout_s=self.digit_timeout_s,
            )
            if got == SAME_NUMBER_KEY:
                return own.e164
            if got != OTHER_NUMBER_KEY:
                return None
        lead: list[str] = []
        for _ in range(TRIES):
            typed = await self.port.collect(
                [self.name(k) for k in (*lead, prompts.CALLBACK_ENTER_NUMBER)],
                digits=NUMBER_KEYS,
                max_digits=MAX_NUMBER_DIGITS,
                timeout_s=NUMBER_TIMEOUT_S,
            )
            typed = typed.rstrip("#")
            if not typed:
                return None
            verdict = self.check(typed)
            if verdict.callable:
                return verdict.e164
            self.refusal = verdict.refusal
            lead = [prompts.CALLBACK_BAD_NUMBER]
        await self.port.play([self.name(prompts.CALLBACK_BAD_NUMBER)])
        return None


async def run_callback_offer(
    port: CallPort,
    *,
    language: str,
    position: int | None,
    wait: WaitRange | None,
    check: Callable[[str | None], NumberCheck],
    book: Callable[[str], Awaitable[bool]],
    digit_timeout_s: float = 5.0,
) -> OfferOutcome:
    """Announce, offer, take the number, book and confirm (see the module docstring).

    ``check``: the number policy bound to the clinic's config (``check_number``);
    ``book``: stores the job at the caller's original arrival and returns whether it did.
    Never raises :class:`CallerHungUp`; raises :class:`ivr.port.PortError` when the engine
    fails a command.
    """
    offer = _Offer(port, language, check, digit_timeout_s)
    number: str | None = None
    try:
        pressed = await announce_place(port, language, position, wait, digits=OFFER_KEY)
        if pressed != OFFER_KEY:
            pressed = await port.collect(
                [offer.name(prompts.CALLBACK_OFFER)],
                digits=OFFER_KEY,
                max_digits=1,
                timeout_s=digit_timeout_s,
            )
        if pressed != OFFER_KEY:
            return OfferOutcome(OfferResult.DECLINED)
        number = await offer.choose_number()
        if number is None:
            result = OfferResult.REFUSED if offer.refusal else OfferResult.DECLINED
            return OfferOutcome(result, refusal=offer.refusal)
        if not await book(number):
            await port.play([offer.name(prompts.CALLBACK_NOT_BOOKED)])
            return OfferOutcome(OfferResult.NOT_BOOKED, number)
    except CallerHungUp:
        return OfferOutcome(OfferResult.HUNG_UP, number, offer.refusal)
    try:
        await port.play([offer.name(prompts.CALLBACK_CONFIRMED)])
        await port.hangup()
    except CallerHungUp:
        pass  # booked all the same: the patient hung up during the confirmation
    return OfferOutcome(OfferResult.BOOKED, number)
