"""Parsing series of games: ``schedule every ...``, ``cancel series``, ``reschedule series``;
and the same commands from typed options (Discord's ``/attend series ...``).

Pure, like the rest of the grammar: the dates stay as typed (``from_text``, ``until_text``)
for the caller to read in the team's zone; the day and the time of day are read here, so a
day that doesn't exist ("every sonday") is refused with a suggestion.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from datetime import time

from bot.grammar.commands import CancelSeries, RescheduleSeries, ScheduleSeries
from bot.grammar.readers import (
    NAME_LIMIT,
    NOTE_LIMIT,
    PLACE_LIMIT,
    WHEN_LIMIT,
    read_optional,
    read_text,
)
from bot.grammar.usage import fail

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_OF = {day: n for n, day in enumerate(WEEKDAYS)} | {day[:3]: n for n, day in
                                                         enumerate(WEEKDAYS)}
_DAY_OF |= {"tues": 1, "weds": 2, "thur": 3, "thurs": 3}
_SERIES = re.compile(r"#?s(\d{1,6})", re.IGNORECASE)
_CLOCK = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?([ap])\.?m\.?|(\d{1,2})[:.](\d{2})")
_LENGTH = re.compile(r"(\d{1,3})")
_UNITS = {"week": "weeks", "weeks": "weeks", "game": "games", "games": "games"}
_KEYWORDS = {"at", "vs", "vs.", "versus", "from", "starting", "until", "till", "through",
             "thru", "for"}
MAX_EVERY_WEEKS = 52


def is_series(words: Sequence[str]) -> bool:
    return bool(words) and words[0].lower() == "series"


def parse_schedule_series(words: Sequence[str]) -> ScheduleSeries:
    """What follows ``schedule every``."""
    key = "schedule every"
    rest = list(words)
    every = 1
    if rest and rest[0].lower() == "other":
        every = 2
        rest.pop(0)
    elif len(rest) > 1 and rest[0].isdecimal() and rest[1].lower() in ("week", "weeks"):
        every = _every(rest[0], key)
        del rest[:2]
    elif rest and rest[0].lower() in ("week", "weekly"):
        rest.pop(0)
    if rest and rest[0].lower() == "on":
        rest.pop(0)
    if not rest:
        fail(key, "Say the day and time, like every sat 7pm.")
    weekday = read_weekday(rest.pop(0), key)
    parts = _parts(rest)
    when = parts.pop("", [])
    if not when:
        fail(key, "Say the time of day, like every sat 7pm.")
    at = read_clock(when, key)
    until = parts.get("until")
    length = parts.get("for")
    if until is None and length is None:
        fail(key, "A series needs an end: add 'until mar 27' or 'for 10 weeks'.")
    if until is not None and length is not None:
        fail(key, "Give until or for, not both.")
    return ScheduleSeries(
        weekday=weekday, at=at, every_weeks=every,
        from_text=read_optional(parts.get("from"), key, "the first date", WHEN_LIMIT),
        until_text=read_optional(until, key, "the last date", WHEN_LIMIT),
        games=None if length is None else _games(length, every, key),
        location=read_optional(parts.get("at"), key, "the place after 'at'", PLACE_LIMIT),
        opponent=read_optional(parts.get("vs"), key, "the team after 'vs'", NAME_LIMIT))


def parse_cancel_series(words: Sequence[str]) -> CancelSeries:
    """What follows ``cancel series``."""
    key = "cancel series"
    if not words:
        fail(key, "Which series? Say S1.")
    return CancelSeries(series=read_series(words[0], key),
                        reason=read_optional(words[1:] or None, key, "the reason", NOTE_LIMIT))


def parse_reschedule_series(words: Sequence[str]) -> RescheduleSeries:
    """What follows ``reschedule series``."""
    key = "reschedule series"
    if not words:
        fail(key, "Which series, and to when? Say S1 sun 6pm.")
    handle, rest = read_series(words[0], key), list(words[1:])
    weekday = None
    if rest and _day(rest[0]) is not None:
        weekday = read_weekday(rest.pop(0), key)
    at = read_clock(rest, key) if rest else None
    if weekday is None and at is None:
        fail(key, "Say the new day and/or time, like S1 sun 6pm.")
    return RescheduleSeries(series=handle, weekday=weekday, at=at)


# -- readers ---------------------------------------------------------------------------------
def read_series(word: str, key: str) -> str:
    match = _SERIES.fullmatch(word)
    if match is None or int(match.group(1)) == 0:
        fail(key, f"'{word}' isn't a series. Say a series like S1 (/attend games lists them).")
    return f"S{int(match.group(1))}"


def read_weekday(word: str, key: str) -> int:
    found = _day(word)
    if found is None:
        said = word.lower().strip(".,")
        near = difflib.get_close_matches(said, WEEKDAYS, n=1, cutoff=0.5)
        hint = f" Did you mean {near[0]}?" if near else ""
        fail(key, f"'{word}' isn't a day of the week.{hint}")
    return found


def read_clock(words: Sequence[str], key: str) -> time:
    """A time of day: 7pm, 7:30 pm, 19:00, noon."""
    said = "".join(words).lower()
    if said in ("noon", "midday"):
        return time(12, 0)
    if said == "midnight":
        return time(0, 0)
    match = _CLOCK.fullmatch(said)
    if match is not None and match.group(3):
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if 1 <= hour <= 12 and minute < 60:
            return time(hour % 12 + (12 if match.group(3) == "p" else 0), minute)
    elif match is not None:
        hour, minute = int(match.group(4)), int(match.group(5))
        if hour < 24 and minute < 60:
            return time(hour, minute)
    shown = " ".join(words)
    if said.isdigit():
        fail(key, f"'{shown}' needs am or pm, like {shown}pm, or a 24-hour time like 19:00.")
    fail(key, f"'{shown}' isn't a time of day. Say 7pm, 7:30pm or 19:00.")


def _day(word: str) -> int | None:
    said = word.lower().strip(".,")
    return _DAY_OF.get(said, _DAY_OF.get(said.removesuffix("s")))  # "saturdays"


def _parts(words: Sequence[str]) -> dict[str, list[str]]:
    """The words split at each part's keyword, the first time it is said: ``""`` (the time
    of day), ``at``, ``vs``, ``from``, ``until``, ``for``. An ``at`` before the time of day
    belongs to it ("every sat at 7pm"); after a place or a team, ``for`` starts a part only
    before a number ("at Center for Sports")."""
    parts: dict[str, list[str]] = {"": []}
    current = ""
    for i, word in enumerate(words):
        lower = word.lower()
        following = words[i + 1] if i + 1 < len(words) else ""
        name = {"vs.": "vs", "versus": "vs", "starting": "from", "till": "until",
                "through": "until", "thru": "until"}.get(lower, lower)
        if name == "at" and current == "" and not parts[""]:
            continue  # "every sat at 7pm"
        if name in _KEYWORDS and name not in parts and (
                name != "for" or current == "" or _LENGTH.fullmatch(following)):
            current = name
            parts[current] = []
        else:
            parts[current].append(word)
    return parts


def _every(word: str, key: str) -> int:
    weeks = int(word)
    if not 1 <= weeks <= MAX_EVERY_WEEKS:
        fail(key, f"Games can be 1 to {MAX_EVERY_WEEKS} weeks apart, not {weeks}.")
    return weeks


def _games(words: Sequence[str], every: int, key: str) -> int:
    """``for 10 weeks`` (games in that span) or ``for 10 games``."""
    unit = _UNITS.get(words[1].lower()) if len(words) == 2 else None
    if unit is not None and len(words[0]) > 3:
        unit = None  # a number no series reaches
    if unit is None or not words[0].isdecimal() or int(words[0]) < 1:
        fail(key, f"Say how long after 'for', like for 10 weeks or for 8 games, not "
                  f"'for {' '.join(words)}'.")
    count = int(words[0])
    return count if unit == "games" else -(-count // every)


# -- from typed options (Discord) ------------------------------------------------------------
def typed_schedule(*, day: str, at: str, start: str | None = None, until: str | None = None,
                   weeks: int | None = None, every: int = 1, location: str | None = None,
                   opponent: str | None = None) -> ScheduleSeries:
    key = "schedule every"
    every = _every(str(every), key)
    if until is None and weeks is None:
        fail(key, "A series needs an end: give until (a date) or weeks.")
    if until is not None and weeks is not None:
        fail(key, "Give until or weeks, not both.")
    return ScheduleSeries(
        weekday=read_weekday(day.strip(), key), at=read_clock(at.split(), key),
        every_weeks=every,
        from_text=None if start is None else read_text(start.split(), key, "the first date",
                                                       WHEN_LIMIT),
        until_text=None if until is None else read_text(until.split(), key, "the last date",
                                                        WHEN_LIMIT),
        games=None if weeks is None else _games((str(weeks), "weeks"), every, key),
        location=None if location is None else read_text(location.split(), key, "the place",
                                                         PLACE_LIMIT),
        opponent=None if opponent is None else read_text(opponent.split(), key, "the opponent",
                                                         NAME_LIMIT))


def typed_cancel(*, series: str, reason: str | None = None) -> CancelSeries:
    key = "cancel series"
    return CancelSeries(series=read_series(series.strip(), key),
                        reason=None if reason is None else read_text(reason.split(), key,
                                                                     "the reason", NOTE_LIMIT))


def typed_reschedule(*, series: str, day: str | None = None,
                     at: str | None = None) -> RescheduleSeries:
    key = "reschedule series"
    if day is None and at is None:
        fail(key, "Give the new day, the new time, or both.")
    return RescheduleSeries(series=read_series(series.strip(), key),
                            weekday=None if day is None else read_weekday(day.strip(), key),
                            at=None if at is None else read_clock(at.split(), key))
