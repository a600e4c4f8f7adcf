"""The App Home's listeners on the bolt app: ``app_home_opened`` and taps on its buttons."""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.slack.home import view as home_view
from bot.slack.home.publish import Home
from bot.slack.taps import record_tap, tapper
from core.errors import DomainError

_HOME_TAP = re.compile(rf"^{home_view.HOME_PREFIX}(yes|no|maybe)$")


class RecentEvents:
    """The ids of the last ``size`` events: Slack resends an event within minutes (three
    tries in about five), so a bounded memory catches its resends without a write per
    event. A resend that reaches another process publishes the same Home once more, which
    shows the same thing: harmless, and not worth a table."""

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def first(self, event_id: str | None) -> bool:
        """Whether this is the first time ``event_id`` is seen (and note it)."""
        if not event_id:
            return True
        if event_id in self._ids:
            return False
        self._ids[event_id] = None
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)
        return True


def register_home(bolt: AsyncApp, home: Home, *, ack_budget: float) -> None:
    seen = RecentEvents()

    @bolt.event("app_home_opened")
    async def opened(event: dict[str, Any], body: dict[str, Any],
                     context: AsyncBoltContext) -> None:
        if event.get("tab", "home") != "home" or not seen.first(body.get("event_id")):
            return
        workspace = context.team_id or body.get("team_id")
        await home.opened(f"{workspace}:{event['user']}", token=context.bot_token)

    @bolt.action(_HOME_TAP)
    async def tap(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                  context: AsyncBoltContext) -> None:
        result = await record_tap(home.service, body, action, prefix=home_view.HOME_PREFIX,
                                  ack=ack, ack_budget=ack_budget)
        note = str(result) if isinstance(result, DomainError) else None
        await home.publish(tapper(body).ref, token=context.bot_token, note=note)
