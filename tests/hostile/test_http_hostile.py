"""Malformed HTTP at the web port: a fixed short answer, our Server header, one log line with an
escaped excerpt, no traceback (web/http_server.py)."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp import web

from clinicall.web.http_server import app_runner

MALFORMED = [
    pytest.param(b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n", id="invalid-url"),
    pytest.param(b"GARBAGE" * 2000 + b"\r\n\r\n", id="not-http"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 9000 + b"\r\n\r\n",
                 id="header-too-long"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\nX: \x1b[2J\r\nforged\r\n\r\n", id="control"),
]


async def _ok(_request: web.Request) -> web.Response:
    return web.Response(text="ok")


@pytest_asyncio.fixture
async def port() -> AsyncIterator[int]:
    app = web.Application()
    app.router.add_get("/", _ok)
    runner = app_runner(app)
    await runner.setup()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = int(probe.getsockname()[1])
    site = web.TCPSite(runner, "127.0.0.1", free)
    await site.start()
    yield free
    await runner.cleanup()


async def _exchange(port: int, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    await writer.drain()
    async with asyncio.timeout(10):
        answer = await reader.read()
    writer.close()
    return answer


@pytest.mark.parametrize("payload", MALFORMED)
async def test_a_malformed_request_gets_a_fixed_answer_and_one_short_log_line(
    port: int, payload: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        answer = await _exchange(port, payload)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ", 2)[1] == b"400", head
    assert body == b"400 Bad Request\n"
    assert b"\r\nServer: clinicall\r\n" in head + b"\r\n"
    records = [r for r in caplog.records if r.levelno >= logging.DEBUG
               and r.name.startswith(("aiohttp", "clinicall"))]
    assert len(records) == 1, [r.getMessage() for r in records]
    (record,) = records
    assert record.exc_info is None
    assert len(record.getMessage()) < 300
    assert "\n" not in record.getMessage()


async def test_a_good_request_is_served_as_before(port: int) -> None:
    answer = await _exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200")
    assert answer.endswith(b"ok")
