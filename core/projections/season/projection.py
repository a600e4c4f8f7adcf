"""The season projection: games, cancellations, invitations, answers and late drop-outs.

A game's row changes when it is moved or cancelled (its ``revision`` counts those changes);
an invitation's line when it is answered, withdrawn or dropped late. The handle numbering is
the schedule's rule (per team, in scheduling order), so ``G3`` names the same game here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select, update

from core.aggregates.check import AnswerRecorded, InvitationWithdrawn, LateDropOut, PlayerInvited
from core.aggregates.game import (
    AttendanceCheckStarted,
    GameCancelled,
    GameRescheduled,
    GameScheduled,
)
from core.eventstore import HandlerTransaction, RecordedEvent
from core.projections.season.tables import season_games, season_lines, season_players


class SeasonProjection:
    name = "season"
    events: frozenset[type] = frozenset({
        GameScheduled, GameRescheduled, GameCancelled, AttendanceCheckStarted,
        PlayerInvited, InvitationWithdrawn, AnswerRecorded, LateDropOut,
    })
    tables: tuple[Table, ...] = (season_games, season_players, season_lines)

    def handle(self, tx: HandlerTransaction, recorded: RecordedEvent) -> None:
        conn: Connection = tx.connection
        at = recorded.metadata.recorded_at
        g = season_games.c
        match recorded.event:
            case GameScheduled() as e:
                number = conn.execute(select(func.coalesce(func.max(g.number), 0))
                                      .where(g.team_id == e.team_id)).scalar_one() + 1
                conn.execute(insert(season_games).values(
                    game_id=e.game_id, team_id=e.team_id, number=number,
                    starts_at=e.starts_at, location=e.location, opponent=e.opponent,
                    cancelled=False, revision=0, changed_at=at))
            case GameRescheduled(game_id=game_id, starts_at=starts_at):
                _change_game(conn, game_id, at, starts_at=starts_at)
            case GameCancelled(game_id=game_id):
                _change_game(conn, game_id, at, cancelled=True)
            case AttendanceCheckStarted(game_id=game_id, check_id=check_id):
                conn.execute(update(season_games).where(g.game_id == game_id)
                             .values(check_id=check_id))
            case PlayerInvited() as e:
                _invite(conn, e, recorded.position, at)
            case InvitationWithdrawn(check_id=check_id, player_id=player_id):
                _change_line(conn, check_id, player_id, at, withdrawn=True)
            case AnswerRecorded(check_id=check_id, player_id=player_id, answer=answer):
                _change_line(conn, check_id, player_id, at, answer=answer.value)
            case LateDropOut(check_id=check_id, player_id=player_id):
                line = season_lines.c
                _change_line(conn, check_id, player_id, at,
                             late_dropouts=line.late_dropouts + 1)


def _change_game(conn: Connection, game_id: str, at: datetime, **values: Any) -> None:
    g = season_games.c
    conn.execute(update(season_games).where(g.game_id == game_id)
                 .values(revision=g.revision + 1, changed_at=at, **values))


def _change_line(conn: Connection, check_id: str, player_id: str, at: datetime,
                 **values: Any) -> None:
    line = season_lines.c
    conn.execute(update(season_lines)
                 .where(line.check_id == check_id, line.player_id == player_id)
                 .values(changed_at=at, **values))


def _invite(conn: Connection, e: PlayerInvited, seq: int, at: datetime) -> None:
    """A new line, or a fresh start for one withdrawn earlier (the player rejoined); the
    player's name is the latest invitation's."""
    line, player = season_lines.c, season_players.c
    invitee = e.invitee
    again = conn.execute(update(season_lines)
                         .where(line.check_id == e.check_id, line.player_id == invitee.player_id)
                         .values(invited_seq=seq, answer=None, withdrawn=False, changed_at=at))
    if again.rowcount == 0:
        conn.execute(insert(season_lines).values(
            check_id=e.check_id, player_id=invitee.player_id, team_id=e.team_id,
            game_id=e.game_id, invited_seq=seq, answer=None, late_dropouts=0, withdrawn=False,
            changed_at=at))
    renamed = conn.execute(update(season_players)
                           .where(player.team_id == e.team_id,
                                  player.player_id == invitee.player_id)
                           .values(name=invitee.name))
    if renamed.rowcount == 0:
        conn.execute(insert(season_players).values(
            team_id=e.team_id, player_id=invitee.player_id, name=invitee.name))
