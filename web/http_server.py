"""The HTTP server around the app: a malformed request costs one short log line, nothing more.

aiohttp's stock handler answers a request it cannot parse (bytes that are not HTTP, an invalid
URL, a line over 8 KiB) with an ERROR and a traceback in the log and the offending bytes echoed
back in a plain-text body (up to the whole line: 14 KB were seen), under aiohttp's own
``Server`` header.  Anyone who can reach the port could so fill the log and probe the version.
``QuietRequestHandler`` answers such requests with a fixed body and our ``Server`` header, and
logs one line with a bounded, escaped excerpt (the log handler's repeat budget bounds the rate).
aiohttp has no hook for this, hence the subclasses; ``app_runner`` is what ``clinicall run`` and
the demo serve with (docs/web-security.md).
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from clinicall.logbudget import excerpt

log = logging.getLogger(__name__)

SERVER = "clinicall"


class QuietRequestHandler(RequestHandler):
    """aiohttp's handler, but a request it could not parse gets a fixed answer (see above)."""

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            return super().handle_error(request, status, exc, message)
        log.warning("refused a malformed HTTP request from %s: %s", request.remote,
                    excerpt(message or type(exc).__name__))
        response = web.Response(status=status, text=f"{status} {_phrase(status)}\n",
                                headers={"Server": SERVER})
        response.force_close()
        return response


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Bad Request"


class QuietServer(web.Server):
    """A ``web.Server`` whose connections use :class:`QuietRequestHandler`."""

    def __call__(self) -> RequestHandler:
        return QuietRequestHandler(self, loop=self._loop, **self._kwargs)


class QuietAppRunner(web.AppRunner):
    """``web.AppRunner`` serving through :class:`QuietServer`."""

    async def _make_server(self) -> web.Server:
        stock = await super()._make_server()
        return QuietServer(stock.request_handler, request_factory=stock.request_factory,
                           handler_cancellation=stock.handler_cancellation, loop=stock._loop,
                           **stock._kwargs)


def app_runner(app: web.Application) -> web.AppRunner:
    """The runner for ``app``: quiet on malformed requests, no access log (the app logs what
    matters, and an access log would hold patients' pages)."""
    return QuietAppRunner(app, access_log=None)
