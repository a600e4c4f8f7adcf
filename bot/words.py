"""The words for an answer, in one place: chat DMs and replies, the console, the web pages and
emails all render from here, so "in", "out" and "maybe" read the same wherever they appear."""

from __future__ import annotations

from dataclasses import dataclass

from core.aggregates.common import Answer


@dataclass(frozen=True, slots=True)
class AnswerWords:
    short: str  # "Yes": the board's columns, an email's buttons
    button: str  # "Yes, I'm in": the chat button that gives it
    page_button: str  # the web page's button, worded as an answer to "Are you coming?"
    state: str  # "in": "Alice is in", "You're in"
    mark: str  # "✅": before a name on the board

    @property
    def stand(self) -> str:
        """Where the player stands once they have given it: "You're in"."""
        return f"You're {self.state}"


ANSWER: dict[Answer, AnswerWords] = {
    Answer.YES: AnswerWords(short="Yes", button="Yes, I'm in", page_button="Yes, I'm in",
                            state="in", mark="✅"),
    Answer.NO: AnswerWords(short="No", button="Can't make it", page_button="No, I can't",
                           state="out", mark="❌"),
    Answer.MAYBE: AnswerWords(short="Maybe", button="Maybe", page_button="Maybe",
                              state="a maybe", mark="❔"),
}
NO_ANSWER_MARK = "·"


def mark(answer: Answer | None) -> str:
    """The mark before a player's name: their answer's, or a dot while they have none."""
    return NO_ANSWER_MARK if answer is None else ANSWER[answer].mark
