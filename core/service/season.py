"""The season's requests: the attendance table for a captain's page, a player's calendar."""

from __future__ import annotations

from dataclasses import dataclass

from core.actors import Actor
from core.projections import season
from core.projections.roster import PlayerView, TeamView
from core.projections.season import CalendarFeed, SeasonLine
from core.service.base import ServiceBase


@dataclass(frozen=True, kw_only=True, slots=True)
class SeasonView:
    team: TeamView
    games_asked: int  # games the players were asked about, not cancelled
    lines: tuple[SeasonLine, ...]  # one per player ever asked, by name


@dataclass(frozen=True, kw_only=True, slots=True)
class CalendarView:
    team: TeamView
    player: PlayerView
    feed: CalendarFeed


class SeasonRequests(ServiceBase):
    def season_table(self, actor: Actor, team_id: str | None = None, *,
                     captain: bool = False) -> SeasonView:
        """The season per player; with ``captain``, only for a captain (the page)."""
        with self._one_connection():
            ctx = (self.captain_context(actor, team_id, "see the season's page") if captain
                   else self.context(actor, team_id))
            team_id = ctx.team.team_id
            return SeasonView(team=ctx.team, games_asked=self._read(season.games_asked, team_id),
                              lines=tuple(self._read(season.season_attendance, team_id)))

    def calendar(self, actor: Actor, team_id: str | None = None) -> CalendarView:
        """The team's games with the asking player's answers: their calendar feed. A player
        who has left the team is refused, so their feed stops."""
        with self._one_connection():
            ctx = self.context(actor, team_id)
            return CalendarView(team=ctx.team, player=ctx.player, feed=self._read(
                season.calendar_feed, ctx.team.team_id, ctx.player.player_id))
