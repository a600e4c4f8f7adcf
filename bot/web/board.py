"""``/b/{token}``: the captain's live board for one game, behind a signed link.

The page refreshes itself every 15 seconds with a meta refresh (no script needed);
``/b/{token}/counts.json`` gives the counts alone for anything that wants to poll them.
"""

from __future__ import annotations

from aiohttp import web

from bot.links import BoardGrant
from bot.web.errors import PageError
from bot.web.site import Site, site_of
from bot.web.views import SHORT, closed_reason
from core.actors import Actor
from core.service import GameStatusView

REFRESH_SECONDS = 15


def routes() -> list[web.RouteDef]:
    return [web.get("/b/{token}", show), web.get("/b/{token}/counts.json", counts)]


async def show(request: web.Request) -> web.Response:
    site = site_of(request)
    status = await _status(site, request)
    board = status.board
    history = tuple(reversed(board.history)) if board is not None else ()
    return site.pages.render(
        "board.html", team=status.team, game=status.game, board=board, history=history,
        closed=closed_reason(status.game, board), short=SHORT, refresh=REFRESH_SECONDS)


async def counts(request: web.Request) -> web.Response:
    status = await _status(site_of(request), request)
    board = status.board
    body: dict[str, object] = {"game": status.game.handle, "status": status.game.status.value,
                               "check": board is not None}
    if board is not None:
        body |= {"in": board.yes, "out": board.no, "maybe": board.maybe,
                 "no_answer": board.waiting, "waitlist": board.waitlisted, "open": board.open}
    return web.json_response(body)


async def _status(site: Site, request: web.Request) -> GameStatusView:
    grant = site.signer.read_board_token(request.match_info["token"], now=site.now())
    status = await site.call(site.service.board_for_game, grant.game_id)
    if status is None or status.team.team_id != grant.team_id:
        raise PageError(404, "No such game", "We can't find the game this board link is for.")
    await _require_captain(site, grant)
    return status


async def _require_captain(site: Site, grant: BoardGrant) -> None:
    """The link was made for a captain; it stops working if they leave or step down."""
    memberships = await site.call(site.service.memberships,
                                  Actor.player(grant.team_id, grant.captain_player_id))
    if not any(m.captain for m in memberships):
        raise PageError(403, "This board link was for a captain", (
            "The captain this link was made for isn't a captain of the team any more. Ask a "
            "current captain for the board."))
