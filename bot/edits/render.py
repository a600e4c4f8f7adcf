"""What a kept-up-to-date message says, on any platform: a check's board in the team's channel,
and a player's DM after their answer changed. Pure: views in, :class:`chat.Message` out."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot import chat, text, words
from bot.when import describe
from core.aggregates.common import Answer
from core.projections.board import BoardView
from core.projections.roster import PlayerView, TeamView
from core.projections.schedule import GameView
from core.service.views import AnswerResult


@dataclass(frozen=True, kw_only=True, slots=True)
class BoardSnapshot:
    """A check's board as it is now, with its team and game."""

    team: TeamView
    game: GameView
    board: BoardView

    @property
    def answerable(self) -> bool:
        return self.board.open and self.game.status == "scheduled"


def board_message(s: BoardSnapshot, m: chat.Markup) -> chat.Message:
    """The channel's board: the game, the counts, who is in / out / maybe / not answered yet,
    and (while answers are open) Yes / No / Maybe for anyone on the team."""
    team, game, board = s.team, s.game, s.board
    zone = ZoneInfo(team.timezone)
    when = describe(game.starts_at, zone)
    if game.status == "cancelled":
        head = m.bold("Cancelled.") + (f" {m.escape(game.cancel_reason)}"
                                       if game.cancel_reason else "")
    elif not s.answerable:
        head = m.bold("Answers are closed.")
    else:
        head = m.bold(f"Are you coming? ({game.handle})")
    title = m.bold(m.escape(team.name)) + (f" vs {m.bold(m.escape(game.opponent))}"
                                           if game.opponent else "")
    lines = [head, f"{title}\n{when}" + (f" · {m.escape(game.location)}" if game.location
                                          else ""), text.counts(board)]
    for answer in Answer:
        names = [ln.name for ln in board.lines
                 if ln.answer is answer and ln.waitlist_position is None]
        if names:
            lines.append(f"{words.ANSWER[answer].mark} {words.ANSWER[answer].short}: "
                         + ", ".join(m.escape(n) for n in names))
    if board.waitlist:
        lines.append("⏳ Waitlist: " + ", ".join(m.escape(ln.name) for ln in board.waitlist))
    if board.non_responders:
        lines.append(f"{words.NO_ANSWER_MARK} Not answered yet: "
                     + ", ".join(m.escape(n) for n in board.non_responders))
    if s.answerable and board.deadline is not None:
        lines.append(f"Answers close {describe(board.deadline, zone)}.")
    if s.answerable:
        lines.append("Tap to answer for yourself.")
    summary = f"{team.name}" + (f" vs {game.opponent}" if game.opponent else "") + \
        f", {when}: {board.yes} in, {board.no} out, {board.maybe} maybe"
    return chat.Message(summary=summary, lines=lines,
                        buttons=board.check_id if s.answerable else None)


@dataclass(frozen=True, kw_only=True, slots=True)
class DmSnapshot:
    """A player's answer as it is now, for their DMs about the check."""

    team: TeamView
    game: GameView
    board: BoardView
    player: PlayerView
    answer: Answer

    def result(self) -> AnswerResult:
        return AnswerResult(team=self.team, game=self.game, player=self.player,
                            answer=self.answer, changed=True, board=self.board)


def dm_message(s: DmSnapshot, m: chat.Markup) -> chat.Message:
    """The same message a tap on the DM shows: the answer, the game, the counts, and the
    buttons to change it while answers are open."""
    message = chat.answered(s.result(), m)
    if s.game.status != "scheduled":
        return chat.Message(summary=message.summary, lines=message.lines, buttons=None,
                            chosen=message.chosen)
    return message
