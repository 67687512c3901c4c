"""One queue's callback policy (routing.callback_policy): its overrides, and which queue
serves a callback job."""

from __future__ import annotations

from datetime import timedelta

from clinicall.routing.callback_policy import policy_for, serving_queue
from clinicall.settings.models import Callbacks


def test_the_promotion_is_off_by_default_and_a_queue_may_set_its_own() -> None:
    callbacks = Callbacks.model_validate(
        {"promote_after_min": 8, "queues": {"pediatrics": {"promote_after_min": 3},
                                            "ultrasound": {"first_attempt_min": 20}}})
    assert policy_for(Callbacks(), "pediatrics").promote_after is None
    assert policy_for(callbacks, "pediatrics").promote_after == timedelta(minutes=3)
    assert policy_for(callbacks, "ultrasound").promote_after == timedelta(minutes=8)
    assert policy_for(callbacks, None).promote_after == timedelta(minutes=8)


def test_a_job_is_served_by_its_own_queue() -> None:
    assert serving_queue("pediatrics", "universal") == "pediatrics"


def test_a_job_missed_before_any_queue_is_served_by_the_front_desk() -> None:
    assert serving_queue(None, "universal") == "universal"


def test_an_empty_queue_name_is_a_queue_not_a_missing_one() -> None:
    """Only a job with no queue at all goes to the front desk: the store's NULL, not ''."""
    assert serving_queue("", "universal") == ""
