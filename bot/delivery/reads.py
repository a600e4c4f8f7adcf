"""Read-model lookups for a batch of claimed jobs: each asked once, and a check's board read
for the batch's own players only (a big team's fan-out reads each line once, not the whole
board once per batch). The team, the game and the check's state are the same for every batch
of a fan-out: with a :class:`~core.memo.ReadMemo` they are read once while their read models
stand still."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Connection, bindparam, select

from core.memo import ReadMemo, Stamp, no_generations
from core.projections import board, roster, schedule
from core.projections.board import BoardLine, BoardView
from core.projections.roster import PlayerView, TeamView
from core.projections.schedule import GameView
from core.projections.tables import board_checks

# Built once: asked for every batch a worker claims (while the check changes).
_CHECK = select(board_checks).where(board_checks.c.check_id == bindparam("check_id"))


MEMOISED = ("roster", "schedule", "board")  # the read models a worker's memo follows
_UNCHANGING = ReadMemo(no_generations, ())  # memoises nothing


class Reads:
    """Read-model lookups for one batch of jobs (to ``recipients``), each asked once."""

    def __init__(self, conn: Connection, recipients: Iterable[tuple[str, str]] = (), *,
                 memo: ReadMemo = _UNCHANGING, stamp: Stamp | None = None) -> None:
        """``recipients``: the batch's ``(team_id, player_id)``; ``memo`` keeps the team,
        game and check state between batches, under ``stamp``, taken before ``conn`` read
        anything (see :mod:`core.memo`)."""
        self.conn = conn
        self._recipients = frozenset(recipients)
        self._asked: dict[tuple[str, ...], Any] = {}
        self._memo = memo
        self._stamp = stamp or {}

    def _once(self, key: tuple[str, ...], query: Callable[[], Any]) -> Any:
        if key not in self._asked:
            self._asked[key] = query()
        return self._asked[key]

    def _kept(self, model: str, key: tuple[str, str], query: Callable[[], Any]) -> Any:
        return self._once(key, lambda: self._memo.get(self._stamp, model, key, query))

    def team(self, team_id: str) -> TeamView | None:
        found: TeamView | None = self._kept("roster", ("t", team_id),
                                            lambda: roster.team(self.conn, team_id))
        return found

    def game(self, game_id: str | None) -> GameView | None:
        if game_id is None:
            return None
        found: GameView | None = self._kept("schedule", ("g", game_id),
                                            lambda: schedule.game(self.conn, game_id))
        return found

    def board(self, check_id: str | None) -> BoardView | None:
        """The check's state (open, deadline), without its lines: see :meth:`line`."""
        if check_id is None:
            return None
        found: BoardView | None = self._kept("board", ("b", check_id),
                                             lambda: self._board(check_id))
        return found

    def line(self, check_id: str | None, player_id: str) -> BoardLine | None:
        if check_id is None:
            return None
        lines: dict[str, BoardLine] = self._once(("l", check_id),
                                                 lambda: self._lines(check_id))
        return lines.get(player_id)

    def player(self, team_id: str, player_id: str) -> PlayerView | None:
        """A player of the batch's recipients (a team's read in one query), or any other."""
        if (team_id, player_id) not in self._recipients:
            return roster.player(self.conn, team_id, player_id)
        found: dict[str, PlayerView] = self._once(("p", team_id), lambda: roster.players(
            self.conn, team_id, (p for t, p in self._recipients if t == team_id)))
        return found.get(player_id)

    def captains(self, team_id: str) -> list[PlayerView]:
        return roster.captains(self.conn, team_id)

    def _board(self, check_id: str) -> BoardView | None:
        row = self.conn.execute(_CHECK, {"check_id": check_id}).first()
        if row is None:
            return None
        return BoardView(check_id=row.check_id, game_id=row.game_id, team_id=row.team_id,
                         starts_at=row.starts_at, open=bool(row.is_open),
                         min_players=row.min_players, max_players=row.max_players,
                         deadline=row.deadline, lines=(), history=())

    def _lines(self, check_id: str) -> dict[str, BoardLine]:
        return board.lines(self.conn, check_id, (p for _, p in self._recipients))
