"""Telling systemd how the service is doing (``Type=notify``): ``READY=1`` once every part is
up, ``STOPPING=1`` when a stop begins, ``STATUS=`` lines for ``systemctl status``.

The protocol is one datagram per message to the Unix socket named by ``$NOTIFY_SOCKET`` (a
leading ``@`` names an abstract socket).  Without that variable (not under systemd) nothing is
sent.  The socket is non-blocking: a full or vanished socket loses a status line, never stalls
the event loop.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

ENV = "NOTIFY_SOCKET"


def socket_address(environ: Mapping[str, str] = os.environ) -> str | None:
    """The address to send to, or None when not run by systemd (or an unsupported kind)."""
    address = environ.get(ENV, "")
    if address.startswith("@"):
        return "\0" + address[1:]
    if address.startswith("/"):
        return address
    return None  # unset, or a vsock address (a VM's service manager): not used here


def notify(*fields: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Send ``fields`` (``"READY=1"``, ``"STATUS=..."``) as one message; True when sent."""
    address = socket_address(environ)
    if address is None:
        return False
    message = "\n".join(field.replace("\n", " ") for field in fields).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        sock.setblocking(False)
        try:
            sock.sendto(message, address)
        except OSError:
            return False
    return True
