"""The season projection: games, cancellations, invitations, answers and late drop-outs.

A game's row changes when it is moved or cancelled (its ``revision`` counts those changes);
an invitation's line when it is answered, withdrawn or dropped late. The handle numbering is
the schedule's rule (per team, in scheduling order), so ``G3`` names the same game here.

Each line that counts (not withdrawn, its game not cancelled) adds to its player's totals:
one invitation, one to its answer's column (or to "no answer"), and its late drop-outs. An
event that changes a counted line takes its old share off and puts the new one on, so the
totals always equal a count over the lines (the tests rebuild and compare).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
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
from core.projections.season.tables import (
    season_games,
    season_lines,
    season_teams,
    season_totals,
)


@dataclass(frozen=True, slots=True)
class _Share:
    """What one counted line adds to its player's totals."""

    team_id: str
    player_id: str
    answer: str | None
    late_dropouts: int


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
                for share in _counted(conn, line.game_id == game_id):
                    _add(conn, share, -1)
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


def _counted(conn: Connection, *where: Any) -> list[_Share]:
    """The shares of the counted lines that match ``where``."""
    line, g = season_lines.c, season_games.c
    rows = conn.execute(
        select(line.team_id, line.player_id, line.answer, line.late_dropouts)
        .outerjoin_from(season_lines, season_games, g.game_id == line.game_id)
        .where(*where, line.withdrawn.is_(False),
               g.cancelled.is_not(True)))  # no game row: counted, as before it is known
    return [_Share(r.team_id, r.player_id, r.answer, r.late_dropouts) for r in rows]


def _line_share(conn: Connection, check_id: str, player_id: str) -> _Share | None:
    line = season_lines.c
    found = _counted(conn, line.check_id == check_id, line.player_id == player_id)
    return found[0] if found else None


def _add(conn: Connection, share: _Share, sign: int) -> None:
    _move(conn, share if sign < 0 else None, share if sign > 0 else None)


def _move(conn: Connection, before: _Share | None, after: _Share | None) -> None:
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


def _change_line(conn: Connection, check_id: str, player_id: str, at: datetime,
                 share_after: Callable[[_Share], _Share | None], **values: Any) -> None:
    """Change a line, moving its share of the totals with it (``share_after`` says what
    the change does to a counted line's share)."""
    line = season_lines.c
    before = _line_share(conn, check_id, player_id)
    conn.execute(update(season_lines)
                 .where(line.check_id == check_id, line.player_id == player_id)
                 .values(changed_at=at, **values))
    if before is not None:
        _move(conn, before, share_after(before))


def _invite(conn: Connection, e: PlayerInvited, seq: int, at: datetime) -> None:
    """A new line, or a fresh start for one withdrawn earlier (the player rejoined); the
    player's name in the totals is the latest invitation's."""
    line, t = season_lines.c, season_totals.c
    invitee = e.invitee
    renamed = conn.execute(update(season_totals)
                           .where(t.team_id == e.team_id, t.player_id == invitee.player_id)
                           .values(name=invitee.name))
    if renamed.rowcount == 0:
        conn.execute(insert(season_totals).values(
            team_id=e.team_id, player_id=invitee.player_id, name=invitee.name, invited=0,
            yes=0, no=0, maybe=0, no_answer=0, late_dropouts=0))
    before = _line_share(conn, e.check_id, invitee.player_id)
    if before is not None:
        _add(conn, before, -1)
    again = conn.execute(update(season_lines)
                         .where(line.check_id == e.check_id, line.player_id == invitee.player_id)
                         .values(invited_seq=seq, answer=None, withdrawn=False, changed_at=at))
    if again.rowcount == 0:
        conn.execute(insert(season_lines).values(
            check_id=e.check_id, player_id=invitee.player_id, team_id=e.team_id,
            game_id=e.game_id, invited_seq=seq, answer=None, late_dropouts=0, withdrawn=False,
            changed_at=at))
    after = _line_share(conn, e.check_id, invitee.player_id)
    if after is not None:
        _add(conn, after, +1)
