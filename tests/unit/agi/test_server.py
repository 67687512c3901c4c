"""FastAgiServer on loopback against a fake Asterisk: hang-ups, early closes, junk, shutdown."""

from __future__ import annotations

import asyncio
import logging

import pytest

from clinicall.agi_scripts.channel import AgiChannel
from clinicall.agi_scripts.protocol import AgiCommandError, AgiProtocolError, AgiReply
from clinicall.agi_scripts.server import FastAgiServer
from clinicall.ivr.port import CallerHungUp

from .fake_asterisk import (
    FakeAsterisk,
    Serve,
    answer_only,
    assert_responsive,
    environment_bytes,
)


class Outcome:
    """What a handler ended with, for the test to await."""

    def __init__(self) -> None:
        self.future: asyncio.Future[object] = asyncio.get_running_loop().create_future()

    def set(self, value: object) -> None:
        if not self.future.done():
            self.future.set_result(value)

    async def get(self) -> object:
        return await self.future


async def test_session_runs_commands_and_closes(serve: Serve) -> None:
    got: list[AgiReply] = []

    async def handler(channel: AgiChannel) -> None:
        assert channel.env.network_script == "ivr"
        got.append(await channel.command("ANSWER"))
        got.append(await channel.command("STREAM FILE", "clinicall/uk/menu", "12"))

    server = await serve(handler)
    peer = await FakeAsterisk(server.port).start()
    await peer.exchange("ANSWER", "200 result=0")
    await peer.exchange('STREAM FILE "clinicall/uk/menu" "12"', "200 result=49 endpos=1600")
    assert await peer.read_to_end() == b""  # handler done → server closes the session
    await peer.close()
    assert [r.result for r in got] == ["0", "49"]
    assert got[1].extras == {"endpos": "1600"}


async def test_hangup_line_is_not_taken_as_the_reply(serve: Serve) -> None:
    outcome = Outcome()

    async def handler(channel: AgiChannel) -> None:
        first = await channel.command("GET VARIABLE", "A")
        try:
            await channel.command("GET VARIABLE", "B")
        except CallerHungUp:
            outcome.set((first.data, "second refused", channel.hung_up))

    server = await serve(handler)
    peer = await FakeAsterisk(server.port).start()
    await peer.expect('GET VARIABLE "A"')
    await peer.send(b"HANGUP\n200 result=1 (value-of-A)\n")
    # The second command is never sent: the channel already knows the caller is gone.
    assert await peer.read_to_end() == b""
    await peer.close()
    assert await outcome.get() == ("value-of-A", "second refused", True)


async def test_hangup_mid_menu_then_minus_one(serve: Serve) -> None:
    outcome = Outcome()

    async def handler(channel: AgiChannel) -> None:
        await channel.command("ANSWER")
        try:
            await channel.command("STREAM FILE", "menu", "123", minus_one_is_hangup=True)
        except CallerHungUp as exc:
            outcome.set(type(exc).__name__)

    server = await serve(handler)
    peer = await FakeAsterisk(server.port).start()
    await peer.exchange("ANSWER", "200 result=0")
    await peer.expect('STREAM FILE "menu" "123"')
    await peer.send(b"HANGUP\n")
    await peer.reply("200 result=-1 endpos=4000")
    assert await peer.read_to_end() == b""
    await peer.close()
    assert await outcome.get() == "AgiChannelGone"
    await assert_responsive(server)


async def test_hangup_between_commands_is_noticed(serve: Serve) -> None:
    outcome = Outcome()

    async def handler(channel: AgiChannel) -> None:
        await channel.command("ANSWER")
        await channel.wait_hung_up()  # the line arrives while no command is in flight
        outcome.set(("hung up before the next command", channel.hung_up))

    server = await serve(handler)
    peer = await FakeAsterisk(server.port).start()
    await peer.exchange("ANSWER", "200 result=0")
    await peer.send(b"HANGUP\n")
    assert await outcome.get() == ("hung up before the next command", True)
    assert await peer.read_to_end() == b""
    await peer.close()


async def test_peer_closing_mid_command_ends_session_not_server(serve: Serve) -> None:
    outcome = Outcome()

    async def handler(channel: AgiChannel) -> None:
        try:
            await channel.command("GET DATA", "menu", 5000, 1)
        except CallerHungUp:
            outcome.set("hung up")

    server = await serve(handler)
    peer = await FakeAsterisk(server.port).start()
    await peer.expect('GET DATA "menu" "5000" "1"')
    await peer.send(b"200 resu")  # half a reply, then the socket goes
    await peer.close()
    assert await outcome.get() == "hung up"
    await assert_responsive(server)


@pytest.mark.parametrize(
    "prefix",
    [b"", b"agi_network: yes\n", b"agi_network: yes\nagi_request: agi://127.0.0.1/ivr"],
)
async def test_peer_closing_before_blank_line_costs_nothing(
    serve: Serve, prefix: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="clinicall.agi_scripts")
    started: list[AgiChannel] = []

    async def handler(channel: AgiChannel) -> None:
        started.append(channel)

    server = await serve(handler)
    for _ in range(20):
        peer = await FakeAsterisk(server.port).connect()
        await peer.send(prefix)
        await peer.close()
    await assert_responsive(server)
    assert started == []
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []


async def test_junk_instead_of_environment_is_dropped(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="clinicall.agi_scripts")
    server = await serve(answer_only)
    peer = await FakeAsterisk(server.port).connect()
    await peer.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert await peer.read_to_end() == b""
    await peer.close()
    await assert_responsive(server)
    assert len([r for r in caplog.records if "dropping" in r.getMessage()]) == 1
    assert (server.malformed_count, server.pending_dropped_count) == (1, 0)


@pytest.mark.parametrize(
    "first",
    [b"\n", b"\n\n", b"\r\n", b"agi_network: yes\n\n",
     b"agi_network_script: ivr\nagi_uniqueid: 1.1\n\n" + b"\x1b[31m" * 300 + b"\n"],
)
async def test_an_environment_without_agi_request_starts_no_session(
    serve: Serve, first: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    """A peer whose first bytes end the environment at once (a blank line), or whose block
    lacks the ``agi_request`` res_agi always sends, is malformed: one short line, counted,
    closed, and no session, so no handler is looked up for an empty script."""
    caplog.set_level(logging.DEBUG, logger="clinicall.agi_scripts")
    started: list[AgiChannel] = []

    async def handler(channel: AgiChannel) -> None:
        started.append(channel)

    server = await serve(handler)
    for n in range(1, 4):
        peer = await FakeAsterisk(server.port).connect()
        await peer.send(first)
        assert await peer.read_to_end() == b""  # closed by the server, nothing answered
        await peer.close()
        assert (server.malformed_count, server.session_count) == (n, 0)
    await assert_responsive(server)  # a real environment still makes a session
    assert (server.malformed_count, server.pending_dropped_count) == (3, 0)
    assert started == []
    assert "no AGI handler" not in caplog.text
    dropped = [r.getMessage() for r in caplog.records if "dropping" in r.getMessage()]
    assert dropped == ["FastAGI: dropping a connection: not an AGI environment: no "
                       f"agi_request in its {first.count(b'agi_')} line(s)"] * 3
    assert "\x1b" not in caplog.text


async def test_a_real_environment_written_a_line_at_a_time_is_served(serve: Serve) -> None:
    """res_agi's writes: one per ``agi_`` line, then the blank line (``agi_request`` is not
    the first: ``agi_network: yes`` comes before it on FastAGI)."""
    server = await serve(answer_only)
    peer = await FakeAsterisk(server.port).connect()
    lines = environment_bytes().splitlines(keepends=True)
    assert lines[0] == b"agi_network: yes\n"
    for line in lines:
        await peer.send(line)
    await peer.exchange("ANSWER", "200 result=0")
    assert await peer.read_to_end() == b""
    await peer.close()
    assert (server.malformed_count, server.pending_header_count) == (0, 0)


async def test_silent_peer_is_dropped_after_env_timeout(serve: Serve) -> None:
    server = await serve(answer_only, env_timeout=0.05)
    peer = await FakeAsterisk(server.port).connect()
    assert await peer.read_to_end() == b""  # the server gave up on it
    await peer.close()
    server.env_timeout = 5.0  # a loaded machine must not time out the next, real session
    await assert_responsive(server)
    assert (server.env_timeout_count, server.malformed_count, server.refused_count) == (1, 0, 0)


async def test_handler_exception_logged_once_server_keeps_running(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    async def handler(channel: AgiChannel) -> None:
        await channel.command("ANSWER")
        raise RuntimeError("bug in one call")

    server = await serve(handler)
    peer = await FakeAsterisk(server.port).start(uniqueid="1712345678.9")
    await peer.exchange("ANSWER", "200 result=0")
    assert await peer.read_to_end() == b""
    await peer.close()
    await assert_responsive(server)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "1712345678.9" in errors[0].getMessage()
    assert "380501234567" not in caplog.text


async def test_multiline_520_becomes_command_error(serve: Serve) -> None:
    outcome = Outcome()

    async def handler(channel: AgiChannel) -> None:
        try:
            await channel.command("STREAM FILE", "menu")
        except AgiCommandError as exc:
            outcome.set((exc.code, exc.text.splitlines()[-1]))
        reply = await channel.command("ANSWER")  # the stream is still aligned
        outcome.set(reply.result)

    server = await serve(handler)
    peer = await FakeAsterisk(server.port).start()
    await peer.expect('STREAM FILE "menu"')
    await peer.send(
        b"520-Invalid command syntax.  Proper usage follows:\n"
        b" Usage: STREAM FILE <filename> <escape_digits> [sample offset]\n"
        b"520 End of proper usage.\n"
    )
    await peer.exchange("ANSWER", "200 result=0")
    assert await outcome.get() == (520, "End of proper usage.")
    await peer.close()


async def test_garbage_reply_is_protocol_error_for_that_call(serve: Serve) -> None:
    outcome = Outcome()

    async def handler(channel: AgiChannel) -> None:
        try:
            await channel.command("ANSWER")
        except AgiProtocolError:
            outcome.set("protocol error")

    server = await serve(handler)
    peer = await FakeAsterisk(server.port).start()
    await peer.expect("ANSWER")
    await peer.send(b"\x16\x03\x01 garbage\n")
    assert await peer.read_to_end() == b""
    await peer.close()
    assert await outcome.get() == "protocol error"
    await assert_responsive(server)


async def test_unknown_script_returns_call_to_dialplan(serve: Serve) -> None:
    server = await serve(answer_only)
    peer = await FakeAsterisk(server.port).start(network_script="nope")
    assert await peer.read_to_end() == b""
    await peer.close()


async def test_cancelled_command_keeps_replies_aligned(serve: Serve) -> None:
    outcome = Outcome()
    first_sent = asyncio.Event()

    async def handler(channel: AgiChannel) -> None:
        slow = asyncio.create_task(channel.command("GET VARIABLE", "FIRST"))
        await first_sent.wait()
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        reply = await channel.command("GET VARIABLE", "SECOND")
        outcome.set(reply.data)

    server = await serve(handler)
    peer = await FakeAsterisk(server.port).start()
    await peer.expect('GET VARIABLE "FIRST"')
    first_sent.set()
    await peer.expect('GET VARIABLE "SECOND"')
    await peer.send(b"200 result=1 (first)\n200 result=1 (second)\n")
    assert await outcome.get() == "second"
    await peer.close()


async def test_close_cancels_running_sessions() -> None:
    cancelled = asyncio.Event()
    waiting = asyncio.Event()

    async def handler(channel: AgiChannel) -> None:
        try:
            waiting.set()
            await channel.command("GET DATA", "menu", 60000, 4)  # never answered
        except asyncio.CancelledError:
            cancelled.set()
            raise

    server = FastAgiServer(handler, port=0)
    async with server:
        peer = await FakeAsterisk(server.port).start()
        await waiting.wait()
        await peer.expect('GET DATA "menu" "60000" "4"')
        assert server.session_count == 1
    assert cancelled.is_set()
    assert server.session_count == 0
    assert await peer.read_to_end() == b""
    await peer.close()


async def test_max_sessions_refuses_extra_connections(serve: Serve) -> None:
    release = asyncio.Event()

    async def handler(channel: AgiChannel) -> None:
        await channel.command("ANSWER")
        await release.wait()

    server = await serve(handler, max_sessions=1)
    busy = await FakeAsterisk(server.port).start()
    await busy.exchange("ANSWER", "200 result=0")
    extra = await FakeAsterisk(server.port).start(network_script="ok")
    assert await extra.read_to_end() == b""  # refused: no command was sent
    await extra.close()
    release.set()
    assert await busy.read_to_end() == b""
    await busy.close()
    await assert_responsive(server)

