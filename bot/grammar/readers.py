"""Small readers the command parsers share: games, people, zones and free text, with limits."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.grammar.commands import Mention
from bot.grammar.usage import fail
from core.limits import MAX_NAME, MAX_NOTE, MAX_PLACE, MAX_PLAYERS
from core.safe_text import excerpt

NAME_LIMIT, PLACE_LIMIT, NOTE_LIMIT, PLAYER_LIMIT = MAX_NAME, MAX_PLACE, MAX_NOTE, MAX_PLAYERS
WHEN_LIMIT = 80

GAME = re.compile(r"#?g(\d{1,6})", re.IGNORECASE)
_EMAIL = re.compile(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[a-z]{2,}", re.IGNORECASE)
_MAILTO = re.compile(r"<mailto:([^|>]+)(?:\|[^>]*)?>", re.IGNORECASE)
_SLACK_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
_DISCORD_USER = re.compile(r"<@!?(\d+)>")


def game_handle(word: str) -> str | None:
    """``G3`` for g3, G3 or #g3, ``next`` for next; ``None`` for anything else."""
    if word.lower() == "next":
        return "next"
    match = GAME.fullmatch(word)
    return f"G{int(match.group(1))}" if match and int(match.group(1)) > 0 else None


def read_game(word: str, key: str) -> str:
    handle = game_handle(word)
    if handle is None:
        fail(key, f"'{excerpt(word)}' isn't a game. Say a game like G3, or next.")
    return handle


def read_mention(word: str) -> tuple[Mention, str | None] | None:
    """The mention in ``word`` and, from Slack, the name it carries; ``None`` if not one."""
    if match := _SLACK_USER.fullmatch(word):
        return Mention(platform="slack", user_id=match.group(1)), match.group(2)
    if match := _DISCORD_USER.fullmatch(word):
        return Mention(platform="discord", user_id=match.group(1)), None
    return None


def read_email(word: str, key: str) -> str:
    # Slack sends a typed address as <mailto:a@b.c|a@b.c> when it escapes links.
    if match := _MAILTO.fullmatch(word):
        word = match.group(1)
    if word.startswith("@"):
        fail(key, f"'{excerpt(word)}' isn't a mention I can read. Pick the person from the @ menu.")
    if not _EMAIL.fullmatch(word):
        fail(key, f"'{excerpt(word)}' doesn't look like an email address (like alice@example.com).")
    return word.lower()  # one spelling, so "team remove ALICE@example.com" finds her


def read_who(words: Sequence[str], key: str) -> str:
    """A player: a mention, an email, or a name."""
    if len(words) == 1 and (found := read_mention(words[0])) is not None:
        return str(found[0])
    if len(words) == 1 and "@" in words[0]:
        return read_email(words[0], key)
    return read_text(words, key, "the player's name or email", NAME_LIMIT)


def read_zone(raw: str, key: str) -> str:
    # Legacy names like EST have no daylight saving, so a team on them would be an hour off.
    if "/" not in raw and raw.upper() != "UTC":
        fail(key, f"Use a city zone like America/Toronto, not '{excerpt(raw)}'.")
    try:
        return ZoneInfo(raw).key
    except (ZoneInfoNotFoundError, ValueError):
        pass
    known = available_timezones()
    same = [z for z in known if z.lower() == raw.lower()]
    if same:
        return same[0]
    near = difflib.get_close_matches(raw, sorted(known), n=1)
    hint = f" Did you mean {near[0]}?" if near else ""
    fail(key, f"'{excerpt(raw)}' isn't a time zone I know.{hint}")


def read_when(words: Sequence[str], key: str) -> str:
    missing = "Say when the game is, like sat 7pm or 2026-12-05 19:00."
    return read_text(words, key, "the time", WHEN_LIMIT, missing=missing)


def read_text(
    words: Sequence[str], key: str, what: str, limit: int, *, missing: str | None = None
) -> str:
    """The words as one text, outer quotes dropped; refused if empty or over ``limit``."""
    text = " ".join(words)
    if len(text) >= 2 and text[0] in "\"'“‘" and text[-1] in "\"'”’":
        text = text[1:-1].strip()
    if not text:
        fail(key, missing or f"Give {what}.")
    if len(text) > limit:
        fail(key, f"{what.capitalize()} is {len(text)} characters long; keep it to {limit}.")
    return text


def read_optional(words: Sequence[str] | None, key: str, what: str, limit: int) -> str | None:
    """:func:`read_text`, or ``None`` when the part was not given at all."""
    return None if words is None else read_text(words, key, what, limit)


def bare_word(word: str) -> str:
    return word.lower().strip(".,!?")


def nothing_after(words: Sequence[str], key: str) -> None:
    if words:
        fail(key, f"I didn't expect '{excerpt(' '.join(words))}' after {key}.")
