"""``/`` (what this server is) and ``/healthz`` (is it up, and can it reach its database)."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from sqlalchemy import text

from bot.web.site import site_of
from core.eventstore.database import Database

log = logging.getLogger(__name__)
DATABASE_TIMEOUT_S = 5.0


def routes() -> list[web.RouteDef]:
    return [web.get("/", home), web.get("/healthz", healthz),
            web.get("/favicon.ico", no_icon)]


async def home(request: web.Request) -> web.Response:
    site = site_of(request)
    return site.pages.render("index.html", local_mail=site.local_mail)


async def no_icon(request: web.Request) -> web.Response:
    return web.Response(status=204)  # browsers ask on every page; spare them (and logs) a 404


async def healthz(request: web.Request) -> web.Response:
    site = site_of(request)
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_S):
            await site.call(_ping, site.app.db)
    except Exception as error:  # any failure to reach the database is the answer
        problem = _describe(error)
        log.warning("health check: database unreachable: %s", problem)
        return web.json_response({"status": "error", "database": problem}, status=503)
    return web.json_response({"status": "ok", "database": "ok"})


def _ping(db: Database) -> None:
    with db.read() as conn:
        conn.execute(text("SELECT 1"))


def _describe(error: Exception) -> str:
    if isinstance(error, TimeoutError):
        return f"no answer within {DATABASE_TIMEOUT_S:g} s"
    first_line = next(iter(str(error).splitlines()), "")
    return f"{type(error).__name__}: {first_line}"[:300]
