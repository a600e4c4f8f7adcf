"""Each player's DM channel with the bot, remembered so that a DM costs one request.

discord.py sends a DM to a :class:`discord.User`: it fetches the user (the bot keeps no
member cache) and opens the DM channel first, three requests against Discord's global limit
of 50 a second for every one that says something. The channel of a user and a bot never
changes, so once it is known (kept in the database, for every process and after a restart)
a DM is posted to it straight away. Keyed by the bot as well: another bot token has
channels of its own.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import Column, ColumnElement, MetaData, String, Table, and_, delete, select

from core.eventstore.database import Database, upsert

metadata = MetaData()
# Created by migration 0010.
dm_channels = Table(
    "discord_dm_channels", metadata,
    Column("bot_id", String(30), primary_key=True),
    Column("user_id", String(30), primary_key=True),
    Column("channel_id", String(30), nullable=False),
)


class DmChannels:
    """user id -> DM channel id for one bot: in memory, and in ``db`` when given."""

    def __init__(self, db: Database | None = None) -> None:
        self._db = db
        self._known: dict[tuple[int, int], int] = {}

    async def get(self, bot_id: int, user_id: int) -> int | None:
        key = (bot_id, user_id)
        if key not in self._known and self._db is not None:
            found = await asyncio.to_thread(self._read, bot_id, user_id)
            if found is not None:
                self._known[key] = found
        return self._known.get(key)

    async def remember(self, bot_id: int, user_id: int, channel_id: int) -> None:
        self._known[(bot_id, user_id)] = channel_id
        if self._db is not None:
            await asyncio.to_thread(self._write, bot_id, user_id, channel_id)

    async def forget(self, bot_id: int, user_id: int, channel_id: int) -> None:
        """Drop ``channel_id`` (Discord no longer knows it), unless already replaced."""
        if self._known.get((bot_id, user_id)) == channel_id:
            del self._known[(bot_id, user_id)]
        if self._db is not None:
            await asyncio.to_thread(self._delete, bot_id, user_id, channel_id)

    def _read(self, bot_id: int, user_id: int) -> int | None:
        assert self._db is not None
        with self._db.read() as conn:
            found = conn.execute(select(dm_channels.c.channel_id).where(
                _row(bot_id, user_id))).scalar_one_or_none()
        return int(found) if found is not None else None

    def _write(self, bot_id: int, user_id: int, channel_id: int) -> None:
        assert self._db is not None
        with self._db.write() as conn:
            conn.execute(upsert(conn, dm_channels).values(
                bot_id=str(bot_id), user_id=str(user_id), channel_id=str(channel_id),
            ).on_conflict_do_update(index_elements=["bot_id", "user_id"],
                                    set_={"channel_id": str(channel_id)}))

    def _delete(self, bot_id: int, user_id: int, channel_id: int) -> None:
        assert self._db is not None
        with self._db.write() as conn:
            conn.execute(delete(dm_channels).where(
                _row(bot_id, user_id), dm_channels.c.channel_id == str(channel_id)))


def _row(bot_id: int, user_id: int) -> ColumnElement[bool]:
    return and_(dm_channels.c.bot_id == str(bot_id), dm_channels.c.user_id == str(user_id))
