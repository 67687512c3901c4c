"""``callbacks:``: defaults when absent, per-queue overrides, and every bad value named at its
line and key like the rest of the config."""

from __future__ import annotations

import typing
from datetime import time, timedelta
from pathlib import Path

import pytest

from clinicall.db.models.enums import MissCause
from clinicall.routing.callback_order import SharePolicy
from clinicall.routing.callback_policy import policy_for
from clinicall.settings.loader import check_text
from clinicall.settings.models import DEFAULT_MISSED_CAUSES, Callbacks, MissedCause

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = (ROOT / "config" / "clinic.example.yaml").read_text()
SECTION = EXAMPLE[EXAMPLE.index("callbacks:\n"): EXAMPLE.index("\ndatabase:")]


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_the_example_section_loads_with_its_override() -> None:
    report = check_text(EXAMPLE, "c.yaml")
    assert report.problems == []
    assert report.config is not None
    callbacks = report.config.callbacks
    assert callbacks.queues["pediatrics"].first_attempt_min == 5
    assert (callbacks.patient_day.start, callbacks.patient_day.end) == (time(9), time(21))


def test_a_config_without_the_section_gets_the_defaults() -> None:
    report = check_text(EXAMPLE.replace(SECTION, ""), "c.yaml")
    assert report.config is not None
    assert report.config.callbacks == Callbacks()
    assert tuple(Callbacks().missed_causes) == DEFAULT_MISSED_CAUSES
    assert Callbacks().first_attempt_min == 10
    assert Callbacks().live_share == 0.0


def test_a_queue_override_wins_and_the_rest_are_defaults() -> None:
    callbacks = Callbacks.model_validate(
        {"attempts": 4, "spacing_min": 7, "queues": {"lab": {"attempts": 2, "live_share": 0.5}}}
    )
    lab, other = policy_for(callbacks, "lab"), policy_for(callbacks, "other")
    assert (lab.attempts, lab.spacing, lab.live_share) == (2, timedelta(minutes=7), 0.5)
    assert (other.attempts, other.spacing, other.live_share) == (4, timedelta(minutes=7), 0.0)
    assert policy_for(callbacks, None) == other
    assert lab.first_attempt == timedelta(minutes=10)
    assert lab.blocked_prefixes == ("+380700", "+380900")
    assert lab.share == SharePolicy(live_share=0.5, window=10)


@pytest.mark.parametrize(("old", "new", "key", "message"), [
    ("  attempts: 3 ", "  attempts: 0 ", "callbacks.attempts",
     "expected at least 1, got 0"),
    ("  spacing_min: 5 ", "  spacing_min: soon ", "callbacks.spacing_min",
     "expected a whole number of minutes, got 'soon'"),
    ("  live_share: 0.0 ", "  live_share: 1.5 ", "callbacks.live_share",
     "expected at most 1.0, got 1.5"),
    ("  confirm_key: null ", '  confirm_key: "12" ', "callbacks.confirm_key",
     "expected text matching ^[0-9]$, got '12'"),
    ("  confirm_key: null ", "  confirm_key: 1 ", "callbacks.confirm_key",
     "expected text, got 1 (put it in quotes)"),
    ('  patient_day: "09:00-21:00"', '  patient_day: "21:00-09:00"', "callbacks.patient_day",
     "the end of an opening interval must be after its start"),
    ("  missed_causes: [abandoned,", "  missed_causes: [abandonned,", "callbacks.missed_causes[0]",
     "expected one of 'hangup_ivr', 'abandoned'"),
    ('    countries: []', '    countries: ["+380"]', "callbacks.numbers.countries[0]",
     "expected a country calling code: 1 to 3 digits without '+', such as '380' (quoted), "
     "got '+380'"),
    ('    blocked_prefixes: ["+380700"', '    blocked_prefixes: ["0700"',
     "callbacks.numbers.blocked_prefixes[0]",
     "expected the start of a phone number in E.164 form, such as '+380900' (quoted), "
     "got '0700'"),
    ("      first_attempt_min: 5", "      first_attempt_mins: 5",
     "callbacks.queues.pediatrics.first_attempt_mins",
     "unknown key 'first_attempt_mins'; did you mean 'first_attempt_min'?"),
    ("    pediatrics:             # live_share", "    pediatric:             # live_share",
     "callbacks.queues.pediatric", "unknown queue 'pediatric'; did you mean 'pediatrics'?"),
])  # fmt: skip
def test_a_bad_value_is_named_at_its_line_and_key(
    old: str, new: str, key: str, message: str
) -> None:
    assert old in EXAMPLE
    text = EXAMPLE.replace(old, new, 1)
    (problem,) = check_text(text, "c.yaml").errors
    assert problem.key_path == key
    assert message in problem.message
    assert str(problem).startswith(f"c.yaml:{line_of(text, new.strip())}: {key}: ")


def test_the_missed_causes_are_the_stores() -> None:
    assert set(typing.get_args(MissedCause)) == {cause.value for cause in MissCause}


@pytest.mark.parametrize(("old", "new", "key"), [
    ("  first_attempt_min: 10 ", "  first_attempt_min: 15 ", "callbacks.first_attempt_min"),
    ("      first_attempt_min: 5", "      first_attempt_min: 11",
     "callbacks.queues.pediatrics.first_attempt_min"),
])  # fmt: skip
def test_a_target_later_than_the_kpi_is_a_warning_at_its_line(old: str, new: str,
                                                                key: str) -> None:
    text = EXAMPLE.replace(old, new, 1)
    report = check_text(text, "c.yaml")
    assert report.config is not None
    (warning,) = report.warnings
    assert warning.key_path == key
    assert "after kpi.unreturned_after_min (10 min)" in warning.message
    assert str(warning).startswith(f"c.yaml:{line_of(text, new.strip())}: warning: {key}: ")


def test_the_offer_threshold_is_off_unless_set_and_a_queue_may_set_its_own() -> None:
    callbacks = Callbacks.model_validate(
        {"offer_after_min": 10, "queues": {"lab": {"offer_after_min": 3}}})
    assert policy_for(Callbacks(), "lab").offer_after is None  # the key only
    assert policy_for(callbacks, "lab").offer_after == timedelta(minutes=3)
    assert policy_for(callbacks, "other").offer_after == timedelta(minutes=10)


def test_a_negative_offer_threshold_is_refused() -> None:
    text = EXAMPLE.replace("  spacing_min: 5 ", "  offer_after_min: -1\n  spacing_min: 5 ", 1)
    (problem,) = check_text(text, "c.yaml").errors
    assert problem.key_path == "callbacks.offer_after_min"
    assert problem.message == "expected at least 0 of minutes, got -1"


def test_callbacks_with_a_queue_without_wrap_up_is_a_warning_at_its_line() -> None:
    text = EXAMPLE.replace("\ncallbacks:\n", "\ncallbacks:\n  enabled: true\n", 1)
    text += "trunks: [{id: provider, host: 192.0.2.5}]\noutbound: {trunk: provider}\n"
    assert check_text(text, "c.yaml").warnings == []  # every queue has the default wrap-up
    old = "    ring_s: 15\n"  # ultrasound's, the first queue
    no_wrapup = text.replace(old, old + "    wrapup_s: 0\n", 1)
    (warning,) = check_text(no_wrapup, "c.yaml").warnings
    assert warning.key_path == "queues.ultrasound.wrapup_s"
    assert "no wrap-up" in warning.message
    assert str(warning).startswith(f"c.yaml:{line_of(no_wrapup, 'wrapup_s: 0')}: warning: ")


def test_a_promotion_at_or_after_the_target_is_a_warning_at_its_line() -> None:
    text = EXAMPLE.replace("  promote_after_min: null ", "  promote_after_min: 7 ", 1)
    # 7 min is before the 10 min target, but after pediatrics' own 5 min
    (warning,) = check_text(text, "c.yaml").warnings
    assert warning.key_path == "callbacks.queues.pediatrics.first_attempt_min"
    assert "promoted after 7 min, not before its first attempt's target (5 min)" in warning.message
    fixed = text.replace("      first_attempt_min: 5\n",
                         "      first_attempt_min: 5\n      promote_after_min: 3\n", 1)
    assert check_text(fixed, "c.yaml").warnings == []
    late = fixed.replace("promote_after_min: 3", "promote_after_min: 5", 1)
    (warning,) = check_text(late, "c.yaml").warnings
    assert warning.key_path == "callbacks.queues.pediatrics.promote_after_min"
    assert str(warning).startswith(f"c.yaml:{line_of(late, 'promote_after_min: 5')}: warning: ")
