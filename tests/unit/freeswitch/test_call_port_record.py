"""The FreeSWITCH CallPort's voice message: ``record`` after a beep, bounded by time and
silence, stopped by the finish keys, and what its completion says (a scripted session; the
real FreeSWITCH: tests/integration/test_voice_message_freeswitch.py)."""

from __future__ import annotations

import pytest

from clinicall.controller.freeswitch.call_port import BEEP, FreeswitchCallPort
from clinicall.ivr.port import CallerHungUp, PortError, Recorded

from .test_call_port import ScriptedSession


async def test_a_message_is_a_beep_then_record_bounded_by_time_silence_and_keys() -> None:
    session = ScriptedSession({}, {}, {}, {"variable_playback_terminator_used": "#",
                                           "variable_record_ms": "4180"})  # fmt: skip
    port = FreeswitchCallPort(session)
    recorded = await port.record("c1-complaint", fmt="wav", max_s=60, silence_s=4.4,
                                 finish_keys="#")  # fmt: skip
    assert recorded == Recorded("#", 4.18)
    assert [(app, arg) for app, arg, _ in session.executed] == [
        ("multiset", "^^|playback_terminators=none"), ("playback", BEEP),
        ("multiset", "^^|playback_terminators=#"),
        ("record", "${recordings_dir}/c1-complaint.wav 59 200 4")]  # (59, 60] s
    assert session.executed[-1][2] == 65  # the limit plus a margin


async def test_a_message_ended_by_time_or_silence_has_no_key_and_samples_count() -> None:
    session = ScriptedSession({}, {"variable_playback_terminator_used": "",
                                   "variable_record_samples": "24000"})  # fmt: skip
    port = FreeswitchCallPort(session)
    recorded = await port.record("c2-complaint", fmt="wav", max_s=5, silence_s=3,
                                 finish_keys="#", beep=False)  # fmt: skip
    assert recorded == Recorded("", 3.0)
    assert [app for app, _, _ in session.executed] == ["multiset", "record"]


async def test_a_hang_up_while_recording_is_the_callers() -> None:
    session = ScriptedSession({}, {"variable_record_ms": "2000"})
    session.hangup_after = 2
    port = FreeswitchCallPort(session)
    with pytest.raises(CallerHungUp):
        await port.record("c3-complaint", fmt="wav", max_s=5, silence_s=3, finish_keys="#",
                          beep=False)  # fmt: skip


async def test_names_and_formats_that_would_escape_the_spool_are_refused_unsent() -> None:
    session = ScriptedSession()
    port = FreeswitchCallPort(session)
    for name, fmt in (("../x", "wav"), ("a b", "wav"), ("${x}", "wav"), ("", "wav"),
                      ("ok", "w av"), ("ok", "wav;x")):  # fmt: skip
        with pytest.raises(PortError):
            await port.record(name, fmt=fmt, max_s=5, silence_s=3, finish_keys="#")
    assert session.executed == []
