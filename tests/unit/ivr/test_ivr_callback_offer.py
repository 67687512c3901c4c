"""The in-queue callback offer: the keys, the number (own or typed, refused), the booking."""

from __future__ import annotations

from functools import partial

import pytest

from clinicall.ivr import prompts
from clinicall.ivr.callback_offer import OfferOutcome, OfferResult, offer_due, run_callback_offer
from clinicall.ivr.prompts import catalog
from clinicall.routing.callable_numbers import NumberCheck, Refusal, check_number
from clinicall.routing.wait_estimate import WaitRange
from clinicall.settings.models import ClinicConfig

from .ivr_fakes import HANGUP, TIMEOUT, FakePort

OWN = "+380501112233"  # FakePort's caller number
CHECK = partial(check_number, country_code="380", countries=frozenset(),
                blocked_prefixes=("+380900",))


FIVE_TO_TEN = WaitRange(5, 10)


def en(key: str) -> str:
    return prompts.prompt_name("en", key)


class KeyedPort(FakePort):
    """A FakePort whose ``play`` and ``say_number`` return the keys in ``barge`` in turn."""

    def __init__(self, script: list[str], barge: list[str] | None = None,
                 caller: str | None = None) -> None:
        super().__init__(script)
        self.barge = list(barge or [])
        if caller is not None:
            self._info = self._info.__class__(
                "c1", "ch1", caller, "", self._info.dialled_number, "asterisk")

    async def play(self, prompts: list[str], *, digits: str = "") -> str:
        await super().play(prompts, digits=digits)
        return self.barge.pop(0) if self.barge else ""

    async def say_number(self, number: int, *, digits: str = "") -> str:
        await super().say_number(number, digits=digits)
        return self.barge.pop(0) if self.barge else ""


class Book:
    """Records the numbers booked; answers ``ok``."""

    def __init__(self, ok: bool = True) -> None:
        self.ok = ok
        self.numbers: list[str] = []

    async def __call__(self, number: str) -> bool:
        self.numbers.append(number)
        return self.ok


async def offer(port: FakePort, book: Book, *, position: int | None = 3,
                wait: WaitRange | None = FIVE_TO_TEN) -> OfferOutcome:
    return await run_callback_offer(port, language="en", position=position, wait=wait,
                                    check=CHECK, book=book)


async def test_own_number_is_booked_confirmed_and_hung_up() -> None:
    port, book = KeyedPort(["1", "1"]), Book()
    assert await offer(port, book) == OfferOutcome(OfferResult.BOOKED, OWN)
    assert book.numbers == [OWN]
    assert port.calls[:3] == [("play", (en(prompts.QUEUE_POSITION),)), ("say_number", 3),
                              ("play", (en("wait_5_10"),))]
    assert port.collects == [[en(prompts.CALLBACK_OFFER)], [en(prompts.CALLBACK_SAME_NUMBER)]]
    assert port.calls[-2:] == [("play", (en(prompts.CALLBACK_CONFIRMED),)), ("hangup", None)]


async def test_the_key_during_the_announcement_skips_the_offer_prompt() -> None:
    port, book = KeyedPort(["1"], barge=["", "1"]), Book()  # pressed during the position
    assert (await offer(port, book)).result is OfferResult.BOOKED
    assert ("play", (en("wait_5_10"),)) not in port.calls
    assert port.collects == [[en(prompts.CALLBACK_SAME_NUMBER)]]


@pytest.mark.parametrize("key", [TIMEOUT, "#"])
async def test_no_key_declines_and_books_nothing(key: str) -> None:
    port, book = KeyedPort([key]), Book()
    assert await offer(port, book) == OfferOutcome(OfferResult.DECLINED)
    assert book.numbers == []
    assert not port.hung_up


async def test_a_typed_number_is_normalized_before_booking() -> None:
    port, book = KeyedPort(["1", "2", "0671234567#"]), Book()
    assert await offer(port, book) == OfferOutcome(OfferResult.BOOKED, "+380671234567")
    assert port.collects[-1] == [en(prompts.CALLBACK_ENTER_NUMBER)]


async def test_a_refused_number_is_asked_again_once() -> None:
    port, book = KeyedPort(["1", "2", "112#", "+380900123456#"]), Book()
    got = await offer(port, book)
    assert got == OfferOutcome(OfferResult.REFUSED, refusal=Refusal.BLOCKED)
    assert book.numbers == []
    assert port.collects[-1] == [en(prompts.CALLBACK_BAD_NUMBER),
                                 en(prompts.CALLBACK_ENTER_NUMBER)]
    assert port.calls[-1] == ("play", (en(prompts.CALLBACK_BAD_NUMBER),))
    assert not port.hung_up


async def test_wrong_then_right_number_books_the_right_one() -> None:
    port, book = KeyedPort(["1", "2", "112#", "+48 601 234 567#"]), Book()
    assert await offer(port, book) == OfferOutcome(OfferResult.BOOKED, "+48601234567")
    assert book.numbers == ["+48601234567"]


async def test_a_hidden_caller_must_type_a_number() -> None:
    port, book = KeyedPort(["1", "0501234567#"], caller="anonymous"), Book()
    assert (await offer(port, book)).number == "+380501234567"
    assert en(prompts.CALLBACK_SAME_NUMBER) not in port.played


async def test_a_job_the_store_refused_is_never_confirmed() -> None:
    port, book = KeyedPort(["1", "1"]), Book(ok=False)
    assert await offer(port, book) == OfferOutcome(OfferResult.NOT_BOOKED, OWN)
    assert en(prompts.CALLBACK_CONFIRMED) not in port.played
    assert port.calls[-1] == ("play", (en(prompts.CALLBACK_NOT_BOOKED),))
    assert not port.hung_up


async def test_hanging_up_before_the_number_books_nothing() -> None:
    port, book = KeyedPort(["1", HANGUP]), Book()
    assert await offer(port, book) == OfferOutcome(OfferResult.HUNG_UP)
    assert book.numbers == []


async def test_no_position_nor_estimate_goes_straight_to_the_offer() -> None:
    port, book = KeyedPort([TIMEOUT]), Book()
    await offer(port, book, position=None, wait=None)
    assert port.calls == [("collect", ((en(prompts.CALLBACK_OFFER),), "1", 1, 5.0))]


@pytest.mark.parametrize(("wait_s", "threshold_s", "due"), [
    (299.0, 300.0, False), (300.0, 300.0, True), (None, 300.0, True), (900.0, None, False),
])
def test_offer_due_at_the_threshold(wait_s: float | None, threshold_s: float | None,
                                    due: bool) -> None:
    assert offer_due(wait_s, threshold_s) is due


def test_every_prompt_the_offer_plays_is_in_the_catalog(config: ClinicConfig) -> None:
    enabled = config.model_copy(
        update={"callbacks": config.callbacks.model_copy(update={"enabled": True})})
    keys = {(p.language, p.key) for p in catalog(enabled)}
    needed = [prompts.QUEUE_POSITION, prompts.CALLBACK_OFFER, prompts.CALLBACK_SAME_NUMBER,
              prompts.CALLBACK_ENTER_NUMBER, prompts.CALLBACK_BAD_NUMBER,
              prompts.CALLBACK_CONFIRMED, prompts.CALLBACK_NOT_BOOKED,
              "wait_0_5", "wait_5_10", "wait_10_20", "wait_20_30", "wait_30_plus"]
    for lang in config.languages:
        assert {(lang, k) for k in needed} <= keys
    assert not config.callbacks.enabled
    assert not {p.key for p in catalog(config)} & set(needed)  # off: nothing to synthesise


def test_check_is_the_number_policy() -> None:
    assert CHECK("+380900123456") == NumberCheck(None, Refusal.BLOCKED)
