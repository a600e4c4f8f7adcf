"""Parsing the game commands (schedule, deadline, cancel, reschedule) and ``answer``."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from bot.grammar.commands import (
    Answer,
    AnswerWord,
    Cancel,
    CancelSeries,
    ClearDeadline,
    Deadline,
    Reschedule,
    RescheduleSeries,
    Schedule,
    ScheduleSeries,
)
from bot.grammar.readers import (
    GAME,
    NAME_LIMIT,
    NOTE_LIMIT,
    PLACE_LIMIT,
    WHEN_LIMIT,
    bare_word,
    game_handle,
    nothing_after,
    read_game,
    read_optional,
    read_text,
    read_when,
    read_who,
)
from bot.grammar.series import (
    is_series,
    parse_cancel_series,
    parse_reschedule_series,
    parse_schedule_series,
)
from bot.grammar.usage import fail
from core.safe_text import EXCERPT, excerpt

_VERSUS = {"vs", "vs.", "versus"}
_CLOCK_WORD = re.compile(r"\d{1,2}(?:[:.]\d{2})?(?:[ap]\.?m\.?)?|noon|midnight")
_HAS_CLOCK = re.compile(r"\d:\d\d|\d\s*[ap]\.?m\b|\b(?:noon|midnight)\b")


def parse_schedule(words: Sequence[str]) -> Schedule | ScheduleSeries:
    if words and words[0].lower() == "every":
        return parse_schedule_series(words[1:])
    key = "schedule"
    parts: dict[str, list[str]] = {"when": []}
    current = "when"
    for i, word in enumerate(words):
        lower = word.lower()
        following = words[i + 1].lower() if i + 1 < len(words) else ""
        # "sat at 7pm": an "at" before the time (and none typed yet) belongs to the date.
        time_at = (
            current == "when"
            and _CLOCK_WORD.fullmatch(following) is not None
            and not _HAS_CLOCK.search(" ".join(parts["when"]).lower())
        )
        if lower == "at" and "at" not in parts and not time_at:
            current = "at"
        elif lower in _VERSUS and "vs" not in parts:
            current = "vs"
        else:
            parts[current].append(word)
            continue
        parts[current] = []
    if any(w.startswith("@") for words in parts.values() for w in words):
        fail(key, "Use 'at' for the place, not '@' (that pings people in Slack).")
    return Schedule(
        when_text=read_when(parts["when"], key),
        location=read_optional(parts.get("at"), key, "the place after 'at'", PLACE_LIMIT),
        opponent=read_optional(parts.get("vs"), key, "the team after 'vs'", NAME_LIMIT),
    )


def game_or_next(words: Sequence[str], key: str) -> str:
    """The one game named after ``key``, or ``next`` when none is."""
    if not words:
        return "next"
    nothing_after(words[1:], key)
    return read_game(words[0], key)


def parse_deadline(words: Sequence[str]) -> Deadline | ClearDeadline:
    key = "deadline"
    rest = list(words)
    game = "next"
    # "next fri 6pm" reads the same either way: the next game, or a date starting "next".
    if rest and (game_handle(rest[0]) is not None or GAME.fullmatch(rest[0])):
        game = read_game(rest.pop(0), key)
    if len(rest) == 1 and rest[0].lower() == "none":
        return ClearDeadline(game=game)
    missing = "Say when answers close, like fri 6pm or 2026-12-04 18:00."
    return Deadline(game=game, when_text=read_text(rest, key, "the time", WHEN_LIMIT,
                                                   missing=missing))


def parse_cancel(words: Sequence[str]) -> Cancel | CancelSeries:
    if is_series(words):
        return parse_cancel_series(words[1:])
    if not words:
        fail("cancel", "Which game? Say G3 or next.")
    reason = read_optional(words[1:] or None, "cancel", "the reason", NOTE_LIMIT)
    return Cancel(game=read_game(words[0], "cancel"), reason=reason)


def parse_reschedule(words: Sequence[str]) -> Reschedule | RescheduleSeries:
    if is_series(words):
        return parse_reschedule_series(words[1:])
    if not words:
        fail("reschedule", "Which game, and when? Say G3 sat 7pm.")
    game = read_game(words[0], "reschedule")
    return Reschedule(game=game, when_text=read_when(words[1:], "reschedule"))


# "in" and "out" are how players talk about coming; both are read as yes and no.
_ANSWERS: dict[str, AnswerWord] = {
    "yes": "yes",
    "no": "no",
    "maybe": "maybe",
    "in": "yes",
    "out": "no",
}
_SEPARATORS = {"--", "—", "–", ":"}


def parse_answer(words: Sequence[str]) -> Answer:
    key = "answer"
    rest = list(words)
    game = "next"
    if rest and game_handle(rest[0]) is not None:
        game = read_game(rest.pop(0), key)
    elif len(rest) > 1 and bare_word(rest[0]) not in _ANSWERS and bare_word(rest[1]) in _ANSWERS:
        fail(key, f"'{excerpt(rest[0])}' isn't a game. Say a game like G3, or next.")
    if not rest:
        fail(key, "Say yes, no or maybe.")
    said = bare_word(rest.pop(0))
    answer = _ANSWERS.get(said)
    if answer is None:
        near = difflib.get_close_matches(said[:EXCERPT], list(_ANSWERS), n=1)
        hint = f" Did you mean '{near[0]}'?" if near else ""
        fail(key, f"'{excerpt(said)}' isn't an answer. Say yes, no or maybe.{hint}")
    on_behalf_of = None
    if rest and rest[0].lower() == "for":
        whom, rest = _split_behalf(rest[1:])
        on_behalf_of = read_who(whom, key)
    while rest and rest[0] in _SEPARATORS:
        rest.pop(0)
    note = read_optional(rest or None, key, "the note", NOTE_LIMIT)
    return Answer(game=game, answer=answer, note=note, on_behalf_of=on_behalf_of)


def _split_behalf(words: list[str]) -> tuple[list[str], list[str]]:
    """The player after ``for`` and the note after: one email or mention, else up to -- or :."""
    if words and "@" in words[0]:
        return words[:1], words[1:]
    for i, word in enumerate(words):
        if word in _SEPARATORS:
            return words[:i], words[i + 1 :]
        if word.endswith(":"):  # "for Alice McGee: hurt knee"
            return [*words[:i], word[:-1]], words[i + 1 :]
    return words, []
