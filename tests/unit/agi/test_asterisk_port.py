"""AsteriskCallPort: the exact AGI command sequences for each IVR verb, over the real server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from clinicall.agi_scripts import asterisk_port
from clinicall.agi_scripts.asterisk_port import (
    DEADLINE_MARGIN_S,
    SPOOL_DIR_QUERY,
    AsteriskCallPort,
    queue_variables,
    variable_commands,
)
from clinicall.agi_scripts.channel import AgiChannel
from clinicall.agi_scripts.protocol import AgiEnvironment, AgiReply, build_environment
from clinicall.agi_scripts.server import FastAgiServer
from clinicall.calltypes import AnsweredCall, CallInfo, QueueRequest
from clinicall.ivr.port import CallerHungUp, PortError, Recorded

from .fake_asterisk import FakeAsterisk

Action = Callable[[AsteriskCallPort], Awaitable[object]]
Script = list[tuple[str, str]]
RunPort = Callable[..., Awaitable[object]]

LINKEDID = {"arg_1": "1712345678.0"}  # the dialplan passes ${CHANNEL(linkedid)}


@pytest.fixture
async def run_port() -> AsyncIterator[RunPort]:
    """Run ``action(port)`` in a real session while a fake Asterisk plays ``script``.

    Returns what the action returned, or the exception it raised.  Fails if the port sent a
    command the script did not expect, or sent more commands than scripted.
    """
    actions: asyncio.Queue[Action] = asyncio.Queue()
    results: asyncio.Queue[object] = asyncio.Queue()

    async def handler(channel: AgiChannel) -> None:
        action = await actions.get()
        try:
            port = await AsteriskCallPort.open(channel)
            results.put_nowait(await action(port))
        except (CallerHungUp, PortError) as exc:
            results.put_nowait(exc)

    async with FastAgiServer(handler, port=0) as server:

        async def run(action: Action, script: Script, **env: str) -> object:
            actions.put_nowait(action)
            peer = await FakeAsterisk(server.port).start(**env)
            for command, reply in script:
                await peer.exchange(command, reply)
            extra = await peer.read_command()  # '' when the session ended
            assert extra == "", f"command beyond the script: {extra!r}"
            await peer.close()
            return await results.get()

        yield run


async def test_info_from_environment_with_linkedid_argument(run_port: RunPort) -> None:
    async def info(port: AsteriskCallPort) -> CallInfo:
        return port.info

    got = await run_port(info, [], **LINKEDID, calleridname="unknown", uniqueid="1712345678.5")
    assert got == CallInfo(
        call_id="1712345678.0",
        channel_id="1712345678.5",
        caller_number="380501234567",
        caller_name="",
        dialled_number="0800300300",
        engine="asterisk",
    )


async def test_linkedid_fetched_once_when_not_passed(run_port: RunPort) -> None:
    async def call_id(port: AsteriskCallPort) -> str:
        return port.info.call_id

    script = [('GET VARIABLE "CHANNEL(linkedid)"', "200 result=1 (1712345600.3)")]
    assert await run_port(call_id, script) == "1712345600.3"


async def test_linkedid_unavailable_falls_back_to_uniqueid(run_port: RunPort) -> None:
    async def call_id(port: AsteriskCallPort) -> str:
        return port.info.call_id

    script = [('GET VARIABLE "CHANNEL(linkedid)"', "200 result=0")]
    assert await run_port(call_id, script, uniqueid="1712345678.7") == "1712345678.7"


async def test_answer_and_language(run_port: RunPort) -> None:
    async def act(port: AsteriskCallPort) -> str:
        await port.answer()
        await port.set_language("uk")
        return "done"

    script = [
        ("ANSWER", "200 result=0"),
        ('SET VARIABLE "CHANNEL(language)" "uk"', "200 result=1"),
    ]
    assert await run_port(act, script, **LINKEDID) == "done"


async def test_play_stops_at_first_key(run_port: RunPort) -> None:
    async def act(port: AsteriskCallPort) -> str:
        return await port.play(["p/one", "p/two", "p/three"], digits="123")

    script = [
        ('STREAM FILE "p/one" "123"', "200 result=0 endpos=8000"),
        ('STREAM FILE "p/two" "123"', "200 result=50 endpos=2400"),  # '2'
    ]
    assert await run_port(act, script, **LINKEDID) == "2"


async def test_play_without_key_returns_empty(run_port: RunPort) -> None:
    async def act(port: AsteriskCallPort) -> str:
        return await port.play(["p/one", "p/two"])

    script = [
        ('STREAM FILE "p/one" ""', "200 result=0 endpos=8000"),
        ('STREAM FILE "p/two" ""', "200 result=0 endpos=8000"),
    ]
    assert await run_port(act, script, **LINKEDID) == ""


async def test_play_minus_one_is_hang_up(run_port: RunPort) -> None:
    async def act(port: AsteriskCallPort) -> str:
        return await port.play(["p/one", "p/two"], digits="1")

    script = [('STREAM FILE "p/one" "1"', "200 result=-1 endpos=1200")]
    assert isinstance(await run_port(act, script, **LINKEDID), CallerHungUp)


async def test_collect_plays_leading_prompts_then_get_data(run_port: RunPort) -> None:
    async def act(port: AsteriskCallPort) -> str:
        return await port.collect(["p/a", "p/b", "p/c"], digits="123", max_digits=1, timeout_s=5)

    script = [
        ('STREAM FILE "p/a" "123"', "200 result=0 endpos=8000"),
        ('STREAM FILE "p/b" "123"', "200 result=0 endpos=8000"),
        ('GET DATA "p/c" "5000" "1"', "200 result=3"),
    ]
    assert await run_port(act, script, **LINKEDID) == "3"


async def test_collect_key_during_earlier_prompt_single_digit(run_port: RunPort) -> None:
    async def act(port: AsteriskCallPort) -> str:
        return await port.collect(["p/a", "p/b"], digits="123", max_digits=1, timeout_s=5)

    script = [('STREAM FILE "p/a" "123"', "200 result=49 endpos=100")]  # '1', no GET DATA
    assert await run_port(act, script, **LINKEDID) == "1"


async def test_collect_key_during_earlier_prompt_combines_with_rest(run_port: RunPort) -> None:
    async def act(port: AsteriskCallPort) -> str:
        return await port.collect(["p/a", "p/b"], digits="0123456789", max_digits=3, timeout_s=2.5)

    script = [
        ('STREAM FILE "p/a" "0123456789"', "200 result=55 endpos=100"),  # '7'
        ('GET DATA "silence/1" "2500" "2"', "200 result=42"),
    ]
    assert await run_port(act, script, **LINKEDID) == "742"


async def test_collect_timeout_returns_what_was_pressed(run_port: RunPort) -> None:
    async def act(port: AsteriskCallPort) -> tuple[str, str]:
        nothing = await port.collect(["p/a"], digits="12", max_digits=1, timeout_s=3)
        partial = await port.collect(["p/a"], digits="0123456789", max_digits=4, timeout_s=3)
        return nothing, partial

    script = [
        ('GET DATA "p/a" "3000" "1"', "200 result= (timeout)"),
        ('GET DATA "p/a" "3000" "4"', "200 result=12 (timeout)"),
    ]
    assert await run_port(act, script, **LINKEDID) == ("", "12")


async def test_collect_without_prompts_listens_on_silence(run_port: RunPort) -> None:
    async def act(port: AsteriskCallPort) -> str:
        return await port.collect([], digits="12", max_digits=1, timeout_s=1)

    script = [('GET DATA "silence/1" "1000" "1"', "200 result=2")]
    assert await run_port(act, script, **LINKEDID) == "2"


async def test_collect_hang_up(run_port: RunPort) -> None:
    async def act(port: AsteriskCallPort) -> str:
        return await port.collect(["p/a"], digits="12", max_digits=1, timeout_s=3)

    script = [('GET DATA "p/a" "3000" "1"', "200 result=-1")]
    assert isinstance(await run_port(act, script, **LINKEDID), CallerHungUp)


async def test_say_number_with_barge_in(run_port: RunPort) -> None:
    async def act(port: AsteriskCallPort) -> str:
        return await port.say_number(42, digits="#")

    script = [('SAY NUMBER "42" "#"', "200 result=35")]
    assert await run_port(act, script, **LINKEDID) == "#"


async def test_enqueue_sets_dialplan_variables(run_port: RunPort) -> None:
    request = QueueRequest(
        queue="cardiology",
        priority=5,
        max_wait_s=300,
        overflow_queue=None,
        language="ru",
        path="lang:2/main:1/appointments:3",
        route="cardio-appointment",
    )

    async def act(port: AsteriskCallPort) -> str:
        await port.enqueue(request)
        return "queued"

    # The empty overflow (MSet would skip it) alone and first, the plain values in one MSet.
    script = [
        ('SET VARIABLE "CLINICALL_OVERFLOW" ""', "200 result=1"),
        (
            'EXEC "MSet" "CLINICALL_QUEUE=cardiology,CLINICALL_PRIORITY=5,QUEUE_PRIO=5,'
            'CLINICALL_MAX_WAIT=300,CLINICALL_LANG=ru,CLINICALL_PATH=lang:2/main:1/appointments:3,'
            'CLINICALL_ROUTE=cardio-appointment,CLINICALL_OUTCOME=queue"',
            "200 result=0",
        ),
    ]
    assert await run_port(act, script, **LINKEDID) == "queued"


async def test_enqueue_sends_the_same_lines_from_its_memo(run_port: RunPort) -> None:
    """A request's commands are worked out once (asterisk_port._QUEUE_COMMANDS): the second
    call with an equal request, and the first with a request that differs in one field, send
    what the first sent and what that field gives."""
    asterisk_port._QUEUE_COMMANDS.clear()

    def request(priority: int, survey: bool = False) -> QueueRequest:
        return QueueRequest("therapy", priority, 120, "reception", "uk", "lang:1", "t", survey)

    mset = (
        'EXEC "MSet" "CLINICALL_QUEUE=therapy,CLINICALL_PRIORITY={p},QUEUE_PRIO={p},'
        "CLINICALL_MAX_WAIT=120,CLINICALL_OVERFLOW=reception,CLINICALL_LANG=uk,"
        'CLINICALL_PATH=lang:1,CLINICALL_ROUTE=t,CLINICALL_OUTCOME=queue{survey}"'
    )
    cases = [
        (request(1), mset.format(p=1, survey="")),
        (request(1), mset.format(p=1, survey="")),  # from the memo
        (request(2), mset.format(p=2, survey="")),
        (request(1, survey=True), mset.format(p=1, survey=",CLINICALL_SURVEY=1")),
        # True equals 1 and hashes alike, but its text is "True": never the memo's "1"
        (request(True), mset.format(p=True, survey="")),
    ]
    for queued, line in cases:

        async def act(port: AsteriskCallPort, queued: QueueRequest = queued) -> str:
            await port.enqueue(queued)
            return "queued"

        assert await run_port(act, [(line, "200 result=0")], **LINKEDID) == "queued"
    assert len(asterisk_port._QUEUE_COMMANDS) == 3  # True's request is not kept


async def test_queue_commands_memo_is_bounded() -> None:
    asterisk_port._QUEUE_COMMANDS.clear()
    channel = CommandRecorder(build_environment({"uniqueid": "1.1", **LINKEDID}))
    port = AsteriskCallPort(channel)
    for n in range(asterisk_port.QUEUE_COMMANDS_MEMO_SIZE * 2 + 1):
        request = QueueRequest("q", n, 60, None, "uk", f"lang:{n}", "r")
        channel.sent.clear()
        await port.enqueue(request)
        expected = list(variable_commands(queue_variables(request), plain_last=True))
        assert channel.sent == expected
        assert asterisk_port._QUEUE_COMMANDS[request] == tuple(expected)
        assert len(asterisk_port._QUEUE_COMMANDS) <= asterisk_port.QUEUE_COMMANDS_MEMO_SIZE
    assert len(asterisk_port._QUEUE_COMMANDS) == 1  # emptied at the limit, then this one


class CommandRecorder:
    """A channel that answers every command at once and records what was sent, and the
    deadline each command was given."""

    def __init__(self, env: AgiEnvironment) -> None:
        self.env = env
        self.sent: list[tuple[str | int, ...]] = []
        self.deadlines: list[tuple[str, float | None]] = []

    async def command(
        self,
        command: str,
        *args: str | int,
        minus_one_is_hangup: bool = False,
        deadline_s: float | None = None,
    ) -> AgiReply:
        self.sent.append((command, *args))
        self.deadlines.append((command, deadline_s))
        return AgiReply(200, "0")


async def test_values_msets_splitter_would_read_go_one_by_one(run_port: RunPort) -> None:
    pairs = [
        ("A", "1"),
        ("B", "x,y"),
        ("C", 'say "hi"'),
        ("D", "(a"),
        ("E", "2"),
        ("F", "3"),
        ("G", "back\\slash"),
        ("H", "4"),
    ]

    async def act(port: AsteriskCallPort) -> str:
        await port.set_variables(pairs)
        return "set"

    script = [
        ('SET VARIABLE "A" "1"', "200 result=1"),
        ('SET VARIABLE "B" "x,y"', "200 result=1"),
        ('SET VARIABLE "C" "say \\"hi\\""', "200 result=1"),
        ('SET VARIABLE "D" "(a"', "200 result=1"),
        ('EXEC "MSet" "E=2,F=3"', "200 result=0"),
        ('SET VARIABLE "G" "back\\\\slash"', "200 result=1"),
        ('SET VARIABLE "H" "4"', "200 result=1"),
    ]
    assert await run_port(act, script, **LINKEDID) == "set"


async def test_mset_missing_is_port_error(run_port: RunPort) -> None:
    async def act(port: AsteriskCallPort) -> str:
        await port.set_variables([("A", "1"), ("B", "2")])
        return "not reached"

    error = await run_port(act, [('EXEC "MSet" "A=1,B=2"', "200 result=-2")], **LINKEDID)
    assert isinstance(error, PortError)
    assert not isinstance(error, CallerHungUp)


async def test_dead_channel_511_is_hang_up(run_port: RunPort) -> None:
    async def act(port: AsteriskCallPort) -> str:
        await port.hangup()
        await port.set_variable("X", "1")
        return "not reached"

    script = [
        ("HANGUP", "200 result=1"),
        (
            'SET VARIABLE "X" "1"',
            "511 Command Not Permitted on a dead channel or intercept routine",
        ),
    ]
    assert isinstance(await run_port(act, script, **LINKEDID), CallerHungUp)


async def test_unknown_command_is_port_error(run_port: RunPort) -> None:
    async def act(port: AsteriskCallPort) -> str:
        await port.answer()
        return "not reached"

    error = await run_port(act, [("ANSWER", "510 Invalid or unknown command")], **LINKEDID)
    assert isinstance(error, PortError)
    assert not isinstance(error, CallerHungUp)


async def test_commands_that_wait_for_the_caller_get_the_prompt_deadline() -> None:
    channel = CommandRecorder(build_environment({"uniqueid": "1.1", **LINKEDID}))
    port = AsteriskCallPort(channel, prompt_deadline_s=30)
    await port.answer()
    await port.collect(["menu", "more"], digits="12", max_digits=2, timeout_s=4)
    await port.say_number(5)
    await port.set_variable("X", "1")
    assert channel.deadlines == [
        ("ANSWER", None),  # the channel's default
        ("STREAM FILE", 30),
        ("GET DATA", 30 + 4 + DEADLINE_MARGIN_S),
        ("SAY NUMBER", 30),
        ("SET VARIABLE", None),
    ]


async def test_a_survey_session_names_the_answered_call(run_port: RunPort) -> None:
    async def info(port: AsteriskCallPort) -> CallInfo:
        return port.info

    args = {"arg_2": "ru", "arg_3": "gynecology", "arg_4": "op102", "arg_5": "gynecology"}
    got = await run_port(info, [], **LINKEDID, **args, network_script="survey")
    assert isinstance(got, CallInfo)
    assert got.call_id == "1712345678.0"
    assert got.answered == AnsweredCall(
        language="ru", queue="gynecology", operator="op102", route="gynecology"
    )
    ivr = await run_port(info, [], **LINKEDID, **args, network_script="ivr")
    assert isinstance(ivr, CallInfo)
    assert ivr.answered is None  # the IVR's own session is about no answered call


async def test_a_survey_session_with_missing_arguments_keeps_them_empty(
    run_port: RunPort,
) -> None:
    async def info(port: AsteriskCallPort) -> CallInfo:
        return port.info

    got = await run_port(info, [], **LINKEDID, arg_2="en", network_script="survey")
    assert isinstance(got, CallInfo)
    assert got.answered == AnsweredCall(language="en", queue="", operator="", route="")


async def test_enqueue_with_the_survey_asks_the_dialplan_for_it(run_port: RunPort) -> None:
    request = QueueRequest("therapy", 0, 180, None, "en", "main:1/survey:1", "therapy",
                           survey=True)  # fmt: skip

    async def act(port: AsteriskCallPort) -> str:
        await port.enqueue(request)
        return "queued"

    script = [
        ('SET VARIABLE "CLINICALL_OVERFLOW" ""', "200 result=1"),
        ('EXEC "MSet" "CLINICALL_QUEUE=therapy,CLINICALL_PRIORITY=0,QUEUE_PRIO=0,'
         'CLINICALL_MAX_WAIT=180,CLINICALL_LANG=en,CLINICALL_PATH=main:1/survey:1,'
         'CLINICALL_ROUTE=therapy,CLINICALL_OUTCOME=queue,CLINICALL_SURVEY=1"', "200 result=0"),
    ]
    assert await run_port(act, script, **LINKEDID) == "queued"


async def test_record_writes_into_the_monitor_spool_after_a_beep(run_port: RunPort) -> None:
    async def act(port: AsteriskCallPort) -> Recorded:
        return await port.record("2026/12/04/1712345678.0-complaint", fmt="wav", max_s=120,
                                 silence_s=5, finish_keys="#")

    script = [(f'GET FULL VARIABLE "{SPOOL_DIR_QUERY}"', "200 result=1 (/srv/pbx/spool/)"),
              ('RECORD FILE "/srv/pbx/spool/monitor/2026/12/04/1712345678.0-complaint" '
               '"wav" "#" "120000" "BEEP" "s=5"', "200 result=35 (dtmf) endpos=36000")]
    assert await run_port(act, script, **LINKEDID) == Recorded("#", 4.5)


async def test_record_to_the_time_limit_or_silence_has_no_key(run_port: RunPort) -> None:
    async def act(port: AsteriskCallPort) -> Recorded:
        return await port.record("2026/12/04/x-complaint", fmt="wav", max_s=10, silence_s=3,
                                 finish_keys="#", beep=False)

    script = [(f'GET FULL VARIABLE "{SPOOL_DIR_QUERY}"', "200 result=0"),  # not configured
              ('RECORD FILE "/var/spool/asterisk/monitor/2026/12/04/x-complaint" "wav" "#" '
               '"10000" "s=3"', "200 result=0 (timeout) endpos=80000")]
    assert await run_port(act, script, **LINKEDID) == Recorded("", 10.0)


async def test_record_hang_up(run_port: RunPort) -> None:
    async def act(port: AsteriskCallPort) -> Recorded:
        return await port.record("2026/12/04/x-complaint", fmt="wav", max_s=10, silence_s=3,
                                 finish_keys="#")

    script = [(f'GET FULL VARIABLE "{SPOOL_DIR_QUERY}"', "200 result=1 (/var/spool/asterisk)"),
              ('RECORD FILE "/var/spool/asterisk/monitor/2026/12/04/x-complaint" "wav" "#" '
               '"10000" "BEEP" "s=3"', "200 result=-1 (hangup) endpos=16000")]
    assert isinstance(await run_port(act, script, **LINKEDID), CallerHungUp)


@pytest.mark.parametrize("name", ["../etc/x", "/abs/x", "a/../../x", "a b", ""])
async def test_record_refuses_a_name_outside_the_spool(run_port: RunPort, name: str) -> None:
    async def act(port: AsteriskCallPort) -> object:
        try:
            return await port.record(name, fmt="wav", max_s=10, silence_s=3, finish_keys="#")
        except ValueError as exc:
            return exc

    assert isinstance(await run_port(act, [], **LINKEDID), ValueError)


async def test_record_into_a_missing_directory_is_a_port_error(run_port: RunPort) -> None:
    async def act(port: AsteriskCallPort) -> Recorded:
        return await port.record("x-complaint", fmt="wav", max_s=10, silence_s=3,
                                 finish_keys="#")

    script = [(f'GET FULL VARIABLE "{SPOOL_DIR_QUERY}"', "200 result=1 (/var/spool/asterisk)"),
              ('RECORD FILE "/var/spool/asterisk/monitor/x-complaint" "wav" "#" '
               '"10000" "BEEP" "s=3"', "200 result=-1 (writefile)")]
    assert isinstance(await run_port(act, script, **LINKEDID), PortError)
