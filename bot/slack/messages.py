"""Attend's Slack messages: Block Kit for DMs and for the message after a tap.

What they say is :mod:`bot.chat`'s; this module writes it in Slack's mrkdwn, with
Slack's escaping, and adds the buttons. ``text`` is the plain fallback Slack shows in
notifications; ``blocks`` is what the DM looks like.
"""

from __future__ import annotations

from typing import Any

from bot import chat
from core.aggregates.common import Answer
from core.notifications import Notification
from core.service.views import AnswerResult

Blocks = list[dict[str, Any]]

ACTION_PREFIX = "attend_"  # action ids: attend_yes, attend_no, attend_maybe


def escape(value: str) -> str:
    """Slack's three control characters, as its formatting docs ask."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


MRKDWN = chat.Markup(bold=lambda s: f"*{s}*", escape=escape,
                     link=lambda url, label: f"<{url}|{escape(label)}>")


def answer_buttons(check_id: str, current: Answer | None) -> dict[str, Any]:
    """Yes / No / Maybe. The value names the check only: who answers is whoever Slack says
    tapped, so a forged value can at most answer for the tapper, on a check they're in."""
    buttons = []
    for answer in Answer:
        button: dict[str, Any] = {
            "type": "button", "action_id": f"{ACTION_PREFIX}{answer.value}", "value": check_id,
            "text": {"type": "plain_text", "text": chat.LABELS[answer]}}
        if answer is current:
            button["style"] = "primary"
        buttons.append(button)
    return {"type": "actions", "block_id": f"attend:{check_id}", "elements": buttons}


def _blocks(message: chat.Message) -> tuple[str, Blocks]:
    blocks: Blocks = [{"type": "section",
                       "text": {"type": "mrkdwn", "text": "\n".join(message.lines)}}]
    if message.buttons is not None:
        blocks.append(answer_buttons(message.buttons, message.chosen))
    return message.summary, blocks


def notification(n: Notification, *, board_url: str | None = None) -> tuple[str, Blocks]:
    """The DM for one notification (a captain's alert links to ``board_url``)."""
    return _blocks(chat.notification(n, MRKDWN, board_url=board_url))


def answered(result: AnswerResult) -> tuple[str, Blocks]:
    """The DM after a tap: the game, the answer, the counts, and buttons to change it."""
    return _blocks(chat.answered(result, MRKDWN))
