"""The operator page's words: the IVR path and the route as the caller went, and the
desk state's queues and wait."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from clinicall.settings import load_config
from clinicall.web.operator_view import desk_state, operator_of, path_in_words, route_in_words

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "clinic.example.yaml"
NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
CONFIG = load_config(EXAMPLE)


@dataclass(frozen=True)
class Membership:
    queue: str
    state: str = "idle"
    paused: bool = False
    pause_reason: str = ""


@dataclass(frozen=True)
class Call:
    call_id: str = "c1"
    queue: str = "gynecology"
    phase: str = "in_call"
    caller_number: str = "0501112233"
    caller_name: str = "Olena"
    language: str = "uk"
    route: str = "gynecology"
    path: str = "lang:1/main:1/appointments:2"
    joined_at: datetime | None = NOW - timedelta(seconds=40)
    rung_at: datetime = NOW - timedelta(seconds=30)
    answered_at: datetime | None = NOW - timedelta(seconds=25)


def test_the_ivr_path_in_words() -> None:
    assert path_in_words(CONFIG, "lang:1/main:1/appointments:2", "en") == (
        "Appointments › Gynecology")
    assert path_in_words(CONFIG, "main:2/information:3/services:1", "en") == (
        "Information › Services and prices › Pelvic ultrasound")
    assert path_in_words(CONFIG, "main:9/nowhere:1") == ""  # keys the menus did not have
    assert route_in_words(CONFIG, "complaint", "en") == "Complaint (Front desk)"
    assert route_in_words(CONFIG, "") == ""


@pytest.mark.parametrize(("lang", "path", "route"), [
    ("uk", "Запис на прийом › Гінекологія", "Скарга (Реєстратура)"),
    ("ru", "Запись на приём › Гинекология", "Жалоба (Регистратура)"),
    ("en", "Appointments › Gynecology", "Complaint (Front desk)"),
])
def test_the_path_and_route_in_the_viewers_language(lang: str, path: str, route: str) -> None:
    """Menus, routes and services by the config's names; a route named after its queue by the
    queue's name; no language given: the clinic's."""
    assert path_in_words(CONFIG, "lang:1/main:1/appointments:2", lang) == path
    assert route_in_words(CONFIG, "complaint", lang) == route
    assert route_in_words(CONFIG, "gynecology", lang) == path.split(" › ")[1]
    assert path_in_words(CONFIG, "main:1/appointments:2") == "Запис на прийом › Гінекологія"


def test_a_menu_or_route_without_a_name_is_its_id_in_words() -> None:
    menus = dict(CONFIG.ivr.menus)
    menus["appointments"] = menus["appointments"].model_copy(update={"name": None})
    config = CONFIG.model_copy(update={"ivr": CONFIG.ivr.model_copy(update={"menus": menus})})
    assert path_in_words(config, "main:1/appointments:2", "ru") == (
        "Appointments › Гинекология")


def test_the_desk_state_has_the_operators_queues_and_the_wait_until_answered() -> None:
    operator = operator_of(CONFIG, "op102")
    assert operator is not None
    assert operator_of(CONFIG, "maria") is None
    state = desk_state(CONFIG, operator,
                       [Membership("gynecology", paused=True, pause_reason="lunch"),
                        Membership("universal", state="offline")],
                       Call(), "+380501112233", [{"call_id": "old"}], NOW)
    assert [(q["queue"], q["logged_in"], q["paused"]) for q in state["queues"]] == [  # type: ignore[attr-defined]
        ("gynecology", True, True), ("universal", False, False)]
    assert (state["paused"], state["reason"]) == (True, "lunch")
    call = state["call"]
    assert isinstance(call, dict)
    assert (call["number"], call["wait_s"], call["path"]) == (
        "+380501112233", 15.0, "Appointments › Gynecology")
    assert call["previous"] == [{"call_id": "old"}]
