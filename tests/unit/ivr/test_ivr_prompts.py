from __future__ import annotations

import itertools
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from clinicall.ivr import spoken
from clinicall.ivr.interpreter import run_ivr
from clinicall.ivr.plan import IvrPlan, PlanError, number_key
from clinicall.ivr.prompts import PromptText, catalog, prompt_name
from clinicall.settings.models import ClinicConfig

from .ivr_fakes import ENGLISH_NUMBER, FakePort

KYIV = ZoneInfo("Europe/Kyiv")
KEYS = ["1", "2", "3", "4", "0", "*", "9", ""]


def by_key(config: ClinicConfig) -> dict[tuple[str, str], str]:
    return {(p.language, p.key): p.text for p in catalog(config)}


def test_prompt_name() -> None:
    assert prompt_name("ru", "menu_main") == "clinicall/ru/menu_main"


def test_catalog_keys_are_unique_and_the_same_in_every_language(config: ClinicConfig) -> None:
    prompts = catalog(config)
    pairs = [(p.language, p.key) for p in prompts]
    assert len(pairs) == len(set(pairs))
    per_language = {lang: {k for la, k in pairs if la == lang} for lang in config.languages}
    assert per_language["uk"] == per_language["ru"] == per_language["en"]
    expected = {
        "language_menu", "welcome", "emergency", "invalid", "no_input", "closed", "info_hours",
        "info_address", "info_more", "goodbye", "menu_main", "menu_appointments",
        "menu_information", "menu_services", "queue_universal", "queue_ultrasound",
        "service_pelvic_ultrasound", "holiday_20261225", "holiday_20261231",
    }  # fmt: skip
    assert expected <= per_language["uk"]
    assert all(p.text.strip() for p in prompts)


def test_language_menu_lines_speak_each_language(config: ClinicConfig) -> None:
    texts = by_key(config)
    assert texts["uk", "language_menu"] == "Українська — натисніть 1."
    assert texts["ru", "language_menu"] == "Русский — нажмите 2."
    assert texts["en", "language_menu"] == "English — press 3."


def test_closed_message_spells_the_hours_in_words(config: ClinicConfig) -> None:
    texts = by_key(config)
    assert "з понеділка по п'ятницю — з восьмої до двадцятої" in texts["uk", "closed"]
    assert "у неділю — вихідний" in texts["uk", "closed"]
    assert "с понедельника по пятницу — с восьми до двадцати" in texts["ru", "closed"]
    assert "в субботу — с девяти до пятнадцати" in texts["ru", "closed"]
    assert (
        "Monday to Friday, from eight in the morning to eight in the evening"
        in (texts["en", "closed"])
    )
    for lang in config.languages:
        assert not re.search(r"\d", texts[lang, "closed"]), texts[lang, "closed"]


def test_service_prompt_has_price_duration_doctors_and_equipment(config: ClinicConfig) -> None:
    uk = by_key(config)["uk", "service_pelvic_ultrasound"]
    for part in (
        "650 гривень", "30 хвилин", "повним сечовим міхуром", "GE Voluson E10",
        "лікар Олена Петренко — у понеділок, середу та п'ятницю",
        "лікар Марія Савченко — у вівторок, четвер та суботу",
    ):  # fmt: skip
        assert part in uk
    ru = by_key(config)["ru", "service_pelvic_ultrasound"]
    assert "врач Мария Савченко — во вторник, четверг и субботу" in ru
    en = by_key(config)["en", "service_pediatrician_visit"]
    assert "550 hryvnias" in en
    assert "Dr Taras Lysenko, Monday to Friday" in en


def test_holiday_prompts(config: ClinicConfig) -> None:
    texts = by_key(config)
    assert texts["uk", "holiday_20261225"] == "Сьогодні Різдво, клініка не працює."
    assert "з дев'ятої до чотирнадцятої" in texts["uk", "holiday_20261231"]


@pytest.mark.parametrize(
    ("language", "seconds", "words"),
    [
        ("uk", 8 * 3600, "восьмої"),
        ("uk", 9 * 3600 + 30 * 60, "дев'ятої тридцяти"),
        ("uk", 21 * 3600 + 45 * 60, "двадцять першої сорока п'яти"),
        ("uk", 86400, "півночі"),
        ("ru", 14 * 3600 + 5 * 60, "четырнадцати ноль пяти"),
        ("ru", 21 * 3600, "двадцати одного"),
        ("en", 12 * 3600, "noon"),
        ("en", 0, "midnight"),
        ("en", 13 * 3600 + 15 * 60, "one fifteen in the afternoon"),
        ("en", 8 * 3600 + 5 * 60, "eight oh five in the morning"),
        ("en", 19 * 3600 + 42 * 60, "seven forty-two in the evening"),
    ],
)
def test_clock_in_words(language: str, seconds: int, words: str) -> None:
    assert spoken.clock(language, seconds) == words


@pytest.mark.parametrize(
    ("language", "days", "words"),
    [
        ("uk", [5], "у суботу"),
        ("uk", [0, 1], "у понеділок та вівторок"),
        ("uk", [1, 2, 3, 5], "з вівторка по четвер та у суботу"),
        ("ru", [1], "во вторник"),
        ("ru", [1, 2, 3], "со вторника по четверг"),
        ("ru", [2, 3, 4, 5, 6], "со среды по воскресенье"),
        ("en", [0, 2], "on Monday and Wednesday"),
    ],
)
def test_weekdays_in_words(language: str, days: list[int], words: str) -> None:
    assert spoken.weekdays(language, days) == words


@pytest.mark.parametrize(
    ("n", "form"), [(1, "хвилина"), (3, "хвилини"), (5, "хвилин"), (11, "хвилин"), (21, "хвилина"),
                    (22, "хвилини"), (112, "хвилин")],
)  # fmt: skip
def test_plural(n: int, form: str) -> None:
    assert spoken.plural("uk", n, ("хвилина", "хвилини", "хвилин")) == form


def test_number_key_matches_every_presentation() -> None:
    assert number_key("+380441234568") == number_key("0441234568") == number_key("380441234568")
    assert number_key("+380441234567") != number_key("+380441234568")


def test_plan_refuses_a_menu_without_a_prompt_in_the_catalog(config: ClinicConfig) -> None:
    ivr = config.ivr.model_copy(update={"main_menu": "missing"})
    with pytest.raises(PlanError, match="main menu"):
        IvrPlan.compile(config.model_copy(update={"ivr": ivr}))


async def _explore(
    plan: IvrPlan, config: ClinicConfig, dialled: str, at: datetime, depth: int
) -> set[str]:
    played: set[str] = set()
    for keys in itertools.product(KEYS, repeat=depth):
        port = FakePort(keys, dialled=dialled, exhausted_hangs_up=True)
        await run_ivr(port, config, now=lambda: at, plan=plan)
        played.update(port.played)
    return played


async def test_every_prompt_the_interpreter_plays_is_in_the_catalog(
    plan: IvrPlan, config: ClinicConfig
) -> None:
    """Walk every key sequence (5 keys deep) in each language, open, closed and on holidays."""
    names = {prompt_name(p.language, p.key) for p in catalog(config)}
    played: set[str] = set()
    for at in (
        datetime(2026, 6, 1, 10, tzinfo=KYIV),
        datetime(2026, 6, 7, 10, tzinfo=KYIV),
        datetime(2026, 12, 25, 10, tzinfo=KYIV),
        datetime(2026, 12, 31, 18, tzinfo=KYIV),
    ):
        played |= await _explore(plan, config, "+380441234567", at, depth=5)
        played |= await _explore(plan, config, ENGLISH_NUMBER, at, depth=1)
    assert played <= names, played - names
    # and the walk did reach the interesting prompts in every language
    for lang in config.languages:
        for key in ("menu_services", "service_pediatrician_visit", "info_more", "invalid",
                    "no_input", "queue_universal", "queue_pediatrics", "closed",
                    "holiday_20261225", "holiday_20261231"):  # fmt: skip
            assert prompt_name(lang, key) in played


def test_prompt_text_is_a_frozen_value() -> None:
    p = PromptText("goodbye", "en", "Goodbye.")
    with pytest.raises(AttributeError):
        p.text = "x"  # type: ignore[misc]
