"""Words for what the pages show, decided in one place so every page says it the same way."""

from __future__ import annotations

from bot import words
from core.aggregates.common import Answer
from core.aggregates.game import GameStatus
from core.projections.board import BoardLine, BoardView
from core.projections.schedule import GameView

ANSWERS = tuple(answer.value for answer in Answer)  # yes, no, maybe: button order
BUTTON = {answer.value: words.ANSWER[answer].page_button for answer in Answer}
SHORT = {answer.value: words.ANSWER[answer].short for answer in Answer}


def headline(line: BoardLine | None) -> str:
    """Where the player stands, in a few words."""
    if line is None or line.answer is None:
        return "You haven't answered yet"
    if line.answer is Answer.YES and line.waitlist_position is not None:
        return f"You're on the waitlist (#{line.waitlist_position})"
    return words.ANSWER[line.answer].stand


def closed_reason(game: GameView, board: BoardView | None) -> str | None:
    """Why answers are no longer taken for this game, or None while they are."""
    if game.status is GameStatus.CANCELLED:
        why = f" ({game.cancel_reason})" if game.cancel_reason else ""
        return f"This game was cancelled{why}, so there's nothing to answer."
    if game.status is GameStatus.ENDED:
        return "This game is over, so answers are closed."
    if game.status is GameStatus.STARTED:
        return "The game has started, so answers are closed."
    if board is not None and not board.open:
        return "Answers for this game are closed."
    return None


def line_for(board: BoardView, player_id: str) -> BoardLine | None:
    return next((line for line in board.lines if line.player_id == player_id), None)
