"""Free loopback ports for sandboxed engines, so parallel runs never fight over 5038/5060.

A port the kernel reports free is only free until someone binds it, and an engine binds its
ports a second or more after they were picked (while it boots).  Several processes pick at
once when the tests run on parallel workers (or beside the demo), and two of them could be
handed the same port in that window.  So every port handed out here is also claimed for
:data:`CLAIM_S` seconds in a registry shared by every process of the machine
(``<tmp>/clinicall-ports``, under a file lock); a port another process claimed in that time is
never handed out again, and by the time a claim lapses its engine has bound the port (or has
failed and gone).
"""

from __future__ import annotations

import fcntl
import os
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

LOOPBACK = "127.0.0.1"
CLAIMS_DIR = "clinicall-ports"
CLAIM_S = 120.0
"""How long a handed-out port stays claimed: longer than any engine takes to bind it."""
_ATTEMPTS = 200


@contextmanager
def _claims() -> Iterator[Path | None]:
    """The shared claims directory, held under its lock (one picker of the machine at a time);
    None where it cannot be used (another user's, a read-only temporary directory): the ports
    are then the kernel's pick alone, as they were before claims."""
    folder = Path(tempfile.gettempdir()) / CLAIMS_DIR
    try:
        folder.mkdir(exist_ok=True)
        lock = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield None
        return
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield folder
    finally:
        os.close(lock)  # closing releases the lock


def _claim(folder: Path | None, ports: list[int]) -> bool:
    """Claim ``ports`` (under the lock): False, claiming none, if another claim on any of them
    is younger than :data:`CLAIM_S`.  Lapsed claims are cleared on the way."""
    if folder is None:
        return True
    now = time.time()
    try:
        for entry in os.scandir(folder):
            if entry.name.isdigit() and now - entry.stat().st_mtime >= CLAIM_S:
                os.unlink(entry.path)
        if any((folder / str(port)).exists() for port in ports):
            return False
        for port in ports:
            (folder / str(port)).touch()
    except OSError:  # not ours to clear or write: the kernel's pick alone
        return True
    return True


def _bound(kind: int, host: str, count: int) -> tuple[list[socket.socket], list[int]]:
    sockets = [socket.socket(socket.AF_INET, kind) for _ in range(count)]
    for sock in sockets:
        sock.bind((host, 0))
    return sockets, [sock.getsockname()[1] for sock in sockets]


def free_ports(count: int, kind: int = socket.SOCK_STREAM, host: str = LOOPBACK) -> list[int]:
    """``count`` distinct free ports (sockets held open together so none repeats), none of
    them handed to another process in the last :data:`CLAIM_S` seconds.

    The ports are released before returning, so a process that does not claim ports could
    take one first; callers start their engine promptly.
    """
    with _claims() as folder:
        for _ in range(_ATTEMPTS):
            sockets, ports = _bound(kind, host, count)
            try:
                if _claim(folder, ports):
                    return ports
            finally:
                for sock in sockets:
                    sock.close()
    raise OSError(f"no {count} unclaimed free ports on {host} after {_ATTEMPTS} tries")


def free_port(kind: int = socket.SOCK_STREAM, host: str = LOOPBACK) -> int:
    """A port the kernel just reported free on ``host`` for ``kind`` (TCP or UDP), claimed as
    :func:`free_ports` claims its ports."""
    [port] = free_ports(1, kind, host)
    return port


def free_tcp_udp_port(host: str = LOOPBACK, attempts: int = 50) -> int:
    """A port free for BOTH TCP and UDP (SIP listens on both with the same number), claimed."""
    with _claims() as folder:
        for _ in range(attempts):
            sockets, [port] = _bound(socket.SOCK_STREAM, host, 1)
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                    try:
                        udp.bind((host, port))
                    except OSError:
                        continue
                    if _claim(folder, [port]):
                        return port
            finally:
                sockets[0].close()
    raise OSError(f"no port free for both TCP and UDP on {host} after {attempts} tries")


def free_port_run(count: int, *, kind: int = socket.SOCK_DGRAM, host: str = LOOPBACK,
                  attempts: int = 50) -> int:
    """The first of ``count`` consecutive free ports starting at an even number (an RTP
    port and the ones after it), claimed together."""
    with _claims() as folder:
        for _ in range(attempts):
            with socket.socket(socket.AF_INET, kind) as probe:
                probe.bind((host, 0))
                base: int = probe.getsockname()[1] & ~1
            held: list[socket.socket] = []
            try:
                for port in range(base, base + count):
                    sock = socket.socket(socket.AF_INET, kind)
                    held.append(sock)
                    sock.bind((host, port))
            except OSError:
                continue
            finally:
                for sock in held:
                    sock.close()
            if _claim(folder, list(range(base, base + count))):
                return base
    raise OSError(f"no {count} free ports in a row on {host} after {attempts} tries")


@dataclass(frozen=True)
class EnginePorts:
    """The loopback ports one engine instance and its controller agree on before config is made."""

    ami: int
    sip: int
    agi: int

    @classmethod
    def pick(cls) -> EnginePorts:
        ami, agi = free_ports(2)
        sip = free_tcp_udp_port()  # never ami or agi: both are claimed
        return cls(ami=ami, sip=sip, agi=agi)
