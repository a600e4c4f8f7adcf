"""Publishing a player's Home: what it shows now, read through the service."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.links import BoardLinks
from bot.slack.channel import BotToken
from bot.slack.home import view as home_view
from bot.slack.home.opened import HomeViews
from core.actors import Actor
from core.errors import DomainError
from core.service import AttendService

log = logging.getLogger(__name__)


def read_page(service: AttendService, actor: Actor, boards: BoardLinks | None,
              note: str | None = None) -> home_view.HomePage:
    """What ``actor``'s Home shows now, on every team they are on."""
    memberships = service.memberships(actor)
    games: list[home_view.HomeGame] = []
    for membership in memberships:
        try:
            ctx, upcoming = service.my_games(actor, membership.team_id)
        except DomainError:
            continue  # left the team a moment ago
        for game in upcoming:
            status = service.board_for_game(game.game_id) if game.check_id else None
            board = status.board if status is not None else None
            games.append(home_view.HomeGame(
                team=ctx.team, game=game, board=board,
                invited=board is not None and any(
                    line.player_id == ctx.player.player_id for line in board.lines),
                board_url=boards.url(game.game_id, ctx.team.team_id, ctx.player.player_id,
                                     game.starts_at)
                if ctx.player.captain and boards is not None else None))
    games.sort(key=lambda g: g.game.starts_at)
    return home_view.HomePage(teams=tuple(m.team_name for m in memberships),
                              games=tuple(games), note=note)


class Home:
    """Publishes Homes: one person's at a time, so the last publish shows the latest."""

    def __init__(self, service: AttendService, client: AsyncWebClient, bot_token: BotToken,
                 views: HomeViews, *, clock: Callable[[], datetime],
                 boards: BoardLinks | None = None) -> None:
        self.service = service
        self._client = client
        self._bot_token = bot_token
        self._views = views
        self._clock = clock
        self._boards = boards
        self._turns: dict[str, asyncio.Lock] = {}

    async def opened(self, slack_user: str, *, token: str | None = None) -> None:
        await asyncio.to_thread(self._views.opened, slack_user, self._clock())
        await self.publish(slack_user, token=token)

    async def publish(self, slack_user: str, *, token: str | None = None,
                      note: str | None = None) -> None:
        workspace, _, user = slack_user.rpartition(":")
        token = token or await self._bot_token(workspace)
        if token is None:
            log.info("no bot token for Slack workspace %s: its Homes wait", workspace)
            return
        async with self._turns.setdefault(slack_user, asyncio.Lock()):
            page = await asyncio.to_thread(read_page, self.service,
                                           Actor.slack(workspace, user), self._boards, note)
            for attempt in range(2):
                try:
                    await self._client.views_publish(token=token, user_id=user,
                                                     view=home_view.view(page))
                    return
                except SlackApiError as error:
                    after = error.response.headers.get("Retry-After") \
                        if error.response.status_code == 429 else None
                    if after is None or attempt:
                        log.warning("could not publish %s's Home (%s)", slack_user,
                                    error.response.get("error"))
                        return
                    await asyncio.sleep(float(after))  # a background task, not a request
                except (TimeoutError, aiohttp.ClientError) as error:
                    log.warning("could not reach Slack to publish %s's Home (%r)", slack_user,
                                error)
                    return
