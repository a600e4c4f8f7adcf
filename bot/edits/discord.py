"""Discord's side of kept-up-to-date messages: the board in a channel (sent, then edited),
DMs edited in place, and a note to a captain. Taps on a board's buttons
(:class:`BoardButton`, ``attendboard:<check>:<answer>``) answer for whoever tapped."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import discord

from bot import chat, words
from bot.discord import messages
from bot.discord.actors import actor
from bot.edits.render import BoardSnapshot, DmSnapshot, board_message, dm_message
from bot.edits.worker import ChannelGone
from core.aggregates.common import Answer
from core.errors import DomainError
from core.notifications import DeliveryError, PermanentDeliveryError, TransientDeliveryError

log = logging.getLogger(__name__)

ADVICE = ("give Attend View Channel, Send Messages and Read Message History in the channel "
          "(Edit Channel > Permissions)")
_GONE = {50001: "Missing Access", 50013: "Missing Permissions", 10003: "Unknown Channel"}
BOARD_ID = r"attendboard:(?P<check>[0-9a-f]{1,64}):(?P<answer>yes|no|maybe)"


class BoardButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=BOARD_ID):
    """Yes, No or Maybe on a channel's board: answers for whoever Discord says tapped."""

    def __init__(self, check_id: str, answer: Answer) -> None:
        super().__init__(discord.ui.Button(
            label=words.ANSWER[answer].button, custom_id=f"attendboard:{check_id}:"
            f"{answer.value}", style=discord.ButtonStyle.secondary))
        self.check_id = check_id
        self.answer = answer

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: Any, /) -> BoardButton:
        return cls(match["check"], Answer(match["answer"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        service = interaction.client.service  # an AttendBot
        try:
            result = await asyncio.to_thread(service.answer_in_check, actor(interaction.user),
                                             self.check_id, self.answer)
        except DomainError as error:
            reply = str(error)
        else:
            reply = "\n".join(chat.answered(result, messages.MARKDOWN).lines)
        await interaction.response.send_message(messages.clip(reply), ephemeral=True)


def board_content(snapshot: BoardSnapshot) -> tuple[str, discord.ui.View | None]:
    message = board_message(snapshot, messages.MARKDOWN)
    view = None
    if message.buttons is not None:
        view = discord.ui.View(timeout=None)
        for answer in Answer:
            view.add_item(BoardButton(message.buttons, answer))
    return messages.clip("\n".join(message.lines)), view


class DiscordEditor:
    def __init__(self, bot: discord.Client, *, login_wait: float = 10.0) -> None:
        self._bot = bot
        self._login_wait = login_wait

    async def _signed_in(self) -> None:
        """Edits wait (and are tried again) until the bot has signed in to Discord."""
        logged_in = getattr(self._bot, "logged_in", None)  # an AttendBot's
        if self._bot.is_closed():
            raise TransientDeliveryError("not connected to Discord")
        if logged_in is not None:
            try:
                await asyncio.wait_for(logged_in.wait(), self._login_wait)
            except TimeoutError:
                raise TransientDeliveryError("not signed in to Discord yet") from None

    async def board(self, channel_id: str, reference: str | None,
                    snapshot: BoardSnapshot) -> str:
        await self._signed_in()
        content, view = board_content(snapshot)
        try:
            if reference is None:
                channel = self._bot.get_partial_messageable(int(channel_id))
                sent = await channel.send(content, view=view) if view else \
                    await channel.send(content)
                return f"{channel_id}:{sent.id}"
            await self._message(reference).edit(content=content, view=view)
            return reference
        except discord.HTTPException as error:
            raise _error(error, board=True) from None
        except (TimeoutError, aiohttp.ClientError) as error:
            raise TransientDeliveryError(f"Discord could not be reached ({error!r})") from None

    async def dm(self, reference: str, snapshot: DmSnapshot) -> None:
        await self._signed_in()
        message = dm_message(snapshot, messages.MARKDOWN)
        content = messages.clip("\n".join(message.lines))
        view = messages.answer_view(message.buttons, message.chosen) if message.buttons \
            else None
        try:
            await self._message(reference).edit(content=content, view=view)
        except discord.HTTPException as error:
            raise _error(error, board=False) from None
        except (TimeoutError, aiohttp.ClientError) as error:
            raise TransientDeliveryError(f"Discord could not be reached ({error!r})") from None

    async def tell(self, identity: str, text: str) -> None:
        await self._signed_in()
        try:
            user = self._bot.get_user(int(identity)) or await self._bot.fetch_user(
                int(identity))
            await user.send(messages.clip(messages.escape(text)))
        except discord.HTTPException as error:
            raise _error(error, board=False) from None

    def _message(self, reference: str) -> discord.PartialMessage:
        channel_id, _, message_id = reference.partition(":")
        return self._bot.get_partial_messageable(int(channel_id)).get_partial_message(
            int(message_id))


def _error(error: discord.HTTPException, *, board: bool) -> DeliveryError:
    if isinstance(error, discord.RateLimited):
        return TransientDeliveryError("Discord asked us to slow down",
                                      retry_after=error.retry_after)
    if board and error.code in _GONE:
        return ChannelGone(f"Discord said {error.status} {_GONE[error.code]} ({error.code})",
                           ADVICE)
    if error.status in (403, 404):
        return PermanentDeliveryError(f"Discord said {error.status} ({error.code})")
    return TransientDeliveryError(f"Discord said {error.status} ({error.text or 'no reason'})")
