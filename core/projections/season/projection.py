"""The season projection: games, cancellations, invitations, answers and late drop-outs.

A game's row changes when it is moved or cancelled (its ``revision`` counts those changes);
an invitation's line when it is answered, withdrawn or dropped late. The handle numbering is
the schedule's rule (per team, in scheduling order), so ``G3`` names the same game here.

Every event changes one or two rows by key: the season table is counted from the lines when
it is read (see :mod:`~core.projections.season.queries`), so an answer, the commonest event,
is one ``UPDATE``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, func, insert, or_, select, update

from core.aggregates.check import AnswerRecorded, InvitationWithdrawn, LateDropOut, PlayerInvited
from core.aggregates.game import (
    AttendanceCheckStarted,
    GameCancelled,
    GameRescheduled,
    GameScheduled,
)
from core.aggregates.team import TeamRegistered, TeamRenamed, TeamSettingsChanged
from core.eventstore import HandlerTransaction, RecordedEvent
from core.eventstore.database import DriverSql, upsert
from core.projections.season.tables import (
    season_games,
    season_lines,
    season_players,
    season_teams,
)
from core.projections.types import to_db_time


class SeasonProjection:
    name = "season"
    gather = 0.05  # read by people, never in a request's path: a burst of answers, one batch
    events: frozenset[type] = frozenset({
        TeamRegistered, TeamRenamed, TeamSettingsChanged, GameScheduled, GameRescheduled,
        GameCancelled, AttendanceCheckStarted, PlayerInvited, InvitationWithdrawn,
        AnswerRecorded, LateDropOut,
    })
    tables: tuple[Table, ...] = (season_teams, season_games, season_lines, season_players)

    def handle_all(self, tx: HandlerTransaction, batch: list[RecordedEvent]) -> None:
        """Answers, the commonest events, in one call per run of them (see
        DriverSql.run_many); the others one by one, in order."""
        conn: Connection = tx.connection
        answers: list[tuple[Any, ...]] = []
        for recorded in batch:
            if isinstance(e := recorded.event, AnswerRecorded):
                at = to_db_time(recorded.metadata.recorded_at, conn.dialect.name)
                answers.append((e.answer.value, at, e.check_id, e.player_id))
                continue
            _ANSWER.run_many(conn, answers)
            answers.clear()
            self.handle(tx, recorded)
        _ANSWER.run_many(conn, answers)

    def handle(self, tx: HandlerTransaction, recorded: RecordedEvent) -> None:
        conn: Connection = tx.connection
        at = recorded.metadata.recorded_at
        g = season_games.c
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
                _change_game(conn, game_id, at, cancelled=True)
            case AttendanceCheckStarted(game_id=game_id, check_id=check_id):
                conn.execute(update(season_games).where(g.game_id == game_id)
                             .values(check_id=check_id))
            case PlayerInvited() as e:
                _invite(conn, e, recorded.position, at)
            case InvitationWithdrawn(check_id=check_id, player_id=player_id):
                conn.execute(_WITHDRAW, _key(check_id, player_id, at))
            case AnswerRecorded(check_id=check_id, player_id=player_id, answer=answer):
                _ANSWER.run(conn, answer.value, to_db_time(at, conn.dialect.name), check_id,
                            player_id)
            case LateDropOut(check_id=check_id, player_id=player_id):
                conn.execute(_DROP_OUT, _key(check_id, player_id, at))


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


# The line changes, built once. An answer, the commonest event, goes to the driver directly
# (see DriverSql): SQLAlchemy's statement machinery costs several times what it takes to run.
_ANSWER = DriverSql("UPDATE season_lines SET answer = %s, changed_at = %s "
                    "WHERE check_id = %s AND player_id = %s")
_LINE = update(season_lines).where(season_lines.c.check_id == bindparam("check"),
                                   season_lines.c.player_id == bindparam("player"))
_WITHDRAW = _LINE.values(withdrawn=True, changed_at=bindparam("at"))
_DROP_OUT = _LINE.values(late_dropouts=season_lines.c.late_dropouts + 1,
                         changed_at=bindparam("at"))


def _key(check_id: str, player_id: str, at: datetime) -> dict[str, Any]:
    return {"check": check_id, "player": player_id, "at": at}


def _invite(conn: Connection, e: PlayerInvited, seq: int, at: datetime) -> None:
    """A new line, or a fresh start for one withdrawn earlier (the player rejoined); the
    player's name as this invitation gives it."""
    invitee = e.invitee
    named = upsert(conn, season_players).values(team_id=e.team_id, player_id=invitee.player_id,
                                           name=invitee.name)
    conn.execute(named.on_conflict_do_update(index_elements=["team_id", "player_id"],
                                             set_={"name": named.excluded.name}))
    fresh = {"invited_seq": seq, "answer": None, "withdrawn": False, "changed_at": at}
    new = upsert(conn, season_lines).values(check_id=e.check_id, player_id=invitee.player_id,
                                       team_id=e.team_id, game_id=e.game_id, late_dropouts=0,
                                       **fresh)
    conn.execute(new.on_conflict_do_update(index_elements=["check_id", "player_id"],
                                           set_=fresh))
