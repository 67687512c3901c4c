"""One call, one scope; a deadline on every command; budgets a hostile local peer cannot exhaust.

All against a scripted peer on port 0.  Deadlines are made short where a test needs one to
pass; nothing asserts how long anything took.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import pytest

from clinicall.agi_scripts.channel import AgiChannel
from clinicall.agi_scripts.protocol import AgiCommandTimeout, AgiProtocolError, AgiReply
from clinicall.agi_scripts.server import AgiHandler, _AgiConnection
from clinicall.ivr.port import CallerHungUp, PortError

from .fake_asterisk import (
    FakeAsterisk,
    RecordingTransport,
    Serve,
    answer_only,
    assert_responsive,
    environment_bytes,
)


class CallRecord:
    """What a handler and the child task it started went through."""

    def __init__(self) -> None:
        self.handler_saw: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.child_cancelled = asyncio.Event()
        self.child: asyncio.Task[None] | None = None

    async def child_work(self) -> None:
        try:
            await asyncio.Event().wait()  # work that would run forever
        except asyncio.CancelledError:
            self.child_cancelled.set()
            raise

    def handler(self, command: str) -> AgiHandler:
        async def run(channel: AgiChannel) -> None:
            self.child = channel.start_task(self.child_work())
            try:
                await channel.command(command)
                await channel.command(command)
            except (CallerHungUp, PortError) as exc:
                self.handler_saw.set_result(type(exc).__name__)
                raise

        return run


async def test_dropped_connection_mid_command_cancels_the_calls_tasks(serve: Serve) -> None:
    call = CallRecord()
    server = await serve(call.handler("ANSWER"))
    peer = await FakeAsterisk(server.port).start()
    await peer.expect("ANSWER")
    await peer.close()  # the call is gone with a command in flight
    assert await call.handler_saw == "AgiChannelGone"
    await call.child_cancelled.wait()
    assert call.child is not None
    assert call.child.cancelled()
    await assert_responsive(server)
    assert server.session_count == 0


async def test_hangup_line_cancels_the_calls_tasks_and_the_next_command_sees_it(
    serve: Serve,
) -> None:
    call = CallRecord()
    server = await serve(call.handler("ANSWER"))
    peer = await FakeAsterisk(server.port).start()
    await peer.expect("ANSWER")
    await peer.send(b"HANGUP\n")
    await call.child_cancelled.wait()  # cancelled at the HANGUP line, before any reply
    await peer.reply("200 result=0")
    assert await call.handler_saw == "AgiChannelGone"
    assert isinstance(call.handler_saw.result(), str)
    assert await peer.read_to_end() == b""  # the second command was never sent
    await peer.close()


async def test_tasks_left_when_the_handler_returns_are_cancelled_and_awaited(
    serve: Serve,
) -> None:
    call = CallRecord()

    async def handler(channel: AgiChannel) -> None:
        call.child = channel.start_task(call.child_work())
        await channel.command("ANSWER")

    server = await serve(handler)
    peer = await FakeAsterisk(server.port).start()
    await peer.exchange("ANSWER", "200 result=0")
    assert await peer.read_to_end() == b""
    await peer.close()
    await call.child_cancelled.wait()
    assert call.child is not None
    assert call.child.cancelled()


async def test_starting_a_task_after_the_call_ended_is_caller_hung_up(serve: Serve) -> None:
    refused: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    async def handler(channel: AgiChannel) -> None:
        with contextlib.suppress(CallerHungUp):
            await channel.command("ANSWER")
        work = asyncio.Event().wait()
        try:
            channel.start_task(work)
        except CallerHungUp:
            refused.set_result(True)

    server = await serve(handler)
    peer = await FakeAsterisk(server.port).start()
    await peer.expect("ANSWER")
    await peer.close()
    assert await refused


async def test_silent_peer_ends_the_session_at_the_command_deadline(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="clinicall.agi_scripts")
    call = CallRecord()
    server = await serve(call.handler("ANSWER"), command_timeout=0.05)
    peer = await FakeAsterisk(server.port).start(callerid="380501234567")
    await peer.expect("ANSWER")  # and never answer
    assert await call.handler_saw == "AgiCommandTimeout"
    assert await peer.read_to_end() == b""  # closed: Asterisk continues the dialplan
    await peer.close()
    await call.child_cancelled.wait()
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert lines == ["AGI 1712345678.1: no reply to ANSWER within 0.05 s; ending the session"]
    assert not any("380501234567" in r.getMessage() for r in caplog.records)
    assert all(r.exc_info is None for r in caplog.records)


async def test_command_deadline_can_be_given_per_command(serve: Serve) -> None:
    long_wait: asyncio.Future[AgiReply] = asyncio.get_running_loop().create_future()
    default_wait: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def handler(channel: AgiChannel) -> None:
        if channel.env.uniqueid == "1.1":  # waits for digits: its own, longer deadline
            long_wait.set_result(await channel.command("GET DATA", "menu", 5000, 1, deadline_s=60))
            return
        try:
            await channel.command("ANSWER")
        except AgiCommandTimeout as exc:
            default_wait.set_result(str(exc))

    server = await serve(handler, command_timeout=0.01)
    digits = await FakeAsterisk(server.port).start(uniqueid="1.1")
    await digits.expect('GET DATA "menu" "5000" "1"')
    silent = await FakeAsterisk(server.port).start(uniqueid="1.2")
    await silent.expect("ANSWER")
    # The default deadline ran out for a command sent after the GET DATA ...
    assert await default_wait == "no reply to ANSWER within 0.01 s"
    await silent.close()
    # ... and the GET DATA still gets its reply.
    await digits.reply("200 result=1")
    assert (await long_wait).result == "1"
    assert await digits.read_to_end() == b""
    await digits.close()


async def test_a_short_deadline_after_a_long_one_still_runs_out(serve: Serve) -> None:
    """The session's one timer, armed for a long command, is brought forward for a short one."""
    ended: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def handler(channel: AgiChannel) -> None:
        await channel.command("GET DATA", "menu", 5000, 1, deadline_s=600)
        try:
            await channel.command("ANSWER")  # the server's default: 0.05 s
        except AgiCommandTimeout as exc:
            ended.set_result(str(exc))

    server = await serve(handler, command_timeout=0.05)
    peer = await FakeAsterisk(server.port).start()
    await peer.exchange('GET DATA "menu" "5000" "1"', "200 result=1")
    await peer.expect("ANSWER")  # and never answer
    assert await ended == "no reply to ANSWER within 0.05 s"
    assert await peer.read_to_end() == b""
    await peer.close()


async def test_a_long_deadline_after_a_short_one_is_not_cut_short(serve: Serve) -> None:
    """The timer armed for an answered short command fires during a long one: it must only
    re-arm for the long one's own deadline."""
    long_reply: asyncio.Future[AgiReply] = asyncio.get_running_loop().create_future()
    other_ended: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def handler(channel: AgiChannel) -> None:
        if channel.env.uniqueid == "2.1":
            await channel.command("ANSWER")  # default deadline, answered at once
            long_reply.set_result(await channel.command("GET DATA", "m", 5000, 1, deadline_s=600))
            return
        try:
            await channel.command("ANSWER")
        except AgiCommandTimeout as exc:
            other_ended.set_result(str(exc))

    server = await serve(handler, command_timeout=0.05)
    call = await FakeAsterisk(server.port).start(uniqueid="2.1")
    await call.exchange("ANSWER", "200 result=0")
    await call.expect('GET DATA "m" "5000" "1"')
    # A second call's ANSWER, sent later with the same 0.05 s, runs out: by then the first
    # call's timer (due earlier) has fired too, while its GET DATA was waiting.
    other = await FakeAsterisk(server.port).start(uniqueid="2.2")
    await other.expect("ANSWER")
    assert await other_ended == "no reply to ANSWER within 0.05 s"
    await other.close()
    assert not long_reply.done()
    await call.reply("200 result=1")
    assert (await long_reply).result == "1"
    assert await call.read_to_end() == b""
    await call.close()


async def test_server_serves_other_calls_while_one_waits_for_a_reply(serve: Serve) -> None:
    call = CallRecord()
    server = await serve(call.handler("ANSWER"))
    stuck = await FakeAsterisk(server.port).start()
    await stuck.expect("ANSWER")
    for _ in range(3):
        await assert_responsive(server)
    assert not call.handler_saw.done()  # still waiting: the others did not queue behind it
    await stuck.close()
    assert await call.handler_saw == "AgiChannelGone"


async def test_half_headers_beyond_the_budget_do_not_lock_a_real_call_out(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="clinicall.agi_scripts")
    server = await serve(answer_only, max_pending_headers=4, max_sessions=2, env_timeout=600)
    junk = [await FakeAsterisk(server.port).connect() for _ in range(10)]
    for peer in junk:
        await peer.send(b"agi_network: yes\nagi_uniq")
    await assert_responsive(server)  # the newest connection is served
    for peer in junk[:7]:  # the oldest half headers were dropped to make room for 4 newer
        assert await peer.read_to_end() == b""  # ones and for the real call
    assert server.pending_header_count == 3  # junk 7, 8 and 9: the real call is a session
    assert server.session_count == 0
    assert (server.pending_dropped_count, server.malformed_count) == (7, 0)
    await assert_responsive(server)
    for peer in junk:
        await peer.close()
    dropped = [r for r in caplog.records if "dropped the one heard" in r.getMessage()]
    assert len(dropped) == 1  # one line, not one per connection


async def test_a_call_mid_environment_outlasts_connections_heard_from_before_it(
    serve: Serve,
) -> None:
    """res_agi writes the environment a line at a time: a call whose lines are still coming
    keeps its place; the connections heard from least recently (half headers that stopped,
    then connections silent since their connect, oldest first) are dropped before it
    (connections driven in a fixed order, no sockets)."""
    server = await serve(answer_only, max_pending_headers=4, env_timeout=600)
    real, real_socket = _AgiConnection(server), RecordingTransport()
    real.connection_made(real_socket)
    real.data_received(b"agi_network: yes\n")
    junk = [(_AgiConnection(server), RecordingTransport()) for _ in range(3)]
    for connection, socket in junk:
        connection.connection_made(socket)
        connection.data_received(b"agi_network: yes\nagi_uniq")  # and nothing more
    real.data_received(b"agi_network_script: ivr\nagi_unique")  # the call goes on
    quiet = [(_AgiConnection(server), RecordingTransport()) for _ in range(3)]
    for connection, socket in quiet:
        connection.connection_made(socket)
    assert [socket.closed for _, socket in junk] == [True, True, True]
    assert [socket.closed for _, socket in quiet] == [False, False, False]
    assert not real_socket.is_closing()
    real.data_received(b"id: 1.1\n")  # half a line came before: this read ends it
    late = (_AgiConnection(server), RecordingTransport())
    late[0].connection_made(late[1])
    assert quiet[0][1].closed  # silent since its connect, before the call's last line
    assert not real_socket.is_closing()
    assert server.pending_header_count == 4
    late_socket = RecordingTransport()
    for _ in range(3):  # three more: the quiet ones go, then the call, now the oldest
        newest = _AgiConnection(server)
        newest.connection_made(late_socket)
    assert real_socket.is_closing()
    assert server.pending_header_count == 4
    for connection, _ in (*junk, *quiet, late):
        connection.connection_lost(None)


async def _until(condition: Callable[[], bool]) -> None:
    """Let the server's loop run until ``condition`` holds (it reads what the peers wrote)."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the server never got there")


async def test_a_call_whose_environment_comes_line_by_line_is_served_through_a_flood(
    serve: Serve,
) -> None:
    """A fake Asterisk writes its environment a line at a time; between its lines, junk
    connections that never send a byte keep arriving, three per line, over a budget of four:
    they are dropped, the call is served."""
    server = await serve(answer_only, max_pending_headers=4, env_timeout=600)
    call = await FakeAsterisk(server.port).connect()
    await _until(lambda: server.pending_header_count == 1)
    lines = environment_bytes().splitlines(keepends=True)
    junk: list[FakeAsterisk] = []
    for line in lines[:-1]:
        heard = server._heard
        await call.send(line)
        await _until(lambda: server._heard > heard)  # noqa: B023 (awaited in the iteration)
        for _ in range(3):
            heard = server._heard
            junk.append(await FakeAsterisk(server.port).connect())
            await _until(lambda: server._heard > heard)  # noqa: B023
    assert lines[-1] == b"\n"
    await call.send(b"\n")
    await call.exchange("ANSWER", "200 result=0")
    assert await call.read_to_end() == b""
    await call.close()
    for peer in junk[:-3]:
        assert await peer.read_to_end() == b""  # dropped by the server
    assert server.pending_header_count == 3  # the three newest junk connections
    for peer in junk:
        await peer.close()


async def test_session_cap_counts_only_sessions_past_their_header(serve: Serve) -> None:
    release = asyncio.Event()

    async def busy(channel: AgiChannel) -> None:
        await channel.command("ANSWER")
        await release.wait()

    server = await serve(busy, max_sessions=1, env_timeout=600)
    half = [await FakeAsterisk(server.port).connect() for _ in range(5)]
    for peer in half:
        await peer.send(b"agi_network: yes\n")
    real = await FakeAsterisk(server.port).start()
    await real.exchange("ANSWER", "200 result=0")  # the half headers took no session
    extra = await FakeAsterisk(server.port).start(network_script="ok")
    assert await extra.read_to_end() == b""  # the one session is taken: fail-open
    await extra.close()
    release.set()
    assert await real.read_to_end() == b""
    await real.close()
    for peer in half:
        await peer.close()


async def test_environment_of_20_kb_is_refused_in_one_write_and_in_small_writes(
    serve: Serve,
) -> None:
    server = await serve(answer_only)
    block = b"agi_network: yes\n" + b"agi_x: " + b"v" * 20_000 + b"\n\n"
    whole = await FakeAsterisk(server.port).connect()
    await whole.send(block)
    assert await whole.read_to_end() == b""
    await whole.close()
    pieces = await FakeAsterisk(server.port).connect()
    for at in range(0, len(block), 1500):
        await pieces.send(block[at : at + 1500])
    assert await pieces.read_to_end() == b""
    await pieces.close()
    await assert_responsive(server)


async def test_endless_usage_flood_is_cut_and_never_reaches_the_log(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="clinicall.agi_scripts")
    outcome: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def handler(channel: AgiChannel) -> None:
        try:
            await channel.command("ANSWER")
        except AgiProtocolError as exc:
            outcome.set_result(str(exc))
            raise

    server = await serve(handler)
    peer = await FakeAsterisk(server.port).start()
    await peer.expect("ANSWER")
    line = b"forged\rERROR clinicall: injected line\n"
    await peer.send(b"520-Invalid command syntax.\n")
    with contextlib.suppress(ConnectionError):  # the server closes on us mid-flood
        for _ in range(10_000):
            await peer.send(line * 100)
    assert await outcome == "520 usage message longer than 65536 bytes"
    await peer.close()
    await assert_responsive(server)
    assert not any("injected" in r.getMessage() for r in caplog.records)
    assert all(r.exc_info is None for r in caplog.records)


async def test_replies_before_a_bad_line_in_the_same_write_are_delivered(serve: Serve) -> None:
    outcome: asyncio.Future[tuple[str, str]] = asyncio.get_running_loop().create_future()

    async def handler(channel: AgiChannel) -> None:
        first = await channel.command("ANSWER")
        try:
            await channel.command("ANSWER")
        except AgiProtocolError as exc:
            outcome.set_result((first.result, type(exc).__name__))

    server = await serve(handler)
    peer = await FakeAsterisk(server.port).start()
    await peer.expect("ANSWER")
    await peer.send(b"200 result=0\nnot a reply\n")
    assert await outcome == ("0", "AgiProtocolError")
    await peer.read_to_end()
    await peer.close()


def test_timeout_is_a_port_error() -> None:
    """The IVR treats a missed deadline as an engine failure: its fail-open path."""
    assert issubclass(AgiCommandTimeout, PortError)
    assert not issubclass(AgiCommandTimeout, CallerHungUp)
