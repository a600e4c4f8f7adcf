"""The season projection: games, cancellations, invitations, answers and late drop-outs.

A game's row changes when it is moved or cancelled (its ``revision`` counts those changes);
an invitation's line when it is answered, withdrawn or dropped late. The handle numbering is
the schedule's rule (per team, in scheduling order), so ``G3`` names the same game here.

Every event changes one or two rows by key: the season table is counted from the lines when
it is read (see :mod:`~core.projections.season.queries`), so an answer, the commonest event,
is one ``UPDATE``; a run of invitations or answers (a check opening for the whole team, a
burst of taps) is one call to the driver.
"""

from __future__ import annotations

from datetime import datetime
from itertools import groupby
from operator import itemgetter
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
from core.eventstore.database import DriverSql
from core.projections.season.tables import (
    season_games,
    season_lines,
    season_players,
    season_teams,
)
from core.projections.types import to_db_time


class SeasonProjection:
    name = "season"
    # Read by people, never in a request's path: a burst of answers is one batch (a request
    # that waits for the season cuts the gathering short).
    gather = 0.25
    events: frozenset[type] = frozenset({
        TeamRegistered, TeamRenamed, TeamSettingsChanged, GameScheduled, GameRescheduled,
        GameCancelled, AttendanceCheckStarted, PlayerInvited, InvitationWithdrawn,
        AnswerRecorded, LateDropOut,
    })
    tables: tuple[Table, ...] = (season_teams, season_games, season_lines, season_players)

    def handle_all(self, tx: HandlerTransaction, batch: list[RecordedEvent]) -> None:
        """Invitations and answers, nearly every event, a driver call per run of one kind
        (see :class:`_Lines`); the others one by one, in order."""
        lines = _Lines(tx.connection)
        for recorded in batch:
            if not lines.add(recorded):
                lines.write()
                self.handle(tx, recorded)
        lines.write()

    def handle(self, tx: HandlerTransaction, recorded: RecordedEvent) -> None:
        lines = _Lines(tx.connection)
        if lines.add(recorded):
            lines.write()
        else:
            self._handle(tx.connection, recorded)

    def _handle(self, conn: Connection, recorded: RecordedEvent) -> None:
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
            case InvitationWithdrawn(check_id=check_id, player_id=player_id):
                conn.execute(_WITHDRAW, _key(check_id, player_id, at))
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


_LINE = update(season_lines).where(season_lines.c.check_id == bindparam("check"),
                                   season_lines.c.player_id == bindparam("player"))
_WITHDRAW = _LINE.values(withdrawn=True, changed_at=bindparam("at"))
_DROP_OUT = _LINE.values(late_dropouts=season_lines.c.late_dropouts + 1,
                         changed_at=bindparam("at"))


def _key(check_id: str, player_id: str, at: datetime) -> dict[str, Any]:
    return {"check": check_id, "player": player_id, "at": at}


# Invitations and answers go to the driver directly (see DriverSql): SQLAlchemy's statement
# machinery costs several times what it takes to run them, and a run of them is one call.
_NAME = DriverSql(
    "INSERT INTO season_players (team_id, player_id, name) VALUES (%s, %s, %s) "
    "ON CONFLICT (team_id, player_id) DO UPDATE SET name = excluded.name")
# A new line, or a fresh start for one withdrawn earlier (the player rejoined).
_INVITE = DriverSql(
    "INSERT INTO season_lines (check_id, player_id, team_id, game_id, invited_seq, answer, "
    "late_dropouts, withdrawn, changed_at) VALUES (%s, %s, %s, %s, %s, NULL, 0, %s, %s) "
    "ON CONFLICT (check_id, player_id) DO UPDATE SET invited_seq = excluded.invited_seq, "
    "answer = NULL, withdrawn = excluded.withdrawn, changed_at = excluded.changed_at")
_ANSWER = DriverSql("UPDATE season_lines SET answer = %s, changed_at = %s "
                    "WHERE check_id = %s AND player_id = %s")


class _Lines:
    """Invitations and answers, written in log order by one driver call per run of one
    statement. Names are a table of their own (latest wins), so they go in one call."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._dialect = conn.dialect.name
        self._names: dict[tuple[str, str], str] = {}
        self._lines: list[tuple[DriverSql, tuple[Any, ...]]] = []

    def add(self, recorded: RecordedEvent) -> bool:
        """Take ``recorded`` if it is an invitation or an answer."""
        at = to_db_time(recorded.metadata.recorded_at, self._dialect)
        match recorded.event:
            case PlayerInvited(check_id=check_id, team_id=team_id, game_id=game_id,
                               invitee=invitee):
                self._names[team_id, invitee.player_id] = invitee.name
                self._lines.append((_INVITE, (check_id, invitee.player_id, team_id, game_id,
                                              recorded.position, False, at)))
            case AnswerRecorded(check_id=check_id, player_id=player_id, answer=answer):
                self._lines.append((_ANSWER, (answer.value, at, check_id, player_id)))
            case _:
                return False
        return True

    def write(self) -> None:
        _NAME.run_many(self._conn, [(*key, name) for key, name in self._names.items()])
        for statement, run in groupby(self._lines, key=itemgetter(0)):
            statement.run_many(self._conn, [params for _, params in run])
        self._names.clear()
        self._lines.clear()
