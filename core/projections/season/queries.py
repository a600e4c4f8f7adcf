"""Reads of the season: the attendance table per player, and one player's calendar.

Counted in the season: every invitation not withdrawn, by its latest answer, except those
to a cancelled game (nobody played; answers there say nothing). A waitlisted Yes counts as a
Yes: the player said they would come. The rate is the share of the games asked about that
the player said Yes to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Connection, and_, bindparam, case, func, select

from core.aggregates.common import Answer
from core.projections.board import answer_of
from core.projections.schedule import handle_of
from core.projections.season.tables import (
    season_games,
    season_lines,
    season_players,
    season_teams,
)


@dataclass(frozen=True, kw_only=True, slots=True)
class SeasonLine:
    player_id: str
    name: str
    invited: int  # games asked about
    yes: int
    no: int
    maybe: int
    no_answer: int
    late_dropouts: int  # a Yes taken back close to the start (see check.LateDropOut)

    @property
    def rate(self) -> float:
        """The share of the games asked about that the player said Yes to, 0 to 1."""
        return self.yes / self.invited if self.invited else 0.0


@dataclass(frozen=True, kw_only=True, slots=True)
class CalendarGame:
    game_id: str
    handle: str
    starts_at: datetime
    location: str | None
    opponent: str | None
    cancelled: bool
    revision: int  # how many times it was moved or cancelled
    changed_at: datetime  # the latest change to the game or to the player's answer
    answer: Answer | None  # the player's, None when not asked (or no longer)


@dataclass(frozen=True, kw_only=True, slots=True)
class CalendarFeed:
    games: tuple[CalendarGame, ...]  # by start time
    last_modified: datetime | None  # the latest change to any of it; None with no games


_line, _game, _player = season_lines.c, season_games.c, season_players.c


def _count(answer: str | None) -> ColumnElement[Any]:
    said = _line.answer.is_(None) if answer is None else _line.answer == answer
    return func.sum(case((said, 1), else_=0))


# Counted from the lines as it is read: one team's lines are an index range of a few thousand
# rows at most (40 players and 30 games: 1,200), and no answer has to move a total. The
# count comes first and the names join its few rows after, so the plan stays cheap even
# while the planner knows nothing of freshly filled tables.
_team: BindParameter[str] = bindparam("team_id")
_cancelled = select(_game.game_id).where(_game.team_id == _team, _game.cancelled.is_(True))
_counts = (
    select(_line.player_id, func.count().label("invited"),
           _count(Answer.YES.value).label("yes"), _count(Answer.NO.value).label("no"),
           _count(Answer.MAYBE.value).label("maybe"), _count(None).label("no_answer"),
           func.sum(_line.late_dropouts).label("late_dropouts"))
    .where(_line.team_id == _team, _line.withdrawn.is_(False),
           _line.game_id.not_in(_cancelled))  # no game row yet: counted
    .group_by(_line.player_id)
    .subquery("counts"))
_SEASON = (
    select(_counts, _player.name)
    .join_from(_counts, season_players, and_(_player.team_id == _team,
                                             _player.player_id == _counts.c.player_id)))


def season_attendance(conn: Connection, team_id: str) -> list[SeasonLine]:
    """One line per player asked about one of the team's games (still counted), by name."""
    lines = [SeasonLine(player_id=r.player_id, name=r.name, invited=r.invited, yes=r.yes,
                        no=r.no, maybe=r.maybe, no_answer=r.no_answer,
                        late_dropouts=r.late_dropouts)
             for r in conn.execute(_SEASON, {"team_id": team_id})]
    return sorted(lines, key=lambda s: (s.name.casefold(), s.player_id))


_CALENDAR = (
    select(_game.game_id, _game.number, _game.starts_at, _game.location, _game.opponent,
           _game.cancelled, _game.revision, _game.changed_at, _line.answer, _line.withdrawn,
           _line.changed_at.label("answered_at"))
    .outerjoin_from(season_games, season_lines,
                    and_(_line.check_id == _game.check_id,
                         _line.player_id == bindparam("player_id")))
    .where(_game.team_id == bindparam("team_id"))
    .order_by(_game.starts_at, _game.number))


_TEAM_CHANGED = select(season_teams.c.changed_at).where(
    season_teams.c.team_id == bindparam("team_id"))


def calendar_feed(conn: Connection, team_id: str, player_id: str) -> CalendarFeed:
    """Every game of the team, with this player's answer where they were asked."""
    games: list[CalendarGame] = []
    changes: list[datetime] = []
    for r in conn.execute(_CALENDAR, {"team_id": team_id, "player_id": player_id}):
        changed_at = max(r.changed_at, r.answered_at or r.changed_at)
        games.append(CalendarGame(
            game_id=r.game_id, handle=handle_of(r.number), starts_at=r.starts_at,
            location=r.location, opponent=r.opponent, cancelled=bool(r.cancelled),
            revision=r.revision, changed_at=changed_at,
            answer=None if r.withdrawn else answer_of(r.answer)))
        changes.append(changed_at)
    team_changed = conn.execute(_TEAM_CHANGED, {"team_id": team_id}).scalar()
    if team_changed is not None and games:  # the zone, the length, the name
        changes.append(team_changed)
    return CalendarFeed(games=tuple(games), last_modified=max(changes, default=None))


_ASKED = (select(func.count()).select_from(season_games)
          .where(_game.team_id == bindparam("team_id"), _game.check_id.is_not(None),
                 _game.cancelled.is_(False)))


def games_asked(conn: Connection, team_id: str) -> int:
    """How many of the team's games, not cancelled, the players were asked about."""
    return int(conn.execute(_ASKED, {"team_id": team_id}).scalar_one())
