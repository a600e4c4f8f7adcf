"""Reading the due work: items of a game, pending items, and what changed since a position."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Row, Select, case, func, select

from core.projections.due_work.plan import DueKind, DueStatus
from core.projections.due_work.tables import due_work, due_work_teams


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


# Answers close before a reminder due at the same moment: nobody is asked to answer as
# answering stops.
DUE_ORDER = case((due_work.c.kind == DueKind.START_CHECK.value, 0),
                 (due_work.c.kind == DueKind.ANSWER_DEADLINE.value, 1),
                 (due_work.c.kind == DueKind.REMIND.value, 2),
                 (due_work.c.kind == DueKind.MINIMUM_CHECK.value, 3),
                 (due_work.c.kind == DueKind.ASK_RESERVES.value, 4),
                 (due_work.c.kind == DueKind.START_GAME.value, 5), else_=6)


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


def items_with_keys(conn: Connection, keys: Sequence[str]) -> list[DueItem]:
    """The items of ``keys``, in due order."""
    d = due_work.c
    rows = conn.execute(_items().where(d.key.in_(keys)).order_by(d.due_at, DUE_ORDER, d.key))
    return [_item(row) for row in rows]


def items_for_game(conn: Connection, game_id: str) -> list[DueItem]:
    """Every item of a game, done and skipped ones too, in due order."""
    d = due_work.c
    rows = conn.execute(_items().where(d.game_id == game_id).order_by(d.due_at, DUE_ORDER, d.key))
    return [_item(row) for row in rows]


def pending(conn: Connection, *, due_by: datetime | None = None) -> list[DueItem]:
    """Pending items in due order; with ``due_by``, only those due by then."""
    d = due_work.c
    query = _items().where(d.status == DueStatus.PENDING.value)
    if due_by is not None:
        query = query.where(d.due_at <= due_by)
    return [_item(row) for row in conn.execute(query.order_by(d.due_at, DUE_ORDER, d.key))]


def changed_since(conn: Connection, seq: int) -> list[DueItem]:
    """Items changed by events after position ``seq``, oldest change first."""
    d = due_work.c
    return [_item(row) for row in conn.execute(_items().where(d.seq > seq).order_by(d.seq))]


def last_change(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(due_work.c.seq), 0))).scalar_one())
