"""The due-work projection: keeps a game's due items in step with the events.

What a game's items are is decided by the rules in :mod:`core.projections.due_work.plan`,
asked on ``GameScheduled`` and ``GameRescheduled``, and on ``TeamSettingsChanged`` for the
team's games still to play; an answer deadline is planned on ``AnswerDeadlineSet`` (a
reschedule or new settings keep it where it is) and skipped on ``AnswerDeadlineCleared``.
This module only writes what those rules decide, and the statuses below.

Status comes from events only, so a rebuild gives the same rows: ``AttendanceCheckStarted``,
``RemindersRequested`` (with the item's key), ``MinimumChecked`` and ``ReservesAsked``
(recorded whether the check was short or not, with the item's key), ``CheckClosed`` (for
the answer deadline, whatever closed the check), ``GameStarted`` and ``GameEnded`` mark
items done; a
cancelled, started or ended game, a closed check (but a check closed at the captain's
deadline keeps its minimum check), a check that opened after a reminder or a minimum check
was due, or a plan that no longer has the item, mark pending items skipped
(with a ``note``). Rows are never deleted, so a reader following ``seq`` (the position of the
event that last changed a row) sees every change. A rebuild resets the scheduler's claims,
which at worst sends an idempotent command again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Table, insert, select, update

from core.aggregates.check import (
    DEADLINE_REASON,
    AnswerDeadlineCleared,
    AnswerDeadlineSet,
    CheckClosed,
    CheckOpened,
    MinimumChecked,
    RemindersRequested,
    ReservesAsked,
)
from core.aggregates.game import (
    AttendanceCheckStarted,
    GameCancelled,
    GameEnded,
    GameRescheduled,
    GameScheduled,
    GameStarted,
    GameStatus,
)
from core.aggregates.team import TeamRegistered, TeamSettings, TeamSettingsChanged
from core.eventstore import HandlerTransaction, RecordedEvent
from core.projections.due_work.plan import (
    BEFORE_START,
    DueKind,
    DueStatus,
    Existing,
    GameState,
    TeamTiming,
    item_key,
    plan_deadline,
    plan_game,
    replan,
)
from core.projections.due_work.tables import due_work, due_work_games, due_work_teams

PENDING = DueStatus.PENDING.value
SCHEDULED = GameStatus.SCHEDULED.value
DEFAULTS = TeamSettings(timezone="UTC")


class DueWorkProjection:
    name = "due_work"
    events: frozenset[type] = frozenset({
        TeamRegistered, TeamSettingsChanged, GameScheduled, GameRescheduled, GameCancelled,
        GameStarted, GameEnded, AttendanceCheckStarted, CheckOpened, RemindersRequested,
        MinimumChecked, AnswerDeadlineSet, AnswerDeadlineCleared, CheckClosed, ReservesAsked,
    })
    tables: tuple[Table, ...] = (due_work_teams, due_work_games, due_work)

    def handle(self, tx: HandlerTransaction, recorded: RecordedEvent) -> None:
        conn: Connection = tx.connection
        seq = recorded.position
        g = due_work_games.c
        match recorded.event:
            case TeamRegistered(team_id=team_id, settings=settings):
                _save_team(conn, team_id, settings, insert_row=True)
            case TeamSettingsChanged(team_id=team_id, settings=settings):
                _save_team(conn, team_id, settings, insert_row=False)
                games = conn.execute(select(g.game_id).where(
                    g.team_id == team_id, g.status == SCHEDULED).order_by(g.game_id)).scalars()
                for game_id in list(games):
                    _plan(conn, game_id, at=recorded.metadata.recorded_at, seq=seq)
            case GameScheduled(game_id=game_id, team_id=team_id, starts_at=starts_at):
                conn.execute(insert(due_work_games).values(
                    game_id=game_id, team_id=team_id, starts_at=starts_at, status=SCHEDULED))
                _plan(conn, game_id, at=recorded.metadata.recorded_at, seq=seq)
            case GameRescheduled(game_id=game_id, starts_at=starts_at):
                _set_game(conn, game_id, starts_at=starts_at)
                _plan(conn, game_id, at=recorded.metadata.recorded_at, seq=seq)
            case GameCancelled(game_id=game_id):
                _set_game(conn, game_id, status=GameStatus.CANCELLED.value)
                _skip(conn, seq, "game cancelled", game_id=game_id)
            case GameStarted(game_id=game_id):
                _set_game(conn, game_id, status=GameStatus.STARTED.value)
                _done(conn, seq, item_key(game_id, DueKind.START_GAME))
                _skip(conn, seq, "game started", game_id=game_id, kinds=BEFORE_START)
            case GameEnded(game_id=game_id):
                _set_game(conn, game_id, status=GameStatus.ENDED.value)
                _done(conn, seq, item_key(game_id, DueKind.END_GAME))
                _skip(conn, seq, "game ended", game_id=game_id)
            case AttendanceCheckStarted(game_id=game_id):
                _done(conn, seq, item_key(game_id, DueKind.START_CHECK))
            case CheckOpened(check_id=check_id, game_id=game_id, opened_at=opened_at):
                _opened(conn, seq, game_id, check_id, opened_at)
            case RemindersRequested(check_id=check_id, reminder_key=key):
                game_id = conn.execute(select(g.game_id).where(g.check_id == check_id)
                                       .limit(1)).scalar()
                if game_id is not None:  # a captain's own reminder has no item: no match
                    _done(conn, seq, item_key(game_id, DueKind.REMIND, key))
            case MinimumChecked(check_id=check_id, key=key):
                # The scheduler sends the item's own key; any other key matches no item.
                _done(conn, seq, key, kind=DueKind.MINIMUM_CHECK, check_id=check_id)
            case ReservesAsked(check_id=check_id, key=key):
                _done(conn, seq, key, kind=DueKind.ASK_RESERVES, check_id=check_id)
            case AnswerDeadlineSet(check_id=check_id, deadline=deadline):
                _deadline(conn, seq, check_id, deadline)
            case AnswerDeadlineCleared(check_id=check_id):
                _skip(conn, seq, "deadline cleared", check_id=check_id,
                      kinds=(DueKind.ANSWER_DEADLINE,))
            case CheckClosed(check_id=check_id, reason=reason):
                # Answers are closed, which is all a deadline asks for, whoever closed them.
                _done(conn, seq, None, kind=DueKind.ANSWER_DEADLINE, check_id=check_id,
                      pending_only=True)
                # Closed at the captain's deadline, the game is still on: a short team is
                # still worth a warning (the game's start or cancellation skips it).
                at_deadline = reason == DEADLINE_REASON
                _skip(conn, seq, "check closed", check_id=check_id,
                      kinds=(DueKind.REMIND, DueKind.ASK_RESERVES) if at_deadline
                      else (DueKind.REMIND, DueKind.MINIMUM_CHECK, DueKind.ASK_RESERVES))


# -- writing ---------------------------------------------------------------------------------
def _save_team(conn: Connection, team_id: str, settings: TeamSettings, *,
               insert_row: bool) -> None:
    values: dict[str, Any] = {
        "timezone": settings.timezone, "check_lead_minutes": settings.check_lead_minutes,
        "reminder_minutes": list(settings.reminder_minutes),
        "game_length_minutes": settings.game_length_minutes,
        "min_players": settings.min_players, "reserve_minutes": settings.reserve_minutes,
    }
    if insert_row:
        conn.execute(insert(due_work_teams).values(team_id=team_id, **values))
    else:
        conn.execute(update(due_work_teams).where(due_work_teams.c.team_id == team_id)
                     .values(**values))


def _set_game(conn: Connection, game_id: str, **values: Any) -> None:
    conn.execute(update(due_work_games).where(due_work_games.c.game_id == game_id)
                 .values(**values))


def _done(conn: Connection, seq: int, key: str | None, *, kind: DueKind | None = None,
          check_id: str | None = None, pending_only: bool = False) -> None:
    d = due_work.c
    where = [] if key is None else [d.key == key]
    if pending_only:
        where.append(d.status == PENDING)
    if kind is not None:
        where.append(d.kind == kind.value)
    if check_id is not None:
        where.append(d.check_id == check_id)
    conn.execute(update(due_work).where(*where)
                 .values(status=DueStatus.DONE.value, note=None, seq=seq))


def _skip(conn: Connection, seq: int, note: str, *, game_id: str | None = None,
          check_id: str | None = None, kinds: Sequence[DueKind] = ()) -> None:
    d = due_work.c
    where = [d.status == PENDING]
    if game_id is not None:
        where.append(d.game_id == game_id)
    if check_id is not None:
        where.append(d.check_id == check_id)
    if kinds:
        where.append(d.kind.in_([k.value for k in kinds]))
    conn.execute(update(due_work).where(*where)
                 .values(status=DueStatus.SKIPPED.value, note=note, seq=seq))


def _opened(conn: Connection, seq: int, game_id: str, check_id: str,
            opened_at: datetime) -> None:
    d = due_work.c
    _set_game(conn, game_id, check_id=check_id, check_opened_at=opened_at)
    # A reminder right behind the invitation would only repeat it, and a minimum check then
    # would find nobody has answered yet.
    for kind, what in ((DueKind.REMIND, "reminder"), (DueKind.MINIMUM_CHECK, "minimum check"),
                       (DueKind.ASK_RESERVES, "question to the reserves")):
        conn.execute(update(due_work).where(
            d.game_id == game_id, d.status == PENDING, d.kind == kind.value,
            d.due_at <= opened_at).values(status=DueStatus.SKIPPED.value, seq=seq,
                                          note=f"the check opened after this {what} was due"))
    conn.execute(update(due_work).where(d.game_id == game_id).values(check_id=check_id,
                                                                        seq=seq))


def _deadline(conn: Connection, seq: int, check_id: str, deadline: datetime) -> None:
    """Plan the answer deadline, or move it; nothing once the game is under way or over."""
    g = due_work_games.c
    game = conn.execute(select(due_work_games).where(g.check_id == check_id).limit(1)).first()
    if game is None or game.status != SCHEDULED:
        return
    item = plan_deadline(game.game_id, deadline, starts_at=game.starts_at)
    d = due_work.c
    found = conn.execute(select(d.status).where(d.key == item.key)).first()
    if found is None:
        conn.execute(insert(due_work).values(
            key=item.key, kind=item.kind.value, team_id=game.team_id, game_id=game.game_id,
            check_id=check_id, due_at=item.due_at, expires_at=item.expires_at, status=PENDING,
            seq=seq, attempts=0))
    elif found.status != DueStatus.DONE.value:  # a new time is a new job, as in _plan
        # Skipped only by a cleared deadline here: a cancelled or started game stops above.
        conn.execute(update(due_work).where(d.key == item.key).values(
            due_at=item.due_at, expires_at=item.expires_at, status=PENDING, note=None,
            seq=seq, **_UNCLAIMED))


_UNCLAIMED: dict[str, Any] = {"claimed_by": None, "claimed_until": None, "attempts": 0,
                              "last_error": None}


def _plan(conn: Connection, game_id: str, *, at: datetime, seq: int) -> None:
    """Bring a scheduled game's pending items in line with its start and its team's
    settings (:func:`~core.projections.due_work.plan.plan_game`)."""
    game = conn.execute(select(due_work_games)
                        .where(due_work_games.c.game_id == game_id)).first()
    if game is None or game.status != SCHEDULED:
        return
    team = conn.execute(select(due_work_teams)
                        .where(due_work_teams.c.team_id == game.team_id)).first()
    existing = {row.key: Existing(status=DueStatus(row.status), due_at=row.due_at,
                                  expires_at=row.expires_at)
                for row in conn.execute(select(due_work).where(due_work.c.game_id == game_id))}
    check = existing.get(item_key(game_id, DueKind.START_CHECK))
    deadline = existing.get(item_key(game_id, DueKind.ANSWER_DEADLINE))
    state = GameState(
        game_id=game_id, starts_at=game.starts_at, check_opened_at=game.check_opened_at,
        check_start_pending=check is None or check.status is DueStatus.PENDING,
        deadline=deadline.due_at if deadline and deadline.status is DueStatus.PENDING
        else None)
    changes = replan(existing, plan_game(state, _timing(team), at=at))
    for item in changes.new:
        conn.execute(insert(due_work).values(
            key=item.key, kind=item.kind.value, team_id=game.team_id, game_id=game_id,
            check_id=game.check_id, reminder_key=item.reminder_key, due_at=item.due_at,
            expires_at=item.expires_at, status=PENDING, seq=seq, attempts=0))
    for item in changes.moved:
        # A new time is a new job: whatever was claimed or failed before starts afresh.
        conn.execute(update(due_work).where(due_work.c.key == item.key).values(
            due_at=item.due_at, expires_at=item.expires_at, seq=seq, **_UNCLAIMED))
    if changes.dropped:
        conn.execute(update(due_work).where(due_work.c.key.in_(changes.dropped)).values(
            status=DueStatus.SKIPPED.value, seq=seq,
            note="no longer planned: the game moved or the team's settings changed"))


def _timing(team: Row[Any] | None) -> TeamTiming:
    source = team if team is not None else DEFAULTS
    return TeamTiming(check_lead_minutes=source.check_lead_minutes,
                      reminder_minutes=tuple(source.reminder_minutes),
                      game_length_minutes=source.game_length_minutes,
                      min_players=source.min_players,
                      reserve_minutes=source.reserve_minutes)
