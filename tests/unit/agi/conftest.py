"""Shared by the FastAGI server tests: a server on port 0 per test, closed afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from clinicall.agi_scripts.server import AgiHandler, FastAgiServer, ScriptRouter

from .fake_asterisk import Serve, answer_only


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start a server on port 0 with ``handler`` on script 'ivr' and 'ok' → ANSWER."""
    servers: list[FastAgiServer] = []

    async def start(handler: AgiHandler, **options: float) -> FastAgiServer:
        router = ScriptRouter({"ivr": handler, "ok": answer_only})
        server = FastAgiServer(router, port=0, **options)  # type: ignore[arg-type]
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.close()
