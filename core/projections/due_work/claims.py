"""The scheduler's lease on due items: claim what is due, then note how the command went.

A claim takes items that are due and not claimed (or whose claim lapsed) for an owner until
a given time; on PostgreSQL with ``FOR UPDATE SKIP LOCKED``, so several ``attend serve``
processes never take the same item. Success leaves the claim in place until the projection
marks the item done from the recorded events; a failure keeps it claimed for a backoff.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Connection, and_, exists, or_, select, update

from core.aggregates.game import GameStatus
from core.projections.due_work.plan import DueKind, DueStatus
from core.projections.due_work.queries import DUE_ORDER, DueItem, items_with_keys
from core.projections.due_work.tables import due_work, due_work_games

PENDING = DueStatus.PENDING.value
SCHEDULED = GameStatus.SCHEDULED.value


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
        select(d.key).where(claimable(now)).order_by(d.due_at, DUE_ORDER, d.key).limit(limit)
        .with_for_update(skip_locked=True, of=due_work)).scalars())
    if not keys:
        return []
    conn.execute(update(due_work).where(d.key.in_(keys)).values(
        claimed_by=owner, claimed_until=until, attempts=d.attempts + 1))
    return items_with_keys(conn, keys)


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
