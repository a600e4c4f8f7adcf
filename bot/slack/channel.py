"""Slack DMs as a notification channel: ``conversations.open``, then ``chat.postMessage``.

What Slack answers decides what happens next (see :class:`DeliveryError`):

- HTTP 429 ``ratelimited``: try again after its ``Retry-After``; the worker re-queues the
  job, so nothing sleeps inside a request.
- The DM cannot be had (the user is gone, deactivated, hidden from the bot, or has the app's
  messages tab off): permanent. The worker falls back to email and tells the captain.
- The bot token is refused: a setup mistake, logged as such. Jobs wait and are retried, so
  they go out once the token is fixed.
- Anything else (Slack down, a timeout): try again later.

The message reference is ``<DM channel>:<ts>``, which ``chat.update`` needs to edit it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.links import BoardLinks, board_url
from bot.slack import messages
from core.aggregates.common import Channel
from core.notifications import (
    DeliveryError,
    Notification,
    PermanentDeliveryError,
    TransientDeliveryError,
)

log = logging.getLogger(__name__)

# Errors of conversations.open and chat.postMessage that another try will not mend.
_NO_DM = {
    "user_not_found": "Slack has no such user",
    "user_disabled": "their Slack account is deactivated",
    "account_inactive": "their Slack account is deactivated",
    "user_not_visible": "the Attend app cannot see them in Slack",
    "cannot_dm_bot": "the Slack account is a bot",
    "messages_tab_disabled": "they turned off messages from Attend in Slack",
    "is_archived": "their DM with Attend is archived",
}
_BAD_TOKEN = {"invalid_auth", "not_authed", "token_revoked", "token_expired",
              "account_inactive_bot", "missing_scope", "not_allowed_token_type"}


# The bot token for a workspace: the one configured, or that workspace's installation.
BotToken = Callable[[str], Awaitable[str | None]]


class SlackChannel:
    channel = Channel.SLACK

    def __init__(self, client: AsyncWebClient, bot_token: BotToken, *,
                 boards: BoardLinks | None = None) -> None:
        self._client = client
        self._bot_token = bot_token
        self._boards = boards  # captains' alerts link to the live board
        self._dms: dict[str, str] = {}  # "<workspace>:<user>" -> their DM with the bot

    async def send(self, notification: Notification) -> str | None:
        identity = notification.recipient.slack_user
        if not identity:
            raise PermanentDeliveryError("no Slack account on file")
        workspace, _, user = identity.rpartition(":")
        token = await self._bot_token(workspace)
        if token is None:
            raise PermanentDeliveryError("Attend is not installed in their Slack workspace")
        text, blocks = messages.notification(notification,
                                             board_url=board_url(self._boards, notification))
        try:
            dm = self._dms.get(identity)
            if dm is None:
                opened = await self._client.conversations_open(token=token, users=user)
                dm = self._dms[identity] = opened["channel"]["id"]
            posted = await self._client.chat_postMessage(token=token, channel=dm, text=text,
                                                         blocks=blocks)
        except SlackApiError as error:
            self._dms.pop(identity, None)  # opened afresh next time
            raise _delivery_error(error) from None
        except (TimeoutError, aiohttp.ClientError) as error:
            raise TransientDeliveryError(f"Slack could not be reached ({error!r})") from None
        await self._retire(token, notification.earlier, text, blocks)
        return f"{dm}:{posted['ts']}"

    async def _retire(self, token: str, earlier: tuple[str, ...], text: str,
                      blocks: messages.Blocks) -> None:
        """Edit earlier DMs about a cancelled game to say so, without their buttons. Best
        effort: the cancellation itself has gone out already."""
        for reference in earlier:
            channel, _, ts = reference.partition(":")
            try:
                await self._client.chat_update(token=token, channel=channel, ts=ts, text=text,
                                               blocks=blocks)
            except (SlackApiError, TimeoutError, aiohttp.ClientError) as error:
                log.info("could not update an earlier Slack DM %s (%s)", reference, error)


def rate_limited(error: SlackApiError) -> TransientDeliveryError | None:
    """Slack's 429, as a wait of its ``Retry-After``; None for any other error."""
    response = error.response
    if response.status_code != 429:
        return None
    after = response.headers.get("Retry-After") or response.headers.get("retry-after")
    return TransientDeliveryError("Slack asked us to slow down",
                                  retry_after=float(after) if after else None)


def _delivery_error(error: SlackApiError) -> DeliveryError:
    if (limited := rate_limited(error)) is not None:
        return limited
    response = error.response
    code = str(response.get("error", "unknown_error"))
    if code in _NO_DM:
        return PermanentDeliveryError(f"{_NO_DM[code]} ({code})")
    if code in _BAD_TOKEN:
        log.error("Slack refused the bot token (%s): check ATTEND_SLACK_BOT_TOKEN and the "
                  "app's scopes (commands, chat:write, im:write, users:read); messages wait "
                  "until then",
                  code)
        return TransientDeliveryError(f"Slack refused Attend's token ({code})")
    return TransientDeliveryError(f"Slack said {code}")
