"""Discord DMs as a notification channel: the bot's REST API (create DM, post message).

What Discord answers decides what happens next (see :class:`DeliveryError`):

- 403 with code 50007 (the player allows no DMs from server members, or blocked the bot)
  or 50278 (no server in common), or an unknown user: permanent, and never tried again
  for that player; the worker falls back to email and tells the captain. Discord bans bots
  that keep making refused requests, so this matters.
- A rate limit longer than discord.py will sleep through: try again after it.
- Anything else (Discord down, a timeout): try again later.

A DM is one request, posted to the player's DM channel, which is opened once and then
remembered (:mod:`bot.discord.dm_channels`); if Discord no longer knows a remembered channel,
it is opened again, once. The message reference is ``<DM channel id>:<message id>``.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import discord

from bot.discord import messages
from bot.discord.bot import AttendBot
from bot.discord.dm_channels import DmChannels
from bot.links import BoardLinks, board_url
from core.aggregates.common import Channel
from core.notifications import (
    DeliveryError,
    Notification,
    PermanentDeliveryError,
    TransientDeliveryError,
)

log = logging.getLogger(__name__)

LOGIN_WAIT_S = 10.0
UNKNOWN_CHANNEL = 10003
_CLOSED = {50007: "they don't take DMs from Attend (Discord privacy settings)",
           50278: "they share no Discord server with Attend any more"}


class DiscordChannel:
    channel = Channel.DISCORD

    def __init__(self, bot: AttendBot, *, boards: BoardLinks | None = None,
                 dm_channels: DmChannels | None = None) -> None:
        self._bot = bot
        self._boards = boards  # captains' alerts link to the live board
        self._dm_channels = dm_channels or DmChannels()

    async def send(self, notification: Notification) -> str | None:
        identity = notification.recipient.discord_user
        if not identity or not identity.isdigit():
            raise PermanentDeliveryError("no Discord account on file")
        if self._bot.is_closed():
            raise TransientDeliveryError("not connected to Discord")
        try:
            await asyncio.wait_for(self._bot.logged_in.wait(), LOGIN_WAIT_S)
        except TimeoutError:
            raise TransientDeliveryError("not signed in to Discord yet") from None
        content, view = messages.notification(notification,
                                              board_url=board_url(self._boards, notification))
        try:
            sent = await self._direct_message(int(identity), content, view)
        except discord.Forbidden as error:
            raise _refused(error) from None
        except discord.NotFound:
            raise PermanentDeliveryError("Discord has no such user") from None
        except discord.RateLimited as error:
            raise TransientDeliveryError("Discord asked us to slow down",
                                         retry_after=error.retry_after) from None
        except discord.HTTPException as error:
            raise TransientDeliveryError(f"Discord said {error.status} "
                                         f"({error.text or 'no reason'})") from None
        except (TimeoutError, aiohttp.ClientError) as error:
            raise TransientDeliveryError(f"Discord could not be reached ({error!r})") from None
        await self._retire(notification.earlier, content)
        return f"{sent.channel.id}:{sent.id}"

    async def _direct_message(self, user_id: int, content: str,
                              view: discord.ui.View | None) -> discord.Message:
        """Post in the DM channel with ``user_id``: the one remembered, or opened now."""
        assert self._bot.user is not None  # signed in
        bot_id = self._bot.user.id
        channel_id = await self._dm_channels.get(bot_id, user_id)
        if channel_id is not None:
            try:
                return await self._post(channel_id, content, view)
            except discord.NotFound as error:
                if error.code != UNKNOWN_CHANNEL:
                    raise
                log.info("Discord no longer knows the DM channel %s with %s; opening it again",
                         channel_id, user_id)
                await self._dm_channels.forget(bot_id, user_id, channel_id)
        opened = await self._bot.http.start_private_message(user_id)
        channel_id = int(opened["id"])
        await self._dm_channels.remember(bot_id, user_id, channel_id)
        return await self._post(channel_id, content, view)

    async def _post(self, channel_id: int, content: str,
                    view: discord.ui.View | None) -> discord.Message:
        channel = self._bot.get_partial_messageable(channel_id, type=discord.ChannelType.private)
        return await channel.send(content, view=view) if view else await channel.send(content)

    async def _retire(self, earlier: tuple[str, ...], content: str) -> None:
        """Edit earlier DMs about a cancelled game to say so, without their buttons. Best
        effort: the cancellation itself has gone out already."""
        for reference in earlier:
            channel_id, _, message_id = reference.partition(":")
            if not (channel_id.isdigit() and message_id.isdigit()):
                continue
            message = self._bot.get_partial_messageable(int(channel_id)).get_partial_message(
                int(message_id))
            try:
                await message.edit(content=content, view=None)
            except (discord.HTTPException, TimeoutError, aiohttp.ClientError) as error:
                log.info("could not edit an earlier Discord DM %s (%s)", reference, error)


def _refused(error: discord.Forbidden) -> DeliveryError:
    if error.code in _CLOSED:
        return PermanentDeliveryError(f"{_CLOSED[error.code]} ({error.code})")
    log.error("Discord refused the bot (%s %s): check ATTEND_DISCORD_BOT_TOKEN and that "
              "the bot is in the team's server", error.code, error.text)
    return TransientDeliveryError(f"Discord refused Attend ({error.code})")
