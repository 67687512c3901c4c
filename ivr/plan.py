"""The IVR plan: the clinic config compiled once into what a call needs at each step.

Every call walks the same menus, so the lookups (which key does what, which sound name to play,
which route leads where, the opening hours in seconds) are computed once per config and shared
by all calls.  Compiling also checks that every key the interpreter may play is in the prompt
catalog (so the TTS builder has produced it) and that every route resolves to a queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from clinicall.ivr import prompts
from clinicall.routing.hours import OpeningHours
from clinicall.routing.triage import Decision, fallback, resolve
from clinicall.settings.models import ClinicConfig, ComplaintMessage, SurveyMode


class PlanError(ValueError):
    """The config cannot be run as an IVR (a menu, service or prompt it names is missing)."""


@dataclass(frozen=True, slots=True)
class GoTo:
    """Enter a submenu."""

    menu: str


@dataclass(frozen=True, slots=True)
class Route:
    """Leave the IVR for a queue; ``announce`` is the ``queue_<id>`` prompt key."""

    decision: Decision
    announce: str


@dataclass(frozen=True, slots=True)
class Say:
    """Play a self-service answer (``info_hours``, ``info_address``, ``service_<id>``)."""

    answer: str


Action = GoTo | Route | Say


@dataclass(frozen=True, slots=True)
class CompiledMenu:
    id: str
    prompt: str  # prompt key
    options: Mapping[str, Action]


@dataclass(frozen=True, slots=True)
class IvrPlan:
    """Everything a call needs, precomputed; build with :meth:`compile`."""

    languages: tuple[str, ...]
    default_language: str
    ask_language: bool
    language_by_number: Mapping[str, str]  # dialled digits (see :func:`number_key`) -> language
    menus: Mapping[str, CompiledMenu]
    main: str
    operator: Route  # `0` from any menu and the fallback after repeated invalid input
    max_attempts: int
    digit_timeout_s: float
    hours: OpeningHours
    holidays: Mapping[date, str]  # local date -> holiday prompt key
    names: Mapping[str, Mapping[str, str]]  # language -> prompt key -> sound name
    surveys: Mapping[str, SurveyMode]  # queue id -> "ask" | "always" (absent: off)
    #: The route that offers a voice message first (``complaints.voice_message``), if any.
    complaint_message: ComplaintMessage | None = None

    @classmethod
    def compile(cls, config: ClinicConfig) -> IvrPlan:
        names: dict[str, dict[str, str]] = {lang: {} for lang in config.languages}
        for p in prompts.catalog(config):
            names[p.language][p.key] = prompts.prompt_name(p.language, p.key)
        keys = set.intersection(*(set(n) for n in names.values()))
        menus = {mid: _compile_menu(config, mid, keys) for mid in config.ivr.menus}
        surveys = {qid: q.survey for qid, q in config.queues.items() if q.survey != "off"}
        if surveys:
            for key in prompts.SURVEY_KEYS:
                _require(keys, key)
        if config.ivr.main_menu not in menus:
            raise PlanError(f"main menu {config.ivr.main_menu!r} is not defined")
        return cls(
            languages=tuple(config.languages),
            default_language=config.default_language,
            ask_language=config.ivr.language_menu and len(config.languages) > 1,
            language_by_number={
                number_key(n.number): n.language for n in config.numbers if n.language
            },
            menus=menus,
            main=config.ivr.main_menu,
            operator=_route(fallback(config), keys),
            max_attempts=config.ivr.max_attempts,
            digit_timeout_s=config.ivr.digit_timeout_s,
            hours=OpeningHours.from_config(config.hours, config.clinic.zone),
            holidays={h.date: prompts.holiday_key(h.date) for h in config.hours.holidays},
            names=names,
            surveys=surveys,
            complaint_message=config.complaints.voice_message,
        )

    def say(self, language: str, key: str) -> list[str]:
        """The prompt ``key`` in ``language`` as a list to play: empty when this clinic's
        catalog has none (a doctor, route or queue the config does not name)."""
        name = self.names[language].get(key)
        return [name] if name is not None else []

    def language_for(self, dialled: str) -> str | None:
        """The language a dialled clinic number fixes, if any."""
        return self.language_by_number.get(number_key(dialled))


_last_plan: list[tuple[ClinicConfig, IvrPlan]] = []


def plan_for(config: ClinicConfig) -> IvrPlan:
    """The plan of ``config``, compiled on first use and reused while the config is the same.

    The config is immutable and normally one per process, so one slot suffices; it is keyed by
    identity because the config's dicts make it unhashable.
    """
    if _last_plan and _last_plan[0][0] is config:
        return _last_plan[0][1]
    plan = IvrPlan.compile(config)
    _last_plan[:] = [(config, plan)]
    return plan


def number_key(number: str) -> str:
    """The last nine digits: "+380441234567", "380441234567" and "0441234567" all match.

    Engines present the dialled number in several forms (E.164, without '+', national).
    """
    return "".join(ch for ch in number if ch.isdigit())[-9:]


def _require(keys: set[str], key: str) -> str:
    if key not in keys:
        raise PlanError(f"prompt {key!r} is not in the prompt catalog for every language")
    return key


def _route(decision: Decision, keys: set[str]) -> Route:
    return Route(decision, _require(keys, prompts.queue_key(decision.queue)))


def _answer_key(say: str) -> str:
    if say == "hours":
        return prompts.INFO_HOURS
    if say == "address":
        return prompts.INFO_ADDRESS
    return prompts.service_key(say.removeprefix("service:"))


def _compile_menu(config: ClinicConfig, menu_id: str, keys: set[str]) -> CompiledMenu:
    options: dict[str, Action] = {}
    for digit, option in config.ivr.menus[menu_id].options.items():
        if option.menu is not None:
            if option.menu not in config.ivr.menus:
                raise PlanError(f"menu {menu_id!r} key {digit} names unknown menu {option.menu!r}")
            options[digit] = GoTo(option.menu)
        elif option.route is not None:
            options[digit] = _route(resolve(config, option.route), keys)
        elif option.say is not None:
            options[digit] = Say(_require(keys, _answer_key(option.say)))
    return CompiledMenu(menu_id, _require(keys, prompts.menu_key(menu_id)), options)
