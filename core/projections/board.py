"""Board: for each attendance check, every invitee's answer, the waitlist and the history.

Writes are small on purpose, since a player waits for their tap to show: an answer updates
its line and adds one history row; only a move on the waitlist touches the lines behind it.
Counts are taken from the lines when the board is read (a team has tens of players), so no
counter can drift from them. Waitlist places follow the check's own rules: a ``Yes`` beyond
the maximum joins the end of the queue, and whoever leaves it moves everyone behind up one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Table, bindparam, delete, insert, select, update

from core.aggregates.check import (
    AnswerDeadlineCleared,
    AnswerDeadlineSet,
    AnswerRecorded,
    CheckClosed,
    CheckMoved,
    CheckOpened,
    InvitationWithdrawn,
    PlayerInvited,
    PlayerPromoted,
    PlayerWaitlisted,
    ReservesReleased,
)
from core.aggregates.common import Answer, AnswerSource
from core.eventstore import HandlerTransaction, RecordedEvent
from core.eventstore.database import DriverSql, DriverSqlIn
from core.projections.tables import board_checks, board_history, board_lines
from core.projections.types import from_db_time, to_db_time


@dataclass(frozen=True, kw_only=True, slots=True)
class BoardLine:
    player_id: str
    name: str
    answer: Answer | None
    note: str | None
    source: AnswerSource | None
    answered_at: datetime | None
    waitlist_position: int | None  # 1-based place in the queue for a place
    invited_at: datetime
    reserve: bool = False  # asked because the team was short
    released: bool = False  # a reserve no longer needed: the team is full


@dataclass(frozen=True, kw_only=True, slots=True)
class BoardChange:
    player_id: str
    name: str
    answer: Answer
    previous: Answer | None
    note: str | None
    source: AnswerSource
    at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class BoardView:
    check_id: str
    game_id: str
    team_id: str
    starts_at: datetime
    open: bool
    min_players: int | None
    max_players: int | None
    deadline: datetime | None  # None: answers close at the start
    lines: tuple[BoardLine, ...]  # current invitees, in invitation order
    history: tuple[BoardChange, ...]  # every answer and change, oldest first

    @property
    def yes(self) -> int:
        """Confirmed places: a waitlisted Yes is counted in :attr:`waitlisted` instead."""
        return sum(1 for i in self.lines
                   if i.answer is Answer.YES and i.waitlist_position is None)

    @property
    def waitlisted(self) -> int:
        return sum(1 for i in self.lines if i.waitlist_position is not None)

    @property
    def no(self) -> int:
        return sum(1 for i in self.lines if i.answer is Answer.NO)

    @property
    def maybe(self) -> int:
        return sum(1 for i in self.lines if i.answer is Answer.MAYBE)

    @property
    def waiting(self) -> int:
        return sum(1 for i in self.lines if i.answer is None and not i.released)

    @property
    def non_responders(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.lines if i.answer is None and not i.released)

    @property
    def waitlist(self) -> tuple[BoardLine, ...]:
        return tuple(sorted((i for i in self.lines if i.waitlist_position is not None),
                            key=lambda i: i.waitlist_position or 0))

    @property
    def below_minimum(self) -> bool:
        return self.min_players is not None and self.yes < self.min_players


class BoardProjection:
    name = "board"
    events: frozenset[type] = frozenset({
        CheckOpened, PlayerInvited, InvitationWithdrawn, AnswerRecorded, PlayerWaitlisted,
        PlayerPromoted, CheckMoved, AnswerDeadlineSet, AnswerDeadlineCleared, CheckClosed,
        ReservesReleased,
    })
    tables: tuple[Table, ...] = (board_checks, board_lines, board_history)

    def handle_all(self, tx: HandlerTransaction, batch: list[RecordedEvent]) -> None:
        """A batch in order, each run of invitations (a check opening for the whole team)
        inserted as one statement run for each row, not one statement per invitee."""
        invited: list[dict[str, object]] = []
        for recorded in batch:
            if isinstance(recorded.event, PlayerInvited):
                invited.append(_line_of(recorded.event, recorded))
                continue
            _invite(tx.connection, invited)
            invited = []
            self.handle(tx, recorded)
        _invite(tx.connection, invited)

    def handle(self, tx: HandlerTransaction, recorded: RecordedEvent) -> None:
        conn: Connection = tx.connection
        c, line = board_checks.c, board_lines.c
        match recorded.event:
            case CheckOpened() as e:
                conn.execute(insert(board_checks).values(
                    check_id=e.check_id, game_id=e.game_id, team_id=e.team_id,
                    seq=recorded.position, starts_at=e.starts_at, is_open=True,
                    min_players=e.min_players, max_players=e.max_players))
            case PlayerInvited() as e:
                _invite(conn, [_line_of(e, recorded)])
            case ReservesReleased(check_id=check_id, player_ids=player_ids) if player_ids:
                conn.execute(update(board_lines).where(
                    line.check_id == check_id, line.player_id.in_(player_ids))
                    .values(released=True))
            case InvitationWithdrawn(check_id=check_id, player_id=player_id):
                place = conn.execute(delete(board_lines)
                                     .where(line.check_id == check_id,
                                            line.player_id == player_id)
                                     .returning(line.waitlist_position)).scalar()
                _close_gap(conn, check_id, place)
            case AnswerRecorded() as e:
                _record_answer(conn, e, recorded.position)
            case PlayerWaitlisted(check_id=check_id, player_id=player_id, position=place):
                _set_line(conn, check_id, player_id, waitlist_position=place)
            case PlayerPromoted(check_id=check_id, player_id=player_id):
                _leave_waitlist(conn, check_id, player_id)
            case CheckMoved(check_id=check_id, starts_at=starts_at):
                conn.execute(update(board_checks).where(c.check_id == check_id)
                             .values(starts_at=starts_at))
            case AnswerDeadlineSet(check_id=check_id, deadline=deadline):
                conn.execute(update(board_checks).where(c.check_id == check_id)
                             .values(deadline=deadline))
            case AnswerDeadlineCleared(check_id=check_id):
                conn.execute(update(board_checks).where(c.check_id == check_id)
                             .values(deadline=None))
            case CheckClosed(check_id=check_id):
                conn.execute(update(board_checks).where(c.check_id == check_id)
                             .values(is_open=False))


_INVITE = insert(board_lines)


def _line_of(e: PlayerInvited, recorded: RecordedEvent) -> dict[str, object]:
    """The board line an invitation starts (``reserve`` only for a reserve: else the
    column's default, which a board replayed by an older migration has no column for)."""
    line: dict[str, object] = {
        "check_id": e.check_id, "player_id": e.invitee.player_id, "name": e.invitee.name,
        "invited_seq": recorded.position, "invited_at": recorded.metadata.recorded_at}
    if e.reserve:
        line["reserve"] = True
    return line


def _invite(conn: Connection, rows: list[dict[str, object]]) -> None:
    """Invitations' lines, in one statement run for each row (so all with the same
    columns)."""
    if any("reserve" in row for row in rows):
        rows = [{"reserve": False, **row} for row in rows]
    if rows:
        conn.execute(_INVITE, rows)


# An answer's writes and the board read after it run as driver-level SQL: SQLAlchemy's
# statement and result machinery costs several times what the database takes to run them,
# and the board is on the path of every button press. On PostgreSQL the line and its
# history row go in one statement (one round trip); the name comes from the line.
_ANSWER_PG = DriverSql(
    "WITH line AS (UPDATE board_lines SET answer = %s, note = %s, source = %s, "
    "answered_at = %s WHERE check_id = %s AND player_id = %s RETURNING name) "
    "INSERT INTO board_history (check_id, seq, player_id, name, answer, previous, note, "
    "source, at) SELECT %s, %s, %s, name, %s, %s, %s, %s, %s FROM line")
_SET_ANSWER = DriverSql(
    "UPDATE board_lines SET answer = %s, note = %s, source = %s, answered_at = %s "
    "WHERE check_id = %s AND player_id = %s")
_ADD_HISTORY = DriverSql(
    "INSERT INTO board_history (check_id, seq, player_id, name, answer, previous, note, "
    "source, at) SELECT check_id, %s, player_id, name, %s, %s, %s, %s, %s FROM board_lines "
    "WHERE check_id = %s AND player_id = %s")
_QUEUE_PLACE = DriverSql(
    "SELECT waitlist_position FROM board_lines WHERE check_id = %s AND player_id = %s")
# The check and its lines in one statement: one round trip, one snapshot.
_BOARD = DriverSql(
    "SELECT c.check_id, c.game_id, c.team_id, c.starts_at, c.is_open, c.min_players, "
    "c.max_players, c.deadline, l.player_id, l.name, l.answer, l.note, l.source, "
    "l.answered_at, l.waitlist_position, l.invited_at, l.reserve, l.released "
    "FROM board_checks c LEFT JOIN board_lines l ON l.check_id = c.check_id "
    "WHERE c.check_id = %s ORDER BY l.invited_seq")
_LINES = DriverSqlIn(
    "SELECT player_id, name, answer, note, source, answered_at, waitlist_position, "
    "invited_at, reserve, released FROM board_lines WHERE check_id = %s AND player_id {one_of}")
_CHECK_OF_GAME = DriverSql(
    "SELECT check_id FROM board_checks WHERE game_id = %s ORDER BY seq DESC LIMIT 1")
_history_c = board_history.c
_HISTORY = select(board_history).where(_history_c.check_id == bindparam("c_id")).order_by(
    _history_c.seq)


def _record_answer(conn: Connection, e: AnswerRecorded, seq: int) -> None:
    if e.previous is Answer.YES and e.answer is not Answer.YES:
        _leave_waitlist(conn, e.check_id, e.player_id)  # a Yes that was queued, if it was
    dialect = conn.dialect.name
    at = to_db_time(e.answered_at, dialect)
    answer, previous = e.answer.value, e.previous and e.previous.value
    if dialect == "postgresql":
        _ANSWER_PG.run(conn, answer, e.note, e.source.value, at, e.check_id, e.player_id,
                       e.check_id, seq, e.player_id, answer, previous, e.note,
                       e.source.value, at)
        return
    _SET_ANSWER.run(conn, answer, e.note, e.source.value, at, e.check_id, e.player_id)
    _ADD_HISTORY.run(conn, seq, answer, previous, e.note, e.source.value, at, e.check_id,
                     e.player_id)


def _set_line(conn: Connection, check_id: str, player_id: str, **values: Any) -> None:
    line = board_lines.c
    conn.execute(update(board_lines).where(line.check_id == check_id,
                                           line.player_id == player_id).values(**values))


def _leave_waitlist(conn: Connection, check_id: str, player_id: str) -> None:
    found = _QUEUE_PLACE.rows(conn, check_id, player_id)
    place = found[0][0] if found else None
    if place is not None:
        _set_line(conn, check_id, player_id, waitlist_position=None)
        _close_gap(conn, check_id, place)


def _close_gap(conn: Connection, check_id: str, place: int | None) -> None:
    """Everyone queued behind ``place`` moves up one."""
    if place is None:
        return
    line = board_lines.c
    conn.execute(update(board_lines)
                 .where(line.check_id == check_id, line.waitlist_position > place)
                 .values(waitlist_position=line.waitlist_position - 1))


# -- queries ---------------------------------------------------------------------------------
def board(conn: Connection, check_id: str, *, with_history: bool = True) -> BoardView | None:
    """The board of one check; ``with_history=False`` skips the change log (it grows with
    every answer, and a button press only needs the lines and counts)."""
    rows = _BOARD.rows(conn, check_id)
    if not rows:
        return None
    check = rows[0]
    history = conn.execute(_HISTORY, {"c_id": check_id}) if with_history else ()
    return BoardView(
        check_id=check[0], game_id=check[1], team_id=check[2],
        starts_at=_utc(check[3]), open=bool(check[4]), min_players=check[5],
        max_players=check[6], deadline=from_db_time(check[7]),
        lines=tuple(_line(row[8:]) for row in rows if row[8] is not None),
        history=tuple(_change(row) for row in history))


def lines(conn: Connection, check_id: str, player_ids: Iterable[str]) -> dict[str, BoardLine]:
    """These players' lines of the check, by player (a delivery worker's claimed batch)."""
    ids = sorted(set(player_ids))
    if not ids:
        return {}
    return {row[0]: _line(row) for row in _LINES.rows_in(conn, check_id, values=ids)}


def board_for_game(conn: Connection, game_id: str, *,
                   with_history: bool = True) -> BoardView | None:
    """The board of the game's attendance check (the latest, should there be several)."""
    found = _CHECK_OF_GAME.rows(conn, game_id)
    return None if not found else board(conn, found[0][0], with_history=with_history)


_ANSWERS = {a.value: a for a in Answer}
_SOURCES = {s.value: s for s in AnswerSource}


def answer_of(value: str | None) -> Answer | None:
    return None if value is None else _ANSWERS[value]


def _utc(value: Any) -> datetime:
    converted = from_db_time(value)
    assert converted is not None
    return converted


def _line(row: tuple[Any, ...]) -> BoardLine:
    """A line from ``player_id, name, answer, note, source, answered_at,
    waitlist_position, invited_at, reserve, released``."""
    answer, source = row[2], row[4]
    return BoardLine(
        player_id=row[0], name=row[1], answer=answer_of(answer),
        note=row[3], source=None if source is None else _SOURCES[source],
        answered_at=from_db_time(row[5]), waitlist_position=row[6],
        invited_at=_utc(row[7]), reserve=bool(row[8]), released=bool(row[9]))


def _change(row: Row[Any]) -> BoardChange:
    return BoardChange(
        player_id=row.player_id, name=row.name, answer=Answer(row.answer),
        previous=answer_of(row.previous), note=row.note, source=AnswerSource(row.source),
        at=row.at)
