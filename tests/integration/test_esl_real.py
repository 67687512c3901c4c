"""The Event Socket client and the outbound sessions against a real FreeSWITCH 1.10.12.

Inbound: auth, ``api status``, ``bgapi originate loopback/9196/default &park`` with its
BACKGROUND_JOB, the CHANNEL_* events of that call (and the facts they give).  Outbound: a
loopback call whose originating leg runs ``socket 127.0.0.1:PORT async full``; the session
plays a tone_stream and hangs up, each execute matched by its CHANNEL_EXECUTE_COMPLETE.

The FreeSWITCH is the sandbox's (``make_freeswitch``, tests/integration/conftest.py): the
generated clinic config on fresh loopback ports; ``CLINICALL_SKIP_FREESWITCH=1`` skips.
"""

from __future__ import annotations

import asyncio

import pytest

from clinicall.controller.facts import ChannelClosed, ChannelOpened
from clinicall.controller.freeswitch.esl.client import EslClient
from clinicall.controller.freeswitch.esl.message import EslEvent
from clinicall.controller.freeswitch.esl.outbound import OutboundServer, OutboundSession
from clinicall.controller.freeswitch.esl_facts import EslFactDecoder
from clinicall.sandbox.freeswitch import FreeswitchSandbox

from .freeswitch_common import FreeswitchFactory

pytestmark = pytest.mark.freeswitch

TONE = "tone_stream://%(300,0,440)"
EVENT_WAIT_S = 10.0


def client(fs: FreeswitchSandbox, events: list[str]) -> EslClient:
    assert fs.esl_port is not None
    return EslClient(fs.esl_host, fs.esl_port, fs.esl_password, events=events,
                     subclasses=["callcenter::info"], command_timeout=10.0)  # fmt: skip


async def next_event(stream: asyncio.Queue[EslEvent], name: str, unique_id: str) -> EslEvent:
    async with asyncio.timeout(EVENT_WAIT_S):
        while True:
            event = await stream.get()
            if event.name == name and event.unique_id == unique_id:
                return event


async def test_inbound_api_bgapi_and_channel_events(
        make_freeswitch: FreeswitchFactory) -> None:
    freeswitch, _ = make_freeswitch(name="esl-inbound")
    seen: asyncio.Queue[EslEvent] = asyncio.Queue()
    decoder = EslFactDecoder()
    facts = []

    def on_event(event: EslEvent) -> None:
        seen.put_nowait(event)
        facts.extend(decoder.decode(event))

    esl = client(freeswitch, ["CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP_COMPLETE"])
    esl.add_handler(on_event)
    async with freeswitch, esl:
        assert "is ready" in await esl.api("status")
        result = await esl.bgapi("originate loopback/9196/default &park", timeout=15)
        assert result.startswith("+OK ")
        uuid = result.split()[1]
        created = await next_event(seen, "CHANNEL_CREATE", uuid)
        await next_event(seen, "CHANNEL_ANSWER", uuid)
        assert created["Channel-Name"] == "loopback/9196-a"
        assert (await esl.api(f"uuid_kill {uuid}")).startswith("+OK")
        closed = await next_event(seen, "CHANNEL_HANGUP_COMPLETE", uuid)
        assert closed["Hangup-Cause"] == "NORMAL_CLEARING"
        assert (await esl.bgapi("originate loopback/nowhere/nocontext &park")).startswith(
            "-ERR NO_ROUTE_DESTINATION"
        )
        health = esl.health()
    assert health.up
    assert health.malformed == 0
    opened = [f for f in facts if isinstance(f, ChannelOpened) and f.channel_id == uuid]
    ended = [f for f in facts if isinstance(f, ChannelClosed) and f.channel_id == uuid]
    assert len(opened) == 1
    assert [(f.cause, f.cause_text) for f in ended] == [(16, "NORMAL_CLEARING")]


async def test_outbound_session_plays_and_hangs_up(make_freeswitch: FreeswitchFactory) -> None:
    freeswitch, _ = make_freeswitch(name="esl-outbound")
    done: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()

    async def ivr(session: OutboundSession) -> None:
        try:
            answered = await session.execute("answer")
            played = await session.execute("playback", TONE)
            await session.hangup()
            done.set_result({
                "answer": answered.get("Application", ""),
                "playback": played.get("Application", ""),
                "response": played.get("Application-Response", ""),
                "data": played.get("Application-Data", ""),
                "channel": session.channel.get("Channel-Name", ""),
                "hung_up": str(session.hung_up),
                "cause": session.hangup_cause,
            })  # fmt: skip
        except BaseException as exc:
            done.set_exception(exc)
            raise

    server = OutboundServer(ivr, command_timeout=10.0)
    port = await server.start()
    try:
        async with freeswitch, client(freeswitch, ["CHANNEL_HANGUP_COMPLETE"]) as esl:
            result = await esl.bgapi(
                # Quoted: originate splits its arguments at spaces (unquoted, the socket
                # app gets only the address and runs in static mode).
                f"originate loopback/9196/default '&socket(127.0.0.1:{port} async full)'",
                timeout=15,
            )
            assert result.startswith("+OK ")
            got = await asyncio.wait_for(done, 20)
    finally:
        await server.close()
    assert got == {"answer": "answer", "playback": "playback", "response": "FILE PLAYED",
                   "data": TONE, "channel": "loopback/9196-a", "hung_up": "True",
                   "cause": "NORMAL_CLEARING"}  # fmt: skip
    assert server.served == 1
