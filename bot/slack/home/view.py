"""What a player's App Home looks like: their coming games, each with their answer and Yes /
No / Maybe buttons while answers are open; a captain also sees each game's counts and a
link to its live board. Built with slack_sdk's builders, in Slack's mrkdwn (see
:mod:`bot.slack.messages` for the escaping)."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import text as texts
from bot import words
from bot.slack.messages import MRKDWN, escape
from bot.when import describe
from core.aggregates.common import Answer
from core.projections.board import BoardView
from core.projections.player_games import PlayerGameView
from core.projections.roster import TeamView

HOME_PREFIX = "attend_home_"  # action ids: attend_home_yes, attend_home_no, attend_home_maybe
MAX_GAMES = 20  # Slack takes at most 100 blocks in a view; a game takes up to 4
NOT_ON_A_TEAM = (
    "You're not on a team yet.\n• To join one, ask your team's captain to add you: "
    "`/attend team add @you`.\n• To start your own: `/attend team create NAME tz ZONE` "
    "(for example `/attend team create Hawks tz America/Toronto`).")


@dataclass(frozen=True, kw_only=True, slots=True)
class HomeGame:
    team: TeamView
    game: PlayerGameView
    board: BoardView | None  # None until attendance is checked
    invited: bool  # the player is on the check (can answer)
    board_url: str | None  # captains only


@dataclass(frozen=True, kw_only=True, slots=True)
class HomePage:
    teams: tuple[str, ...]  # the names of the player's teams; empty: not on a team
    games: tuple[HomeGame, ...]  # by start time
    note: str | None = None  # what became of a tap that was refused


def view(page: HomePage) -> View:
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text="Your games"))]
    if page.note:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"⚠ {escape(page.note)}")))
    if not page.teams:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=NOT_ON_A_TEAM)))
    elif not page.games:
        names = ", ".join(MRKDWN.bold(escape(n)) for n in page.teams)
        blocks.append(SectionBlock(text=MarkdownTextObject(
            text=f"No games coming up for {names}.")))
    for game in page.games[:MAX_GAMES]:
        blocks += [DividerBlock(), *_game(game)]
    return View(type="home", blocks=blocks)


def _game(item: HomeGame) -> list[Block]:
    team, game, board = item.team, item.game, item.board
    when = describe(game.starts_at, ZoneInfo(team.timezone))
    title = MRKDWN.bold(escape(team.name)) + (
        f" vs {MRKDWN.bold(escape(game.opponent))}" if game.opponent else "")
    where = f" · {escape(game.location)}" if game.location else ""
    lines = [f"{title} ({game.handle})", f"{when}{where}", _answer_line(item)]
    found: list[Block] = [SectionBlock(text=MarkdownTextObject(text="\n".join(lines)))]
    answerable = item.invited and board is not None and board.open
    if answerable and board is not None:
        found.append(_buttons(board.check_id, game.answer))
    if item.board_url is not None:
        captain = [texts.counts(board)] if board is not None else ["Not asked yet."]
        captain.append(MRKDWN.link(item.board_url, "Open the live board"))
        found.append(ContextBlock(elements=[MarkdownTextObject(text=" · ".join(captain))]))
    return found


def _answer_line(item: HomeGame) -> str:
    game, board = item.game, item.board
    if board is None:
        return "Not asked yet: buttons come when attendance is checked."
    if not item.invited:
        return "You're not on this game's list."
    if game.waitlist_position is not None:
        said = f"⏳ You're #{game.waitlist_position} on the waitlist"
    elif game.answer is not None:
        said = f"{words.mark(game.answer)} {words.ANSWER[game.answer].stand}"
    else:
        said = "No answer yet"
    if game.note:
        said += f" — “{escape(game.note)}”"
    return MRKDWN.bold(said) + ("" if board.open else " · answers are closed")


def _buttons(check_id: str, current: Answer | None) -> ActionsBlock:
    """As in a DM (see messages.answer_buttons), with the Home's action ids: who answers is
    whoever Slack says tapped."""
    return ActionsBlock(block_id=f"home:{check_id}", elements=[
        ButtonElement(text=PlainTextObject(text=words.ANSWER[answer].button),
                      action_id=f"{HOME_PREFIX}{answer.value}", value=check_id,
                      style="primary" if answer is current else None)
        for answer in Answer])
