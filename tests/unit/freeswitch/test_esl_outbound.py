"""Outbound Event Socket sessions against a fake FreeSWITCH that dials the controller's
listener and answers with the recorded bytes of real calls (``outbound_*`` transcripts):
connect, myevents, linger, executes completed by Application-UUID, DTMF, the caller hanging
up mid-prompt, the linger notice, deadlines, and the session's own tasks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from esl_transcripts import writes

from clinicall.controller.freeswitch.esl.errors import EslHungUp
from clinicall.controller.freeswitch.esl.outbound import (
    PARK_PROOF,
    OutboundServer,
    OutboundSession,
)

from .fake_esl import Peer, answers, connect_to, event_uuid, replay

PROMPT = "tone_stream://%(1000,0,440)"
DIGITS = r"1 1 3 5000 # tone_stream://%(1000,0,350,440) silence_stream://250 choice \d"

Handler = Callable[[OutboundSession], Awaitable[None]]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[OutboundServer]]]:
    servers: list[OutboundServer] = []

    async def start(handler: Handler, **options: float) -> OutboundServer:
        server = OutboundServer(handler, command_timeout=options.get("timeout", 2.0))
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.close()


Serve = Callable[..., Awaitable[OutboundServer]]


async def run_call(serve: Serve, handler: Handler, transcript: str) -> Peer:
    """One recorded call through a server running ``handler``; returns the fake's side once
    the session has ended."""
    ended = asyncio.Event()

    async def wrapped(session: OutboundSession) -> None:
        try:
            await handler(session)
        finally:
            ended.set()

    server = await serve(wrapped)
    peer = await asyncio.wait_for(connect_to(server.port, replay(transcript)), 10)
    await asyncio.wait_for(ended.wait(), 10)
    return peer


async def test_an_ivr_turn_as_recorded(serve: Serve) -> None:
    got: dict[str, object] = {}

    async def ivr(session: OutboundSession) -> None:
        got["caller"] = session.channel["Channel-Caller-ID-Number"]
        await session.execute("answer")
        await session.execute("playback", PROMPT)
        complete = await session.execute("play_and_get_digits", DIGITS)
        got["choice"] = complete.get("variable_choice")
        got["result"] = complete.get("variable_read_result")
        got["digit"] = await session.read_digit(1.0)
        await session.hangup()
        got["hung_up"] = session.hung_up

    peer = await run_call(serve, ivr, "outbound_ivr")
    assert got == {"caller": "380441234567", "choice": "2", "result": "success", "digit": "2",
                   "hung_up": True}  # fmt: skip
    # What the session wrote is what the recording client wrote, but for its own uuids.
    recorded = [w.decode()[:-2] for w in writes("outbound_ivr")]
    assert len(peer.commands) == len(recorded)
    for mine, theirs in zip(peer.commands, recorded, strict=True):
        uuid = event_uuid(theirs)
        assert mine == (theirs if uuid is None else theirs.replace(uuid, event_uuid(mine) or ""))


async def test_a_caller_hanging_up_mid_prompt(serve: Serve) -> None:
    got: dict[str, object] = {}

    async def ivr(session: OutboundSession) -> None:
        cancelled = asyncio.Event()

        async def beside() -> None:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.set()
                raise

        side = session.start_task(beside())
        await session.execute("answer")
        await session.execute("playback", PROMPT)
        complete = await session.execute("play_and_get_digits", DIGITS)
        got["result"] = complete.get("variable_read_result")
        got["choice"] = complete.get("variable_choice")
        got["cause"] = session.hangup_cause
        got["side cancelled"] = cancelled.is_set() and side.cancelled()
        with pytest.raises(EslHungUp, match="not sent"):
            await session.execute("playback", PROMPT)
        with pytest.raises(EslHungUp):
            await session.read_digit(1.0)

    peer = await run_call(serve, ivr, "outbound_caller_hangup")
    assert got == {"result": "failure", "choice": None, "cause": "NORMAL_CLEARING",
                   "side cancelled": True}  # fmt: skip
    assert [c.split("\n")[2] for c in peer.commands if c.startswith("sendmsg")] == [
        "execute-app-name: answer", "execute-app-name: playback",
        "execute-app-name: play_and_get_digits",
    ]  # fmt: skip
    assert peer.commands[-1] == "exit"


async def test_with_linger_3_freeswitch_closes_after_the_final_notice(serve: Serve) -> None:
    got: list[str] = []

    async def ivr(session: OutboundSession) -> None:
        await session.execute("answer")
        await session.execute("playback", PROMPT)
        complete = await session.execute("play_and_get_digits", DIGITS)
        got.append(complete.get("variable_read_result", ""))
        await session.wait_hung_up()

    await run_call(serve, ivr, "outbound_caller_hangup_linger3")
    assert got == ["failure"]


async def test_an_execute_that_never_completes_meets_its_deadline(serve: Serve) -> None:
    outcome: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()

    async def ivr(session: OutboundSession) -> None:
        try:
            await session.execute("playback", PROMPT, timeout=0.1)
        except TimeoutError as exc:
            outcome.set_result(exc)

    async def freeswitch(peer: Peer) -> None:
        await replay_connect(peer)
        await peer.command()  # the sendmsg
        peer.send(b"Content-Type: command/reply\nReply-Text: +OK\n\n")
        while await peer.command() not in (None, "exit"):
            pass

    server = await serve(ivr)
    await asyncio.wait_for(connect_to(server.port, freeswitch), 10)
    assert "not complete within 0.1 s" in str(await outcome)


async def test_a_socket_cut_mid_execute_ends_it_as_hung_up(serve: Serve) -> None:
    outcome: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()

    async def ivr(session: OutboundSession) -> None:
        try:
            await session.execute("playback", PROMPT)
        except EslHungUp as exc:
            outcome.set_result(exc)

    async def freeswitch(peer: Peer) -> None:
        await replay_connect(peer)
        await peer.command()
        peer.send(b"Content-Type: command/reply\nReply-Text: +OK\n\n")
        await peer.drain()
        peer.abort()

    server = await serve(ivr)
    await asyncio.wait_for(connect_to(server.port, freeswitch), 10)
    assert "before the application completed" in str(await asyncio.wait_for(outcome, 5))


async def test_events_reach_the_sessions_handlers(serve: Serve) -> None:
    names: list[str] = []

    async def ivr(session: OutboundSession) -> None:
        session.add_handler(lambda event: names.append(event.name))
        await session.execute("answer")
        await session.execute("playback", PROMPT)
        await session.execute("play_and_get_digits", DIGITS)
        await session.wait_hung_up()

    await run_call(serve, ivr, "outbound_caller_hangup")
    assert names[0] == "CHANNEL_PARK"
    assert "CHANNEL_HANGUP_COMPLETE" in names


async def replay_connect(peer: Peer) -> None:
    """FreeSWITCH's side of connect, myevents and linger, from the recorded call."""
    script = iter(writes("outbound_ivr")[:3])
    _, table = answers("outbound_ivr")
    for _ in range(3):
        command = await peer.command()
        assert command is not None
        assert command == next(script).decode()[:-2]
        peer.send(table[command][0].data)


async def test_a_socket_in_static_mode_is_refused_before_the_handler(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    async def ivr(session: OutboundSession) -> None:
        ran.append(session.uuid)

    async def static_socket(peer: Peer) -> None:
        assert await peer.command() == "connect"
        _, table = answers("outbound_ivr")
        peer.send(table["connect"][0].data.replace(b"Socket-Mode: async", b"Socket-Mode: static"))
        while await peer.command() not in (None, "exit"):
            pass

    server = await serve(ivr)
    peer = await asyncio.wait_for(connect_to(server.port, static_socket), 10)
    assert ran == []
    assert peer.commands == ["connect", "exit"]
    assert "socket mode 'static', not async" in caplog.text


async def test_no_digit_within_the_wait_is_none(serve: Serve) -> None:
    got: list[str | None] = []

    async def ivr(session: OutboundSession) -> None:
        got.append(await session.read_digit(0.05))

    server = await serve(ivr)
    await asyncio.wait_for(connect_to(server.port, replay("outbound_ivr")), 10)
    assert got == [None]


async def test_a_session_that_ran_no_application_runs_one_before_it_exits(
        serve: Serve) -> None:
    """The park that the socket app begins after ``connect`` is ended by the session's end
    only once it has begun: a session with nothing to say proves it with one application
    that does nothing, completed, before ``exit`` (controller/freeswitch/esl/outbound.py)."""

    async def nothing_to_say(session: OutboundSession) -> None:
        pass

    peer = await run_call(serve, nothing_to_say, "outbound_ivr")
    sent = [c.split("\n") for c in peer.commands]
    assert [c[0].split(" ")[0] for c in sent] == ["connect", "myevents", "linger", "sendmsg",
                                                  "exit"]  # fmt: skip
    assert sent[3][2:4] == [f"execute-app-name: {PARK_PROOF[0]}",
                            f"execute-app-arg: {PARK_PROOF[1]}"]  # fmt: skip


async def test_calls_beyond_the_session_limit_are_closed_at_once() -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def ivr(session: OutboundSession) -> None:
        started.set()
        await release.wait()

    server = OutboundServer(ivr, command_timeout=2.0, max_sessions=1)
    await server.start()
    try:
        first = asyncio.create_task(connect_to(server.port, replay("outbound_ivr")))
        await asyncio.wait_for(started.wait(), 5)
        second = await asyncio.wait_for(connect_to(server.port, replay("outbound_ivr")), 5)
        assert second.commands == []  # closed before its connect
        assert server.refused == 1
        release.set()
        await asyncio.wait_for(first, 5)
    finally:
        await server.close()
    assert server.served == 1
