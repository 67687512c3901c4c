"""The doctor's probe channels never reach the account: the AMI decoder gives them no facts
(both halves of the Local channel), while other Local channels still count."""

from __future__ import annotations

import pytest

from clinicall.controller.asterisk.ami_facts import AmiFactDecoder
from clinicall.controller.asterisk.doctor_probe import is_probe_channel
from clinicall.controller.facts import ChannelOpened

from .ami_frames import call_frame

PROBE = "Local/000000000042@clinicall-doctor-0000002a"


@pytest.mark.parametrize("half", [";1", ";2"])
def test_probe_channel_frames_give_no_facts(half: str) -> None:
    decoder = AmiFactDecoder()
    ids = {"Uniqueid": "doctor-000000000042", "Linkedid": "doctor-000000000042"}
    frames = [
        call_frame("Newchannel", Channel=PROBE + half, Context="clinicall-doctor", **ids),
        call_frame("VarSet", ("Variable", "CLINICALL_LANG"), ("Value", "uk"),
                   Channel=PROBE + half, **ids),
        call_frame("Hangup", ("Cause", "16"), ("Cause-txt", "Normal Clearing"),
                   Channel=PROBE + half, **ids),
    ]
    assert [decoder.decode(f) for f in frames] == [[], [], []]
    assert decoder.stats.decoded == 0
    assert decoder.stats.ignored["Newchannel (doctor's probe)"] == 1


def test_other_local_channels_still_count() -> None:
    decoder = AmiFactDecoder()
    (fact,) = decoder.decode(call_frame("Newchannel",
                                        Channel="Local/op1@clinicall-operators-0000002b;1"))
    assert isinstance(fact, ChannelOpened)


@pytest.mark.parametrize(("name", "probe"), [
    ("Local/1@clinicall-doctor-00000001;2", True),
    ("Local/1@clinicall-doctors-00000001;2", False),
    ("PJSIP/clinicall-doctor-00000001", False),
    ("Local/1@clinicall-operators-00000001;1", False),
])
def test_probe_names(name: str, probe: bool) -> None:
    assert is_probe_channel(name) is probe
