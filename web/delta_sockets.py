"""The open sockets of one push, each with the last state it was sent, so every socket gets
the whole state once (``{"full": state}``) and after that only what changed
(``{"delta": patch}``, web/state_delta.py).  The wallboard, the dashboard and each operator's
desk push through one of these (docs/console.md, "How the numbers reach the page").
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from clinicall.web.state_delta import merge_patch

SEND_TIMEOUT_S = 2.0  # a socket that cannot take a message this long is dropped


class DeltaSockets:
    """Sockets that show the same state, each at the state it was last sent."""

    def __init__(self) -> None:
        # each open socket with the last state it was sent (its page's state): its next
        # message is the difference from that
        self._last: dict[web.WebSocketResponse, dict[str, object]] = {}

    def __len__(self) -> int:
        return len(self._last)

    async def open(self, ws: web.WebSocketResponse, state: dict[str, object]) -> None:
        """A new socket: the whole state, then it takes part in the next :meth:`send`."""
        await ws.send_str(json.dumps({"full": state}))
        self._last[ws] = state

    def drop(self, ws: web.WebSocketResponse) -> None:
        self._last.pop(ws, None)

    async def send(self, state: dict[str, object]) -> None:
        """``state`` to every socket as its difference from what that socket last got.  The
        sockets that got the same last state (all but the newly opened ones) share one
        patch, computed and encoded once; a socket that fails or stalls is dropped."""
        sockets = list(self._last.items())
        texts: dict[int, str] = {}
        for _, base in sockets:
            if id(base) not in texts:
                texts[id(base)] = json.dumps({"delta": merge_patch(base, state)})
        results = await asyncio.gather(*(_send(ws, texts[id(base)]) for ws, base in sockets))
        for (ws, _), ok in zip(sockets, results, strict=True):
            if not ok:
                self._last.pop(ws, None)
            elif ws in self._last:
                self._last[ws] = state

    async def close_all(self) -> None:
        for ws in list(self._last):
            await ws.close(code=1001, message=b"server shutting down")
        self._last.clear()


async def _send(ws: web.WebSocketResponse, text: str) -> bool:
    try:
        async with asyncio.timeout(SEND_TIMEOUT_S):
            await ws.send_str(text)
    except (ConnectionError, TimeoutError, RuntimeError):
        return False
    return True
