"""The inbound Event Socket client against a fake FreeSWITCH on port 0 that answers with the
recorded bytes of a real one: login, api in order, bgapi by Job-UUID, and every way a link
fails (wrong password, ACL refusal, a drop mid-api and mid-bgapi, a silent peer)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from esl_transcripts import server_bytes, writes

from clinicall.controller.freeswitch.esl import EslParser
from clinicall.controller.freeswitch.esl.client import STATUS_EVENT, EslClient
from clinicall.controller.freeswitch.esl.connection import command_label
from clinicall.controller.freeswitch.esl.errors import (
    EslAuthError,
    EslCommandError,
    EslLinkLost,
    EslNotConnected,
    EslRejected,
)
from clinicall.controller.freeswitch.esl.message import EslEvent

from .fake_esl import FakeEsl, Peer, Script, replay

AUTH_REQUEST = b"Content-Type: auth/request\n\n"


def reply(text: str, *extra: str) -> bytes:
    lines = ["Content-Type: command/reply", f"Reply-Text: {text}", *extra]
    return ("\n".join(lines) + "\n\n").encode()


def api_response(body: bytes) -> bytes:
    return b"Content-Type: api/response\nContent-Length: %d\n\n" % len(body) + body


def plain_event(body: bytes) -> bytes:
    return b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(body) + body


async def login(peer: Peer) -> None:
    """Play FreeSWITCH's side of auth and the subscription."""
    peer.send(AUTH_REQUEST)
    assert (await peer.command() or "").startswith("auth ")
    peer.send(reply("+OK accepted"))
    assert (await peer.command() or "").startswith("event plain ")
    peer.send(reply("+OK event listener enabled plain"))


def scripted(then: Callable[[Peer], Awaitable[None]]) -> Script:
    async def script(peer: Peer) -> None:
        await login(peer)
        await then(peer)

    return script


async def hold(peer: Peer) -> None:
    """Keep the link open, answering nothing, until the client goes."""
    while await peer.command() is not None:
        pass


@pytest.fixture
async def fake_factory() -> AsyncIterator[Callable[..., Awaitable[FakeEsl]]]:
    fakes: list[FakeEsl] = []

    async def make(*scripts: Script) -> FakeEsl:
        fake = FakeEsl(*scripts)
        await fake.start()
        fakes.append(fake)
        return fake

    yield make
    for fake in fakes:
        await fake.stop()


def client_for(fake: FakeEsl, **options: object) -> EslClient:
    defaults: dict[str, object] = {"connect_timeout": 2.0, "command_timeout": 2.0,
                                   "backoff_initial": 0.01, "backoff_max": 0.05}  # fmt: skip
    return EslClient("127.0.0.1", fake.port, "ClueCon", **{**defaults, **options})  # type: ignore[arg-type]


Factory = Callable[..., Awaitable[FakeEsl]]


async def test_login_api_and_bgapi_answered_as_recorded(fake_factory: Factory) -> None:
    fake = await fake_factory(replay("inbound_auth_api"))
    async with client_for(fake) as esl:
        status = await esl.api("status")
        assert "FreeSWITCH (Version 1.10.12-release  64bit) is ready" in status
        assert await esl.api("uuid_dump 00000000-0000-0000-0000-000000000000") == (
            "-ERR No such channel!\n"
        )
        assert await esl.api("module_exists mod_callcenter") == "true"
        job = await esl.bgapi("status")
        assert job.startswith("UP 0 years")
        with pytest.raises(EslCommandError, match="command not found"):
            await esl.command("no_such_command")
        assert esl.health().up
    sent = fake.peers[0].commands
    assert sent[0] == "auth ClueCon"
    assert sent[1] == "event plain BACKGROUND_JOB"
    bgapi = next(c for c in sent if c.startswith("bgapi"))
    assert bgapi.startswith("bgapi status\nJob-UUID: ")  # the client picks the job's uuid


async def test_a_wrong_password_stops_at_once(fake_factory: Factory) -> None:
    fake = await fake_factory(replay("inbound_auth_fail"))
    client = EslClient("127.0.0.1", fake.port, "WrongPassword", connect_timeout=2.0)
    with pytest.raises(EslAuthError, match="-ERR invalid"):
        await client.start()
    assert fake.peers[0].commands == ["auth WrongPassword"]
    assert not client.connected


async def test_a_wrong_password_in_the_background_gives_up_and_says_so(
    fake_factory: Factory,
) -> None:
    fake = await fake_factory(replay("inbound_auth_fail"))
    seen: asyncio.Queue[tuple[bool, str]] = asyncio.Queue()
    client = client_for(fake, on_status=lambda up, detail: seen.put_nowait((up, detail)))
    await client.start(wait=False)
    up, detail = await asyncio.wait_for(seen.get(), 5)
    assert not up
    assert "refused the password" in detail
    await client.close()
    assert len(fake.peers) == 1  # no retry: a wrong password does not get better


async def test_an_acl_refusal_is_a_rude_rejection(fake_factory: Factory) -> None:
    async def reject(peer: Peer) -> None:
        peer.send(b"Content-Type: text/rude-rejection\nContent-Length: 24\n\n"
                  b"Access Denied, go away.\n")  # fmt: skip
        await peer.drain()
        await peer.close()

    fake = await fake_factory(reject)
    with pytest.raises(EslRejected, match="ACL"):
        await client_for(fake).start()


async def test_background_jobs_finishing_out_of_order_reach_their_own_command(
    fake_factory: Factory,
) -> None:
    fake = await fake_factory(replay("inbound_originate_fail"))
    targets = ["loopback/nonexistent-ext/default", "loopback/nonexistent-ext/nonexistent-context",
               "sofia/internal/9@127.0.0.1:1", "user/nobody@default"]  # fmt: skip
    async with client_for(fake, events=["CHANNEL_HANGUP_COMPLETE"]) as esl:
        results = await asyncio.gather(*(esl.bgapi(f"originate {t} &park") for t in targets))
        busy = await esl.api("originate error/user_busy &park")
    recorded = {
        m.event["Job-Command-Arg"]: m.event.body
        for m in EslParser().feed(server_bytes("inbound_originate_fail"))
        if m.event is not None and m.event.name == "BACKGROUND_JOB"
    }
    assert results == [recorded[f"{t} &park"] for t in targets]
    assert results[1:] == ["-ERR NO_ROUTE_DESTINATION\n", "-ERR NORMAL_TEMPORARY_FAILURE\n",
                           "-ERR SUBSCRIBER_ABSENT\n"]  # fmt: skip
    assert busy == "-ERR USER_BUSY\n"


async def test_a_drop_mid_api_fails_it_and_the_new_link_never_resends_it(
    fake_factory: Factory,
) -> None:
    fake = await fake_factory(
        replay("inbound_auth_api", until="api status"), replay("inbound_auth_api")
    )
    async with client_for(fake) as esl:
        with pytest.raises(EslLinkLost, match="not re-sent"):
            await esl.api("status")
        await fake.wait_connections(2)
        await esl.wait_connected(5)
        assert "is ready" in await esl.api("status")
        assert esl.health().reconnects == 1
    first, second = fake.peers
    assert first.commands[-1] == "api status"
    assert second.commands == ["auth ClueCon", "event plain BACKGROUND_JOB", "api status"]


async def test_a_drop_mid_bgapi_fails_it_and_the_job_is_never_resent(
    fake_factory: Factory,
) -> None:
    async def started_then_cut(peer: Peer) -> None:
        command = await peer.command()
        assert command is not None
        assert command.startswith("bgapi originate")
        job = command.split("Job-UUID: ")[1]
        peer.send(reply(f"+OK Job-UUID: {job}", f"Job-UUID: {job}"))
        await peer.drain()
        peer.abort()  # before the BACKGROUND_JOB

    fake = await fake_factory(scripted(started_then_cut), scripted(hold))
    async with client_for(fake) as esl:
        with pytest.raises(EslLinkLost, match="before its result; not re-sent"):
            await esl.bgapi("originate loopback/9196/default &park")
        await fake.wait_connections(2)
        await esl.wait_connected(5)
    assert [c for c in fake.peers[1].commands if "originate" in c] == []


async def test_a_bgapi_refused_at_once_is_a_command_error(fake_factory: Factory) -> None:
    async def refuse(peer: Peer) -> None:
        await peer.command()
        peer.send(reply("-ERR no reply"))
        await hold(peer)

    fake = await fake_factory(scripted(refuse))
    async with client_for(fake) as esl:
        with pytest.raises(EslCommandError, match="-ERR no reply"):
            await esl.bgapi("nothing")


async def test_a_late_reply_after_a_deadline_does_not_answer_the_next_command(
    fake_factory: Factory,
) -> None:
    async def late(peer: Peer) -> None:
        assert await peer.command() == "api first"
        assert await peer.command() == "api second"  # the first one's deadline has passed
        peer.send(api_response(b"reply to first") + api_response(b"reply to second"))
        await hold(peer)

    fake = await fake_factory(scripted(late))
    async with client_for(fake) as esl:
        with pytest.raises(TimeoutError, match=r"no reply within 0\.1 s"):
            await esl.api("first", timeout=0.1)
        assert await esl.api("second") == "reply to second"


async def test_a_job_without_result_meets_its_deadline(fake_factory: Factory) -> None:
    async def no_result(peer: Peer) -> None:
        command = await peer.command()
        assert command is not None
        job = command.split("Job-UUID: ")[1]
        peer.send(reply(f"+OK Job-UUID: {job}", f"Job-UUID: {job}"))
        await hold(peer)

    fake = await fake_factory(scripted(no_result))
    async with client_for(fake) as esl:
        with pytest.raises(TimeoutError, match=r"no result within 0\.1 s"):
            await esl.bgapi("originate x", timeout=0.1)


async def test_after_a_reconnect_the_events_are_subscribed_again(fake_factory: Factory) -> None:
    def push(unique_id: str) -> Callable[[Peer], Awaitable[None]]:
        async def then(peer: Peer) -> None:
            event = f"Event-Name: CHANNEL_CREATE\nUnique-ID: {unique_id}\n\n"
            peer.send(plain_event(event.encode()))
            await peer.drain()
            if unique_id == "first":
                peer.abort()
            else:
                await hold(peer)

        return then

    fake = await fake_factory(scripted(push("first")), scripted(push("second")))
    client = client_for(fake, events=["CHANNEL_CREATE"], subclasses=["callcenter::info"])
    stream = client.events()
    seen: list[tuple[str, str]] = []
    async with client:
        async for event in stream:
            seen.append((event.name, event.get("Status", event.unique_id)))
            if event.unique_id == "second":
                break
    assert seen == [(STATUS_EVENT, "up"), ("CHANNEL_CREATE", "first"), (STATUS_EVENT, "down"),
                    (STATUS_EVENT, "up"), ("CHANNEL_CREATE", "second")]  # fmt: skip
    subscription = "event plain CHANNEL_CREATE BACKGROUND_JOB CUSTOM callcenter::info"
    assert [p.commands[1] for p in fake.peers] == [subscription, subscription]
    health = client.health()
    assert health.reconnects == 1
    assert health.last_event_at is not None


async def test_commands_while_down_are_not_sent(fake_factory: Factory) -> None:
    fake = await fake_factory(scripted(hold))
    client = client_for(fake)
    with pytest.raises(EslNotConnected):
        await client.api("status")
    async with client:
        pass
    with pytest.raises(EslNotConnected):
        await client.bgapi("status")


async def test_a_failing_handler_does_not_stop_the_others(
    fake_factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    async def one_event(peer: Peer) -> None:
        peer.send(plain_event(b"Event-Name: DTMF\nUnique-ID: u\nDTMF-Digit: %23\n\n"))
        await hold(peer)

    fake = await fake_factory(scripted(one_event))
    got: asyncio.Queue[EslEvent] = asyncio.Queue()

    def broken(event: EslEvent) -> None:
        raise RuntimeError("handler bug")

    async def later(event: EslEvent) -> None:
        await got.put(event)

    client = client_for(fake, events=["DTMF"])
    client.add_handler(broken)
    client.add_handler(later)
    async with client:
        while (event := await asyncio.wait_for(got.get(), 5)).name != "DTMF":
            pass
    assert event["DTMF-Digit"] == "#"
    assert "handler bug" in caplog.text


async def test_a_link_that_stops_answering_is_dropped_and_reopened(
    fake_factory: Factory,
) -> None:
    fake = await fake_factory(scripted(hold), scripted(hold))
    changes: asyncio.Queue[tuple[bool, str]] = asyncio.Queue()
    client = client_for(fake, keepalive_interval=0.05, keepalive_timeout=0.1,
                        on_status=lambda up, detail: changes.put_nowait((up, detail)))  # fmt: skip
    async with client:
        assert (await asyncio.wait_for(changes.get(), 5))[0]
        down = await asyncio.wait_for(changes.get(), 5)
        assert down == (False, "no answer to a keepalive within 0.1 s")
        assert (await asyncio.wait_for(changes.get(), 5))[0]
    assert fake.peers[0].commands[2] == "api status"
    assert client.health().reconnects == 1


async def test_sendmsg_runs_an_application_on_a_channel(fake_factory: Factory) -> None:
    recorded = [w.decode()[:-2] for w in writes("record_session")]
    originate = next(c for c in recorded if c.startswith("bgapi originate"))
    record = next(c for c in recorded if c.startswith("sendmsg "))
    uuid = record.split("\n")[0].removeprefix("sendmsg ")
    path = record.split("execute-app-arg: ")[1].split("\n")[0]
    fake = await fake_factory(replay("record_session"))
    async with client_for(fake, events=["CHANNEL_ANSWER", "RECORD_START"]) as esl:
        stream = esl.events()
        # As recorded: the originate's result comes once the call is answered, after the
        # CHANNEL_ANSWER that the recording client waited for before sending sendmsg.
        job = asyncio.create_task(esl.bgapi(originate.removeprefix("bgapi ")))
        async for event in stream:
            if event.name == "CHANNEL_ANSWER" and event.unique_id == uuid:
                break
        event_uuid = await esl.sendmsg(uuid, "record_session", path)
        async for event in stream:
            if event.name == "RECORD_START":
                break
        assert (await job).startswith("+OK")
    assert event["Record-File-Path"] == path
    sent = next(c for c in fake.peers[0].commands if c.startswith("sendmsg "))
    assert sent == (f"sendmsg {uuid}\ncall-command: execute\nexecute-app-name: record_session\n"
                    f"execute-app-arg: {path}\nEvent-UUID: {event_uuid}")  # fmt: skip


@pytest.mark.parametrize(
    ("command", "label"),
    [("status", "status"), ("uuid_kill 25f4db4a-ed15 NORMAL_CLEARING", "uuid_kill"),
     ("originate {origination_caller_id_number=380441234567}loopback/1", "originate"),
     ("auth ClueCon", "auth"), ("callcenter_config agent add x", "callcenter_config agent")],
)  # fmt: skip
def test_an_error_names_a_command_by_its_words_not_its_arguments(command: str, label: str) -> None:
    assert command_label(command) == label
