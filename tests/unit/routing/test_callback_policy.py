"""Which queue serves a callback job (routing.callback_policy.serving_queue)."""

from __future__ import annotations

from clinicall.routing.callback_policy import serving_queue


def test_a_job_is_served_by_its_own_queue() -> None:
    assert serving_queue("pediatrics", "universal") == "pediatrics"


def test_a_job_missed_before_any_queue_is_served_by_the_front_desk() -> None:
    assert serving_queue(None, "universal") == "universal"


def test_an_empty_queue_name_is_a_queue_not_a_missing_one() -> None:
    """Only a job with no queue at all goes to the front desk: the store's NULL, not ''."""
    assert serving_queue("", "universal") == ""
