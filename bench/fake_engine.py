"""Fakes shared by the benches: a recorded-like AMI event stream and an AMI server that plays it.

The stream is built from the hand-written fixture ``tests/unit/ami/fixtures/queue_call.ami``
(an answered queued call, its operator leg, and an abandoned call): per simulated call its
uniqueids, linkedids and timestamps are renewed, and the untracked traffic a real Asterisk
sends for the same call is added around it (Newexten per dialplan step, VarSet of ordinary
variables, AGIExecStart/End per FastAGI command, Newstate, DialBegin/End, bridge events,
RTCPSent/RTCPReceived during the talk), for about 170 events per call as on a real system.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.ami.protocol import AMIParser

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "unit" / "ami" / "fixtures" / "queue_call.ami"
BANNER = b"Asterisk Call Manager/9.0.0\r\n"
BASE_EPOCH = 1_741_690_000  # 2025-03-11, the stream's first second

# The fixture's ids, renewed per call.
CALLER_ID, OPERATOR_ID, ABANDONED_ID = "1732350000.41", "1732350003.44", "1732350200.50"
ID_HEADERS = ("Uniqueid", "Linkedid", "DestUniqueid", "DestLinkedid")

Headers = list[tuple[str, str]]


def fixture_messages() -> list[Message]:
    """The fixture's frames, FullyBooted first."""
    return list(AMIParser().feed(FIXTURE.read_bytes()))


def encode(headers: Headers) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in headers).encode() + b"\r\n"


@dataclass(frozen=True, slots=True)
class AmiStream:
    """The stream as frames (each one complete ``Event: ...`` block, encoded)."""

    frames: list[bytes]
    calls: int

    @property
    def size(self) -> int:
        return sum(len(f) for f in self.frames)

    def messages(self) -> Iterator[Message]:
        parser = AMIParser(expect_banner=False)
        for frame in self.frames:
            yield from parser.feed(frame)


def _filler(snapshot: Headers, name: str, extra: Headers) -> Headers:
    return [("Event", name), ("Privilege", "dialplan,all"), *snapshot, *extra]


def build_stream(calls: int) -> AmiStream:
    """FullyBooted, then ``calls`` renewed copies of the fixture's calls with their filler."""
    template = fixture_messages()
    booted, core = template[0], template[1:]
    frames = [encode(booted.headers)]
    tick = 0

    def stamp() -> str:
        nonlocal tick
        tick += 1
        return f"{BASE_EPOCH + tick // 1000}.{tick % 1000:03d}000"

    newchannel = core[0]
    for call in range(calls):
        ids = {
            CALLER_ID: f"{BASE_EPOCH + call}.{3 * call + 1}",
            OPERATOR_ID: f"{BASE_EPOCH + call}.{3 * call + 2}",
            ABANDONED_ID: f"{BASE_EPOCH + call}.{3 * call + 3}",
        }
        snapshot = [
            (k, ids.get(v, v)) for k, v in newchannel.headers if k not in ("Event", "Privilege")
        ]
        snapshot = [(k, v) for k, v in snapshot if k != "Timestamp"]
        for msg in core:
            out: Headers = []
            for k, v in msg.headers:
                if k == "Timestamp":
                    v = stamp()
                elif k in ID_HEADERS:
                    v = ids.get(v, v)
                out.append((k, v))
            frames.append(encode(out))
            event = msg.event
            if event == "Newchannel":  # the IVR: dialplan steps and FastAGI commands
                frames += _ivr_filler(snapshot, stamp)
            elif event == "AgentConnect":  # the talk: RTCP reports both ways
                frames += [
                    encode(_filler(snapshot, name, [("Timestamp", stamp()), ("SSRC", "0x1f2e")]))
                    for _ in range(17)
                    for name in ("RTCPSent", "RTCPReceived")
                ]
    return AmiStream(frames, calls)


def _ivr_filler(snapshot: Headers, stamp: object) -> list[bytes]:
    assert callable(stamp)
    out: list[bytes] = []
    for step in range(30):
        out.append(encode(_filler(snapshot, "Newexten", [
            ("Timestamp", stamp()), ("Extension", "s"), ("Application", "Set"),
            ("AppData", f"STEP={step}"),
        ])))  # fmt: skip
        out.append(encode(_filler(snapshot, "VarSet", [
            ("Timestamp", stamp()), ("Variable", f"STEP{step}"), ("Value", str(step)),
        ])))  # fmt: skip
    for command in range(25):
        for name in ("AGIExecStart", "AGIExecEnd"):
            out.append(encode(_filler(snapshot, name, [
                ("Timestamp", stamp()), ("Command", 'STREAM FILE "clinicall/uk/menu_main" ""'),
                ("CommandId", str(command)), ("ResultCode", "200"), ("Result", "Success"),
            ])))  # fmt: skip
    for name in ("Newstate", "DialBegin", "DialEnd", "BridgeCreate", "BridgeEnter",
                 "BridgeLeave", "BridgeDestroy", "NewConnectedLine"):  # fmt: skip
        out.append(encode(_filler(snapshot, name, [("Timestamp", stamp())])))
    return out


class FakeAmiServer:
    """An AMI peer on 127.0.0.1:0 that accepts any login, answers Ping, then plays the stream.

    The stream starts right after the Login reply; ``first_byte_at`` is the loop time of the
    first event write.  Chunks of about ``chunk`` bytes end on frame boundaries, so a Pong can
    be slipped between two of them without cutting a frame.
    """

    def __init__(self, stream: AmiStream, chunk: int = 65536) -> None:
        self.stream = stream
        self.chunk = chunk
        self.port = 0
        self.first_byte_at: float | None = None
        self.sent_all = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks)
        if self._server is not None:
            await self._server.wait_closed()

    def _chunks(self) -> Iterator[bytes]:
        batch: list[bytes] = []
        size = 0
        for frame in self.stream.frames:
            batch.append(frame)
            size += len(frame)
            if size >= self.chunk:
                yield b"".join(batch)
                batch, size = [], 0
        if batch:
            yield b"".join(batch)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        writer.write(BANNER)
        parser = AMIParser(expect_banner=False)
        player: asyncio.Task[None] | None = None
        try:
            while data := await reader.read(4096):
                for msg in parser.feed(data):
                    action = msg.get("Action", "").lower()
                    aid = ("ActionID", msg.action_id or "")
                    if action == "login":
                        writer.write(encode([("Response", "Success"), aid,
                                             ("Message", "Authentication accepted")]))  # fmt: skip
                        if player is None:
                            player = asyncio.create_task(self._play(writer))
                    else:
                        writer.write(encode([("Response", "Success"), aid, ("Ping", "Pong")]))
        except ConnectionError:
            pass
        finally:
            if player is not None:
                player.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                    await player
            writer.transport.abort()

    async def _play(self, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        for chunk in self._chunks():
            if self.first_byte_at is None:
                self.first_byte_at = loop.time()
            writer.write(chunk)
            await writer.drain()
        self.sent_all.set()
