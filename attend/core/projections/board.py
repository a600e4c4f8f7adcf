"""Board: for each attendance check, every invitee's answer, the waitlist and the history.

Writes are small on purpose, since a player waits for their tap to show: an answer updates
its line and adds one history row; only a move on the waitlist touches the lines behind it.
Counts are taken from the lines when the board is read (a team has tens of players), so no
counter can drift from them. Waitlist places follow the check's own rules: a ``Yes`` beyond
the maximum joins the end of the queue, and whoever leaves it moves everyone behind up one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Table, bindparam, delete, insert, select, update

from attend.core.aggregates.check import (
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
)
from attend.core.aggregates.common import Answer, AnswerSource
from attend.core.eventstore import HandlerTransaction, RecordedEvent
from attend.core.projections.tables import board_checks, board_history, board_lines


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
        return sum(1 for i in self.lines if i.answer is None)

    @property
    def non_responders(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.lines if i.answer is None)

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
    })
    tables: tuple[Table, ...] = (board_checks, board_lines, board_history)

    def handle(self, tx: HandlerTransaction, recorded: RecordedEvent) -> None:
        conn: Connection = tx.connection
        c, line = board_checks.c, board_lines.c
        match recorded.event:
            case CheckOpened() as e:
                conn.execute(insert(board_checks).values(
                    check_id=e.check_id, game_id=e.game_id, team_id=e.team_id,
                    seq=recorded.position, starts_at=e.starts_at, is_open=True,
                    min_players=e.min_players, max_players=e.max_players))
            case PlayerInvited(check_id=check_id, invitee=invitee):
                conn.execute(insert(board_lines).values(
                    check_id=check_id, player_id=invitee.player_id, name=invitee.name,
                    invited_seq=recorded.position, invited_at=recorded.metadata.recorded_at))
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


# Statements an answer runs, built once: building and hashing a SQLAlchemy statement costs
# more than running it, and the board is on the path of every button press.
_line_c, _history_c = board_lines.c, board_history.c
_THIS_LINE = (_line_c.check_id == bindparam("c_id")) & (_line_c.player_id == bindparam("p_id"))
_SET_ANSWER = update(board_lines).where(_THIS_LINE).values(
    answer=bindparam("answer"), note=bindparam("note"), source=bindparam("source"),
    answered_at=bindparam("answered_at"))
# The name comes from the line, in the same statement: no extra round trip.
_ADD_HISTORY = insert(board_history).from_select(
    ["check_id", "seq", "player_id", "name", "answer", "previous", "note", "source", "at"],
    select(_line_c.check_id, bindparam("seq", type_=_history_c.seq.type), _line_c.player_id,
           _line_c.name, bindparam("answer", type_=_history_c.answer.type),
           bindparam("previous", type_=_history_c.previous.type),
           bindparam("note", type_=_history_c.note.type),
           bindparam("source", type_=_history_c.source.type),
           bindparam("answered_at", type_=_history_c.at.type))
    .where(_THIS_LINE))
_QUEUE_PLACE = select(_line_c.waitlist_position).where(_THIS_LINE)
_CHECK = select(board_checks).where(board_checks.c.check_id == bindparam("c_id"))
_LINES = select(board_lines).where(_line_c.check_id == bindparam("c_id")).order_by(
    _line_c.invited_seq)
_HISTORY = select(board_history).where(_history_c.check_id == bindparam("c_id")).order_by(
    _history_c.seq)


def _record_answer(conn: Connection, e: AnswerRecorded, seq: int) -> None:
    if e.previous is Answer.YES and e.answer is not Answer.YES:
        _leave_waitlist(conn, e.check_id, e.player_id)  # a Yes that was queued, if it was
    values = {"c_id": e.check_id, "p_id": e.player_id, "answer": e.answer.value,
              "note": e.note, "source": e.source.value, "answered_at": e.answered_at}
    conn.execute(_SET_ANSWER, values)
    conn.execute(_ADD_HISTORY, {**values, "seq": seq,
                                "previous": e.previous and e.previous.value})


def _set_line(conn: Connection, check_id: str, player_id: str, **values: Any) -> None:
    line = board_lines.c
    conn.execute(update(board_lines).where(line.check_id == check_id,
                                           line.player_id == player_id).values(**values))


def _leave_waitlist(conn: Connection, check_id: str, player_id: str) -> None:
    place = conn.execute(_QUEUE_PLACE, {"c_id": check_id, "p_id": player_id}).scalar()
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
    check = conn.execute(_CHECK, {"c_id": check_id}).first()
    if check is None:
        return None
    lines = conn.execute(_LINES, {"c_id": check_id})
    history = conn.execute(_HISTORY, {"c_id": check_id}) if with_history else ()
    return BoardView(
        check_id=check.check_id, game_id=check.game_id, team_id=check.team_id,
        starts_at=check.starts_at, open=check.is_open, min_players=check.min_players,
        max_players=check.max_players, deadline=check.deadline,
        lines=tuple(_line(row) for row in lines), history=tuple(_change(row) for row in history))


def board_for_game(conn: Connection, game_id: str, *,
                   with_history: bool = True) -> BoardView | None:
    """The board of the game's attendance check (the latest, should there be several)."""
    c = board_checks.c
    check_id = conn.execute(select(c.check_id).where(c.game_id == game_id)
                            .order_by(c.seq.desc()).limit(1)).scalar()
    return None if check_id is None else board(conn, check_id, with_history=with_history)


def answer_of(value: str | None) -> Answer | None:
    return None if value is None else Answer(value)


def _line(row: Row[Any]) -> BoardLine:
    return BoardLine(
        player_id=row.player_id, name=row.name, answer=answer_of(row.answer), note=row.note,
        source=None if row.source is None else AnswerSource(row.source),
        answered_at=row.answered_at, waitlist_position=row.waitlist_position,
        invited_at=row.invited_at)


def _change(row: Row[Any]) -> BoardChange:
    return BoardChange(
        player_id=row.player_id, name=row.name, answer=Answer(row.answer),
        previous=answer_of(row.previous), note=row.note, source=AnswerSource(row.source),
        at=row.at)
