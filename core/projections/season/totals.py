"""The season's totals per player, kept as the invitation lines change.

Each line that counts (not withdrawn, its game not cancelled) adds its :class:`Share` to its
player's totals: one invitation, one to its answer's column (or to "no answer"), and its late
drop-outs. A change to a line takes its old share off and puts the new one on
(:func:`move`), so the totals always equal a count over the lines (the tests rebuild and
compare, and count afresh).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from core.projections.season.tables import season_games, season_lines, season_totals


@dataclass(frozen=True, slots=True)
class Share:
    """What one counted line adds to its player's totals."""

    team_id: str
    player_id: str
    answer: str | None
    late_dropouts: int


def counted(conn: Connection, *where: Any) -> list[Share]:
    """The shares of the counted lines that match ``where``."""
    line, g = season_lines.c, season_games.c
    rows = conn.execute(
        select(line.team_id, line.player_id, line.answer, line.late_dropouts)
        .outerjoin_from(season_lines, season_games, g.game_id == line.game_id)
        .where(*where, line.withdrawn.is_(False),
               g.cancelled.is_not(True)))  # no game row: counted, as before it is known
    return [Share(r.team_id, r.player_id, r.answer, r.late_dropouts) for r in rows]


def line_share(conn: Connection, check_id: str, player_id: str) -> Share | None:
    """The share of one line, None if it doesn't count (or doesn't exist)."""
    line = season_lines.c
    found = counted(conn, line.check_id == check_id, line.player_id == player_id)
    return found[0] if found else None


def move(conn: Connection, before: Share | None, after: Share | None) -> None:
    """Take ``before``'s share off its player's totals and put ``after``'s on, in one
    statement (both are the same player's, when both are given)."""
    t = season_totals.c
    delta: dict[str, int] = {}
    for share, sign in ((before, -1), (after, +1)):
        if share is not None:
            for column, by in (("invited", 1), (share.answer or "no_answer", 1),
                               ("late_dropouts", share.late_dropouts)):
                delta[column] = delta.get(column, 0) + sign * by
    changed = {t[column]: t[column] + by for column, by in delta.items() if by}
    owner = before or after
    if owner is None or not changed:
        return
    conn.execute(update(season_totals)
                 .where(t.team_id == owner.team_id, t.player_id == owner.player_id)
                 .values(changed))


def name_player(conn: Connection, team_id: str, player_id: str, name: str) -> None:
    """The player's row of totals, named as their latest invitation names them."""
    t = season_totals.c
    renamed = conn.execute(update(season_totals)
                           .where(t.team_id == team_id, t.player_id == player_id)
                           .values(name=name))
    if renamed.rowcount == 0:
        conn.execute(insert(season_totals).values(
            team_id=team_id, player_id=player_id, name=name, invited=0, yes=0, no=0, maybe=0,
            no_answer=0, late_dropouts=0))
