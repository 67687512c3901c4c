"""A scripted AMI peer on a loopback port 0: banner, Login, Ping, an EventList, pushed events.

It speaks the real wire (CRLF frames) and records every action it receives, so a test can
prove that an action was sent exactly once.  ``mute()`` turns the current connections into
half-open ones: still open, never answering (what a dead NAT or a frozen Asterisk looks like).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.ami.protocol import AMIParser

SECRET = "s3cret"


def frame(*headers: tuple[str, str]) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in headers).encode() + b"\r\n"


class FakeAMI:
    def __init__(self) -> None:
        self.actions: list[Message] = []
        self.logins = 0
        self.port = 0
        self._writers: list[asyncio.StreamWriter] = []
        self._muted: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._received = asyncio.Condition()
        #: Replies scripted per action name (lower case): the frames to send for a message.
        self.script: dict[str, Callable[[Message], bytes]] = {}

    async def wait_for_action(self, action: str, count: int = 1) -> None:
        """Return once ``count`` actions named ``action`` have been received."""
        async with self._received:
            await self._received.wait_for(lambda: self.count(action) >= count)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        if self._handlers:
            await asyncio.wait(self._handlers)
        await self._server.wait_closed()

    def count(self, action: str) -> int:
        return sum(1 for m in self.actions if m.get("Action", "").lower() == action.lower())

    def mute(self) -> None:
        self._muted.update(self._writers)

    def push(self, data: bytes) -> None:
        """Write raw bytes to every live, unmuted connection (one write: one TCP chunk)."""
        for writer in self._writers:
            if writer not in self._muted:
                writer.write(data)

    def drop(self) -> None:
        for writer in self._writers:
            writer.transport.abort()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)
        self._writers.append(writer)
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        parser = AMIParser(expect_banner=False)
        try:
            while data := await reader.read(4096):
                for msg in parser.feed(data):
                    self.actions.append(msg)
                    if writer not in self._muted:
                        self._answer(msg, writer)
                async with self._received:
                    self._received.notify_all()
        except ConnectionError:
            pass
        finally:
            self._writers.remove(writer)
            writer.transport.abort()

    def _answer(self, msg: Message, writer: asyncio.StreamWriter) -> None:
        action = msg.get("Action", "").lower()
        aid = ("ActionID", msg.action_id)
        if action in self.script:
            writer.write(self.script[action](msg))
        elif action == "login":
            if msg.get("Secret") != SECRET:
                writer.write(
                    frame(("Response", "Error"), aid, ("Message", "Authentication failed"))
                )
                writer.transport.close()
                return
            self.logins += 1
            writer.write(
                frame(("Response", "Success"), aid, ("Message", "Authentication accepted"))
                + frame(
                    ("Event", "FullyBooted"),
                    ("Privilege", "system,all"),
                    ("Status", "Fully Booted"),
                )
            )
        elif action == "ping":
            writer.write(
                frame(("Response", "Success"), aid, ("Ping", "Pong"), ("Timestamp", "1.0"))
            )
        elif action == "queuestatus":
            writer.write(
                frame(
                    ("Response", "Success"),
                    aid,
                    ("EventList", "start"),
                    ("Message", "Queue status will follow"),
                )
                + frame(("Event", "QueueParams"), ("Queue", "therapy"), aid)
                + frame(("Event", "Unrelated"), ("Queue", "x"))
                + frame(("Event", "QueueMember"), ("Queue", "therapy"), ("Name", "Op 1"), aid)
                + frame(
                    ("Event", "QueueStatusComplete"),
                    aid,
                    ("EventList", "Complete"),
                    ("ListItems", "2"),
                )
            )
        elif action == "queueadd":
            writer.write(
                frame(("Response", "Success"), aid, ("Message", "Added interface to queue"))
            )
        elif action == "queuepause":
            writer.write(frame(("Response", "Error"), aid, ("Message", "Interface not found")))
        # anything else (Originate in the tests) is recorded and left unanswered
