"""The entry point :func:`parse`: finds the sub-command and hands its words to its parser."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.grammar.channel import parse_channel
from bot.grammar.commands import Board, Check, Command, Games, Help, Me, Remind, Status
from bot.grammar.games import (
    game_or_next,
    parse_answer,
    parse_cancel,
    parse_deadline,
    parse_reschedule,
    parse_schedule,
)
from bot.grammar.readers import nothing_after
from bot.grammar.season import Calendar, Season
from bot.grammar.team import parse_team
from bot.grammar.usage import USAGE, unknown


def parse(text: str) -> Command:
    """Read what follows ``/attend`` (the ``/attend`` itself is optional)."""
    words = text.split()
    if words and words[0].lower() == "/attend":
        words = words[1:]
    if not words:
        return Help()
    head, rest = words[0].lower(), words[1:]
    if head == "team":
        return parse_team(rest)
    read = _COMMANDS.get(head)
    if read is None:
        unknown(head, _TOPICS)
    return read(rest)


# "roster" and "help roster" find "team roster"; "team" is the group of team commands.
_TOPICS = {k.split()[-1]: k for k in USAGE} | {k: k for k in USAGE} | {"team": "team"}


def parse_help(words: Sequence[str]) -> Help:
    if not words:
        return Help()
    topic = " ".join(words).lower().removeprefix("/attend ")
    if topic not in _TOPICS:
        unknown(topic, _TOPICS, what="help topic", usage=USAGE["help"])
    return Help(topic=_TOPICS[topic])


def _no_args(command: Command, key: str) -> Callable[[Sequence[str]], Command]:
    def read(words: Sequence[str]) -> Command:
        nothing_after(words, key)
        return command

    return read


_COMMANDS: dict[str, Callable[[Sequence[str]], Command]] = {
    "help": parse_help,
    "schedule": parse_schedule,
    "games": _no_args(Games(), "games"),
    "check": lambda w: Check(game=game_or_next(w, "check")),
    "status": lambda w: Status(game=game_or_next(w, "status")),
    "board": lambda w: Board(game=game_or_next(w, "board")),
    "remind": lambda w: Remind(game=game_or_next(w, "remind")),
    "deadline": parse_deadline,
    "cancel": parse_cancel,
    "reschedule": parse_reschedule,
    "answer": parse_answer,
    "me": _no_args(Me(), "me"),
    # -- the season (issue 17) --
    "season": _no_args(Season(), "season"),
    "calendar": _no_args(Calendar(), "calendar"),
    "channel": parse_channel,
}
