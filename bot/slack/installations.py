"""Slack workspaces that installed Attend, for running one Attend for many workspaces.

slack-sdk's SQLAlchemy stores keep the installations (each workspace's bot token) and the
OAuth ``state`` values of installs in progress, in tables of their own in Attend's database,
created at start if missing. Those stores are synchronous; slack-bolt's async app wants
async ones, so the adapters below run each call in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine

log = logging.getLogger(__name__)

STATE_LIFETIME_S = 600  # an install started and not finished within 10 minutes starts over


class Installations(AsyncInstallationStore):
    def __init__(self, engine: Engine, client_id: str) -> None:
        self._store = SQLAlchemyInstallationStore(client_id=client_id, engine=engine,
                                                  logger=log)
        self.states = _States(SQLAlchemyOAuthStateStore(
            expiration_seconds=STATE_LIFETIME_S, engine=engine, logger=log))

    @classmethod
    def open(cls, engine: Engine, client_id: str) -> Installations:
        """The stores, with their tables created if missing (safe on every start)."""
        installations = cls(engine, client_id)
        installations._store.create_tables()
        installations.states.store.create_tables()
        return installations

    async def bot_token(self, workspace: str) -> str | None:
        bot = await self.async_find_bot(enterprise_id=None, team_id=workspace)
        return bot.bot_token if bot is not None else None

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        await asyncio.to_thread(self._store.save, installation)

    async def async_save_bot(self, bot: Bot) -> None:
        await asyncio.to_thread(self._store.save_bot, bot)

    async def async_find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                             is_enterprise_install: bool | None = False) -> Bot | None:
        return await asyncio.to_thread(self._store.find_bot, enterprise_id=enterprise_id,
                                       team_id=team_id,
                                       is_enterprise_install=is_enterprise_install)

    async def async_find_installation(self, *, enterprise_id: str | None,
                                      team_id: str | None, user_id: str | None = None,
                                      is_enterprise_install: bool | None = False
                                      ) -> Installation | None:
        return await asyncio.to_thread(self._store.find_installation,
                                       enterprise_id=enterprise_id, team_id=team_id,
                                       user_id=user_id,
                                       is_enterprise_install=is_enterprise_install)

    async def async_delete_bot(self, *, enterprise_id: str | None,
                               team_id: str | None) -> None:
        await asyncio.to_thread(self._store.delete_bot, enterprise_id=enterprise_id,
                                team_id=team_id)

    async def async_delete_installation(self, *, enterprise_id: str | None,
                                        team_id: str | None,
                                        user_id: str | None = None) -> None:
        await asyncio.to_thread(self._store.delete_installation, enterprise_id=enterprise_id,
                                team_id=team_id, user_id=user_id)


class _States(AsyncOAuthStateStore):
    def __init__(self, store: SQLAlchemyOAuthStateStore) -> None:
        self.store = store

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        return await asyncio.to_thread(self.store.issue, *args, **kwargs)

    async def async_consume(self, state: str) -> bool:
        return await asyncio.to_thread(self.store.consume, state)
