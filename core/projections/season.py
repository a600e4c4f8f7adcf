"""Season attendance: how each player answered the checks of the team's games.

A query over the board and schedule tables, not a projection of its own. Counted: every
check a player was invited to and not withdrawn from, by their latest answer, except checks
whose game was cancelled (nobody played; answers there say nothing). A waitlisted Yes counts
as a Yes: the player said they would come.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, or_, select

from core.aggregates.game import GameStatus
from core.projections.tables import board_checks, board_lines, schedule_games


@dataclass(frozen=True, kw_only=True, slots=True)
class SeasonLine:
    player_id: str
    name: str
    invited: int
    yes: int
    no: int
    maybe: int
    no_answer: int


def season_attendance(conn: Connection, team_id: str) -> list[SeasonLine]:
    """One line per player ever invited, by name."""
    c, line, g = board_checks.c, board_lines.c, schedule_games.c
    rows = conn.execute(
        select(line.player_id, line.name, line.answer)
        .join_from(board_lines, board_checks, line.check_id == c.check_id)
        .outerjoin(schedule_games, g.game_id == c.game_id)
        .where(c.team_id == team_id,
               or_(g.status.is_(None), g.status != GameStatus.CANCELLED.value))
        .order_by(line.invited_seq))
    names: dict[str, str] = {}
    counts: dict[str, dict[str | None, int]] = {}
    for row in rows:
        names[row.player_id] = row.name  # the latest invitation's name wins
        tally = counts.setdefault(row.player_id, {})
        tally[row.answer] = tally.get(row.answer, 0) + 1
    lines = [SeasonLine(player_id=pid, name=names[pid], invited=sum(tally.values()),
                        yes=tally.get("yes", 0), no=tally.get("no", 0),
                        maybe=tally.get("maybe", 0), no_answer=tally.get(None, 0))
             for pid, tally in counts.items()]
    return sorted(lines, key=lambda s: (s.name.casefold(), s.player_id))
