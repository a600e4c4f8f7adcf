"""What a chat DM says, on any platform: Slack and Discord differ only in their markup.

Pure: values in, lines of text out. Each platform passes a :class:`Markup` saying how it
writes bold text and how it escapes what people typed (team names, places, notes, reasons),
so nothing a person typed can turn into a mention, a link or stray formatting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot import text as texts
from bot import words
from bot.when import describe
from core.aggregates.common import Answer
from core.notifications import Notification, NotificationKind
from core.service.views import AnswerResult

# Messages a player can still answer from; the others carry no buttons.
_ANSWERABLE = (NotificationKind.INVITATION, NotificationKind.REMINDER,
               NotificationKind.RESCHEDULE, NotificationKind.WAITLIST_PROMOTION,
               NotificationKind.WAITLISTED, NotificationKind.RESERVE_INVITATION)


@dataclass(frozen=True, slots=True)
class Markup:
    bold: Callable[[str], str]
    escape: Callable[[str], str]
    link: Callable[[str, str], str] = lambda url, label: f"{label}: {url}"  # (url, label)


@dataclass(frozen=True, slots=True)
class Message:
    """A DM: ``summary`` is plain text for notifications, ``lines`` the message itself;
    ``buttons`` is the check to show Yes / No / Maybe for, and ``chosen`` the answer given."""

    summary: str
    lines: list[str]
    buttons: str | None = None
    chosen: Answer | None = None


def notification(n: Notification, m: Markup, *, board_url: str | None = None) -> Message:
    """The DM for ``n``; a captain's alert links to the live board when given its URL."""
    zone = ZoneInfo(n.timezone)
    when = describe(n.starts_at, zone)
    head = _headline(n, zone, m) if n.kind not in _RESERVES else _reserves(n, when, m)
    lines = [head, _game(n.team_name, n.opponent, n.location, when, m)]
    answerable = n.kind in _ANSWERABLE
    if answerable and n.current_answer is not None:
        lines.append(f"Your answer: {m.bold(n.current_answer.value)}. Tap to change it.")
    if answerable and n.answers_close is not None:
        lines.append(f"Answers close {describe(n.answers_close, zone)}.")
    if n.for_captain and board_url is not None:
        lines.append(m.link(board_url, "Open the live board"))
    plain = Markup(bold=str, escape=str)
    summary = f"{_headline(n, zone, plain)} {n.team_name}" + (
        f" vs {n.opponent}" if n.opponent else "") + f", {when}"
    if n.kind in _RESERVES:
        summary = _reserves(n, when, plain)
    return Message(summary=summary, lines=lines,
                   buttons=n.check_id if answerable else None, chosen=n.current_answer)


def answered(result: AnswerResult, m: Markup) -> Message:
    """The DM after a tap: the answer, the game, the counts, and buttons to change it."""
    team, game, board = result.team, result.game, result.board
    zone = ZoneInfo(team.timezone)
    when = describe(game.starts_at, zone)
    said = f"{words.mark(result.answer)} {words.ANSWER[result.answer].stand}"
    line = next((ln for ln in board.lines if ln.player_id == result.player.player_id), None)
    if line is not None and line.waitlist_position is not None:
        said = f"⏳ The game is full: you're #{line.waitlist_position} on the waitlist"
    return Message(summary=f"{said}: {team.name}, {when}",
                   lines=[m.bold(f"{said}."), _game(team.name, game.opponent, game.location,
                                                    when, m), texts.counts(board)],
                   buttons=board.check_id if board.open else None, chosen=result.answer)


def _game(team_name: str, opponent: str | None, location: str | None, when: str,
          m: Markup) -> str:
    line = m.bold(m.escape(team_name)) + (f" vs {m.bold(m.escape(opponent))}" if opponent
                                         else "")
    return f"{line}\n{when}" + (f" · {m.escape(location)}" if location else "")


# -- reserves: their question, its release, and the captain's news of who stepped in ----------
_RESERVES = (NotificationKind.RESERVE_INVITATION, NotificationKind.RESERVE_RELEASED,
             NotificationKind.CAPTAIN_RESERVE_STEPPED_IN)


def _reserves(n: Notification, when: str, m: Markup) -> str:
    game = when + (f" vs {m.escape(n.opponent)}" if n.opponent else "")
    match n.kind:
        case NotificationKind.RESERVE_INVITATION:
            return m.bold(f"{m.escape(n.team_name)} are short for {game}: can you play?")
        case NotificationKind.RESERVE_RELEASED:
            return m.bold("Thanks — the team is full now.") + f" You're not needed for {game}."
        case _:
            name = m.escape(n.about_player_name or "A reserve")
            need = f", {n.min_players} needed" if n.min_players else ""
            return m.bold(f"{name} stepped in") + f" for {game}: {n.yes_count} in{need}."


def _headline(n: Notification, zone: ZoneInfo, m: Markup) -> str:
    bold, esc = m.bold, m.escape
    match n.kind:
        case NotificationKind.INVITATION:
            return bold("Are you coming?")
        case NotificationKind.REMINDER:
            return bold("Reminder: are you coming?")
        case NotificationKind.CANCELLATION:
            return bold("Cancelled.") + (f" {esc(n.cancel_reason)}" if n.cancel_reason else "")
        case NotificationKind.RESCHEDULE:
            was = f" (was {describe(n.previous_starts_at, zone)})" if n.previous_starts_at \
                else ""
            return bold("New time") + f"{was}. Your answer is kept; change it if you need to."
        case NotificationKind.WAITLIST_PROMOTION:
            return bold("A place opened up: you're in!")
        case NotificationKind.WAITLISTED:
            where = f" #{n.waitlist_position}" if n.waitlist_position else ""
            return bold("The game is full:") + f" you're{where} on the waitlist."
        case NotificationKind.CAPTAIN_BELOW_MINIMUM:
            return bold("Short of players:") + f" {n.yes_count} in, {n.min_players} needed."
        case NotificationKind.CAPTAIN_LATE_DROPOUT:
            now = n.about_answer.value if n.about_answer else "withdrawn"
            return bold("Late change:") + f" {esc(n.about_player_name or 'a player')} is " \
                f"now {now}."
        case NotificationKind.CAPTAIN_DELIVERY_FAILED | NotificationKind.CAPTAIN_UNREACHABLE:
            why = f" ({esc(n.reason)})" if n.reason else ""
            return bold(f"Couldn't reach {esc(n.about_player_name or 'a player')}") + \
                f"{why}. Check their contact details with /attend team roster."
    return ""
