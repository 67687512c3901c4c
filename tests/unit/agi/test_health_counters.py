"""The FastAGI server's drops in the engine's health: what ``/api/live`` and ``/metrics`` show.

The server is the controller's (``AsteriskEngine.serve_calls`` on port 0, the AMI link not
started).  Peers on loopback flood it past its pending-environment budget, send environments
that are not FastAGI, connect while loopback is out of its allow-list, or stay silent past
its environment timeout; each step waits for what the server did (a connection it closed, a
probe it answered), never for time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from clinicall.agi_scripts import variables as v
from clinicall.agi_scripts.peers import PeerAllowList
from clinicall.controller.asterisk.engine import AsteriskEngine
from clinicall.ivr.port import CallPort
from clinicall.settings.loader import load_config
from clinicall.settings.models import ClinicConfig
from clinicall.web.live import MetricsLive, QueueNowLike, live_view

from .fake_asterisk import FakeAsterisk, closed_by_server

ROOT = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def config() -> ClinicConfig:
    return load_config(ROOT / "config" / "clinic.example.yaml")


@pytest.fixture
async def engine(config: ClinicConfig) -> AsyncIterator[AsteriskEngine]:
    engine = AsteriskEngine(config.asterisk_engine(), agi_port=0)

    async def no_call(port: CallPort) -> None:
        raise AssertionError("no IVR call is made here")

    await engine.serve_calls(no_call)
    yield engine
    await engine.close()


async def probe(port: int) -> None:
    """A whole session the engine serves: the doctor's probe (one SET VARIABLE, then the
    server closes).  Once it is answered, every connection made before it was accepted."""
    peer = await FakeAsterisk(port).start(network_script=v.DOCTOR_SCRIPT)
    assert (await peer.read_command()).startswith(f'SET VARIABLE "{v.CLINICALL_DOCTOR}"')
    await peer.reply("200 result=1")
    assert await peer.read_to_end() == b""
    await peer.close()


async def test_a_flood_past_the_pending_budget_is_counted_in_the_engine_health(
    engine: AsteriskEngine, config: ClinicConfig
) -> None:
    server = engine.agi
    assert server is not None
    server.max_pending_headers = server.max_pending_per_peer = 4  # 128 by default
    assert (engine.health().call_connections_dropped,
            engine.health().call_connections_malformed) == (0, 0)
    silent = [await FakeAsterisk(server.port).connect() for _ in range(10)]
    await probe(server.port)  # its connect made room too: 10 + 1 into 4, 7 dropped
    for peer in silent[:7]:
        assert await peer.read_to_end() == b""  # the oldest, closed by the server
    assert server.pending_header_count == 3
    for text in (b"\n", b"agi_network: yes\n\n"):  # no agi_request: malformed
        junk = await FakeAsterisk(server.port).connect()
        await junk.send(text)
        assert await junk.read_to_end() == b""
        await junk.close()
    health = engine.health()
    assert (health.call_connections_dropped, health.call_connections_malformed) == (7, 2)
    assert (server.pending_dropped_count, server.malformed_count) == (7, 2)
    shown = live_view(config, None, NOW, health=engine.health)["engine"]
    assert isinstance(shown, dict)
    assert (shown["call_connections_dropped"], shown["call_connections_malformed"]) == (7, 2)
    link = MetricsLive(_NoQueues(), lambda: NOW, engine.health).link_live()
    assert link is not None
    assert (link.call_connections_dropped, link.call_connections_malformed) == (7, 2)
    for peer in silent:
        await peer.close()


def shown(engine: AsteriskEngine, config: ClinicConfig) -> list[tuple[int, int, int, int]]:
    """The four counts (dropped, malformed, refused, timed out) as the engine's health, the
    live view's engine object and the metrics' link report them, in that order."""
    health = engine.health()
    live = live_view(config, None, NOW, health=engine.health)["engine"]
    assert isinstance(live, dict)
    link = MetricsLive(_NoQueues(), lambda: NOW, engine.health).link_live()
    assert link is not None
    return [
        (health.call_connections_dropped, health.call_connections_malformed,
         health.call_connections_refused, health.call_connections_timed_out),
        (live["call_connections_dropped"], live["call_connections_malformed"],
         live["call_connections_refused"], live["call_connections_timed_out"]),
        (link.call_connections_dropped, link.call_connections_malformed,
         link.call_connections_refused, link.call_connections_timed_out),
    ]


async def test_peers_outside_the_allow_list_are_counted_in_the_engine_health(
    engine: AsteriskEngine, config: ClinicConfig
) -> None:
    server = engine.agi
    assert server is not None
    assert shown(engine, config) == [(0, 0, 0, 0)] * 3
    server.allow = PeerAllowList.parse(["192.0.2.0/24"])  # loopback no longer allowed
    for _ in range(3):
        peer = await FakeAsterisk(server.port).connect()
        assert await closed_by_server(peer)
        await peer.close()
    assert server.refused_count == 3
    assert shown(engine, config) == [(0, 0, 3, 0)] * 3


async def test_a_silent_peer_past_the_environment_timeout_is_counted_in_the_engine_health(
    engine: AsteriskEngine, config: ClinicConfig
) -> None:
    server = engine.agi
    assert server is not None
    server.env_timeout = 0.05  # 5 s by default
    assert server.env_timeout_count == 0
    silent = await FakeAsterisk(server.port).connect()
    assert await silent.read_to_end() == b""  # closed by the server: no environment in time
    await silent.close()
    assert (server.env_timeout_count, server.pending_header_count) == (1, 0)
    assert shown(engine, config) == [(0, 0, 0, 1)] * 3


class _NoQueues:
    def snapshot(self, now: datetime) -> dict[str, QueueNowLike]:
        return {}
