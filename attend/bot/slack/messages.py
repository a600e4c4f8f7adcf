"""What Attend's Slack messages say: Block Kit for DMs and for the message after a tap.

Pure: values in, ``(text, blocks)`` out. ``text`` is the plain fallback Slack shows in
notifications; ``blocks`` is what the DM looks like. Everything a person typed (team names,
places, notes, reasons) is escaped, so it can never turn into a mention or a link.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from attend.bot import text as texts
from attend.bot.when import describe
from attend.core.aggregates.common import Answer
from attend.core.notifications import Notification, NotificationKind
from attend.core.service.views import AnswerResult

Blocks = list[dict[str, Any]]

ACTION_PREFIX = "attend_"  # action ids: attend_yes, attend_no, attend_maybe
_LABELS = {Answer.YES: "Yes, I'm in", Answer.NO: "Can't make it", Answer.MAYBE: "Maybe"}
_SAID = {Answer.YES: "✅ You're in", Answer.NO: "❌ You're out", Answer.MAYBE: "❔ You're a maybe"}
# Messages a player can still answer from; the others carry no buttons.
_ANSWERABLE = (NotificationKind.INVITATION, NotificationKind.REMINDER,
               NotificationKind.RESCHEDULE, NotificationKind.WAITLIST_PROMOTION,
               NotificationKind.WAITLISTED)


def escape(value: str) -> str:
    """Slack's three control characters, as its formatting docs ask."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def answer_buttons(check_id: str, current: Answer | None) -> dict[str, Any]:
    """Yes / No / Maybe. The value names the check only: who answers is whoever Slack says
    tapped, so a forged value can at most answer for the tapper, on a check they're in."""
    buttons = []
    for answer in Answer:
        button: dict[str, Any] = {
            "type": "button", "action_id": f"{ACTION_PREFIX}{answer.value}", "value": check_id,
            "text": {"type": "plain_text", "text": _LABELS[answer]}}
        if answer is current:
            button["style"] = "primary"
        buttons.append(button)
    return {"type": "actions", "block_id": f"attend:{check_id}", "elements": buttons}


def _game(team_name: str, opponent: str | None, location: str | None, when: str) -> str:
    line = f"*{escape(team_name)}*" + (f" vs *{escape(opponent)}*" if opponent else "")
    return f"{line}\n{when}" + (f" · {escape(location)}" if location else "")


def notification(n: Notification) -> tuple[str, Blocks]:
    """The DM for one notification."""
    zone = ZoneInfo(n.timezone)
    when = describe(n.starts_at, zone)
    game = _game(n.team_name, n.opponent, n.location, when)
    head = _headline(n, zone)
    lines = [head, game]
    if n.kind in _ANSWERABLE and n.current_answer is not None:
        lines.append(f"Your answer: *{n.current_answer.value}*. Tap to change it.")
    if n.kind in _ANSWERABLE and n.answers_close is not None:
        lines.append(f"Answers close {describe(n.answers_close, zone)}.")
    blocks: Blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}]
    if n.kind in _ANSWERABLE and n.check_id is not None:
        blocks.append(answer_buttons(n.check_id, n.current_answer))
    fallback = f"{_plain(head)} {n.team_name}" + (f" vs {n.opponent}" if n.opponent else "") \
        + f", {when}"
    return fallback, blocks


def _headline(n: Notification, zone: ZoneInfo) -> str:
    match n.kind:
        case NotificationKind.INVITATION:
            return "*Are you coming?*"
        case NotificationKind.REMINDER:
            return "*Reminder: are you coming?*"
        case NotificationKind.CANCELLATION:
            why = f" {escape(n.cancel_reason)}" if n.cancel_reason else ""
            return f"*Cancelled.*{why}"
        case NotificationKind.RESCHEDULE:
            was = f" (was {describe(n.previous_starts_at, zone)})" if n.previous_starts_at \
                else ""
            return f"*New time*{was}. Your answer is kept; change it if you need to."
        case NotificationKind.WAITLIST_PROMOTION:
            return "*A place opened up: you're in!*"
        case NotificationKind.WAITLISTED:
            where = f" #{n.waitlist_position}" if n.waitlist_position else ""
            return f"*The game is full:* you're{where} on the waitlist."
        case NotificationKind.CAPTAIN_BELOW_MINIMUM:
            return (f"*Short of players:* {n.yes_count} in, {n.min_players} needed.")
        case NotificationKind.CAPTAIN_LATE_DROPOUT:
            now = n.about_answer.value if n.about_answer else "withdrawn"
            return f"*Late change:* {escape(n.about_player_name or 'a player')} is now {now}."
        case NotificationKind.CAPTAIN_DELIVERY_FAILED | NotificationKind.CAPTAIN_UNREACHABLE:
            why = f" ({escape(n.reason)})" if n.reason else ""
            return (f"*Couldn't reach {escape(n.about_player_name or 'a player')}*{why}. "
                    "Check their contact details with /attend team roster.")
    return ""


def _plain(mrkdwn: str) -> str:
    return mrkdwn.replace("*", "")


def answered(result: AnswerResult) -> tuple[str, Blocks]:
    """The DM after a tap: the game, the answer, the counts, and buttons to change it."""
    team, game, board = result.team, result.game, result.board
    zone = ZoneInfo(team.timezone)
    said = _SAID[result.answer]
    line = next((ln for ln in board.lines if ln.player_id == result.player.player_id), None)
    if line is not None and line.waitlist_position is not None:
        said = f"⏳ The game is full: you're #{line.waitlist_position} on the waitlist"
    lines = [f"*{said}.*", _game(team.name, game.opponent, game.location,
                                 describe(game.starts_at, zone)), texts.counts(board)]
    blocks: Blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}]
    if board.open:
        blocks.append(answer_buttons(board.check_id, result.answer))
    return f"{_plain(said)}: {team.name}, {describe(game.starts_at, zone)}", blocks
