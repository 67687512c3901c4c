"""The FreeSWITCH CallPort: the IVR's verbs as the applications it executes over the outbound
session, and what it reads back from their completion events (a scripted session)."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

import pytest

from clinicall.calltypes import QueueRequest
from clinicall.controller.freeswitch.call_port import (
    DIGITS_VARIABLE,
    FreeswitchCallPort,
    call_info,
    sound_file,
    sound_sequence,
)
from clinicall.controller.freeswitch.esl.errors import EslCommandError, EslHungUp
from clinicall.controller.freeswitch.esl.message import EslEvent
from clinicall.ivr.port import CallerHungUp, PortError

CHANNEL = EslEvent([
    ("Unique-ID", "b-leg"), ("Channel-Call-UUID", "b-leg"),
    ("Caller-Caller-ID-Number", "0501234567"), ("Caller-Caller-ID-Name", "unknown"),
    ("Caller-Destination-Number", "+380441234567"),
    ("variable_CLINICALL_DIALLED", "+380441234567"),
])  # fmt: skip


class ScriptedSession:
    """Answers each execute with the next scripted completion's headers."""

    def __init__(self, *completions: dict[str, str] | Exception) -> None:
        self.channel = CHANNEL
        self.executed: list[tuple[str, str, float | None]] = []
        self._completions = list(completions)
        self.hung_up = False
        self.hangup_after: int | None = None  # hang up once this many executes ran

    async def execute(self, app: str, arg: str = "", *,
                      timeout: float | None = None) -> EslEvent:  # noqa: ASYNC109  # fmt: skip
        self.executed.append((app, arg, timeout))
        if self.hangup_after is not None and len(self.executed) >= self.hangup_after:
            self.hung_up = True
        done = self._completions.pop(0) if self._completions else {}
        if isinstance(done, Exception):
            raise done
        return EslEvent([("Event-Name", "CHANNEL_EXECUTE_COMPLETE"), *done.items()])

    async def hangup(self, cause: str = "NORMAL_CLEARING") -> None:
        self.executed.append(("hangup", cause, None))

    def start_task(self, coro: Coroutine[Any, Any, Any], name: str = "") -> None:
        coro.close()


def test_the_call_is_described_by_its_channel_data() -> None:
    info = call_info(CHANNEL)
    assert (info.call_id, info.channel_id, info.caller_number, info.caller_name,
            info.dialled_number, info.engine) == ("b-leg", "b-leg", "0501234567", "",
                                                  "+380441234567", "freeswitch")  # fmt: skip


def test_prompts_are_files_in_freeswitchs_sound_tree() -> None:
    assert sound_file("clinicall/uk/menu_main") == "${sounds_dir}/clinicall/uk/menu_main.wav"
    assert sound_sequence(["clinicall/uk/a", "clinicall/uk/b"]) == (
        "file_string://${sounds_dir}/clinicall/uk/a.wav!${sounds_dir}/clinicall/uk/b.wav")
    for bad in ("", "a b", "x!y", "../etc/passwd", "${x}"):
        with pytest.raises(PortError):
            sound_file(bad)


async def test_play_without_barge_in_sets_no_terminators_once() -> None:
    session = ScriptedSession()
    port = FreeswitchCallPort(session)
    assert await port.play(["clinicall/uk/a", "clinicall/uk/b"]) == ""
    assert await port.play(["clinicall/uk/c"]) == ""
    assert [(app, arg) for app, arg, _ in session.executed] == [
        ("multiset", "^^|playback_terminators=none"),
        ("playback", sound_sequence(["clinicall/uk/a", "clinicall/uk/b"])),
        ("playback", sound_file("clinicall/uk/c")),
    ]


async def test_play_with_barge_in_returns_the_key_that_stopped_it() -> None:
    session = ScriptedSession({}, {"variable_playback_terminator_used": "2"})
    port = FreeswitchCallPort(session)
    assert await port.play(["clinicall/en/x"], digits="12") == "2"
    assert session.executed[0][:2] == ("multiset", "^^|playback_terminators=12")


async def test_collect_plays_then_waits_for_keys_with_a_deadline() -> None:
    session = ScriptedSession({f"variable_{DIGITS_VARIABLE}": "3"})
    port = FreeswitchCallPort(session, prompt_deadline_s=100)
    got = await port.collect(["clinicall/en/menu"], digits="123", max_digits=1, timeout_s=2.5)
    assert got == "3"
    ((app, arg, deadline),) = session.executed
    assert app == "play_and_get_digits"
    assert arg.split(" ") == ["1", "1", "1", "2500", "#", sound_file("clinicall/en/menu"),
                              "silence_stream://1", DIGITS_VARIABLE, "^[0-9*#]+$", "2500"]
    assert deadline == 100 + 2.5 + 5


async def test_silence_is_no_digits() -> None:
    port = FreeswitchCallPort(ScriptedSession({"variable_read_result": "failure"}))
    assert await port.collect([], digits="1", max_digits=4, timeout_s=1) == ""


async def test_enqueue_sets_the_dialplans_variables_in_one_application() -> None:
    session = ScriptedSession()
    port = FreeswitchCallPort(session)
    await port.enqueue(QueueRequest(queue="pediatrics", priority=2, max_wait_s=60,
                                    overflow_queue="universal", language="ru",
                                    path="lang:2/main:1", route="pediatrics"))  # fmt: skip
    ((app, arg, _),) = session.executed
    assert app == "multiset"
    assert arg.split("|") == ["^^", "CLINICALL_QUEUE=pediatrics", "CLINICALL_PRIORITY=2",
                              "cc_base_score=7200", "CLINICALL_MAX_WAIT=60",
                              "CLINICALL_OVERFLOW=universal", "CLINICALL_LANG=ru",
                              "CLINICALL_PATH=lang:2/main:1", "CLINICALL_ROUTE=pediatrics",
                              "CLINICALL_OUTCOME=queue", "CLINICALL_SURVEY="]


async def test_a_value_freeswitch_would_read_as_syntax_is_refused_unsent() -> None:
    session = ScriptedSession()
    port = FreeswitchCallPort(session)
    for value in ("a|b", "${x}", "a\nb"):
        with pytest.raises(PortError):
            await port.set_variable("CLINICALL_ROUTE", value)
    assert session.executed == []


async def test_a_hang_up_is_caller_hung_up_even_when_the_application_completed() -> None:
    session = ScriptedSession({f"variable_{DIGITS_VARIABLE}": ""})
    session.hangup_after = 1
    with pytest.raises(CallerHungUp):
        await FreeswitchCallPort(session).collect(["clinicall/uk/x"], digits="1",
                                                  max_digits=1, timeout_s=1)  # fmt: skip
    with pytest.raises(CallerHungUp):
        await FreeswitchCallPort(ScriptedSession(EslHungUp("gone"))).answer()


async def test_refused_or_late_commands_are_port_errors() -> None:
    with pytest.raises(PortError):
        await FreeswitchCallPort(ScriptedSession(EslCommandError("execute x", "-ERR"))).answer()
    with pytest.raises(PortError):
        await FreeswitchCallPort(ScriptedSession(TimeoutError("late"))).answer()


async def test_hangup_of_a_call_already_gone_sends_nothing() -> None:
    session = ScriptedSession()
    session.hung_up = True
    await FreeswitchCallPort(session).hangup()
    assert session.executed == []
