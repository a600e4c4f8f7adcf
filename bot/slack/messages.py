"""Attend's Slack messages: Block Kit for DMs and for the message after a tap.

What they say is :mod:`bot.chat`'s; this module writes it in Slack's mrkdwn, with
Slack's escaping, and adds the buttons, built with slack_sdk's block builders. ``text`` is
the plain fallback Slack shows in notifications; ``blocks`` is what the DM looks like.
"""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot import chat, words
from core.aggregates.common import Answer
from core.notifications import Notification
from core.service.views import AnswerResult

Blocks = list[Block]

ACTION_PREFIX = "attend_"  # action ids: attend_yes, attend_no, attend_maybe


def escape(value: str) -> str:
    """Slack's three control characters, as its formatting docs ask."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


MRKDWN = chat.Markup(bold=lambda s: f"*{s}*", escape=escape,
                     link=lambda url, label: f"<{url}|{escape(label)}>")


def answer_buttons(check_id: str, current: Answer | None) -> ActionsBlock:
    """Yes / No / Maybe. The value names the check only: who answers is whoever Slack says
    tapped, so a forged value can at most answer for the tapper, on a check they're in."""
    return ActionsBlock(block_id=f"attend:{check_id}", elements=[
        ButtonElement(text=PlainTextObject(text=words.ANSWER[answer].button),
                      action_id=f"{ACTION_PREFIX}{answer.value}", value=check_id,
                      style="primary" if answer is current else None)
        for answer in Answer])


def _blocks(message: chat.Message) -> tuple[str, Blocks]:
    blocks: Blocks = [SectionBlock(text=MarkdownTextObject(text="\n".join(message.lines)))]
    if message.buttons is not None:
        blocks.append(answer_buttons(message.buttons, message.chosen))
    return message.summary, blocks


def notification(n: Notification, *, board_url: str | None = None) -> tuple[str, Blocks]:
    """The DM for one notification (a captain's alert links to ``board_url``)."""
    return _blocks(chat.notification(n, MRKDWN, board_url=board_url))


def answered(result: AnswerResult) -> tuple[str, Blocks]:
    """The DM after a tap: the game, the answer, the counts, and buttons to change it."""
    return _blocks(chat.answered(result, MRKDWN))
