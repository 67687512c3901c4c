"""The FastAGI server on both event loops ``clinicall run --loop`` offers (clinicall/event_loop.py).

Each test runs a whole scenario on a fresh loop of the kind under test (not pytest's loop):
a session answered command by command, a hang-up mid-command, a missed deadline.  uvloop's
transports are not ``asyncio.Transport`` subclasses, so this is what proves that nothing in
the server depends on a transport's or a loop's concrete class.  The uvloop case is skipped,
saying why, on a machine without uvloop (a dependency on Linux).
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import Awaitable, Callable

import pytest

from clinicall import event_loop
from clinicall.agi_scripts.channel import AgiChannel
from clinicall.agi_scripts.protocol import AgiCommandTimeout, AgiReply
from clinicall.agi_scripts.server import FastAgiServer
from clinicall.ivr.port import CallerHungUp

from .fake_asterisk import FakeAsterisk

UVLOOP_MISSING = importlib.util.find_spec("uvloop") is None

LOOPS = [
    "asyncio",
    pytest.param(
        "uvloop",
        marks=pytest.mark.skipif(
            UVLOOP_MISSING, reason="uvloop is not installed (a dependency on Linux)"
        ),
    ),
]

Scenario = Callable[[FakeAsterisk], Awaitable[None]]


async def handler(channel: AgiChannel, seen: dict[str, object]) -> None:
    """ANSWER, then a prompt, then a digit; records what each command ended with."""
    seen["loop"] = type(asyncio.get_running_loop()).__module__
    replies: list[AgiReply] = []
    try:
        replies.append(await channel.command("ANSWER"))
        replies.append(
            await channel.command("STREAM FILE", "welcome", "12", minus_one_is_hangup=True)
        )
        replies.append(await channel.command("GET DATA", "menu", 5000, 1, deadline_s=0.05))
    except (CallerHungUp, AgiCommandTimeout) as exc:
        seen["ended"] = type(exc).__name__
    seen["results"] = [reply.result for reply in replies]


def run_on(loop: str, scenario: Scenario) -> dict[str, object]:
    """Serve on a new loop of kind ``loop``, run ``scenario`` against it, return what the
    handler saw once the server has closed."""
    seen: dict[str, object] = {}

    async def main() -> None:
        async def serve_one(channel: AgiChannel) -> None:
            await handler(channel, seen)

        async with FastAgiServer(serve_one, port=0, command_timeout=5.0) as server:
            peer = FakeAsterisk(server.port)
            try:
                # A connection the server fails to take (its protocol raising in
                # connection_made, as an assert on the transport's class did under uvloop)
                # leaves the peer waiting for a command: bounded, so that fails here.
                async with asyncio.timeout(10):
                    await peer.start()
                    await scenario(peer)
            finally:
                await peer.close()

    event_loop.run(main(), loop=loop)
    return seen


async def whole_session(peer: FakeAsterisk) -> None:
    await peer.exchange("ANSWER", "200 result=0")
    await peer.exchange('STREAM FILE "welcome" "12"', "200 result=0 endpos=8000")
    await peer.exchange('GET DATA "menu" "5000" "1"', "200 result=2")
    assert await peer.read_to_end() == b""  # the handler returned: the session is closed


async def hang_up_mid_prompt(peer: FakeAsterisk) -> None:
    await peer.exchange("ANSWER", "200 result=0")
    await peer.expect('STREAM FILE "welcome" "12"')
    await peer.send(b"HANGUP\n200 result=-1 endpos=0\n")
    assert await peer.read_to_end() == b""


async def silent_after_prompt(peer: FakeAsterisk) -> None:
    await peer.exchange("ANSWER", "200 result=0")
    await peer.exchange('STREAM FILE "welcome" "12"', "200 result=0 endpos=8000")
    await peer.expect('GET DATA "menu" "5000" "1"')  # and never answer: its 0.05 s run out
    assert await peer.read_to_end() == b""


@pytest.mark.parametrize("loop", LOOPS)
def test_a_session_runs_command_by_command(loop: str) -> None:
    seen = run_on(loop, whole_session)
    assert seen["results"] == ["0", "0", "2"]
    assert "ended" not in seen
    assert str(seen["loop"]).split(".")[0] == loop


@pytest.mark.parametrize("loop", LOOPS)
def test_a_hang_up_ends_the_session(loop: str) -> None:
    seen = run_on(loop, hang_up_mid_prompt)
    assert (seen["results"], seen["ended"]) == (["0"], "AgiChannelGone")


@pytest.mark.parametrize("loop", LOOPS)
def test_a_missed_deadline_ends_the_session(loop: str) -> None:
    seen = run_on(loop, silent_after_prompt)
    assert (seen["results"], seen["ended"]) == (["0", "0"], "AgiCommandTimeout")


def test_asking_for_uvloop_without_it_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = importlib.import_module

    def without_uvloop(name: str, package: str | None = None) -> object:
        if name == "uvloop":
            raise ModuleNotFoundError("No module named 'uvloop'")
        return real_import(name, package)

    monkeypatch.setattr(importlib, "import_module", without_uvloop)
    with pytest.raises(event_loop.LoopUnavailable, match="uvloop is not installed") as raised:
        event_loop.loop_factory("uvloop")
    assert "pip install uvloop" in raised.value.hint
    assert "--loop asyncio" in raised.value.hint


def test_auto_is_uvloop_where_it_imports_else_asyncio(monkeypatch: pytest.MonkeyPatch) -> None:
    assert event_loop.resolve("asyncio") == "asyncio"
    assert event_loop.resolve("uvloop") == "uvloop"
    if not UVLOOP_MISSING:
        assert event_loop.resolve("auto") == "uvloop"
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop now raises ImportError
    assert event_loop.resolve("auto") == "asyncio"
    assert event_loop.loop_factory("auto") is asyncio.new_event_loop
