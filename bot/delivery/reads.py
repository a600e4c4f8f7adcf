"""Read-model lookups for a batch of claimed jobs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from core.projections import board as boards
from core.projections import roster, schedule
from core.projections.board import BoardLine, BoardView
from core.projections.roster import PlayerView, TeamView
from core.projections.schedule import GameView


class Reads:
    """Read-model lookups for one batch of jobs, each asked once."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._memo: dict[tuple[str, ...], Any] = {}

    def _once(self, key: tuple[str, ...], query: Callable[[], Any]) -> Any:
        if key not in self._memo:
            self._memo[key] = query()
        return self._memo[key]

    def team(self, team_id: str) -> TeamView | None:
        found: TeamView | None = self._once(("t", team_id), lambda: roster.team(self.conn,
                                                                                 team_id))
        return found

    def game(self, game_id: str | None) -> GameView | None:
        if game_id is None:
            return None
        found: GameView | None = self._once(("g", game_id),
                                            lambda: schedule.game(self.conn, game_id))
        return found

    def board(self, check_id: str | None) -> BoardView | None:
        if check_id is None:
            return None
        found: BoardView | None = self._once(("b", check_id),
                                             lambda: boards.board(self.conn, check_id,
                                                                  with_history=False))
        return found

    def line(self, check_id: str | None, player_id: str) -> BoardLine | None:
        board = self.board(check_id)
        if board is None:
            return None
        lines: dict[str, BoardLine] = self._once(
            ("l", board.check_id), lambda: {ln.player_id: ln for ln in board.lines})
        return lines.get(player_id)

    def player(self, team_id: str, player_id: str) -> PlayerView | None:
        return roster.player(self.conn, team_id, player_id)

    def captains(self, team_id: str) -> list[PlayerView]:
        return roster.captains(self.conn, team_id)
