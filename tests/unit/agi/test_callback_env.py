"""The ``callback`` FastAGI session's arguments (``<linkedid>,<job>,<side>``): which leg of
which callback job Asterisk hands over (docs/callbacks.md, "The callback call")."""

from __future__ import annotations

import pytest

from clinicall.agi_scripts.asterisk_port import callback_from_env
from clinicall.agi_scripts.protocol import build_environment
from clinicall.calltypes import CallbackLeg


def _env(script: str, *args: str) -> dict[str, str]:
    raw = {"network_script": script, "uniqueid": "1712345678.1"}
    raw.update({f"arg_{i}": a for i, a in enumerate(("1712345678.0", *args), start=1)})
    return raw


@pytest.mark.parametrize("side", ["operator", "patient"])
def test_the_leg_names_its_job_and_side(side: str) -> None:
    assert callback_from_env(build_environment(_env("callback", "12", side))) == \
        CallbackLeg("12", side)  # type: ignore[arg-type]


@pytest.mark.parametrize("args", [("", "operator"), ("12x", "patient"), ("12", "doctor"),
                                  ("12",), ()])
def test_a_leg_without_a_job_or_a_known_side_is_none(args: tuple[str, ...]) -> None:
    assert callback_from_env(build_environment(_env("callback", *args))) is None


def test_only_the_callback_script_is_a_callback_leg() -> None:
    assert callback_from_env(build_environment(_env("ivr", "12", "operator"))) is None
