"""Schedule: each team's games, with a short handle captains can type (``G1``, ``G2``, ...).

Handles are numbered per team in scheduling order and never reused, so ``G3`` keeps naming
the same game after it is cancelled or played.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Select, Table, bindparam, func, insert, select, update

from core.aggregates.game import (
    AttendanceCheckStarted,
    GameCancelled,
    GameEnded,
    GameRescheduled,
    GameScheduled,
    GameStarted,
    GameStatus,
)
from core.eventstore import HandlerTransaction, RecordedEvent
from core.projections.tables import schedule_games

_HANDLE = re.compile(r"\s*g(\d{1,9})\s*", re.IGNORECASE)
FINISHED = (GameStatus.CANCELLED.value, GameStatus.ENDED.value)


@dataclass(frozen=True, kw_only=True, slots=True)
class GameView:
    game_id: str
    team_id: str
    handle: str
    number: int
    starts_at: datetime
    location: str | None
    opponent: str | None
    status: GameStatus  # a str enum: "scheduled", "started", "ended" or "cancelled"
    check_id: str | None
    cancel_reason: str | None
    original_text: str | None


def handle_of(number: int) -> str:
    return f"G{number}"


class ScheduleProjection:
    name = "schedule"
    events: frozenset[type] = frozenset({
        GameScheduled, GameRescheduled, GameCancelled, GameStarted, GameEnded,
        AttendanceCheckStarted,
    })
    tables: tuple[Table, ...] = (schedule_games,)

    def handle(self, tx: HandlerTransaction, recorded: RecordedEvent) -> None:
        conn: Connection = tx.connection
        g = schedule_games.c
        match recorded.event:
            case GameScheduled() as e:
                number = conn.execute(select(func.coalesce(func.max(g.number), 0))
                                      .where(g.team_id == e.team_id)).scalar_one() + 1
                conn.execute(insert(schedule_games).values(
                    game_id=e.game_id, team_id=e.team_id, number=number,
                    starts_at=e.starts_at, location=e.location, opponent=e.opponent,
                    status=GameStatus.SCHEDULED.value, original_text=e.original_text))
            case GameRescheduled(game_id=game_id, starts_at=starts_at, original_text=text):
                _set(conn, game_id, starts_at=starts_at, original_text=text)
            case GameCancelled(game_id=game_id, reason=reason):
                _set(conn, game_id, status=GameStatus.CANCELLED.value, cancel_reason=reason)
            case GameStarted(game_id=game_id):
                _set(conn, game_id, status=GameStatus.STARTED.value)
            case GameEnded(game_id=game_id):
                _set(conn, game_id, status=GameStatus.ENDED.value)
            case AttendanceCheckStarted(game_id=game_id, check_id=check_id):
                _set(conn, game_id, check_id=check_id)


def _set(conn: Connection, game_id: str, **values: Any) -> None:
    conn.execute(update(schedule_games).where(schedule_games.c.game_id == game_id)
                 .values(**values))


# -- queries ---------------------------------------------------------------------------------
_GAME = select(schedule_games).where(schedule_games.c.game_id == bindparam("game_id"))
_BY_NUMBER = select(schedule_games).where(schedule_games.c.team_id == bindparam("team_id"),
                                          schedule_games.c.number == bindparam("number"))


def game(conn: Connection, game_id: str) -> GameView | None:
    row = conn.execute(_GAME, {"game_id": game_id}).first()
    return None if row is None else game_view(row)


def game_by_handle(conn: Connection, team_id: str, handle: str) -> GameView | None:
    """The team's game named ``handle`` ("G3", "g3"); None for no such game or a bad handle."""
    match = _HANDLE.fullmatch(handle)
    if match is None:
        return None
    row = conn.execute(_BY_NUMBER, {"team_id": team_id, "number": int(match[1])}).first()
    return None if row is None else game_view(row)


def games(conn: Connection, team_id: str, *,
          upcoming_after: datetime | None = None) -> list[GameView]:
    """The team's games by start time; with ``upcoming_after``, only those still to play
    (not cancelled or ended) that start after it."""
    rows = conn.execute(_games(team_id, upcoming_after))
    return [game_view(row) for row in rows]


def next_game(conn: Connection, team_id: str, now: datetime) -> GameView | None:
    """The first game still to play that starts after ``now``."""
    row = conn.execute(_games(team_id, now).limit(1)).first()
    return None if row is None else game_view(row)


def _games(team_id: str, upcoming_after: datetime | None) -> Select[Any]:
    g = schedule_games.c
    query = select(schedule_games).where(g.team_id == team_id)
    if upcoming_after is not None:
        query = query.where(g.starts_at > upcoming_after, g.status.not_in(FINISHED))
    return query.order_by(g.starts_at, g.number)


def game_view(row: Row[Any]) -> GameView:
    return GameView(
        game_id=row.game_id, team_id=row.team_id, handle=handle_of(row.number),
        number=row.number, starts_at=row.starts_at, location=row.location,
        opponent=row.opponent, status=GameStatus(row.status), check_id=row.check_id,
        cancel_reason=row.cancel_reason, original_text=row.original_text)
