"""Who may open a FastAGI session: the PBX's addresses only (docs/engines/asterisk.md, FastAGI).

The FastAGI port hands every connection an IVR session that the call account trusts, so a
local process that is not the PBX must not get one: :class:`PeerAllowList` decides from the
connection's address alone, before a byte is read.  :class:`RefusalLog` keeps a port scan or
a connect loop from writing one log line per refused connection: the first refusal is logged,
then at most one line per interval with the count.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: The default: Asterisk on the same host connects from loopback.
LOOPBACK: tuple[str, ...] = ("127.0.0.1/32", "::1/128")


@dataclass(frozen=True, slots=True)
class PeerAllowList:
    """Addresses and networks that may connect; ``allows(host)`` for a peer's address text."""

    networks: tuple[Network, ...]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> PeerAllowList:
        """From ``"192.0.2.10"`` or ``"192.0.2.0/24"`` entries; ``ValueError`` for a bad one
        (the config checks them first, with the file and line)."""
        return cls(tuple(ipaddress.ip_network(entry, strict=True) for entry in entries))

    def allows(self, host: str) -> bool:
        """True if ``host`` (a peer address as the socket gives it) is in a listed network.

        An IPv4 peer on a dual-stack socket appears as ``::ffff:a.b.c.d`` and is matched as
        the IPv4 address it is.  Anything that is not an address is refused.
        """
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])  # drop an IPv6 zone
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)


LOOPBACK_ONLY = PeerAllowList.parse(LOOPBACK)


class RefusalLog:
    """Refused connections, logged at most once per ``interval_s`` with how many there were.

    Holds two numbers and the last address, whatever the number of peers: a flood of refused
    connections costs neither memory nor log lines.  ``clock`` is monotonic seconds.
    """

    def __init__(self, clock: Callable[[], float], *, interval_s: float = 60.0) -> None:
        self._clock = clock
        self.interval_s = interval_s
        self.refused = 0  # every refusal since the server started
        self._unlogged = 0
        self._logged_at: float | None = None

    def refuse(self, host: str) -> None:
        """Count one refused connection from ``host``; log if the interval has passed."""
        self.refused += 1
        self._unlogged += 1
        now = self._clock()
        if self._logged_at is not None and now - self._logged_at < self.interval_s:
            return
        log.warning(
            "FastAGI: refused %d connection(s) from addresses not in engine.agi_allow "
            "(last from %s); the next such line comes at most %g s later",
            self._unlogged,
            _short(host),
            self.interval_s,
        )
        self._logged_at = now
        self._unlogged = 0


def _short(host: str) -> str:
    """The socket's address text, bounded (it is an address, but never log unbounded text)."""
    return host[:64]
