"""The season projection: games, cancellations, invitations, answers and late drop-outs.

A game's row changes when it is moved or cancelled (its ``revision`` counts those changes);
an invitation's line when it is answered, withdrawn or dropped late. The handle numbering is
the schedule's rule (per team, in scheduling order), so ``G3`` names the same game here.

A change to a line moves its share of its player's totals with it (see
:mod:`~core.projections.season.totals`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, func, insert, or_, select, update

from core.aggregates.check import AnswerRecorded, InvitationWithdrawn, LateDropOut, PlayerInvited
from core.aggregates.game import (
    AttendanceCheckStarted,
    GameCancelled,
    GameRescheduled,
    GameScheduled,
)
from core.aggregates.team import TeamRegistered, TeamRenamed, TeamSettingsChanged
from core.eventstore import HandlerTransaction, RecordedEvent
from core.projections.season import totals
from core.projections.season.tables import (
    season_games,
    season_lines,
    season_teams,
    season_totals,
)
from core.projections.season.totals import Share


class SeasonProjection:
    name = "season"
    events: frozenset[type] = frozenset({
        TeamRegistered, TeamRenamed, TeamSettingsChanged, GameScheduled, GameRescheduled,
        GameCancelled, AttendanceCheckStarted, PlayerInvited, InvitationWithdrawn,
        AnswerRecorded, LateDropOut,
    })
    tables: tuple[Table, ...] = (season_teams, season_games, season_lines, season_totals)

    def handle(self, tx: HandlerTransaction, recorded: RecordedEvent) -> None:
        conn: Connection = tx.connection
        at = recorded.metadata.recorded_at
        g, line = season_games.c, season_lines.c
        match recorded.event:
            case TeamRegistered(team_id=team_id, name=name, settings=settings):
                conn.execute(insert(season_teams).values(
                    team_id=team_id, name=name, timezone=settings.timezone,
                    game_length_minutes=settings.game_length_minutes, changed_at=at))
            case TeamRenamed(team_id=team_id, name=name):
                _change_team(conn, team_id, at, name=name)
            case TeamSettingsChanged(team_id=team_id, settings=settings):
                _change_team(conn, team_id, at, timezone=settings.timezone,
                             game_length_minutes=settings.game_length_minutes)
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
                for share in totals.counted(conn, line.game_id == game_id):
                    totals.move(conn, share, None)
                _change_game(conn, game_id, at, cancelled=True)
            case AttendanceCheckStarted(game_id=game_id, check_id=check_id):
                conn.execute(update(season_games).where(g.game_id == game_id)
                             .values(check_id=check_id))
            case PlayerInvited() as e:
                _invite(conn, e, recorded.position, at)
            case InvitationWithdrawn(check_id=check_id, player_id=player_id):
                _change_line(conn, check_id, player_id, at, lambda share: None,
                             withdrawn=True)
            case AnswerRecorded(check_id=check_id, player_id=player_id, answer=answer):
                _change_line(conn, check_id, player_id, at,
                             lambda share: replace(share, answer=answer.value),
                             answer=answer.value)
            case LateDropOut(check_id=check_id, player_id=player_id):
                _change_line(conn, check_id, player_id, at,
                             lambda share: replace(share, late_dropouts=share.late_dropouts + 1),
                             late_dropouts=line.late_dropouts + 1)


def _change_team(conn: Connection, team_id: str, at: datetime, **values: Any) -> None:
    """Only a change a calendar shows moves ``changed_at`` (reminder times do not)."""
    t = season_teams.c
    differs = [t[column] != value for column, value in values.items()]
    conn.execute(update(season_teams).where(t.team_id == team_id, or_(*differs))
                 .values(changed_at=at, **values))


def _change_game(conn: Connection, game_id: str, at: datetime, **values: Any) -> None:
    g = season_games.c
    conn.execute(update(season_games).where(g.game_id == game_id)
                 .values(revision=g.revision + 1, changed_at=at, **values))


def _change_line(conn: Connection, check_id: str, player_id: str, at: datetime,
                 share_after: Callable[[Share], Share | None], **values: Any) -> None:
    """Change a line, moving its share of the totals with it (``share_after`` says what
    the change does to a counted line's share)."""
    line = season_lines.c
    before = totals.line_share(conn, check_id, player_id)
    conn.execute(update(season_lines)
                 .where(line.check_id == check_id, line.player_id == player_id)
                 .values(changed_at=at, **values))
    if before is not None:
        totals.move(conn, before, share_after(before))


def _invite(conn: Connection, e: PlayerInvited, seq: int, at: datetime) -> None:
    """A new line, or a fresh start for one withdrawn earlier (the player rejoined)."""
    line, invitee = season_lines.c, e.invitee
    totals.name_player(conn, e.team_id, invitee.player_id, invitee.name)
    before = totals.line_share(conn, e.check_id, invitee.player_id)
    again = conn.execute(update(season_lines)
                         .where(line.check_id == e.check_id, line.player_id == invitee.player_id)
                         .values(invited_seq=seq, answer=None, withdrawn=False, changed_at=at))
    if again.rowcount == 0:
        conn.execute(insert(season_lines).values(
            check_id=e.check_id, player_id=invitee.player_id, team_id=e.team_id,
            game_id=e.game_id, invited_seq=seq, answer=None, late_dropouts=0, withdrawn=False,
            changed_at=at))
    totals.move(conn, before, totals.line_share(conn, e.check_id, invitee.player_id))
