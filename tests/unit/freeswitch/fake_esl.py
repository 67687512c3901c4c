"""A scripted Event Socket peer on a loopback port 0, answering with recorded FreeSWITCH bytes.

Each accepted connection runs a *script*: a coroutine given a ``Peer`` that reads the client's
commands (up to their blank line) and writes bytes.  ``replay(name)`` is the script that plays
a recorded transcript (``tests/data/freeswitch``): it sends what FreeSWITCH sent before the
first command, then answers each command with the bytes FreeSWITCH sent after the recorded
command of the same first line (``first_line``).
Every command received is kept per connection, so a test can prove that one was sent once.
The same class serves outbound tests as the *client* side: ``connect_to`` dials the
controller's listener and runs a script there.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from esl_transcripts import rows


class Peer:
    """One connection as the scripted side sees it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.commands: list[str] = []
        self.received = asyncio.Condition()

    async def command(self) -> str | None:
        """The next command's text (its lines, without the blank line); None at EOF."""
        try:
            data = await self._reader.readuntil(b"\n\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        text = data[:-2].decode()
        async with self.received:
            self.commands.append(text)
            self.received.notify_all()
        return text

    def send(self, data: bytes) -> None:
        self._writer.write(data)

    async def drain(self) -> None:
        with contextlib.suppress(ConnectionError):
            await self._writer.drain()

    def abort(self) -> None:
        """Drop the link without a goodbye (what a crash or a cut cable looks like)."""
        self._writer.transport.abort()

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()


Script = Callable[[Peer], Awaitable[None]]


def first_line(command: str) -> str:
    """What a command is matched on: its first line; any subscription is ``event``, any
    password ``auth``, any ``linger N`` ``linger`` (the recorded answer depends on none)."""
    line = command.split("\n", 1)[0]
    return line.split(" ", 1)[0] if line.startswith(("event ", "auth ", "linger")) else line


def event_uuid(command: str) -> str | None:
    """The ``Event-UUID`` a ``sendmsg`` carries (it comes back as ``Application-UUID``)."""
    for line in command.split("\n")[1:]:
        name, _, value = line.partition(": ")
        if name.lower() == "event-uuid":
            return value
    return None


@dataclass(slots=True)
class Answer:
    """What FreeSWITCH sent after one recorded command, and that command's Event-UUID."""

    data: bytes
    event_uuid: str | None
    last: bool = False  # FreeSWITCH closed the socket after it


def answers(name: str) -> tuple[bytes, dict[str, list[Answer]]]:
    """What FreeSWITCH sent before any command, and after each command (by ``first_line``;
    a command recorded several times is answered in turn)."""
    greeting = b""
    table: dict[str, list[Answer]] = {}
    current: Answer | None = None
    for row in rows(name):
        if not row.inbound:
            command = row.data.decode()[:-2]
            current = Answer(b"", event_uuid(command))
            table.setdefault(first_line(command), []).append(current)
        elif current is None:
            greeting += row.data
        else:
            current.data += row.data
    if current is not None:
        current.last = True
    return greeting, table


def replay(name: str, *, until: str | None = None) -> Script:
    """Answer as the transcript did; with ``until``, drop the link (no answer) when a command
    with that first line arrives.  The ``Event-UUID`` of a ``sendmsg`` replaces the recorded
    one in everything sent from then on (same length: every Content-Length still holds), and
    the link closes after the transcript's last bytes, as FreeSWITCH closed it."""
    greeting, table = answers(name)

    async def script(peer: Peer) -> None:
        peer.send(greeting)
        used: dict[str, int] = {}
        renamed: dict[bytes, bytes] = {}
        while (command := await peer.command()) is not None:
            key = first_line(command)
            if until is not None and key == until:
                peer.abort()
                return
            turn = used.get(key, 0)
            used[key] = turn + 1
            recorded = table.get(key, [])
            if turn >= len(recorded):
                raise AssertionError(f"the transcript {name} has no answer to {key!r}")
            answer = recorded[turn]
            sent = event_uuid(command)
            if answer.event_uuid and sent:
                renamed[answer.event_uuid.encode()] = sent.encode()
            data = answer.data
            for old, new in renamed.items():
                data = data.replace(old, new)
            peer.send(data)
            await peer.drain()
            if answer.last:
                await peer.close()
                return

    return script


class FakeEsl:
    """A listener on 127.0.0.1:0 running ``scripts`` in turn (the last one for any later
    connection)."""

    def __init__(self, *scripts: Script) -> None:
        self.scripts = list(scripts)
        self.peers: list[Peer] = []
        self.port = 0
        self.connected = asyncio.Condition()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def wait_connections(self, count: int) -> None:
        async with self.connected:
            await self.connected.wait_for(lambda: len(self.peers) >= count)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for peer in self.peers:
            peer.abort()
        if self._tasks:
            await asyncio.wait(self._tasks)
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        peer = Peer(reader, writer)
        script = self.scripts[min(len(self.peers), len(self.scripts) - 1)]
        async with self.connected:
            self.peers.append(peer)
            self.connected.notify_all()
        try:
            await script(peer)
        finally:
            peer.abort()


async def connect_to(port: int, script: Script) -> Peer:
    """Dial a listener on 127.0.0.1 (as FreeSWITCH's ``socket`` app does) and run ``script``
    on the link until it returns; the link is then dropped."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    peer = Peer(reader, writer)
    try:
        await script(peer)
    finally:
        peer.abort()
    return peer
