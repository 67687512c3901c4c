"""The kiosk token: a wall screen opens the wallboard with the config's read-only
``console.kiosk_token`` in its URL instead of a login (docs/console.md)."""

from __future__ import annotations

import hmac

from aiohttp import web

from clinicall.web.keys import CONFIG


def kiosk_token_ok(request: web.Request) -> bool:
    """Whether the request carries the config's kiosk token (never, when none is set)."""
    expected = request.app[CONFIG].console.kiosk_token
    given = request.query.get("token", "")
    return expected is not None and hmac.compare_digest(given.encode(), expected.encode())
