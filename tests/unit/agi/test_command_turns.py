"""AgiChannel's turn: commands from several tasks of one call go one at a time, in order.

Driven without sockets: the channel writes into a list, and each test hands it replies
(``on_reply``) at chosen points of the loop's order, so the awkward interleavings (a waiting
command cancelled, a command cancelled just after it was handed the turn) are exact.
"""

from __future__ import annotations

import asyncio

import pytest

from clinicall.agi_scripts.channel import AgiChannel
from clinicall.agi_scripts.protocol import AgiChannelGone, AgiReply, EnvironmentParser

ENV = (b"agi_request: agi://127.0.0.1/ivr\nagi_network_script: ivr\n"
       b"agi_uniqueid: 1712345678.1\n\n")


class _Lines(asyncio.WriteTransport):
    """Keeps what the channel writes."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.lines.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


def _channel() -> tuple[AgiChannel, _Lines]:
    env = EnvironmentParser().feed(ENV)
    assert env is not None
    transport = _Lines()
    return AgiChannel(env, transport), transport


def _reply(data: str) -> AgiReply:
    return AgiReply(200, "1", data, {}, f"result=1 ({data})")


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_second_task_command_is_written_only_after_the_first_reply() -> None:
    channel, transport = _channel()
    first = asyncio.create_task(channel.command("GET VARIABLE", "A"))
    second = asyncio.create_task(channel.command("GET VARIABLE", "B"))
    await _settle()
    assert transport.lines == [b'GET VARIABLE "A"\n']
    channel.on_reply(_reply("a"))
    await _settle()
    assert transport.lines == [b'GET VARIABLE "A"\n', b'GET VARIABLE "B"\n']
    channel.on_reply(_reply("b"))
    assert [(await first).data, (await second).data] == ["a", "b"]
    third = await asyncio.wait_for(_answered(channel, "C", "c"), 1)
    assert third.data == "c"  # nothing left holding the turn


async def _answered(channel: AgiChannel, name: str, value: str) -> AgiReply:
    task = asyncio.create_task(channel.command("GET VARIABLE", name))
    await _settle()
    channel.on_reply(_reply(value))
    return await task


async def test_a_command_cancelled_while_waiting_for_its_turn_is_skipped() -> None:
    channel, transport = _channel()
    first = asyncio.create_task(channel.command("GET VARIABLE", "A"))
    waiting = asyncio.create_task(channel.command("GET VARIABLE", "B"))
    last = asyncio.create_task(channel.command("GET VARIABLE", "C"))
    await _settle()
    waiting.cancel()
    await _settle()
    channel.on_reply(_reply("a"))
    await _settle()
    assert transport.lines == [b'GET VARIABLE "A"\n', b'GET VARIABLE "C"\n']
    channel.on_reply(_reply("c"))
    assert (await first).data == "a"
    assert (await last).data == "c"
    with pytest.raises(asyncio.CancelledError):
        await waiting


async def test_a_command_cancelled_as_it_is_handed_the_turn_passes_it_on() -> None:
    """The first command's reply hands the turn to the second, which is cancelled before it
    runs: the third is written next, and its reply is its own."""
    channel, transport = _channel()
    first = asyncio.create_task(channel.command("GET VARIABLE", "A"))
    second = asyncio.create_task(channel.command("GET VARIABLE", "B"))
    third = asyncio.create_task(channel.command("GET VARIABLE", "C"))
    await _settle()
    channel.on_reply(_reply("a"))
    await asyncio.sleep(0)  # the first runs (handing the turn on) before this test resumes
    assert first.done()
    assert not second.done()
    second.cancel()  # handed the turn, not yet run
    await _settle()
    assert transport.lines == [b'GET VARIABLE "A"\n', b'GET VARIABLE "C"\n']
    channel.on_reply(_reply("c"))
    assert (await third).data == "c"
    with pytest.raises(asyncio.CancelledError):
        await second


async def test_a_hang_up_ends_the_command_in_flight_and_those_waiting() -> None:
    channel, transport = _channel()
    tasks = [asyncio.create_task(channel.command("GET VARIABLE", n)) for n in "ABC"]
    await _settle()
    channel.on_hangup()
    channel.on_closed()
    for task in tasks:
        with pytest.raises(AgiChannelGone):
            await task
    assert transport.lines == [b'GET VARIABLE "A"\n']  # the others were never written
    with pytest.raises(AgiChannelGone):
        await channel.command("ANSWER")
