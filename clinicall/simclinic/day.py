"""The patients of one simulated clinic day: who calls when, about what, and how long they wait.

Pure and seeded (no I/O, no clock): the same profile, topics, date and seed give the same day.

- **Arrivals** are a Poisson process whose rate is constant within each local hour of the day:
  ``calls`` expected calls a day spread over the hours by :attr:`DayProfile.hour_weights`
  (:data:`DEFAULT_HOUR_WEIGHTS`: a morning peak at 9-11, a smaller one at 14-16, a few calls
  before opening and after closing, none at night).  Within an hour the gaps are exponential
  (restarting at the hour's start is exact for a piecewise-constant rate: the process is
  memoryless).  Each local hour starts at its own UTC instant, so a day of a clock change has
  23 or 25 hours of calls.
- **Topics** are the leaves of the clinic's IVR menus (:func:`topics_of`: every key path to a
  queue route or a self-service answer, and ``0`` for the operator), chosen by
  :attr:`DayProfile.topic_weights` (missing topics weigh 1: by default every topic is equally
  likely).  A patient on a number that does not fix the language first presses a language
  key (:attr:`DayProfile.language_weights`).  ``ivr_hangup`` of the patients hang up in the
  menus before choosing (after a random part of their keys).
- **Patience** (how long a patient waits in the queues before hanging up, from the first
  join) is exponential with mean ``patience_s``; **handle time** (the talk with the
  operator) is exponential with mean ``handle_s`` (per queue in ``handle_s_by_queue``).  These
  are the assumptions of Erlang A (``reports.erlang``), so the staffing advice can be checked
  against the days it simulates.
- Every key is pressed after a think time uniform in ``think_s`` seconds.
- **Afterwards** (:class:`Afterwards`): asked before a queue that asks, ``survey_agree`` of
  the patients agree to the post-call survey; they key a CSAT (1-5) and an NPS score (0-10)
  drawn from ``csat_weights`` and ``nps_weights``, and ``survey_hangup`` of them hang up in
  it: half when asked the CSAT (no answer), half when asked the NPS (a partial survey).
  Called back, a patient answers each try with probability ``callback_answer``, after a ring
  uniform in ``callback_ring_s``, and talks their ``handle_s``.  These are drawn from a
  stream of their own (the seed's ``:afterwards``), so adding them left every earlier day's
  arrivals, keys and times as they were.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from clinicall.ivr.plan import GoTo, IvrPlan, Route, Say

#: Relative call volume per local hour 0-23 (a clinic's usual day: docs/simulate.md).
DEFAULT_HOUR_WEIGHTS: tuple[float, ...] = (
    0, 0, 0, 0, 0, 0, 0, 0.3,  # 00-07: a few early callers find the clinic closed
    1.0, 1.6, 1.5, 1.2, 0.9, 0.8, 1.1, 1.2,  # 08-15: peaks at 9-11 and 14-16
    1.0, 0.8, 0.6, 0.5, 0.15, 0, 0, 0,  # 16-23: quieter towards closing, a few after
)  # fmt: skip
OPERATOR_TOPIC = "operator"
#: Relative shares of the CSAT scores 1-5 and the NPS scores 0-10 a surveyed patient keys: a
#: clinic most patients are content with (a CSAT mean of about 4.0, an NPS of about +37).
DEFAULT_CSAT_WEIGHTS = (0.04, 0.06, 0.15, 0.35, 0.40)
DEFAULT_NPS_WEIGHTS = (0.02, 0.01, 0.01, 0.02, 0.02, 0.05, 0.05, 0.10, 0.17, 0.20, 0.35)
#: The callback tries drawn per patient (more than any ``callbacks.attempts`` in use).
CALLBACK_TRIES = 5


class DayError(ValueError):
    """A profile the day cannot be drawn from (no topic, negative weights, ...)."""


@dataclass(frozen=True, slots=True)
class Topic:
    """One thing a patient can call about: the keys from the main menu, and where they lead
    (``queue`` None: a self-service answer)."""

    name: str
    keys: str
    queue: str | None


@dataclass(frozen=True, slots=True)
class DayProfile:
    """What the day is drawn from (see the module docstring for each part)."""

    calls: float = 400.0
    hour_weights: tuple[float, ...] = DEFAULT_HOUR_WEIGHTS
    topic_weights: Mapping[str, float] = field(default_factory=dict)
    language_weights: Mapping[str, float] = field(default_factory=dict)  # default: equal
    patience_s: float = 120.0
    handle_s: float = 180.0
    handle_s_by_queue: Mapping[str, float] = field(default_factory=dict)
    ivr_hangup: float = 0.03
    think_s: tuple[float, float] = (1.0, 4.0)
    survey_agree: float = 0.6
    survey_hangup: float = 0.1
    csat_weights: tuple[float, ...] = DEFAULT_CSAT_WEIGHTS
    nps_weights: tuple[float, ...] = DEFAULT_NPS_WEIGHTS
    callback_answer: float = 0.8
    callback_ring_s: tuple[float, float] = (3.0, 15.0)

    def handle_mean(self, queue: str | None) -> float:
        return self.handle_s_by_queue.get(queue or "", self.handle_s)


@dataclass(frozen=True, slots=True)
class Afterwards:
    """What a patient does after their call: the post-call survey, and a callback."""

    agrees_to_survey: bool = False  # presses 1 when asked before the queue
    csat: int = 5
    nps: int = 10
    #: The survey question they hang up at (``csat``: no answer; ``nps``: a partial survey).
    survey_hangs_up_at: str | None = None
    survey_think_s: float = 2.0  # before each survey key
    #: Per callback try: the ring before they answer (seconds), or None: no answer.
    callback_rings_s: tuple[float | None, ...] = ()


@dataclass(frozen=True, slots=True)
class SimPatient:
    """One patient's call, drawn in advance; the IVR and the queues decide what happens."""

    index: int
    arrival: datetime  # UTC
    caller: str  # E.164
    dialled: str
    topic: str
    keys: str  # every key the patient will press, in order (language key first if asked)
    think_s: tuple[float, ...]  # the think time before each key
    hangs_up_in_ivr: bool  # after the keys above (then cut short), instead of waiting
    patience_s: float
    handle_s: float
    afterwards: Afterwards = Afterwards()


def topics_of(plan: IvrPlan) -> list[Topic]:
    """Every leaf of the IVR's menus reached from the main menu, depth first in key order,
    and the operator (``0``)."""
    found: list[Topic] = []

    def walk(menu_id: str, keys: str, seen: frozenset[str]) -> None:
        menu = plan.menus[menu_id]
        for key in sorted(menu.options):
            action = menu.options[key]
            if isinstance(action, GoTo):
                if action.menu not in seen:
                    walk(action.menu, keys + key, seen | {action.menu})
            elif isinstance(action, Route):
                found.append(Topic(action.decision.route, keys + key, action.decision.queue))
            elif isinstance(action, Say):
                found.append(Topic(action.answer, keys + key, None))

    walk(plan.main, "", frozenset({plan.main}))
    names = {t.name for t in found}
    if OPERATOR_TOPIC not in names:
        found.append(Topic(OPERATOR_TOPIC, "0", plan.operator.decision.queue))
    return found


def hour_starts(day: date, zone: ZoneInfo) -> list[datetime]:
    """The UTC start of each local hour 0-23 of ``day`` and the next midnight (25 instants)."""
    starts = [datetime.combine(day, time(hour), zone).astimezone(UTC) for hour in range(24)]
    starts.append(datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC))
    return starts


def _choose(rng: random.Random, weights: Mapping[str, float]) -> str:
    names = list(weights)
    return rng.choices(names, weights=[weights[n] for n in names])[0]


def generate_day(profile: DayProfile, topics: list[Topic], plan: IvrPlan, *, day: date,
                 numbers: list[str], seed: int) -> list[SimPatient]:  # fmt: skip
    """The day's patients in arrival order (see the module docstring).  ``numbers``: the
    clinic numbers patients dial (the first one by default; each equally likely)."""
    if len(profile.hour_weights) != 24 or min(profile.hour_weights) < 0:
        raise DayError("hour_weights: expected 24 weights >= 0")
    if not topics or not numbers:
        raise DayError("a day needs at least one topic and one clinic number")
    mix = {t.name: profile.topic_weights.get(t.name, 1.0) for t in topics}
    if min(mix.values()) < 0 or sum(mix.values()) <= 0:
        raise DayError("topic_weights: expected weights >= 0, not all 0")
    for name, weights, size in (("csat_weights", profile.csat_weights, 5),
                                ("nps_weights", profile.nps_weights, 11)):
        if len(weights) != size or min(weights) < 0 or sum(weights) <= 0:
            raise DayError(f"{name}: expected {size} weights >= 0, not all 0")
    by_name = {t.name: t for t in topics}
    languages = {lang: profile.language_weights.get(lang, 1.0) for lang in plan.languages}
    rng = random.Random(seed)
    total = sum(profile.hour_weights)
    starts = hour_starts(day, plan.hours.zone)
    arrivals: list[datetime] = []
    for hour, weight in enumerate(profile.hour_weights):
        if weight <= 0 or total <= 0:
            continue
        rate = profile.calls * weight / total / 3600.0  # calls per second in this hour
        span = (starts[hour + 1] - starts[hour]).total_seconds()
        at = rng.expovariate(rate)
        while at < span:
            arrivals.append(starts[hour] + timedelta(seconds=at))
            at += rng.expovariate(rate)
    patients = []
    later = random.Random(f"{seed}:afterwards")
    for index, arrival in enumerate(arrivals):
        dialled = rng.choice(numbers)
        topic = by_name[_choose(rng, mix)]
        keys = topic.keys
        if plan.ask_language and plan.language_for(dialled) is None:
            keys = str(plan.languages.index(_choose(rng, languages)) + 1) + keys
        hangs_up = rng.random() < profile.ivr_hangup
        if hangs_up:
            keys = keys[: rng.randrange(len(keys))]
        patients.append(SimPatient(
            index=index, arrival=arrival, caller=f"+38067{rng.randrange(10**7):07d}",
            dialled=dialled, topic=topic.name, keys=keys,
            think_s=tuple(rng.uniform(*profile.think_s) for _ in keys), hangs_up_in_ivr=hangs_up,
            patience_s=rng.expovariate(1.0 / profile.patience_s),
            handle_s=rng.expovariate(1.0 / profile.handle_mean(topic.queue)),
            afterwards=_afterwards(later, profile),
        ))  # fmt: skip
    return patients


def _afterwards(rng: random.Random, profile: DayProfile) -> Afterwards:
    return Afterwards(
        agrees_to_survey=rng.random() < profile.survey_agree,
        csat=rng.choices(range(1, 6), weights=profile.csat_weights)[0],
        nps=rng.choices(range(11), weights=profile.nps_weights)[0],
        survey_hangs_up_at=(rng.choice(("csat", "nps")) if rng.random() < profile.survey_hangup
                            else None),
        survey_think_s=rng.uniform(*profile.think_s),
        callback_rings_s=tuple(rng.uniform(*profile.callback_ring_s)
                               if rng.random() < profile.callback_answer else None
                               for _ in range(CALLBACK_TRIES)),
    )  # fmt: skip

