"""Slack's side of kept-up-to-date messages: the board in a channel (``chat.postMessage``,
then ``chat.update``), DMs edited with ``chat.update``, and a note to a captain.

A board's channel is ``"<workspace>:<channel>"``: the workspace picks the bot token. Its
buttons are ``attend_board_yes`` / ``_no`` / ``_maybe`` (value: the check), told apart from a
DM's so a tap there never replaces the board with one player's answer (see :func:`register`).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot import chat, words
from bot.edits.render import BoardSnapshot, DmSnapshot, board_message, dm_message
from bot.edits.worker import ChannelGone
from bot.slack import messages
from bot.slack.channel import BotToken, rate_limited
from bot.slack.taps import record_tap
from core.aggregates.common import Answer
from core.errors import DomainError
from core.notifications import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from core.service import AttendService

log = logging.getLogger(__name__)

BOARD_PREFIX = "attend_board_"
ADVICE = "invite Attend to the channel (/invite @Attend in it; it needs chat:write)"
_GONE = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action",
         "missing_scope"}
_TAP = re.compile(rf"^{BOARD_PREFIX}(yes|no|maybe)$")


def board_blocks(snapshot: BoardSnapshot) -> tuple[str, messages.Blocks]:
    message = board_message(snapshot, messages.MRKDWN)
    blocks: messages.Blocks = [SectionBlock(text=MarkdownTextObject(
        text="\n".join(message.lines)))]
    if message.buttons is not None:
        blocks.append(ActionsBlock(block_id=f"attend_board:{message.buttons}", elements=[
            ButtonElement(text=PlainTextObject(text=words.ANSWER[a].button),
                          action_id=f"{BOARD_PREFIX}{a.value}", value=message.buttons)
            for a in Answer]))
    return message.summary, blocks


def _blocks(message: chat.Message) -> tuple[str, messages.Blocks]:
    """A DM's text and blocks, as :mod:`bot.slack.messages` writes them."""
    blocks: messages.Blocks = [SectionBlock(text=MarkdownTextObject(
        text="\n".join(message.lines)))]
    if message.buttons is not None:
        blocks.append(messages.answer_buttons(message.buttons, message.chosen))
    return message.summary, blocks


class SlackEditor:
    def __init__(self, client: AsyncWebClient, bot_token: BotToken) -> None:
        self._client = client
        self._bot_token = bot_token

    async def _token(self, workspace: str) -> str:
        token = await self._bot_token(workspace)
        if token is None:
            raise PermanentDeliveryError("Attend is not installed in that Slack workspace")
        return token

    async def board(self, channel_id: str, reference: str | None,
                    snapshot: BoardSnapshot) -> str:
        workspace, _, channel = channel_id.rpartition(":")
        token = await self._token(workspace)
        text, blocks = board_blocks(snapshot)
        try:
            if reference is None:
                posted = await self._client.chat_postMessage(token=token, channel=channel,
                                                             text=text, blocks=blocks)
                return f"{posted['channel']}:{posted['ts']}"
            where, _, ts = reference.partition(":")
            await self._client.chat_update(token=token, channel=where, ts=ts, text=text,
                                           blocks=blocks)
            return reference
        except SlackApiError as error:
            raise _error(error, board=True) from None
        except (TimeoutError, aiohttp.ClientError) as error:
            raise TransientDeliveryError(f"Slack could not be reached ({error!r})") from None

    async def dm(self, reference: str, snapshot: DmSnapshot) -> None:
        token = await self._token(snapshot.player.slack_user.rpartition(":")[0]
                                  if snapshot.player.slack_user else "")
        text, blocks = _blocks(dm_message(snapshot, messages.MRKDWN))
        channel, _, ts = reference.partition(":")
        try:
            await self._client.chat_update(token=token, channel=channel, ts=ts, text=text,
                                           blocks=blocks)
        except SlackApiError as error:
            raise _error(error, board=False) from None
        except (TimeoutError, aiohttp.ClientError) as error:
            raise TransientDeliveryError(f"Slack could not be reached ({error!r})") from None

    async def tell(self, identity: str, text: str) -> None:
        workspace, _, user = identity.rpartition(":")
        token = await self._token(workspace)
        try:
            opened = await self._client.conversations_open(token=token, users=user)
            await self._client.chat_postMessage(token=token, channel=opened["channel"]["id"],
                                                text=messages.escape(text))
        except SlackApiError as error:
            raise _error(error, board=False) from None
        except (TimeoutError, aiohttp.ClientError) as error:
            raise TransientDeliveryError(f"Slack could not be reached ({error!r})") from None


def _error(error: SlackApiError, *, board: bool) -> DeliveryError:
    if (limited := rate_limited(error)) is not None:
        return limited
    code = str(error.response.get("error", "unknown_error"))
    if board and code in _GONE:
        return ChannelGone(f"Slack said {code}", ADVICE)
    if code in {"message_not_found", "cant_update_message", "channel_not_found"}:
        return PermanentDeliveryError(f"Slack said {code}")
    return TransientDeliveryError(f"Slack said {code}")


def register(bolt: AsyncApp, service: AttendService, *, ack_budget: float = 2.0) -> None:
    """Taps on a channel's board: recorded for whoever Slack says tapped; the board itself is
    edited by the edit worker. Someone not on the team (or not asked) gets a note only they
    see, and nothing changes."""
    @bolt.action(_TAP)
    async def board_tap(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                        respond: AsyncRespond) -> None:
        result = await record_tap(service, body, action, prefix=BOARD_PREFIX, ack=ack,
                                  ack_budget=ack_budget)
        if isinstance(result, DomainError):
            reply = str(result)
        else:
            reply = "\n".join(chat.answered(result, chat.Markup(bold=str, escape=str)).lines)
        await respond(text=messages.escape(reply), response_type="ephemeral",
                      replace_original=False)
