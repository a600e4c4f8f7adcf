"""What every handler needs, kept on the aiohttp application under one typed key."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import ParamSpec, TypeVar

from aiohttp import web

from bot.config import Config
from bot.links import LinkSigner
from bot.web.limits import RateLimiter
from bot.web.pages import Pages
from core.bootstrap import App
from core.service import AttendService

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True, kw_only=True, slots=True)
class Site:
    app: App
    config: Config
    signer: LinkSigner
    pages: Pages
    answer_limit: RateLimiter  # POSTs per answer link

    @property
    def service(self) -> AttendService:
        return self.app.service

    @property
    def local_mail(self) -> bool:
        """No SMTP server configured: mail goes to the outbox, which the site shows (only
        where no other machine can see it, unless configured otherwise)."""
        return self.config.serves_outbox

    def now(self) -> datetime:
        return self.app.clock()

    async def call(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a synchronous core call off the event loop."""
        return await asyncio.to_thread(function, *args, **kwargs)


SITE = web.AppKey("attend_site", Site)


def site_of(request: web.Request) -> Site:
    return request.app[SITE]
