"""Free loopback ports for sandboxed engines, so parallel runs never fight over 5038/5060."""

from __future__ import annotations

import socket
from dataclasses import dataclass

LOOPBACK = "127.0.0.1"


def free_port(kind: int = socket.SOCK_STREAM, host: str = LOOPBACK) -> int:
    """A port the kernel just reported free on ``host`` for ``kind`` (TCP or UDP).

    The port is released before returning, so another process could take it first; callers
    start their engine promptly and treat a bind failure as retryable.
    """
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def free_tcp_udp_port(host: str = LOOPBACK, attempts: int = 50) -> int:
    """A port free for BOTH TCP and UDP (SIP listens on both with the same number)."""
    for _ in range(attempts):
        port = free_port(socket.SOCK_STREAM, host)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                udp.bind((host, port))
            except OSError:
                continue
            return port
    raise OSError(f"no port free for both TCP and UDP on {host} after {attempts} tries")


def free_ports(count: int, kind: int = socket.SOCK_STREAM, host: str = LOOPBACK) -> list[int]:
    """``count`` distinct free ports (sockets held open together so none repeats)."""
    sockets = [socket.socket(socket.AF_INET, kind) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((host, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass(frozen=True)
class EnginePorts:
    """The loopback ports one engine instance and its controller agree on before config is made."""

    ami: int
    sip: int
    agi: int

    @classmethod
    def pick(cls) -> EnginePorts:
        ami, agi = free_ports(2)
        sip = free_tcp_udp_port()
        while sip in (ami, agi):
            sip = free_tcp_udp_port()
        return cls(ami=ami, sip=sip, agi=agi)
