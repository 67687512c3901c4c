"""The server's two shared timers: command deadlines (CommandDeadlines) and environments
(FastAgiServer._env_sweep), each one timer for every session instead of one per session.

Driven without sockets where the order matters, so nothing depends on how busy the machine
is; nothing asserts how long anything took.
"""

from __future__ import annotations

import asyncio
import math

import pytest

from clinicall.agi_scripts.channel import AgiChannel, CommandDeadlines
from clinicall.agi_scripts.protocol import AgiCommandTimeout, AgiReply, EnvironmentParser
from clinicall.agi_scripts.server import _AgiConnection

from .fake_asterisk import RecordingTransport, Serve, answer_only


def _channel(uniqueid: str, deadlines: CommandDeadlines) -> tuple[AgiChannel, RecordingTransport]:
    env = EnvironmentParser().feed(f"agi_request: a\nagi_uniqueid: {uniqueid}\n\n".encode())
    assert env is not None
    transport = RecordingTransport()
    return AgiChannel(env, transport, deadlines=deadlines), transport


async def test_one_timer_times_out_each_session_at_its_own_deadline() -> None:
    deadlines = CommandDeadlines(asyncio.get_running_loop())
    patient, patient_socket = _channel("1.1", deadlines)  # a long command, answered late
    silent, silent_socket = _channel("1.2", deadlines)  # a short one, never answered
    quick, quick_socket = _channel("1.3", deadlines)  # a short one, answered at once
    long_wait = asyncio.create_task(patient.command("GET DATA", "m", 5000, 1, deadline_s=60))
    short_wait = asyncio.create_task(silent.command("ANSWER", deadline_s=0.05))
    answered = asyncio.create_task(quick.command("ANSWER", deadline_s=0.05))
    await asyncio.sleep(0)
    quick.on_reply(AgiReply(200, "0", None, {}, "result=0"))
    assert (await answered).result == "0"
    with pytest.raises(AgiCommandTimeout, match=r"no reply to ANSWER within 0\.05 s"):
        await short_wait
    assert silent_socket.closed
    assert not long_wait.done()  # the timer re-armed for the long command's own deadline
    assert not patient_socket.closed
    assert not quick_socket.closed
    assert deadlines.due == patient._watched_due
    patient.on_reply(AgiReply(200, "1", None, {}, "result=1"))
    assert (await long_wait).result == "1"
    for channel in (patient, silent, quick):
        channel.close()
    deadlines.close()


async def test_environments_are_dropped_oldest_first_each_at_its_own_timeout(
    serve: Serve,
) -> None:
    """Three connections send nothing, a fourth sends its environment: the sweep drops those
    past their due time, re-arms for the oldest left, and leaves the session alone."""
    server = await serve(answer_only, env_timeout=600)
    pairs = [(_AgiConnection(server), RecordingTransport()) for _ in range(4)]
    for connection, socket in pairs:
        connection.connection_made(socket)
    call, call_socket = pairs[3]
    call.data_received(b"agi_request: a\nagi_network_script: ok\nagi_uniqueid: 3.4\n\n")  # a call
    loop = asyncio.get_running_loop()
    now = loop.time()
    pairs[0][0].env_due = now - 2  # the oldest: past its due time
    pairs[1][0].env_due = now - 1  # past it too
    pairs[2][0].env_due = now + 300  # not yet
    call.env_due = now - 3  # had its environment been pending, it would be past due
    server._env_sweep()
    assert [socket.closed for _, socket in pairs[:3]] == [True, True, False]
    assert not call_socket.is_closing()
    assert server.pending_header_count == 1
    assert server._env_timer is not None
    assert server._env_timer.when() == pairs[2][0].env_due
    await asyncio.sleep(0)
    assert call_socket.lines == [b"ANSWER\n"]  # the session runs
    call.data_received(b"200 result=0\n")
    for connection, _ in pairs:
        connection.connection_lost(None)
    assert server.pending_header_count == 0


async def test_the_deadline_timer_is_stopped_when_the_last_session_ends() -> None:
    """An idle server has no timer to wake it."""
    deadlines = CommandDeadlines(asyncio.get_running_loop())
    first, _ = _channel("4.1", deadlines)
    second, _ = _channel("4.2", deadlines)
    waiting = asyncio.create_task(first.command("ANSWER"))
    await asyncio.sleep(0)
    assert deadlines.due != math.inf
    first.on_reply(AgiReply(200, "0", None, {}, "result=0"))
    await waiting
    first.close()
    assert deadlines.due != math.inf  # the second session is still on
    second.close()
    assert deadlines.due == math.inf
    assert deadlines._timer is None
