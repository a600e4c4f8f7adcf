"""Publishing again the Homes that show what changed, once per burst."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from bot.slack.home.changes import HomeChanges, Touch, stale_homes
from bot.slack.home.publish import Home
from core.bootstrap import App
from core.eventstore.database import Database

log = logging.getLogger(__name__)

HOME_READ_MODELS = ("board", "schedule", "roster", "directory")  # what a Home is read from


class HomeRefresher:
    """Publishes the Homes that show what :class:`HomeChanges` noted: waits ``pause``
    after the first change so a burst of answers becomes one publish per Home, then waits
    for the read models to show them (``catch_up``)."""

    def __init__(self, changes: HomeChanges, home: Home, db: Database,
                 catch_up: Callable[[int], object], *, pause: float = 0.3) -> None:
        self._changes, self._home, self._db = changes, home, db
        self._catch_up = catch_up
        self._pause = pause

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()
        wake.set()  # changes noted before this started (catching up at start)

        def noted() -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: serve is stopping
                loop.call_soon_threadsafe(wake.set)

        stop_listening = self._changes.listen(noted)
        try:
            while True:
                await wake.wait()
                await asyncio.sleep(self._pause)
                wake.clear()
                await self.refresh()
        finally:
            stop_listening()

    async def refresh(self) -> int:
        """Publish the Homes showing what changed; how many."""
        touched, position = self._changes.take()
        if not touched:
            return 0
        try:
            await asyncio.to_thread(self._catch_up, position)
            users = await asyncio.to_thread(self._stale, touched)
        except Exception:
            log.exception("could not find the Slack Homes to refresh; they refresh when "
                          "next opened")
            return 0
        for slack_user in sorted(users):
            try:
                await self._home.publish(slack_user)
            except Exception:
                log.exception("could not refresh %s's Slack Home", slack_user)
        return len(users)

    def _stale(self, touched: set[Touch]) -> set[str]:
        with self._db.read() as conn:
            return stale_homes(conn, touched)


def home_refresher(changes: HomeChanges, home: Home, app: App) -> HomeRefresher:
    """The refresher for ``app``'s database, waiting for its read models."""
    return HomeRefresher(changes, home, app.db, lambda position: app.runtime.wait_for(
        position, HOME_READ_MODELS))
