"""The simulated day's patients: the rates, mix and distributions asked for come back out.

Tolerances are about four standard errors of the estimate on the run's size, so a correct
generator fails them less than once in ten thousand seeds, and a wrong rate (a missing hour, a
mix or a mean off by a tenth) fails them.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from clinicall.ivr.plan import IvrPlan
from clinicall.settings.loader import load_config
from clinicall.simclinic.day import (
    CALLBACK_TRIES,
    DEFAULT_HOUR_WEIGHTS,
    Afterwards,
    DayError,
    DayProfile,
    SimPatient,
    Topic,
    generate_day,
    hour_starts,
    topics_of,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "clinic.example.yaml"
CONFIG = load_config(EXAMPLE)
PLAN = IvrPlan.compile(CONFIG)
TOPICS = topics_of(PLAN)
NUMBER = CONFIG.numbers[0].number
TUESDAY = date(2026, 11, 24)
DAYS = 40


def _days(profile: DayProfile, days: int = DAYS) -> list[list[SimPatient]]:
    return [generate_day(profile, TOPICS, PLAN, day=TUESDAY + timedelta(weeks=w),
                         numbers=[NUMBER], seed=w) for w in range(days)]  # fmt: skip


def test_topics_are_the_ivr_leaves_with_their_keys() -> None:
    found = {t.name: (t.keys, t.queue) for t in TOPICS}
    assert found["ultrasound"] == ("11", "ultrasound")
    assert found["pediatrics"] == ("13", "pediatrics")
    assert found["test_results"] == ("3", "therapy")
    assert found["complaint"] == ("4", "universal")
    assert found["info_hours"] == ("21", None)
    assert found["service_pediatrician_visit"] == ("233", None)
    assert found["operator"] == ("0", "universal")
    assert len(TOPICS) == 12


def test_the_same_seed_gives_the_same_day_and_another_seed_another() -> None:
    profile = DayProfile(calls=200)
    one = generate_day(profile, TOPICS, PLAN, day=TUESDAY, numbers=[NUMBER], seed=7)
    again = generate_day(profile, TOPICS, PLAN, day=TUESDAY, numbers=[NUMBER], seed=7)
    other = generate_day(profile, TOPICS, PLAN, day=TUESDAY, numbers=[NUMBER], seed=8)
    assert one == again
    assert one != other


def test_arrivals_follow_the_hour_profile() -> None:
    profile = DayProfile(calls=300)
    days = _days(profile)
    starts = hour_starts(TUESDAY, CONFIG.clinic.zone)
    per_hour = Counter[int]()
    for patients in days:
        for p in patients:
            local = p.arrival.astimezone(CONFIG.clinic.zone)
            assert local.date() == patients[0].arrival.astimezone(CONFIG.clinic.zone).date()
            per_hour[local.hour] += 1
    total = sum(DEFAULT_HOUR_WEIGHTS)
    for hour, weight in enumerate(DEFAULT_HOUR_WEIGHTS):
        expected = DAYS * profile.calls * weight / total
        if expected == 0:
            assert per_hour[hour] == 0, hour
        else:  # Poisson: sd = sqrt(mean)
            assert abs(per_hour[hour] - expected) <= 4 * math.sqrt(expected), hour
    assert starts[0] == datetime(2026, 11, 23, 22, tzinfo=UTC)  # Kyiv midnight, UTC+2


def test_gaps_within_an_hour_are_exponential() -> None:
    """A Poisson process: the gaps' coefficient of variation is 1 (evenly spaced calls: 0)."""
    gaps = []
    for patients in _days(DayProfile(calls=2000, hour_weights=(0,) * 10 + (1,) + (0,) * 13)):
        times = [p.arrival.timestamp() for p in patients]
        gaps += [b - a for a, b in itertools.pairwise(times)]
    mean = statistics.fmean(gaps)
    assert abs(mean - 3600 / 2000) < 4 * mean / math.sqrt(len(gaps))
    assert abs(statistics.stdev(gaps) / mean - 1) < 0.05


def test_topic_mix_languages_patience_and_handle_times() -> None:
    profile = DayProfile(calls=400, topic_weights={"operator": 5, "info_address": 0},
                         language_weights={"uk": 3, "ru": 1, "en": 0}, patience_s=90,
                         handle_s=200, handle_s_by_queue={"pediatrics": 300}, ivr_hangup=0)
    patients = [p for day in _days(profile) for p in day]
    n = len(patients)
    weights = {t.name: profile.topic_weights.get(t.name, 1.0) for t in TOPICS}
    total = sum(weights.values())
    topics = Counter(p.topic for p in patients)
    for name, weight in weights.items():
        share = weight / total
        assert abs(topics[name] - n * share) <= 4 * math.sqrt(n * share * (1 - share)) + 1, name
    languages = Counter(p.keys[0] for p in patients)
    assert languages["3"] == 0
    assert abs(languages["1"] / n - 0.75) <= 4 * math.sqrt(0.75 * 0.25 / n)
    by_topic = {t.name: t for t in TOPICS}
    assert all(p.keys[1:] == by_topic[p.topic].keys for p in patients)
    patience = [p.patience_s for p in patients]
    assert abs(statistics.fmean(patience) / 90 - 1) <= 4 / math.sqrt(n)
    assert abs(statistics.stdev(patience) / statistics.fmean(patience) - 1) < 0.05
    kids = [p.handle_s for p in patients if p.topic == "pediatrics"]
    others = [p.handle_s for p in patients if p.topic == "gynecology"]
    assert abs(statistics.fmean(kids) / 300 - 1) <= 4 / math.sqrt(len(kids))
    assert abs(statistics.fmean(others) / 200 - 1) <= 4 / math.sqrt(len(others))


def test_some_patients_hang_up_in_the_menus_with_fewer_keys() -> None:
    patients = [p for day in _days(DayProfile(calls=300, ivr_hangup=0.2), 10) for p in day]
    gone = [p for p in patients if p.hangs_up_in_ivr]
    share = len(gone) / len(patients)
    assert abs(share - 0.2) <= 4 * math.sqrt(0.2 * 0.8 / len(patients))
    by_topic = {t.name: t for t in TOPICS}
    assert all(len(p.keys) < 1 + len(by_topic[p.topic].keys) for p in gone)
    assert all(len(p.think_s) == len(p.keys) for p in patients)


def test_a_number_that_fixes_the_language_gets_no_language_key() -> None:
    english = CONFIG.numbers[1].number
    patients = generate_day(DayProfile(calls=100, ivr_hangup=0), TOPICS, PLAN, day=TUESDAY,
                            numbers=[english], seed=1)  # fmt: skip
    by_topic = {t.name: t for t in TOPICS}
    assert patients
    assert all(p.keys == by_topic[p.topic].keys for p in patients)


@pytest.mark.parametrize(("profile", "topics"), [
    (DayProfile(hour_weights=(1,) * 23), TOPICS),
    (DayProfile(hour_weights=(-1,) + (1,) * 23), TOPICS),
    (DayProfile(topic_weights={t.name: 0 for t in TOPICS}), TOPICS),
    (DayProfile(), list[Topic]()),
    (DayProfile(csat_weights=(1, 1)), TOPICS),
    (DayProfile(nps_weights=(0,) * 11), TOPICS),
])  # fmt: skip
def test_a_profile_the_day_cannot_be_drawn_from_is_refused(profile: DayProfile,
                                                            topics: list[Topic]) -> None:
    with pytest.raises(DayError):
        generate_day(profile, topics, PLAN, day=TUESDAY, numbers=[NUMBER], seed=1)


def test_what_patients_do_afterwards_is_drawn_apart_and_leaves_the_day_as_it_was() -> None:
    """The survey and callback draws have a stream of their own: a profile that changes only
    them gives the same calls, key for key and second for second."""
    quiet = DayProfile(calls=200, survey_agree=0.0, callback_answer=0.0)
    keen = DayProfile(calls=200, survey_agree=1.0, callback_answer=1.0, csat_weights=(0, 0, 0,
                                                                                     0, 1))
    one = generate_day(quiet, TOPICS, PLAN, day=TUESDAY, numbers=[NUMBER], seed=3)
    two = generate_day(keen, TOPICS, PLAN, day=TUESDAY, numbers=[NUMBER], seed=3)
    assert [replace(p, afterwards=Afterwards()) for p in one] == \
        [replace(p, afterwards=Afterwards()) for p in two]
    assert not any(p.afterwards.agrees_to_survey for p in one)
    assert all(p.afterwards.agrees_to_survey and p.afterwards.csat == 5 for p in two)
    assert all(p.afterwards.callback_rings_s == (None,) * CALLBACK_TRIES for p in one)
    assert all(None not in p.afterwards.callback_rings_s for p in two)


def test_survey_answers_and_callback_pickups_follow_the_profile() -> None:
    profile = DayProfile(calls=400, survey_agree=0.6, survey_hangup=0.2, callback_answer=0.7,
                         callback_ring_s=(2.0, 10.0))  # fmt: skip
    later = [p.afterwards for day in _days(profile, 10) for p in day]
    n = len(later)

    def near(count: float, share: float, of: int) -> bool:
        return abs(count - of * share) <= 4 * math.sqrt(of * share * (1 - share)) + 1

    assert near(sum(a.agrees_to_survey for a in later), 0.6, n)
    gone = Counter(a.survey_hangs_up_at for a in later)
    assert near(gone["csat"], 0.1, n)
    assert near(gone["nps"], 0.1, n)
    weights = profile.csat_weights
    csat = Counter(a.csat for a in later)
    for score, weight in zip(range(1, 6), weights, strict=True):
        assert near(csat[score], weight / sum(weights), n), score
    nps = Counter(a.nps for a in later)
    for score, weight in enumerate(profile.nps_weights):
        assert near(nps[score], weight / sum(profile.nps_weights), n), score
    rings = [r for a in later for r in a.callback_rings_s]
    assert len(rings) == n * CALLBACK_TRIES
    assert near(sum(r is not None for r in rings), 0.7, len(rings))
    assert all(2.0 <= r <= 10.0 for r in rings if r is not None)
