"""``/r/{token}``: the page an emailed answer link opens.

GET and HEAD only show it (mail scanners fetch links, some with HEAD first); only the POST
from its form records an answer. The signed token is the credential, bound to one player
and one check, so the form needs no CSRF token; a per-link rate limit stops a runaway client.
"""

from __future__ import annotations

import logging
import math

from aiohttp import web

from bot.links import AnswerGrant
from bot.web.errors import PageError
from bot.web.site import Site, site_of
from bot.web.views import ANSWERS, BUTTON, SHORT, closed_reason, headline, line_for
from core.aggregates.common import Answer
from core.errors import DomainError, Refusal, RefusalKind
from core.projections.board import BoardView
from core.projections.roster import TeamView
from core.projections.schedule import GameView
from core.safe_text import refuse_unsafe
from core.service import Invitation

log = logging.getLogger(__name__)


def routes() -> list[web.RouteDef]:
    return [web.get("/r/{token}", show), web.post("/r/{token}", record)]


async def show(request: web.Request) -> web.Response:
    site = site_of(request)
    grant = _grant(site, request)
    invitation = await _invitation(site, grant)
    picked = request.query.get("a")
    return _page(site, invitation.team, invitation.game, invitation.board, grant,
                 picked=picked if picked in ANSWERS else None)


async def record(request: web.Request) -> web.Response:
    site = site_of(request)
    grant = _grant(site, request)
    wait = site.answer_limit.wait(f"{grant.check_id}:{grant.player_id}")
    if wait is not None:
        raise PageError(429, "Slow down a little", "That's a lot of answers in a minute. "
                        "Wait a moment, then pick again.",
                        headers={"Retry-After": str(math.ceil(wait))})
    form = await request.post()
    said, note = form.get("answer"), form.get("note")
    log.info("email answer %r for check %s from player %s; user agent %r", said,
             grant.check_id, grant.player_id, request.headers.get("User-Agent", ""))
    invitation = await _invitation(site, grant)
    team, game = invitation.team, invitation.game
    if closed_reason(game, invitation.board) is not None:
        return _page(site, team, game, invitation.board, grant)
    if not isinstance(said, str) or said not in ANSWERS:
        return _page(site, team, game, invitation.board, grant, status=400,
                     error="Pick Yes, No or Maybe with one of the buttons.")
    note_text = note.strip() if isinstance(note, str) else ""
    try:
        refuse_unsafe(note_text, "note")  # the service would too; the form says it first
    except DomainError as error:
        return _page(site, team, game, invitation.board, grant, status=400, picked=said,
                     error=error.message)
    try:
        result = await site.call(site.service.answer_by_link, grant.check_id, grant.player_id,
                                 Answer(said), note_text or None)
    except DomainError as error:
        if error.kind is RefusalKind.CLOSED:  # closed between our look and the answer
            again = await _invitation(site, grant)
            return _page(site, again.team, again.game, again.board, grant)
        if error.code in (Refusal.EMPTY_TEXT, Refusal.TOO_LONG):
            return _page(site, team, game, invitation.board, grant, status=400, picked=said,
                         error=error.message)
        raise
    return _page(site, result.team, result.game, result.board, grant, answered=True)


def _grant(site: Site, request: web.Request) -> AnswerGrant:
    return site.signer.read_answer_token(request.match_info["token"], now=site.now())


async def _invitation(site: Site, grant: AnswerGrant) -> Invitation:
    invitation = await site.call(site.service.invitation, grant.check_id, grant.player_id)
    if invitation.player is None or invitation.line is None:
        raise PageError(403, "This invitation was withdrawn", (
            f"You're not on the list for {invitation.team.name}'s game any more (you may have "
            "left the team, or joined after the invitations went out). Ask a captain if "
            "that's a mistake."))
    if invitation.line.released:  # a reserve whose question closed: the team is full
        raise PageError(410, "No longer needed", (
            f"Thanks — {invitation.team.name} is full now, so you're not needed for this "
            "game. No need to answer."))
    return invitation


def _page(site: Site, team: TeamView, game: GameView, board: BoardView, grant: AnswerGrant,
          *, status: int = 200, picked: str | None = None, error: str | None = None,
          answered: bool = False) -> web.Response:
    closed = closed_reason(game, board)
    line = line_for(board, grant.player_id)
    return site.pages.render(
        "answer.html", status=409 if closed else status, team=team, game=game, board=board,
        line=line, headline=headline(line), closed=closed, picked=picked, error=error,
        answered=answered, answers=ANSWERS, button=BUTTON, short=SHORT)
