"""Words for what the pages show, decided in one place so every page says it the same way."""

from __future__ import annotations

from core.aggregates.common import Answer
from core.aggregates.game import GameStatus
from core.projections.board import BoardLine, BoardView
from core.projections.schedule import GameView

ANSWERS = tuple(answer.value for answer in Answer)  # yes, no, maybe: button order
BUTTON = {"yes": "Yes, I'm in", "no": "No, I can't", "maybe": "Maybe"}
SHORT = {"yes": "Yes", "no": "No", "maybe": "Maybe"}


def headline(line: BoardLine | None) -> str:
    """Where the player stands, in a few words."""
    if line is None or line.answer is None:
        return "You haven't answered yet"
    if line.answer is Answer.YES:
        if line.waitlist_position is not None:
            return f"You're on the waitlist (#{line.waitlist_position})"
        return "You're in"
    return "You're out" if line.answer is Answer.NO else "You're a maybe"


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
