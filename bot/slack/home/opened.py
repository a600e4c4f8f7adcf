"""Who has a Home: only their Homes are published again when something changes.

Kept in a table (``slack_homes``), so another process and a restart know them too.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Column, Connection, MetaData, String, Table, insert, select
from sqlalchemy.exc import IntegrityError

from core.eventstore.database import Database
from core.projections.types import UtcDateTime

# Created by migration 0014.
slack_homes = Table("slack_homes", MetaData(),
                    Column("slack_user", String(200), primary_key=True),  # "<workspace>:<user>"
                    Column("opened_at", UtcDateTime(), nullable=False))


class HomeViews:
    """The Slack users who have opened their Home (and so have one published)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._known: set[str] = set()  # written already: opening it again writes nothing

    def opened(self, slack_user: str, at: datetime) -> None:
        if slack_user in self._known:
            return
        try:
            with self._db.write() as conn:
                conn.execute(insert(slack_homes).values(slack_user=slack_user, opened_at=at))
        except IntegrityError:
            pass  # opened before, perhaps through another process
        self._known.add(slack_user)

    @staticmethod
    def any(conn: Connection) -> bool:
        return conn.execute(select(slack_homes.c.slack_user).limit(1)).first() is not None

    @staticmethod
    def among(conn: Connection, slack_users: Collection[str]) -> set[str]:
        if not slack_users:
            return set()
        h = slack_homes.c
        return set(conn.execute(select(h.slack_user).where(
            h.slack_user.in_(sorted(slack_users)))).scalars())
