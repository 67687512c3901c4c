"""The complaint route's voice message (ivr.voice_message) through the interpreter with a
scripted port: offer, record after the tone, re-record by key, keep by key, the message handed
on (never written by the IVR), the patient who prefers the operator, the one who hangs up."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from clinicall.ivr.interpreter import run_ivr
from clinicall.ivr.plan import IvrPlan
from clinicall.ivr.voice_message import MAX_TAKES, VoiceMessage
from clinicall.settings.models import ClinicConfig, ComplaintMessage

from .ivr_fakes import HANGUP, TIMEOUT, FakePort

KYIV = ZoneInfo("Europe/Kyiv")
MONDAY_10 = datetime(2026, 6, 1, 10, tzinfo=KYIV)
MESSAGE = "c1-complaint"
UK = "clinicall/uk/"


@pytest.fixture
def with_messages(config: ClinicConfig) -> ClinicConfig:
    complaints = config.complaints.model_copy(
        update={"voice_message": ComplaintMessage(max_s=90, silence_s=4)})
    return config.model_copy(update={"complaints": complaints})


async def complaint_call(config: ClinicConfig, port: FakePort,
                         ) -> tuple[list[VoiceMessage], str, str | None]:  # fmt: skip
    left: list[VoiceMessage] = []
    outcome = await run_ivr(port, config, now=lambda: MONDAY_10, plan=IvrPlan.compile(config),
                            message_left=left.append)
    return left, outcome.outcome, outcome.path


async def test_a_kept_message_is_handed_on_and_the_call_ends(with_messages: ClinicConfig,
                                                             ) -> None:  # fmt: skip
    port = FakePort(["1", "4", "1", "1"])  # language, complaint, leave a message, keep it
    left, outcome, path = await complaint_call(with_messages, port)

    (message,) = left
    assert (message.name, message.fmt, message.seconds, message.route, message.language) == (
        MESSAGE, "wav", 4.5, "complaint", "uk")
    assert message.call.call_id == "c1"
    assert port.recorded == [(MESSAGE, "wav", 90, 4, "#")]
    assert (outcome, path) == ("selfserved", "lang:1/main:4/complaint:1/message:1")
    assert port.enqueued == []
    assert port.names()[-4:] == ["record", "collect", "play", "hangup"]
    assert port.played[-3:] == [UK + "complaint_record", UK + "complaint_confirm",
                                UK + "complaint_saved"]


async def test_two_re_records_the_same_file_then_keeps_it(with_messages: ClinicConfig) -> None:
    port = FakePort(["1", "4", "1", "2", "1"])
    left, outcome, path = await complaint_call(with_messages, port)

    assert [m.name for m in left] == [MESSAGE]
    assert [r[0] for r in port.recorded] == [MESSAGE, MESSAGE]  # the second take overwrites
    assert path == "lang:1/main:4/complaint:1/message:2/message:1"
    assert outcome == "selfserved"


async def test_the_last_take_is_kept_without_asking_again(with_messages: ClinicConfig) -> None:
    port = FakePort(["1", "4", "1", *["2"] * (MAX_TAKES - 1)])
    left, _, _ = await complaint_call(with_messages, port)
    assert len(port.recorded) == MAX_TAKES
    assert len(left) == 1


async def test_silence_after_recording_keeps_it(with_messages: ClinicConfig) -> None:
    left, _, path = await complaint_call(with_messages, FakePort(["1", "4", "1", TIMEOUT]))
    assert len(left) == 1
    assert path == "lang:1/main:4/complaint:1/message:-"


@pytest.mark.parametrize("answer", ["2", TIMEOUT, "7"])
async def test_the_operator_instead_goes_to_the_queue(with_messages: ClinicConfig,
                                                      answer: str) -> None:
    port = FakePort(["1", "4", answer])
    left, outcome, _ = await complaint_call(with_messages, port)
    assert (left, outcome, port.recorded) == ([], "queue", [])
    assert [r.route for r in port.enqueued] == ["complaint"]


async def test_a_hang_up_while_recording_keeps_the_message(with_messages: ClinicConfig) -> None:
    port = FakePort(["1", "4", "1"])
    port.hang_up_while_recording = True
    left, outcome, _ = await complaint_call(with_messages, port)
    assert [m.name for m in left] == [MESSAGE]
    assert left[0].seconds == 0.0  # the engine's count was lost with the call: the importer
    assert outcome == "selfserved"  # measures the file


async def test_a_hang_up_at_the_offer_leaves_nothing(with_messages: ClinicConfig) -> None:
    left, outcome, _ = await complaint_call(with_messages, FakePort(["1", "4", HANGUP]))
    assert (left, outcome) == ([], "hangup")


async def test_without_the_setting_the_route_goes_to_its_queue(config: ClinicConfig) -> None:
    port = FakePort(["1", "4"])
    left, outcome, _ = await complaint_call(config, port)
    assert (left, outcome, port.recorded) == ([], "queue", [])


async def test_other_routes_are_not_offered_a_message(with_messages: ClinicConfig) -> None:
    port = FakePort(["1", "0"])
    left, outcome, _ = await complaint_call(with_messages, port)
    assert (left, outcome) == ([], "queue")
    assert UK + "complaint_offer" not in port.played
