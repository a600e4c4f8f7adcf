"""The edges of HTTP: requests too long to read, bodies too big to take, clients that leave.

aiohttp answers a request line or header over its limits with a bare text 400 of its own
(no security headers) and logs it as an ERROR with a traceback; a client hanging up
mid-body reaches the handler as an exception. None of it is our fault or a bug, so each
gets Attend's own page with its security headers, up front, and one INFO line.

:class:`EdgeRunner` serves an app that way; :func:`body_limit` refuses a declared body over
the limit before reading any of it (hang-ups are told apart in :mod:`bot.web.errors`).
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import LineTooLong
from aiohttp.typedefs import Handler, Middleware
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from bot.web.errors import PageError
from bot.web.pages import SECURITY_HEADERS, Pages
from bot.web.site import SITE

log = logging.getLogger(__name__)

def body_limit(limit: int) -> Middleware:
    """A middleware refusing a declared body over ``limit`` bytes before reading it (the
    app's ``client_max_size`` still stops an undeclared one as it is read)."""
    @web.middleware
    async def refuse_oversized(request: web.Request,
                               handler: Handler) -> web.StreamResponse:
        declared = request.content_length
        if declared is not None and declared > limit:
            log.info("refused %s %s from %s: a %d-byte body (the limit is %d)",
                     request.method, request.path, request.remote, declared, limit)
            raise PageError(413, "That's more than this page takes", (
                f"Attend's pages take at most {limit // 1024} KB at a time. If you were "
                "answering from an email, go back and send just your answer and a short "
                "note."))
        return await handler(request)

    return refuse_oversized


class EdgeRunner(web.AppRunner):
    """:class:`aiohttp.web.AppRunner` for Attend's app, whose connections answer unreadable
    requests with Attend's page instead of aiohttp's bare one."""

    def __init__(self, app: web.Application, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._pages = app[SITE].pages

    async def _make_server(self) -> web.Server:
        plain = await super()._make_server()
        return _Server(plain.request_handler, pages=self._pages,
                       request_factory=plain.request_factory, loop=plain._loop,
                       **plain._kwargs)


class _Server(web.Server):
    def __init__(self, *args: Any, pages: Pages, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pages = pages

    def __call__(self) -> RequestHandler:
        return _Connection(self, loop=self._loop, **self._kwargs)


class _Connection(RequestHandler):
    def handle_error(self, request: BaseRequest, status: int = 500,
                     exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        if status >= 500 or not isinstance(self._manager, _Server):
            return super().handle_error(request, status, exc, message)
        log.info("refused an unreadable request from %s: %s", request.remote,
                 type(exc).__name__ if exc is not None else status)
        if isinstance(exc, LineTooLong):
            title, words = "That link is too long", (
                "The address or its headers are longer than Attend reads. Open the link "
                "again from the email, or copy the whole link, and nothing more, into your "
                "browser.")
        else:
            title, words = "That request couldn't be read", (
                "Your browser or app sent something Attend couldn't make sense of. Try "
                "again, or open the link again from the email.")
        response = self._manager.pages.message(status=status, title=title, message=words)
        response.headers.update(SECURITY_HEADERS)
        response.force_close()
        return response
