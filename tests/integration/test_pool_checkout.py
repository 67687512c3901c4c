"""A pooled PostgreSQL connection is checked at check-out without pinging a busy one.

``clinicall.db.engine`` replaced SQLAlchemy's ``pool_pre_ping`` (three round trips on every
check-out) by a check that costs nothing for a connection used a moment ago: one the server
closed is seen as closed and replaced, one idle for long is pinged first (docs/store.md,
"Connections").
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.engine.interfaces import AdaptedConnection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from clinicall.db import create_engine
from clinicall.db import engine as engine_module

pytestmark = pytest.mark.postgres


@pytest.fixture
async def engine(postgres_db_url: str) -> AsyncIterator[AsyncEngine]:
    created = create_engine(postgres_db_url)
    yield created
    await created.dispose()


@pytest.fixture
def pings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per ping the check-out sends (the pool's only use of ``run_async``)."""
    sent: list[int] = []
    run_async = AdaptedConnection.run_async

    def counted(self: AdaptedConnection, fn: Callable[[Any], Awaitable[Any]]) -> Any:
        sent.append(1)
        return run_async(self, fn)

    monkeypatch.setattr(AdaptedConnection, "run_async", counted)
    return sent


async def _backend(connection: AsyncConnection) -> int:
    return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_used_a_moment_ago_is_handed_out_without_a_ping(
    engine: AsyncEngine, pings: list[int]
) -> None:
    async with engine.connect() as connection:
        first = await _backend(connection)
    async with engine.connect() as connection:
        assert await _backend(connection) == first  # the same pooled connection
    assert pings == []


async def test_a_connection_idle_for_long_is_pinged_first(
    engine: AsyncEngine, pings: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with engine.connect() as connection:
        first = await _backend(connection)
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_S", -1.0)  # every check-in is old
    async with engine.connect() as connection:
        assert await _backend(connection) == first
    assert pings == [1]


async def test_a_connection_the_server_closed_is_replaced_at_check_out(
    engine: AsyncEngine, postgres_db_url: str, pings: list[int]
) -> None:
    async with engine.connect() as connection:
        first = await _backend(connection)
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
    other = create_engine(postgres_db_url)
    try:
        async with other.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    finally:
        await other.dispose()
    for _ in range(1000):  # the loop reads the server's end of the socket
        if driver.is_closed():
            break
        await asyncio.sleep(0.01)
    assert driver.is_closed()
    async with engine.connect() as connection:  # no error: a new connection
        assert await _backend(connection) != first
    assert pings == []


async def test_a_connection_that_does_not_answer_the_ping_is_replaced(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with engine.connect() as connection:
        first = await _backend(connection)
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_S", -1.0)

    def lost(self: AdaptedConnection, fn: Callable[[Any], Awaitable[Any]]) -> Any:
        raise ConnectionResetError("dropped on the way")

    with monkeypatch.context() as patch:
        patch.setattr(AdaptedConnection, "run_async", lost)
        async with engine.connect() as connection:  # the first fails its ping: replaced
            assert await _backend(connection) != first


class _SilentRelay:
    """A TCP relay to PostgreSQL whose established connections can go silent: bytes are
    swallowed both ways, nothing is closed or reset (a connection dropped on the way, by a
    firewall or a network outage).  Connections made afterwards are relayed as before."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._pipes: list[asyncio.Task[None]] = []
        self._writers: list[asyncio.StreamWriter] = []
        self._silent: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    def go_silent(self) -> None:
        self._silent.update(self._writers)

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
        for pipe in self._pipes:
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        for writer in self._writers:
            writer.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        self._writers += [writer, up_writer]
        self._pipes += [asyncio.create_task(self._pipe(reader, up_writer)),
                        asyncio.create_task(self._pipe(up_reader, writer))]

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            if writer not in self._silent:
                writer.write(data)
        if writer not in self._silent:  # an end passed on, as a relay on the way would
            writer.close()


async def test_a_connection_silent_on_the_way_fails_its_ping_in_time_and_is_replaced(
    postgres_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = make_url(postgres_db_url)
    assert url.host is not None
    assert url.port is not None
    relay = _SilentRelay(url.host, url.port)
    port = await relay.start()
    engine = create_engine(url.set(host="127.0.0.1", port=port))
    try:
        async with engine.connect() as connection:
            first = await _backend(connection)
        relay.go_silent()
        monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_S", -1.0)
        monkeypatch.setattr(engine_module, "PING_TIMEOUT_S", 0.5)
        async with engine.connect() as connection:  # without the deadline: TCP's minutes
            assert await _backend(connection) != first
    finally:
        await engine.dispose()
        await relay.close()
