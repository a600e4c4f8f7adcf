"""Every failure becomes a friendly page with the right status; never a stack trace.

Handlers raise what they know (a refused link, a domain refusal, a :class:`PageError`);
this middleware picks the status and the words. A client that hung up mid-request is an
INFO line; anything else unexpected is logged with its traceback and shown as a plain 500
page.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler

from bot.links import LinkExpired, LinkTampered
from bot.web.site import site_of
from core.errors import DomainError, RefusalKind

log = logging.getLogger(__name__)

STATUS = {
    RefusalKind.NOT_FOUND: 404,
    RefusalKind.NOT_ALLOWED: 403,
    RefusalKind.CLOSED: 409,
    RefusalKind.REFUSED: 400,
    RefusalKind.BUSY: 503,
}


class PageError(Exception):
    """Stop here and show ``message`` with ``status``."""

    def __init__(self, status: int, title: str, message: str, *,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message
        self.headers = dict(headers or {})


def status_of(error: DomainError) -> int:
    return STATUS[error.kind]


@web.middleware
async def friendly_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except PageError as error:
        return _show(request, error)
    except LinkExpired:
        return _show(request, PageError(410, "This link has expired", (
            "Links in our emails stop working a few hours after the game starts. If there's "
            "another game coming up, use the link in its newest email.")))
    except LinkTampered:
        return _show(request, PageError(400, "This link doesn't work", (
            "The link looks damaged or incomplete: some mail apps break long links. Open it "
            "again from the email, or copy the whole link into your browser.")))
    except DomainError as error:
        return _show(request, PageError(status_of(error), "We couldn't do that",
                                        error.message))
    except web.HTTPException as error:
        if error.status < 400:
            raise
        allow = {k: v for k, v in error.headers.items() if k == "Allow"}  # 405 needs it
        return _show(request, PageError(error.status, error.reason, _http_message(error),
                                        headers=allow))
    except Exception as error:
        if _hung_up(request, error):
            log.info("%s %s from %s: the client hung up or sent a broken body (%s)",
                     request.method, request.path, request.remote, type(error).__name__)
            return _show(request, PageError(400, "That request was cut short", (
                "Part of it never arrived. Please try again.")))
        log.exception("%s %s failed", request.method, request.path)
        return _show(request, PageError(500, "Something went wrong on our side", (
            "Nothing you did caused this, and it has been logged. Please try again in a "
            "minute.")))


def _hung_up(request: web.Request, error: Exception) -> bool:
    """Whether ``error`` says the client went away or cut its body short: their doing (or
    their network's), not a bug worth a traceback."""
    if isinstance(error, web.RequestPayloadError | HttpProcessingError):
        return True
    transport = request.transport
    return isinstance(error, ConnectionError) and (transport is None or
                                                   transport.is_closing())


def _http_message(error: web.HTTPException) -> str:
    if error.status == 404:
        return "There's no page here. Check the link, or open it again from the email."
    if error.status == 405:
        return "This page can't be used that way."
    return "The request couldn't be handled."


def _show(request: web.Request, error: PageError) -> web.Response:
    if request.path.endswith(".json") or request.path == "/healthz":
        return web.json_response({"error": error.title, "message": error.message},
                                 status=error.status, headers=error.headers)
    return site_of(request).pages.message(status=error.status, title=error.title,
                                          message=error.message, headers=error.headers)
