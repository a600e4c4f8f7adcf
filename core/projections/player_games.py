"""A player's coming games with their own answer: the schedule joined to the board."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, select

from core.aggregates.common import Answer
from core.aggregates.game import GameStatus
from core.projections.board import answer_of
from core.projections.schedule import FINISHED, handle_of
from core.projections.tables import board_lines, schedule_games


@dataclass(frozen=True, kw_only=True, slots=True)
class PlayerGameView:
    game_id: str
    handle: str
    starts_at: datetime
    location: str | None
    opponent: str | None
    status: GameStatus
    check_id: str | None  # None until attendance is being checked
    answer: Answer | None
    note: str | None
    waitlist_position: int | None


def upcoming_for_player(conn: Connection, team_id: str, player_id: str,
                        now: datetime) -> list[PlayerGameView]:
    """The team's games still to play (not cancelled or ended) that start after ``now``, by
    start time, each with this player's answer if they were asked."""
    g, line = schedule_games.c, board_lines.c
    rows = conn.execute(
        select(g.game_id, g.number, g.starts_at, g.location, g.opponent, g.status, g.check_id,
               line.answer, line.note, line.waitlist_position)
        .outerjoin_from(schedule_games, board_lines,
                        and_(line.check_id == g.check_id, line.player_id == player_id))
        .where(g.team_id == team_id, g.starts_at > now, g.status.not_in(FINISHED))
        .order_by(g.starts_at, g.number))
    return [PlayerGameView(
        game_id=r.game_id, handle=handle_of(r.number), starts_at=r.starts_at,
        location=r.location, opponent=r.opponent, status=GameStatus(r.status),
        check_id=r.check_id, answer=answer_of(r.answer), note=r.note,
        waitlist_position=r.waitlist_position) for r in rows]
