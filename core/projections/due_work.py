"""Due work: what the scheduler must do for each game, and when. Its source of truth.

One row per due item, keyed ``<game_id>:<kind>`` (``<game_id>:remind:<reminder_key>`` for a
reminder, ``<game_id>:minimum_check:<start>`` for a minimum check). A game's plan is worked
out on ``GameScheduled`` and ``GameRescheduled``, and on ``TeamSettingsChanged`` for the
team's games still to play; ``T`` is the time of that event:

- ``start_check`` at the start minus the team's check lead time, or at ``T`` when that has
  passed (a game scheduled with less time to go gets its check at once);
- ``remind`` at the start minus each reminder time, only if that falls after ``T`` and after
  the check starts; its ``reminder_key`` is ``<minutes>@<start, UTC, YYYYMMDDTHHMMZ>``
  (e.g. ``1440@20261205T1900Z``), so a moved game gets its reminders again for the new time;
- ``minimum_check``, only while the team has a ``min_players``: at the latest reminder time
  (the smallest reminder minutes, or 3 hours before a team with no reminders), under the
  same rule as a reminder. Its key, which the scheduler sends as ``AlertIfBelowMinimum``'s,
  holds the start (``g1:minimum_check:20261205T1900Z``) but not the minutes: a moved game is
  checked again, changed reminder times only move a check still pending;
- ``start_game`` at the start, ``end_game`` after the team's game length;
- ``answer_deadline`` at the deadline a captain set (``AnswerDeadlineSet``, not the plan: a
  reschedule or new settings keep it where it is). The scheduler closes the check then.
  ``AnswerDeadlineCleared`` skips it; a deadline set again afterwards plans it afresh.

``start_check``, reminders, minimum checks and answer deadlines expire at the start: a
reminder that would arrive after the game is never sent, and a deadline at the start, or one
the game moved in front of, is left to the start, which closes the check anyway. All
arithmetic is on UTC instants, so "48 hours before" is 48 real hours across a daylight-saving
change; :attr:`DueItem.local_due_at` shows it in the team's zone.

Status comes from events only, so a rebuild gives the same rows: ``AttendanceCheckStarted``,
``RemindersRequested`` (with the item's key), ``MinimumChecked`` (recorded whether the check
was short or not, with the item's key), ``CheckClosed`` (for the answer deadline, whatever
closed the check), ``GameStarted`` and ``GameEnded`` mark items done; a
cancelled, started or ended game, a closed check (but a check closed at the captain's
deadline keeps its minimum check), a check that opened after a reminder or a minimum check
was due, or a plan that no longer has the item, mark pending items skipped
(with a ``note``). Rows are never deleted, so a reader following ``seq`` (the position of the
event that last changed a row) sees every change. The claim columns (``claimed_by``,
``claimed_until``, ``attempts``, ``last_error``) are the scheduler's lease on an item, written
by :func:`claim`, :func:`mark_sent` and :func:`postpone`; a rebuild resets them, which at
worst sends an idempotent command again.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    Index,
    Integer,
    MetaData,
    Row,
    Select,
    String,
    Table,
    Text,
    and_,
    case,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)

from core.aggregates.check import (
    DEADLINE_REASON,
    AnswerDeadlineCleared,
    AnswerDeadlineSet,
    CheckClosed,
    CheckOpened,
    MinimumChecked,
    RemindersRequested,
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
from core.eventstore.schema import Json
from core.projections.types import UtcDateTime

metadata = MetaData()
Id = String(200)

due_work_teams = Table(
    "due_work_teams", metadata,
    Column("team_id", Id, primary_key=True),
    Column("timezone", String(64), nullable=False),
    Column("check_lead_minutes", Integer, nullable=False),
    Column("reminder_minutes", Json, nullable=False),
    Column("game_length_minutes", Integer, nullable=False),
    Column("min_players", Integer),  # None: no minimum, so no minimum check
)

due_work_games = Table(
    "due_work_games", metadata,
    Column("game_id", Id, primary_key=True),
    Column("team_id", Id, nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("status", String(20), nullable=False),
    Column("check_id", Id),  # set when the check opened: reminders can go out from then on
    Column("check_opened_at", UtcDateTime),
    Index("due_work_games_team", "team_id"),
    Index("due_work_games_check", "check_id"),
)

due_work = Table(
    "due_work", metadata,
    Column("key", String(300), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("team_id", Id, nullable=False),
    Column("game_id", Id, nullable=False),
    Column("check_id", Id),
    Column("reminder_key", String(64)),
    Column("due_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime),
    Column("status", String(10), nullable=False),
    Column("note", Text),
    Column("seq", BigInteger, nullable=False),
    Column("claimed_by", String(200)),
    Column("claimed_until", UtcDateTime),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Index("due_work_status_due", "status", "due_at"),
    Index("due_work_game", "game_id"),
    Index("due_work_seq", "seq"),
)


class DueKind(enum.StrEnum):
    START_CHECK = "start_check"
    REMIND = "remind"
    MINIMUM_CHECK = "minimum_check"
    ANSWER_DEADLINE = "answer_deadline"
    START_GAME = "start_game"
    END_GAME = "end_game"


class DueStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    SKIPPED = "skipped"


PENDING = DueStatus.PENDING.value
SCHEDULED = GameStatus.SCHEDULED.value
DEFAULTS = TeamSettings(timezone="UTC")
MINIMUM_CHECK_MINUTES = 180  # before the start, for a team without reminders
BEFORE_START = (DueKind.START_CHECK, DueKind.REMIND, DueKind.MINIMUM_CHECK,
                DueKind.ANSWER_DEADLINE)


@dataclass(frozen=True, kw_only=True, slots=True)
class DueItem:
    key: str
    kind: DueKind
    team_id: str
    game_id: str
    check_id: str | None
    reminder_key: str | None
    due_at: datetime
    expires_at: datetime | None
    status: DueStatus
    note: str | None
    seq: int
    claimed_by: str | None
    claimed_until: datetime | None
    attempts: int
    last_error: str | None
    timezone: str  # the team's, for showing times

    @property
    def local_due_at(self) -> datetime:
        return self.due_at.astimezone(ZoneInfo(self.timezone))

    def live(self, now: datetime) -> bool:
        """Pending and not expired: worth a wake-up."""
        return self.status is DueStatus.PENDING and (
            self.expires_at is None or self.expires_at > now)


def item_key(game_id: str, kind: DueKind, reminder_key: str | None = None) -> str:
    return f"{game_id}:{kind}" if reminder_key is None else f"{game_id}:{kind}:{reminder_key}"


def reminder_key(minutes: int, starts_at: datetime) -> str:
    return f"{minutes}@{_stamp(starts_at)}"


def _stamp(starts_at: datetime) -> str:
    return f"{starts_at.astimezone(UTC):%Y%m%dT%H%MZ}"


class DueWorkProjection:
    name = "due_work"
    events: frozenset[type] = frozenset({
        TeamRegistered, TeamSettingsChanged, GameScheduled, GameRescheduled, GameCancelled,
        GameStarted, GameEnded, AttendanceCheckStarted, CheckOpened, RemindersRequested,
        MinimumChecked, AnswerDeadlineSet, AnswerDeadlineCleared, CheckClosed,
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
                      kinds=(DueKind.REMIND,) if at_deadline else (DueKind.REMIND,
                                                                   DueKind.MINIMUM_CHECK))


# -- writing ---------------------------------------------------------------------------------
def _save_team(conn: Connection, team_id: str, settings: TeamSettings, *,
               insert_row: bool) -> None:
    values: dict[str, Any] = {
        "timezone": settings.timezone, "check_lead_minutes": settings.check_lead_minutes,
        "reminder_minutes": list(settings.reminder_minutes),
        "game_length_minutes": settings.game_length_minutes,
        "min_players": settings.min_players,
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
    for kind, what in ((DueKind.REMIND, "reminder"), (DueKind.MINIMUM_CHECK, "minimum check")):
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
    key = item_key(game.game_id, DueKind.ANSWER_DEADLINE)
    d = due_work.c
    found = conn.execute(select(d.status).where(d.key == key)).first()
    if found is None:
        conn.execute(insert(due_work).values(
            key=key, kind=DueKind.ANSWER_DEADLINE.value, team_id=game.team_id,
            game_id=game.game_id, check_id=check_id, due_at=deadline,
            expires_at=game.starts_at, status=PENDING, seq=seq, attempts=0))
    elif found.status != DueStatus.DONE.value:  # a new time is a new job, as in _plan
        # Skipped only by a cleared deadline here: a cancelled or started game stops above.
        conn.execute(update(due_work).where(d.key == key).values(
            due_at=deadline, expires_at=game.starts_at, status=PENDING, note=None, seq=seq,
            claimed_by=None, claimed_until=None, attempts=0, last_error=None))


@dataclass(frozen=True, slots=True)
class _Planned:
    kind: DueKind
    due_at: datetime
    expires_at: datetime | None = None
    reminder_key: str | None = None


def _plan(conn: Connection, game_id: str, *, at: datetime, seq: int) -> None:
    """Bring a scheduled game's pending items in line with its start and its team's
    settings; done and skipped items stay as they are."""
    game = conn.execute(select(due_work_games)
                        .where(due_work_games.c.game_id == game_id)).first()
    if game is None or game.status != SCHEDULED:
        return
    team = conn.execute(select(due_work_teams)
                        .where(due_work_teams.c.team_id == game.team_id)).first()
    lead = team.check_lead_minutes if team else DEFAULTS.check_lead_minutes
    reminders = team.reminder_minutes if team else DEFAULTS.reminder_minutes
    length = team.game_length_minutes if team else DEFAULTS.game_length_minutes
    minimum = team.min_players if team else DEFAULTS.min_players
    starts: datetime = game.starts_at
    existing = {row.key: row for row in conn.execute(
        select(due_work).where(due_work.c.game_id == game_id))}

    wanted: dict[str, _Planned] = {}
    check_key = item_key(game_id, DueKind.START_CHECK)
    check_row = existing.get(check_key)
    floor = at
    if check_row is None or check_row.status == PENDING:
        check_at = max(starts - timedelta(minutes=lead), at)
        wanted[check_key] = _Planned(DueKind.START_CHECK, check_at, starts)
        floor = check_at
    if game.check_opened_at is not None:
        floor = max(floor, game.check_opened_at)
    for minutes in reminders:
        due = starts - timedelta(minutes=minutes)
        if due > floor:
            key = reminder_key(minutes, starts)
            wanted[item_key(game_id, DueKind.REMIND, key)] = _Planned(
                DueKind.REMIND, due, starts, key)
    if minimum is not None:
        due = starts - timedelta(minutes=min(reminders, default=MINIMUM_CHECK_MINUTES))
        if due > floor:
            wanted[item_key(game_id, DueKind.MINIMUM_CHECK, _stamp(starts))] = _Planned(
                DueKind.MINIMUM_CHECK, due, starts)
    deadline_key = item_key(game_id, DueKind.ANSWER_DEADLINE)
    deadline_row = existing.get(deadline_key)
    if deadline_row is not None and deadline_row.status == PENDING:
        # The captain's time stays; only its expiry follows the start.
        wanted[deadline_key] = _Planned(DueKind.ANSWER_DEADLINE, deadline_row.due_at, starts)
    wanted[item_key(game_id, DueKind.START_GAME)] = _Planned(DueKind.START_GAME, starts)
    wanted[item_key(game_id, DueKind.END_GAME)] = _Planned(
        DueKind.END_GAME, starts + timedelta(minutes=length))

    d = due_work.c
    for key, plan in wanted.items():
        row = existing.get(key)
        if row is None:
            conn.execute(insert(due_work).values(
                key=key, kind=plan.kind.value, team_id=game.team_id, game_id=game_id,
                check_id=game.check_id, reminder_key=plan.reminder_key, due_at=plan.due_at,
                expires_at=plan.expires_at, status=PENDING, seq=seq, attempts=0))
        elif row.status == PENDING and (row.due_at, row.expires_at) != (plan.due_at,
                                                                         plan.expires_at):
            # A new time is a new job: whatever was claimed or failed before starts afresh.
            conn.execute(update(due_work).where(d.key == key).values(
                due_at=plan.due_at, expires_at=plan.expires_at, seq=seq, claimed_by=None,
                claimed_until=None, attempts=0, last_error=None))
    gone = [key for key, row in existing.items() if key not in wanted and row.status == PENDING]
    if gone:
        conn.execute(update(due_work).where(d.key.in_(gone)).values(
            status=DueStatus.SKIPPED.value, seq=seq,
            note="no longer planned: the game moved or the team's settings changed"))


# -- the scheduler's lease on items ----------------------------------------------------------
# Answers close before a reminder due at the same moment: nobody is asked to answer as
# answering stops.
_ORDER = case((due_work.c.kind == DueKind.START_CHECK.value, 0),
              (due_work.c.kind == DueKind.ANSWER_DEADLINE.value, 1),
              (due_work.c.kind == DueKind.REMIND.value, 2),
              (due_work.c.kind == DueKind.MINIMUM_CHECK.value, 3),
              (due_work.c.kind == DueKind.START_GAME.value, 4), else_=5)


def claimable(now: datetime) -> ColumnElement[bool]:
    """Pending, due, not expired, not claimed by anyone (or the claim lapsed); a reminder, a
    minimum check or an answer deadline only once its check is open, the end of a game only
    once it started. So two processes never take a step before the one it needs (which the
    domain would refuse)."""
    d, g = due_work.c, due_work_games.c
    started = exists().where(g.game_id == d.game_id, g.status != SCHEDULED)
    return and_(
        d.status == PENDING, d.due_at <= now,
        or_(d.expires_at.is_(None), d.expires_at > now),
        or_(d.claimed_until.is_(None), d.claimed_until <= now),
        or_(d.kind.not_in([DueKind.REMIND.value, DueKind.MINIMUM_CHECK.value,
                           DueKind.ANSWER_DEADLINE.value]), d.check_id.is_not(None)),
        or_(d.kind != DueKind.END_GAME.value, started),
    )


def claim(conn: Connection, *, owner: str, now: datetime, until: datetime,
          limit: int = 20) -> list[DueItem]:
    """Claim up to ``limit`` due items for ``owner`` until ``until``, in due order.

    Call inside a short write transaction. On PostgreSQL the rows are picked with
    ``FOR UPDATE SKIP LOCKED``, so processes claiming at the same moment get different
    items; SQLite ignores the clause (it runs as one process).
    """
    d = due_work.c
    keys = list(conn.execute(
        select(d.key).where(claimable(now)).order_by(d.due_at, _ORDER, d.key).limit(limit)
        .with_for_update(skip_locked=True, of=due_work)).scalars())
    if not keys:
        return []
    conn.execute(update(due_work).where(d.key.in_(keys)).values(
        claimed_by=owner, claimed_until=until, attempts=d.attempts + 1))
    rows = conn.execute(_items().where(d.key.in_(keys)).order_by(d.due_at, _ORDER, d.key))
    return [_item(row) for row in rows]


def mark_sent(conn: Connection, key: str, *, owner: str) -> None:
    """The command went through: forget an earlier error (the claim stands until the
    projection marks the item done)."""
    d = due_work.c
    conn.execute(update(due_work).where(d.key == key, d.claimed_by == owner)
                 .values(last_error=None))


def postpone(conn: Connection, key: str, *, owner: str, until: datetime, error: str) -> None:
    """The command failed: keep the item claimed until ``until`` (a backoff), with why."""
    d = due_work.c
    conn.execute(update(due_work).where(d.key == key, d.claimed_by == owner)
                 .values(claimed_until=until, last_error=error))


# -- queries ---------------------------------------------------------------------------------
def _items() -> Select[Any]:
    t = due_work_teams.c
    return (select(due_work, func.coalesce(t.timezone, "UTC").label("timezone"))
            .select_from(due_work.outerjoin(due_work_teams,
                                            due_work_teams.c.team_id == due_work.c.team_id)))


def _item(row: Row[Any]) -> DueItem:
    return DueItem(
        key=row.key, kind=DueKind(row.kind), team_id=row.team_id, game_id=row.game_id,
        check_id=row.check_id, reminder_key=row.reminder_key, due_at=row.due_at,
        expires_at=row.expires_at, status=DueStatus(row.status), note=row.note, seq=row.seq,
        claimed_by=row.claimed_by, claimed_until=row.claimed_until, attempts=row.attempts,
        last_error=row.last_error, timezone=row.timezone)


def items_for_game(conn: Connection, game_id: str) -> list[DueItem]:
    """Every item of a game, done and skipped ones too, in due order."""
    d = due_work.c
    rows = conn.execute(_items().where(d.game_id == game_id).order_by(d.due_at, _ORDER, d.key))
    return [_item(row) for row in rows]


def pending(conn: Connection, *, due_by: datetime | None = None) -> list[DueItem]:
    """Pending items in due order; with ``due_by``, only those due by then."""
    d = due_work.c
    query = _items().where(d.status == PENDING)
    if due_by is not None:
        query = query.where(d.due_at <= due_by)
    return [_item(row) for row in conn.execute(query.order_by(d.due_at, _ORDER, d.key))]


def changed_since(conn: Connection, seq: int) -> list[DueItem]:
    """Items changed by events after position ``seq``, oldest change first."""
    d = due_work.c
    return [_item(row) for row in conn.execute(_items().where(d.seq > seq).order_by(d.seq))]


def last_change(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(due_work.c.seq), 0))).scalar_one())
