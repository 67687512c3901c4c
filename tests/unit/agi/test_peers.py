"""The FastAGI port serves the PBX's addresses only; refusals cost one log line per interval;
one address cannot hold the whole budget of connections still sending their environment."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from clinicall.agi_scripts.peers import LOOPBACK_ONLY, PeerAllowList, RefusalLog

from .fake_asterisk import (
    FakeAsterisk,
    Serve,
    answer_only,
    assert_responsive,
    closed_by_server,
    environment_bytes,
)


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),  # an IPv4 peer on a dual-stack socket
        ("127.0.0.2", False),
        ("192.0.2.10", False),
        ("fe80::1%eth0", False),
        ("", False),
        ("localhost", False),
    ],
)
def test_loopback_only_by_default(host: str, allowed: bool) -> None:
    assert LOOPBACK_ONLY.allows(host) is allowed


def test_networks_and_single_addresses() -> None:
    allow = PeerAllowList.parse(["192.0.2.0/24", "2001:db8::7", "fe80::1"])
    assert allow.allows("192.0.2.200")
    assert not allow.allows("192.0.3.1")
    assert allow.allows("2001:db8::7")
    assert not allow.allows("2001:db8::8")
    assert allow.allows("fe80::1%eth0")  # the zone does not change the address
    with pytest.raises(ValueError, match="has host bits set"):
        PeerAllowList.parse(["192.0.2.1/24"])


def test_refusals_are_logged_once_per_interval_with_their_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="clinicall.agi_scripts")
    now = [100.0]
    refusals = RefusalLog(lambda: now[0], interval_s=60)
    for _ in range(1000):
        refusals.refuse("192.0.2.7")
    now[0] += 59.9
    refusals.refuse("192.0.2.8")
    now[0] += 0.1
    refusals.refuse("192.0.2.9")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "FastAGI: refused 1 connection(s) from addresses not in engine.agi_allow (last from "
        "192.0.2.7); the next such line comes at most 60 s later",
        "FastAGI: refused 1001 connection(s) from addresses not in engine.agi_allow (last from "
        "192.0.2.9); the next such line comes at most 60 s later",
    ]
    assert refusals.refused == 1002


async def test_a_peer_outside_the_allow_list_is_closed_before_anything_is_read(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="clinicall.agi_scripts")
    served: list[str] = []

    async def handler(channel: object) -> None:
        served.append("called")

    allow = PeerAllowList.parse(["192.0.2.0/24"])
    server = await serve(handler, allow=allow)
    for _ in range(50):
        peer = FakeAsterisk(server.port)
        await peer.connect()
        with contextlib.suppress(ConnectionError):  # it may be gone already
            await peer.send(environment_bytes())
        assert await closed_by_server(peer)
        await peer.close()
    assert served == []
    assert server.refused_count == 50
    assert (server.pending_header_count, server.session_count) == (0, 0)
    refused = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 1  # one line for fifty connections
    assert "last from 127.0.0.1" in refused[0].getMessage()


async def test_an_address_in_the_list_is_served(serve: Serve) -> None:
    server = await serve(answer_only, allow=PeerAllowList.parse(["127.0.0.0/8"]))
    await assert_responsive(server)
    assert server.refused_count == 0


async def open_from(address: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port, local_addr=(address, 0))


async def test_one_address_cannot_hold_the_header_budget_of_another(serve: Serve) -> None:
    server = await serve(
        answer_only,
        allow=PeerAllowList.parse(["127.0.0.0/8"]),
        max_pending_headers=10,
        max_pending_per_peer=2,
        env_timeout=600,
    )
    other_reader, other_writer = await open_from("127.0.0.2", server.port)
    other_writer.write(b"agi_network: yes\n")
    junk = [await FakeAsterisk(server.port).connect() for _ in range(3)]
    for peer in junk:
        await peer.send(b"agi_network: yes\nagi_uniq")
    await assert_responsive(server)  # a fourth from 127.0.0.1: its oldest make room
    assert await closed_by_server(junk[0])
    assert await closed_by_server(junk[1])
    assert server.pending_header_count == 2  # junk[2] and the other address's connection
    # The other address kept its place: it completes its environment and is served.
    other_writer.write(environment_bytes(network_script="ok").removeprefix(b"agi_network: yes\n"))
    assert await other_reader.readline() == b"ANSWER\n"
    other_writer.write(b"200 result=0\n")
    assert await other_reader.read() == b""
    other_writer.close()
    await other_writer.wait_closed()
    for peer in junk:
        await peer.close()
