"""The in-queue callback offer on FreeSWITCH (docs/engines/freeswitch.md, "The in-queue
callback offer"): with callbacks on, the offer's keys end a queue stay beside the route's wait
timer's; a stay left by one of them is handed to the controller over the outbound socket with
``CLINICALL_OFFERING=1``, that session's channel data names the queue place, and a caller the
flow did not hang up goes back to the queue they left (the real engine:
tests/integration/test_callback_offer_freeswitch.py)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from clinicall.calltypes import QueuedCall
from clinicall.controller.freeswitch.call_port import call_info
from clinicall.controller.freeswitch.esl.message import EslEvent
from clinicall.freeswitch_config import includes as inc
from clinicall.freeswitch_config import render_freeswitch_config
from clinicall.settings import ClinicConfig, load_config

from .test_call_port import CHANNEL

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "clinic.freeswitch.example.yaml"
OFFERED = [*CHANNEL.headers, ("variable_CLINICALL_OFFERING", "1"),
           ("variable_CLINICALL_LANG", "uk"), ("variable_CLINICALL_QUEUE", "universal"),
           ("variable_CLINICALL_PRIORITY", "2"), ("variable_cc_queue", "universal@clinicall"),
           ("variable_cc_queue_joined_epoch", "1795432685")]  # fmt: skip


def _config(*, callbacks: bool) -> ClinicConfig:
    data = load_config(EXAMPLE).model_dump(mode="json")
    data["callbacks"]["enabled"] = callbacks
    return ClinicConfig.model_validate(data)


def _context(config: ClinicConfig) -> ET.Element:
    text = render_freeswitch_config(config).files[inc.CONTEXT]
    return ET.fromstring(text[text.index("<include>"):])


def _steps(root: ET.Element, extension: str) -> list[tuple[str | None, str | None]]:
    return [(a.get("application"), a.get("data"))
            for a in root.findall(f"context/extension[@name='{extension}']/condition/action")]


def test_the_offer_session_names_the_queue_place_the_others_none() -> None:
    assert call_info(CHANNEL).queued is None
    assert call_info(EslEvent(OFFERED)).queued == QueuedCall(
        language="uk", queue="universal", priority=2,
        queued_at=datetime.fromtimestamp(1795432685, UTC))
    surveyed = EslEvent([*OFFERED, ("variable_CLINICALL_SURVEYING", "1")])
    assert call_info(surveyed).queued is None  # the survey's handover, later in the call
    assert call_info(surveyed).answered is not None


def test_a_join_instant_that_is_not_one_gives_no_place() -> None:
    for joined in ("", "0", "x12", "99999999999999999999"):
        headers = [(k, joined if k == "variable_cc_queue_joined_epoch" else x)
                   for k, x in OFFERED]  # fmt: skip
        queued = call_info(EslEvent(headers)).queued
        assert queued is not None
        assert (queued.queue, queued.queued_at) == ("universal", None)


def test_with_callbacks_the_offer_keys_end_a_stay_beside_the_wait_timers() -> None:
    root = _context(_config(callbacks=True))
    names = [e.get("name") for e in root.findall("context/extension")]
    assert names.index("clinicall_offer_keys") < names.index("clinicall_queue_timer")
    assert _steps(root, "clinicall_offer_keys") == [("set", "cc_exit_keys=1A")]
    assert ("set", "cc_exit_keys=D1A") in _steps(root, "clinicall_queue_timer")


def test_a_stay_left_by_an_offer_key_goes_to_the_offer_then_back_to_its_queue() -> None:
    root = _context(_config(callbacks=True))
    names = [e.get("name") for e in root.findall("context/extension")]
    # the first extension of clinicall_after_queue that matches wins: before the others
    assert names.index("clinicall_offer") < names.index("clinicall_overflow")
    offer = root.find("context/extension[@name='clinicall_offer']")
    assert offer is not None
    conditions = [(c.get("field"), c.get("expression")) for c in offer.findall("condition")]
    assert conditions == [("destination_number", "^clinicall_after_queue$"),
                          ("${cc_cancel_reason}/${cc_exit_key}", "^EXIT_WITH_KEY/[1A]$")]
    expression = re.compile(conditions[1][1] or "")
    assert expression.search("EXIT_WITH_KEY/1")
    assert expression.search("EXIT_WITH_KEY/A")
    assert not expression.search("EXIT_WITH_KEY/D")  # the wait timer: on to the overflow
    assert not expression.search("BREAK_OUT/1")  # hung up after a declined offer
    assert _steps(root, "clinicall_offer") == [
        ("set", "CLINICALL_OFFERING=1"), ("socket", "127.0.0.1:8084 async full"),
        ("set", "CLINICALL_OFFERING="), ("unset", "cc_cancel_reason"),
        ("unset", "cc_exit_key"), ("transfer", "clinicall_after_ivr XML clinicall")]


def test_without_callbacks_no_key_but_the_timers_ends_a_stay() -> None:
    root = _context(_config(callbacks=False))
    names = [e.get("name") for e in root.findall("context/extension")]
    assert "clinicall_offer_keys" not in names
    assert "clinicall_offer" not in names
    assert ("set", "cc_exit_keys=D") in _steps(root, "clinicall_queue_timer")
