"""Attend's Discord DMs: :mod:`bot.chat`'s words in Discord's markdown, with buttons.

Buttons are :class:`AnswerButton` items: their ``custom_id`` (``attend:<check>:<answer>``)
carries all they need, so a tap on a DM sent before a restart still works.
"""

from __future__ import annotations

from typing import Any

import discord
from discord.utils import escape_markdown, escape_mentions

from bot import chat, words
from core.aggregates.common import Answer
from core.notifications import Notification
from core.service.views import AnswerResult

LIMIT = 2000  # characters in a Discord message


def escape(value: str) -> str:
    return escape_mentions(escape_markdown(value))


MARKDOWN = chat.Markup(bold=lambda s: f"**{s}**", escape=escape,
                       link=lambda url, label: f"[{escape(label)}](<{url}>)")
CUSTOM_ID = r"attend:(?P<check>[0-9a-f]{1,64}):(?P<answer>yes|no|maybe)"
_STYLE = {Answer.YES: discord.ButtonStyle.success, Answer.NO: discord.ButtonStyle.danger,
          Answer.MAYBE: discord.ButtonStyle.primary}


class AnswerButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CUSTOM_ID):
    """Yes, No or Maybe on one check. Who answers is whoever Discord says tapped: the
    custom id names the check only."""

    def __init__(self, check_id: str, answer: Answer, *, chosen: bool = False) -> None:
        super().__init__(discord.ui.Button(
            label=words.ANSWER[answer].button, custom_id=f"attend:{check_id}:{answer.value}",
            style=_STYLE[answer] if chosen else discord.ButtonStyle.secondary))
        self.check_id = check_id
        self.answer = answer

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: Any, /) -> AnswerButton:
        return cls(match["check"], Answer(match["answer"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        # The client that received the tap knows how to record it (see bot.AttendBot).
        await interaction.client.record_tap(interaction, self.check_id, self.answer)


def answer_view(check_id: str, chosen: Answer | None) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for answer in Answer:
        view.add_item(AnswerButton(check_id, answer, chosen=answer is chosen))
    return view


def clip(text: str) -> str:
    return text if len(text) <= LIMIT else text[:LIMIT - 1] + "…"


def _content(message: chat.Message) -> tuple[str, discord.ui.View | None]:
    view = answer_view(message.buttons, message.chosen) if message.buttons else None
    return clip("\n".join(message.lines)), view


def notification(n: Notification, *,
                 board_url: str | None = None) -> tuple[str, discord.ui.View | None]:
    """The DM for one notification (a captain's alert links to ``board_url``)."""
    return _content(chat.notification(n, MARKDOWN, board_url=board_url))


def answered(result: AnswerResult) -> tuple[str, discord.ui.View | None]:
    return _content(chat.answered(result, MARKDOWN))
