"""What the service returns: plain, immutable views for adapters to render."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from core.aggregates.common import Answer
from core.projections import board as boards
from core.projections.board import BoardView
from core.projections.roster import PlayerView, TeamView
from core.projections.schedule import GameView


@dataclass(frozen=True, kw_only=True, slots=True)
class Context:
    """The asking player on the team the request is about."""

    team: TeamView
    player: PlayerView

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.team.timezone)


@dataclass(frozen=True, kw_only=True, slots=True)
class GameStatusView:
    team: TeamView
    game: GameView
    board: BoardView | None


@dataclass(frozen=True, kw_only=True, slots=True)
class AnswerResult:
    team: TeamView
    game: GameView
    player: PlayerView
    answer: Answer
    changed: bool  # False when the same answer was given again
    board: BoardView


@dataclass(frozen=True, kw_only=True, slots=True)
class Invitation:
    """What an email answer page shows."""

    team: TeamView
    game: GameView
    player: PlayerView | None  # None when the player has left the team
    board: BoardView

    @property
    def line(self) -> boards.BoardLine | None:
        return next((ln for ln in self.board.lines if self.player is not None
                     and ln.player_id == self.player.player_id), None)
