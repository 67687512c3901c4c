"""The ``offer`` FastAGI session's arguments (``variables.OFFER_AGI_ARGS``): the queue place
a waiting caller who pressed the offer key keeps (docs/callbacks.md, "The offer in the
queue")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clinicall.agi_scripts.asterisk_port import queued_from_env
from clinicall.agi_scripts.protocol import build_environment
from clinicall.calltypes import QueuedCall


def _env(script: str, *args: str) -> dict[str, str]:
    raw = {"network_script": script, "uniqueid": "1712345678.1"}
    raw.update({f"arg_{i}": a for i, a in enumerate(("1712345678.0", *args), start=1)})
    return raw


def test_the_place_is_the_join_instant_with_microseconds() -> None:
    env = build_environment(_env("offer", "uk", "universal", "5", "1796400936.232540"))
    assert queued_from_env(env) == QueuedCall(
        language="uk", queue="universal", priority=5,
        queued_at=datetime(2026, 12, 4, 16, 15, 36, 232540, tzinfo=UTC))  # fmt: skip


def test_only_the_offer_script_has_a_place() -> None:
    env = build_environment(_env("ivr", "uk", "universal", "0", "1796400936.5"))
    assert queued_from_env(env) is None


@pytest.mark.parametrize("queued_at", ["", "nan", "inf", "soon", "1e30"])
def test_no_join_instant_no_place(queued_at: str) -> None:
    """Still an offer session (never the IVR from the start), without a place to keep."""
    env = build_environment(_env("offer", "en", "universal", "0", queued_at))
    assert queued_from_env(env) == QueuedCall("en", "universal", 0, None)


def test_no_queue_is_kept_empty() -> None:
    env = build_environment(_env("offer", "en", "", "0", "1796400936.5"))
    got = queued_from_env(env)
    assert got is not None
    assert got.queue == ""


def test_a_priority_that_is_not_a_number_is_the_default() -> None:
    env = build_environment(_env("offer", "en", "universal", "", "1796400936.5"))
    got = queued_from_env(env)
    assert got is not None
    assert got.priority == 0
