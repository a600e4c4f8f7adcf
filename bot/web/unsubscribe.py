"""``/u/{token}``: stop emails for one team (RFC 8058 one-click, plus a page for people).

A GET shows a confirm page and changes nothing; mail software sometimes fetches URLs in
headers. A POST (the mail client's one-click ``List-Unsubscribe=One-Click``, or the confirm
page's button, which sends the same field) unsubscribes at once and is idempotent.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.links import UnsubscribeGrant
from bot.web.errors import PageError
from bot.web.site import Site, site_of
from core.actors import Actor
from core.errors import DomainError, Refusal

log = logging.getLogger(__name__)
ONE_CLICK = "One-Click"
GONE = (Refusal.PLAYER_NOT_ON_TEAM, Refusal.TEAM_NOT_FOUND)


def routes() -> list[web.RouteDef]:
    return [web.get("/u/{token}", confirm), web.post("/u/{token}", unsubscribe)]


async def confirm(request: web.Request) -> web.Response:
    site = site_of(request)
    grant = site.signer.read_unsubscribe_token(request.match_info["token"])
    team_name = await _team_name(site, grant)
    if team_name is None:
        return _gone(site)
    return site.pages.render("unsubscribe.html", team_name=team_name, one_click=ONE_CLICK)


async def unsubscribe(request: web.Request) -> web.Response:
    site = site_of(request)
    grant = site.signer.read_unsubscribe_token(request.match_info["token"])
    form = await request.post()
    if form.get("List-Unsubscribe") != ONE_CLICK:
        raise PageError(400, "We couldn't unsubscribe you", "Use the button on the "
                        "unsubscribe page to stop these emails.")
    log.info("email unsubscribe for team %s by player %s; user agent %r", grant.team_id,
             grant.player_id, request.headers.get("User-Agent", ""))
    team_name = await _team_name(site, grant)
    if team_name is None:
        return _gone(site)
    try:
        await site.call(site.service.unsubscribe_email, grant.team_id, grant.player_id)
    except DomainError as error:
        if error.code not in GONE:
            raise
        return _gone(site)
    return site.pages.message(status=200, title="You're unsubscribed", message=(
        f"You won't get emails for {team_name} any more. Changed your mind? Ask a captain "
        "to turn them back on."))


async def _team_name(site: Site, grant: UnsubscribeGrant) -> str | None:
    memberships = await site.call(site.service.memberships,
                                  Actor.player(grant.team_id, grant.player_id))
    return memberships[0].team_name if memberships else None


def _gone(site: Site) -> web.Response:
    # Not on the team means no more emails from it: the wish is already granted.
    return site.pages.message(status=200, title="You're not on this team any more", message=(
        "You won't get emails about its games. Nothing else to do."))
