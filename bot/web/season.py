"""The season's pages: a captain's season table (``/s/{token}``, with its CSV) and a
player's calendar feed (``/c/{token}/attend.ics``), each behind a signed link.

Calendar apps poll the feed: it carries an ``ETag`` (a digest of its bytes) and a
``Last-Modified`` (the latest change to a game, to the player's answers, or to the team's
name, zone or game length); a repeat request whose ``If-None-Match`` or
``If-Modified-Since`` shows nothing changed gets 304 and no body. ``If-None-Match`` wins
when both are sent (RFC 9110 13.2.2).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import datetime

from aiohttp import web

from bot import season as seasons
from bot.calendar_feed import calendar_bytes
from bot.web.errors import PageError
from bot.web.site import site_of
from core.actors import Actor
from core.errors import DomainError, Refusal
from core.projections.season import SeasonLine
from core.service import SeasonView

_GONE = (Refusal.CAPTAIN_ONLY, Refusal.NOT_ON_TEAM, Refusal.NOT_ON_A_TEAM)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet would run as a formula


def routes() -> list[web.RouteDef]:
    return [web.get("/s/{token}", show_season), web.get("/s/{token}/season.csv", season_csv),
            web.get("/c/{token}/attend.ics", calendar)]


async def show_season(request: web.Request) -> web.Response:
    site = site_of(request)
    view = await _season(request)
    token = request.match_info["token"]
    return site.pages.render("season.html", team=view.team, view=view,
                             rate=seasons.rate, csv_url=f"/s/{token}/season.csv")


async def season_csv(request: web.Request) -> web.Response:
    view = await _season(request)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["player", "asked", "in", "out", "maybe", "no answer", "late drop-outs",
                     "rate"])
    for line in view.lines:
        writer.writerow(_csv_row(line))
    slug = re.sub(r"[^a-z0-9]+", "-", view.team.name.lower()).strip("-") or "team"
    return web.Response(body=out.getvalue().encode(), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition":
                                 f'attachment; filename="{slug}-season.csv"'})


def _csv_row(line: SeasonLine) -> list[str | int]:
    name = f"'{line.name}" if line.name.startswith(_FORMULA) else line.name
    return [name, line.invited, line.yes, line.no, line.maybe, line.no_answer,
            line.late_dropouts, seasons.rate(line)]


async def _season(request: web.Request) -> SeasonView:
    site = site_of(request)
    grant = site.signer.read_season_token(request.match_info["token"], now=site.now())
    try:
        return await site.call(site.service.season_table,
                               Actor.player(grant.team_id, grant.captain_player_id),
                               grant.team_id, captain=True)
    except DomainError as error:
        if error.code not in _GONE:
            raise
        raise PageError(403, "This season link was for a captain", (
            "Only a captain can see the season's page, and the player this link was made "
            "for isn't a captain of the team any more. Ask a current captain.")) from None


async def calendar(request: web.Request) -> web.Response:
    site = site_of(request)
    grant = site.signer.read_calendar_token(request.match_info["token"])
    try:
        view = await site.call(site.service.calendar,
                               Actor.player(grant.team_id, grant.player_id), grant.team_id)
    except DomainError as error:
        if error.code not in _GONE:
            raise
        raise PageError(403, "This calendar link has stopped working", (
            "The player it was made for isn't on the team any more.")) from None
    body = calendar_bytes(view)
    etag = hashlib.sha256(body).hexdigest()[:32]
    changed = view.feed.last_modified or view.team.registered_at
    headers = {"Cache-Control": "private, no-cache"}  # keep it, but ask again each time
    response = web.Response(status=200, headers=headers)
    response.etag = etag
    response.last_modified = changed
    if _unchanged(request, etag, changed):
        response.set_status(304)
        return response
    response.body = body
    response.content_type = "text/calendar"
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = 'inline; filename="attend.ics"'
    return response


def _unchanged(request: web.Request, etag: str, changed: datetime) -> bool:
    if request.if_none_match is not None:
        return any(tag.value in (etag, "*") for tag in request.if_none_match)
    since = request.if_modified_since  # HTTP dates count whole seconds
    return since is not None and changed.replace(microsecond=0) <= since
