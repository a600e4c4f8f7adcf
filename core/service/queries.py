"""Requests that only read: rosters, schedules, boards, a player's games, the season."""

from __future__ import annotations

from core.actors import Actor
from core.projections import board as boards
from core.projections import player_games, roster, schedule, season
from core.projections.player_games import PlayerGameView
from core.projections.roster import PlayerView, TeamView
from core.projections.schedule import GameView
from core.projections.season import SeasonLine
from core.service.base import ServiceBase
from core.service.refusals import unknown_check
from core.service.views import Context, GameStatusView, Invitation


class Queries(ServiceBase):
    """Reading only: anyone on the team."""

    def roster(self, actor: Actor, team_id: str | None = None) -> tuple[TeamView,
                                                                        list[PlayerView]]:
        ctx = self.context(actor, team_id)
        return ctx.team, self._read(roster.roster, ctx.team.team_id)

    def games(self, actor: Actor, team_id: str | None = None) -> tuple[TeamView,
                                                                       list[GameView]]:
        ctx = self.context(actor, team_id)
        return ctx.team, self._read(schedule.games, ctx.team.team_id,
                                    upcoming_after=self._clock())

    def status(self, actor: Actor, ref: str = "next",
               team_id: str | None = None) -> GameStatusView:
        with self._one_connection():
            ctx = self.context(actor, team_id)
            found = self.game(ctx, ref)
            # The board without its change log: it grows with every answer, and what
            # /attend status shows doesn't list it (the board page does).
            return GameStatusView(team=ctx.team, game=found,
                                  board=self._read(boards.board_for_game, found.game_id,
                                                   with_history=False))

    def board_for_game(self, game_id: str) -> GameStatusView | None:
        """For the captain's board page (the adapter checked the signed link)."""
        with self._one_connection():
            found = self._read(schedule.game, game_id)
            if found is None:
                return None
            team_view = self._read(roster.team, found.team_id)
            assert team_view is not None
            return GameStatusView(team=team_view, game=found,
                                  board=self._read(boards.board_for_game, game_id))

    def my_games(self, actor: Actor, team_id: str | None = None) -> tuple[
            Context, list[PlayerGameView]]:
        ctx = self.context(actor, team_id)
        return ctx, self._read(player_games.upcoming_for_player, ctx.team.team_id,
                               ctx.player.player_id, self._clock())

    def season(self, actor: Actor, team_id: str | None = None) -> tuple[TeamView,
                                                                        list[SeasonLine]]:
        ctx = self.context(actor, team_id)
        return ctx.team, self._read(season.season_attendance, ctx.team.team_id)

    def invitation(self, check_id: str, player_id: str) -> Invitation:
        """What a signed email link shows; refuses links to withdrawn invitations."""
        found_board = self._read(boards.board, check_id)
        if found_board is None:
            raise unknown_check("link")
        found_game = self._read(schedule.game, found_board.game_id)
        team_view = self._read(roster.team, found_board.team_id)
        assert found_game is not None and team_view is not None
        return Invitation(team=team_view, game=found_game, board=found_board,
                          player=self._read(roster.player, found_board.team_id, player_id))
