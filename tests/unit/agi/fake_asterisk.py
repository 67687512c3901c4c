"""A fake Asterisk on the FastAGI wire: connects, sends an environment, answers commands.

Each test scripts it step by step (``expect`` a command line, ``reply`` with a line, send a
``HANGUP``, close early), so every hang-up and failure ordering Asterisk can produce is
reproducible on loopback against the real server.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from clinicall.agi_scripts.channel import AgiChannel
from clinicall.agi_scripts.server import FastAgiServer

DEFAULT_ENV: dict[str, str] = {
    "network": "yes",
    "network_script": "ivr",
    "request": "agi://127.0.0.1:4573/ivr",
    "channel": "PJSIP/trunk-00000001",
    "language": "en",
    "type": "PJSIP",
    "uniqueid": "1712345678.1",
    "version": "22.10.1",
    "callerid": "380501234567",
    "calleridname": "unknown",
    "callingpres": "0",
    "dnid": "0800300300",
    "rdnis": "unknown",
    "context": "clinicall-in",
    "extension": "s",
    "priority": "2",
    "enhanced": "0.0",
    "accountcode": "",
    "threadid": "140254",
}


def environment_bytes(**overrides: str) -> bytes:
    env = DEFAULT_ENV | overrides
    return b"".join(f"agi_{k}: {v}\n".encode() for k, v in env.items()) + b"\n"


class FakeAsterisk:
    """One FastAGI connection as Asterisk makes it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def connect(self) -> FakeAsterisk:
        self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    async def start(self, **env: str) -> FakeAsterisk:
        """Connect and send a full environment."""
        await self.connect()
        await self.send(environment_bytes(**env))
        return self

    async def send(self, data: bytes) -> None:
        assert self._writer is not None
        self._writer.write(data)
        await self._writer.drain()

    async def expect(self, command: str) -> None:
        """Read the next command line and check it (without the newline)."""
        line = await self.read_command()
        assert line == command, f"expected {command!r}, got {line!r}"

    async def read_command(self) -> str:
        """The next command line; '' at end of stream."""
        assert self._reader is not None
        return (await self._reader.readline()).decode().removesuffix("\n")

    async def reply(self, line: str) -> None:
        await self.send(line.encode() + b"\n")

    async def exchange(self, command: str, reply: str) -> None:
        await self.expect(command)
        await self.reply(reply)

    async def read_to_end(self) -> bytes:
        """Everything the server still sends until it closes the connection."""
        assert self._reader is not None
        return await self._reader.read()

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError):  # the server may have reset it first
                await self._writer.wait_closed()
            self._writer = None


Serve = Callable[..., Awaitable[FastAgiServer]]


async def closed_by_server(peer: FakeAsterisk) -> bool:
    """True once the server closed the connection without sending anything (a refusal
    aborts it with the peer's bytes unread: a reset)."""
    try:
        return await peer.read_to_end() == b""
    except ConnectionResetError:
        return True


async def answer_only(channel: AgiChannel) -> None:
    await channel.command("ANSWER")


async def assert_responsive(server: FastAgiServer) -> None:
    """Prove the server still works: a complete session on script 'ok'."""
    peer = await FakeAsterisk(server.port).start(network_script="ok")
    await peer.exchange("ANSWER", "200 result=0")
    assert await peer.read_to_end() == b""
    await peer.close()


class RecordingTransport(asyncio.Transport):
    """A connection's transport for driving the server's protocol by hand: keeps what is
    written, knows whether it was closed."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[bytes] = []
        self.closed = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 40000) if name == "peername" else default

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.lines.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed
