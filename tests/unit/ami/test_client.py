"""AMIClient against the scripted fake AMI server on a loopback port."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Iterator

import pytest

from clinicall.controller.asterisk.ami.client import STATUS_EVENT, AMIClient
from clinicall.controller.asterisk.ami.errors import AMIActionError, AMIAuthError, AMIConnectionLost
from clinicall.controller.asterisk.ami.message import Message

from .fake_ami import SECRET, FakeAMI, frame


@pytest.fixture
async def fake_ami() -> AsyncIterator[FakeAMI]:
    server = FakeAMI()
    await server.start()
    yield server
    await server.stop()


FAST = {"ping_interval": 0.05, "ping_timeout": 0.2, "backoff_initial": 0.01, "backoff_max": 0.05}


def client(server: FakeAMI, secret: str = SECRET, **kw: object) -> AMIClient:
    opts: dict[str, object] = {**FAST, **kw}
    return AMIClient("127.0.0.1", server.port, "clinicall", secret, **opts)  # type: ignore[arg-type]


def is_up(ami: AMIClient) -> bool:
    return ami.connected


async def next_status(statuses: asyncio.Queue[tuple[bool, str]], up: bool) -> str:
    while True:
        got_up, detail = await statuses.get()
        if got_up is up:
            return detail


async def test_login_ping_and_simple_action(fake_ami: FakeAMI) -> None:
    async with client(fake_ami, ping_interval=0.01) as ami:
        assert ami.connected
        result = await ami.action("QueueAdd", {"Queue": "therapy", "Interface": "PJSIP/op1"})
        assert result.ok
        assert result.response.get("Message") == "Added interface to queue"
        assert result.events == []
        await fake_ami.wait_for_action("Ping", 3)  # the keepalive runs on its own
        assert is_up(ami)
    assert not is_up(ami)
    login = next(m for m in fake_ami.actions if m.get("Action") == "Login")
    assert login.get("Username") == "clinicall"
    assert login.get("Events") == "on"


async def test_eventlist_collects_events_until_complete(fake_ami: FakeAMI) -> None:
    seen: list[str] = []
    async with client(fake_ami) as ami:
        ami.add_handler(lambda m: seen.append(m.event))
        result = await ami.action("QueueStatus")
        await ami.action("QueueAdd")  # a round trip later, the unrelated event was delivered
    assert [e.event for e in result.events] == ["QueueParams", "QueueMember", "QueueStatusComplete"]
    assert result.events[1].get("Name") == "Op 1"
    assert "Unrelated" in seen
    assert "QueueParams" not in seen


async def test_error_response_raises_with_message(fake_ami: FakeAMI) -> None:
    async with client(fake_ami) as ami:
        with pytest.raises(AMIActionError, match="Interface not found") as info:
            await ami.action("QueuePause", {"Interface": "PJSIP/nobody"})
        assert info.value.response.get("Response") == "Error"
        assert ami.connected


async def test_bad_secret_raises_auth_error(fake_ami: FakeAMI) -> None:
    ami = client(fake_ami, secret="wrong")
    with pytest.raises(AMIAuthError, match="Authentication failed"):
        await ami.start()
    assert not ami.connected
    await ami.close()


async def test_action_timeout_then_connection_still_usable(fake_ami: FakeAMI) -> None:
    async with client(fake_ami, ping_interval=60) as ami:
        with pytest.raises(TimeoutError, match="Originate"):
            await ami.action("Originate", {"Channel": "Local/s@x/n"}, timeout=0.05)
        assert (await ami.action("QueueAdd")).ok


async def test_header_injection_is_refused_before_sending(fake_ami: FakeAMI) -> None:
    async with client(fake_ami, ping_interval=60) as ami:
        with pytest.raises(ValueError, match="header injection"):
            await ami.action("Originate", {"CallerID": "x\r\nAction: Hangup"})
    assert fake_ami.count("Originate") == 0
    assert fake_ami.count("Hangup") == 0


async def test_action_when_not_connected_fails_at_once(fake_ami: FakeAMI) -> None:
    ami = client(fake_ami)
    with pytest.raises(AMIConnectionLost, match="not connected"):
        await ami.action("Ping")


async def test_raising_handler_loses_nothing(
    fake_ami: FakeAMI, caplog: pytest.LogCaptureFixture
) -> None:
    sync_seen: list[str] = []
    async_seen: list[str] = []
    done = asyncio.Event()

    def bad(msg: Message) -> None:
        if msg.get("N") == "2":
            raise RuntimeError("handler bug")

    async def slow(msg: Message) -> None:
        await asyncio.sleep(0)
        if msg.event != "Test":
            return
        if msg.get("N") == "1":
            raise RuntimeError("async handler bug")
        async_seen.append(msg.get("N", "-"))
        if msg.get("N") == "3":
            done.set()

    async with client(fake_ami, ping_interval=60) as ami:
        ami.add_handler(bad)
        ami.add_handler(lambda m: sync_seen.append(m["N"]) if m.event == "Test" else None)
        ami.add_handler(slow)
        with caplog.at_level(logging.ERROR):
            fake_ami.push(b"".join(frame(("Event", "Test"), ("N", str(i))) for i in range(4)))
            await done.wait()
        assert (await ami.action("QueueAdd")).ok
        assert ami.connected
    assert sync_seen == ["0", "1", "2", "3"]
    assert async_seen == ["0", "2", "3"]
    assert "failed on event Test" in caplog.text


async def test_event_stream_gets_status_and_events_in_order(fake_ami: FakeAMI) -> None:
    ami = client(fake_ami, ping_interval=60)
    stream = ami.events()
    await ami.start()
    fake_ami.push(frame(("Event", "A")) + frame(("Event", "B")))
    got: list[str] = []
    async for msg in stream:
        got.append(msg.event if msg.event != STATUS_EVENT else f"status:{msg.get('Status')}")
        if msg.event == "B":
            break
    await ami.close()
    assert got == ["FullyBooted", "status:up", "A", "B"]
    assert [m async for m in stream][-1].get("Status") == "down"


async def test_silent_server_reconnects_and_pending_action_is_not_resent(
    fake_ami: FakeAMI,
) -> None:
    statuses: asyncio.Queue[tuple[bool, str]] = asyncio.Queue()
    ami = client(fake_ami, on_status=lambda up, why: statuses.put_nowait((up, why)))
    await ami.start()
    assert await next_status(statuses, True)
    fake_ami.mute()  # half-open: the socket stays, nothing answers, not even Ping
    originate = asyncio.create_task(
        ami.action("Originate", {"Channel": "Local/s@patient/n"}, timeout=60)
    )
    with pytest.raises(AMIConnectionLost, match="not re-sent"):
        await originate
    assert "Ping" in await next_status(statuses, False)
    await next_status(statuses, True)
    assert fake_ami.logins == 2
    await ami.action("QueueAdd")  # a full round trip on the new connection
    await ami.close()
    assert fake_ami.count("Originate") == 1


async def test_server_closing_fails_pending_and_reconnects(fake_ami: FakeAMI) -> None:
    statuses: asyncio.Queue[tuple[bool, str]] = asyncio.Queue()
    ami = client(
        fake_ami, ping_interval=60, on_status=lambda up, why: statuses.put_nowait((up, why))
    )
    await ami.start()
    pending = asyncio.create_task(ami.action("Originate", timeout=60))
    await fake_ami.wait_for_action("Originate")
    fake_ami.drop()
    with pytest.raises(AMIConnectionLost):
        await pending
    await next_status(statuses, False)
    await ami.wait_connected(timeout=30)
    await ami.action("QueueAdd")
    await ami.close()
    assert fake_ami.count("Originate") == 1
    assert fake_ami.logins == 2


@pytest.fixture(autouse=True)
def _collect_garbage() -> Iterator[None]:
    """Make a leaked socket warn in the test that leaked it, not in a later one."""
    yield
    gc.collect()
