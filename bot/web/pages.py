"""HTML pages: one Jinja2 environment (autoescaped) and the filters the templates use."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web
from markupsafe import Markup, escape

from bot.when import describe
from core.safe_text import shown_value

_LINK = re.compile(r"https?://[^\s<>\"']+")
# Tokens ride in URLs: never send them on as a Referer, never let a proxy keep the page.
SECURITY_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
# Inline styles are allowed for the outbox's sandboxed email preview; no scripts anywhere.
CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; form-action 'self'; base-uri 'none'; "
                           "frame-ancestors 'none'")


def local_time(moment: datetime | None, zone: str) -> str:
    """``Sat Dec 5, 7:00 PM EST`` in the team's zone."""
    return "" if moment is None else describe(moment, ZoneInfo(zone))


def linkify(text: str) -> Markup:
    """Plain text with its http(s) links made clickable, everything else escaped."""
    parts, last = [], 0
    for match in _LINK.finditer(text):
        parts.append(escape(text[last:match.start()]))
        url = escape(match.group())
        parts.append(Markup('<a href="{0}">{0}</a>').format(url))
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


class Pages:
    def __init__(self) -> None:
        self._env = jinja2.Environment(
            loader=jinja2.PackageLoader("bot.web", "templates"),
            autoescape=jinja2.select_autoescape(("html",), default_for_string=True),
            undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
            finalize=shown_value)
        self._env.filters["local"] = local_time
        self._env.filters["linkify"] = linkify

    def render(self, name: str, *, status: int = 200,
               headers: Mapping[str, str] | None = None, **context: Any) -> web.Response:
        body = self._env.get_template(name).render(**context)
        response = web.Response(text=body, status=status, content_type="text/html",
                                headers=headers)
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return response

    def message(self, *, status: int, title: str, message: str,
                headers: Mapping[str, str] | None = None) -> web.Response:
        """A page that only says something: errors, and 'done' pages with nothing else."""
        return self.render("message.html", status=status, headers=headers, title=title,
                           message=message)


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "public, max-age=3600"  # no secrets in the CSS
