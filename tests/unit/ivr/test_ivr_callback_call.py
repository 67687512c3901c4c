"""The callback call's flows: the operator's whisper (why, topic, the patient's language, the
number's last digits, how long ago, in the clinic's language; any key skips the rest) and the
patient's greeting in their own language, with the confirm key asked for when the clinic sets
one; a hang-up ends either without an error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from clinicall.ivr import prompts
from clinicall.ivr.callback_call import (
    CONFIRM_TRIES,
    CONFIRM_WAIT_S,
    CallbackCall,
    Greeting,
    run_greeting,
    run_whisper,
)
from clinicall.ivr.plan import IvrPlan
from clinicall.settings.models import ClinicConfig

from .ivr_fakes import HANGUP, FakePort

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
CALL = CallbackCall(phone="+380501234567", reason="missed", queue="gynecology", language="ru",
                    arrived_at=NOW - timedelta(minutes=12, seconds=59))


@pytest.fixture(scope="module")
def calling(config: ClinicConfig) -> ClinicConfig:
    return config.model_copy(update={"callbacks": config.callbacks.model_copy(
        update={"enabled": True})})


@pytest.fixture(scope="module")
def plan(calling: ClinicConfig) -> IvrPlan:
    return IvrPlan.compile(calling)


def name(key: str, language: str) -> str:
    return prompts.prompt_name(language, key)


class KeyOnPlay(FakePort):
    """The operator presses a key during the ``at``-th play."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at = at

    async def play(self, prompts: list[str], *, digits: str = "") -> str:
        await super().play(prompts, digits=digits)
        self.at -= 1
        return "5" if self.at == 0 and digits else ""


def test_the_callback_prompts_are_in_every_language_of_the_catalog(
        config: ClinicConfig, calling: ClinicConfig) -> None:  # fmt: skip
    keys = {(p.language, p.key) for p in prompts.catalog(calling)}
    for lang in calling.languages:
        assert (lang, prompts.CALLBACK_GREETING) in keys
        assert (lang, prompts.callback_queue_key("gynecology")) in keys
        assert {(lang, prompts.callback_speaks_key(x)) for x in calling.languages} <= keys
    assert not any(p.key == prompts.CALLBACK_GREETING for p in prompts.catalog(config))


async def test_the_whisper_says_why_what_who_and_how_long_ago_in_the_clinics_language(
        plan: IvrPlan) -> None:  # fmt: skip
    lang = plan.default_language
    assert lang != CALL.language  # the operator hears the clinic's language, not the patient's
    port = FakePort()
    assert await run_whisper(port, plan, CALL, now=NOW)
    assert port.calls == [
        ("set_language", lang),
        ("play", (name("callback_reason_missed", lang), name("callback_queue_gynecology", lang),
                  name("callback_speaks_ru", lang))),
        ("play", (name(prompts.CALLBACK_NUMBER_ENDS, lang),)),
        ("say_number", 4), ("say_number", 5), ("say_number", 6), ("say_number", 7),
        ("play", (name(prompts.CALLBACK_MINUTES_AGO, lang),)),
        ("say_number", 12),  # whole minutes, never rounded up
    ]  # fmt: skip


async def test_a_job_with_no_queue_or_language_leaves_those_words_out(plan: IvrPlan) -> None:
    lang = plan.default_language
    port = FakePort()
    call = CallbackCall(phone="103", reason="requested", queue=None, language=None,
                        arrived_at=NOW + timedelta(minutes=1))  # a clock behind: 0, not -1
    assert await run_whisper(port, plan, call, now=NOW)
    assert port.calls == [
        ("set_language", lang),
        ("play", (name("callback_reason_requested", lang),)),
        ("play", (name(prompts.CALLBACK_NUMBER_ENDS, lang),)),
        ("say_number", 1), ("say_number", 0), ("say_number", 3),
        ("play", (name(prompts.CALLBACK_MINUTES_AGO, lang),)),
        ("say_number", 0),
    ]  # fmt: skip


async def test_any_key_skips_the_rest_of_the_whisper(plan: IvrPlan) -> None:
    port = KeyOnPlay(at=2)
    assert await run_whisper(port, plan, CALL, now=NOW)
    assert port.names() == ["set_language", "play", "play"]


@pytest.mark.parametrize("hangup_at", [0, 1, 4])
async def test_an_operator_who_hangs_up_ends_the_whisper(plan: IvrPlan, hangup_at: int) -> None:
    port = FakePort(hangup_at=hangup_at)
    assert not await run_whisper(port, plan, CALL, now=NOW)
    assert len(port.calls) == hangup_at


async def test_the_patient_is_greeted_in_their_own_language(plan: IvrPlan) -> None:
    port = FakePort()
    assert await run_greeting(port, plan, CALL) == Greeting.SAID
    assert port.calls == [("set_language", "ru"),
                          ("play", (name(prompts.CALLBACK_GREETING, "ru"),))]


async def test_a_patient_of_no_known_language_hears_the_clinics(plan: IvrPlan) -> None:
    port = FakePort()
    call = CallbackCall(phone="+380501234567", reason="missed", queue=None, language="de",
                        arrived_at=NOW)
    assert await run_greeting(port, plan, call) == Greeting.SAID
    assert port.calls[0] == ("set_language", plan.default_language)
    hung_up = FakePort(hangup_at=1)
    assert await run_greeting(hung_up, plan, CALL) == Greeting.HUNG_UP


@pytest.fixture(scope="module")
def confirming(calling: ClinicConfig) -> IvrPlan:
    return IvrPlan.compile(calling.model_copy(update={"callbacks": calling.callbacks.model_copy(
        update={"confirm_key": "1"})}))


@pytest.mark.parametrize(("keys", "greeting", "asked"), [
    (["1"], Greeting.CONFIRMED, 1),  # pressed during the greeting or right after it
    (["", "1"], Greeting.CONFIRMED, 2),  # asked again, then pressed
    (["", ""], Greeting.UNCONFIRMED, CONFIRM_TRIES),  # an answering machine
    (["2", "3"], Greeting.UNCONFIRMED, CONFIRM_TRIES),  # keys refused by the port's digits
    (["", HANGUP], Greeting.HUNG_UP, 2),
])  # fmt: skip
async def test_a_confirm_key_puts_the_patient_through_only_when_pressed(
        confirming: IvrPlan, keys: list[str], greeting: Greeting, asked: int) -> None:
    port = FakePort(keys)
    assert await run_greeting(port, confirming, CALL, confirm_key="1") == greeting
    greeted, confirm = (name(k, "ru") for k in (prompts.CALLBACK_GREETING,
                                                prompts.CALLBACK_CONFIRM))
    # the greeting once, then the question each time; only the key, one digit, 5 s
    assert port.collects == [[greeted, confirm], *[[confirm]] * (asked - 1)]
    assert {arg[1:] for step, arg in port.calls if step == "collect"} == {  # type: ignore[index]
        ("1", 1, CONFIRM_WAIT_S)}


def test_the_confirm_prompt_names_the_key_in_every_language(calling: ClinicConfig) -> None:
    config = calling.model_copy(update={"callbacks": calling.callbacks.model_copy(
        update={"confirm_key": "7"})})
    texts = {t.language: t.text for t in prompts.catalog(config)
             if t.key == prompts.CALLBACK_CONFIRM}  # fmt: skip
    assert set(texts) == set(config.languages)
    assert all(" 7." in text for text in texts.values()), texts
    assert not [t for t in prompts.catalog(calling) if t.key == prompts.CALLBACK_CONFIRM]
