"""Builds the aiohttp application; nothing here runs at import time."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from aiohttp import web

from bot.config import Config
from bot.links import LinkSigner
from bot.web import answers, board, health, outbox, season, unsubscribe
from bot.web.edges import body_limit
from bot.web.errors import friendly_errors
from bot.web.limits import RateLimiter
from bot.web.pages import Pages, add_security_headers
from bot.web.site import SITE, Site
from core.bootstrap import App

ANSWER_POSTS_PER_MINUTE = 10
MAX_BODY_BYTES = 64 * 1024  # forms here are a few fields; Slack's payloads fit easily


def create_web_app(app: App, config: Config, signer: LinkSigner, *,
                   extra_routes: Iterable[web.AbstractRouteDef] | None = None,
                   answer_posts_per_minute: int = ANSWER_POSTS_PER_MINUTE) -> web.Application:
    """The web app over a bootstrapped :class:`App`; ``extra_routes`` adds endpoints such
    as Slack's request URL. The outbox pages are mounted only when no SMTP is configured
    and only this machine can reach them (see :attr:`Config.serves_outbox`)."""
    web_app = web.Application(middlewares=[friendly_errors, body_limit(MAX_BODY_BYTES)],
                              client_max_size=MAX_BODY_BYTES)
    web_app[SITE] = Site(app=app, config=config, signer=signer, pages=Pages(),
                         answer_limit=RateLimiter(answer_posts_per_minute, 60.0))
    web_app.on_response_prepare.append(add_security_headers)
    web_app.add_routes([*health.routes(), *answers.routes(), *board.routes(),
                        *unsubscribe.routes(), *season.routes()])
    if config.serves_outbox:
        web_app.add_routes(outbox.routes())
    web_app.router.add_static("/static", Path(__file__).parent / "static")
    if extra_routes is not None:
        web_app.add_routes(extra_routes)
    return web_app
