"""The refusals the service words itself, each in this one place: input it can't use (a
blank or overlong text, an email or time zone it can't read), and the aggregates' refusals
retold for the game the person named (the aggregate knows the check, not its handle or why
it closed)."""

from __future__ import annotations

import functools
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from core.aggregates import game
from core.errors import DomainError, Refusal
from core.projections.schedule import GameView


def no_check_yet(found: GameView) -> DomainError:
    return DomainError(
        Refusal.NO_CHECK, f"{found.handle} has no attendance check yet. A captain can "
        f"start it with /attend check {found.handle}.")


def unknown_check(what: str) -> DomainError:
    """``what`` (a link, a message) names a check that isn't on the board."""
    return DomainError(Refusal.UNKNOWN_CHECK, f"This {what} is for a game Attend can't find.")


def no_longer_invited() -> DomainError:
    return DomainError(Refusal.NOT_INVITED, "You're no longer on this team, so this "
                       "invitation was withdrawn.")


def friendlier(error: DomainError, found: GameView, now: datetime) -> DomainError:
    """An answer's refusal, told for the game ``found``."""
    if error.code is Refusal.CHECK_CLOSED:
        if found.status == game.GameStatus.SCHEDULED and found.starts_at > now:
            # Only the captain's deadline closes a check before its game starts.
            return DomainError(Refusal.CHECK_CLOSED, f"Answers for {found.handle} are closed: the "
                               "captain's deadline has passed.")
        return DomainError(Refusal.CHECK_CLOSED, f"Answers for {found.handle} are closed: the game "
                           "has started, ended or was cancelled.")
    if error.code is Refusal.NOT_INVITED:
        return DomainError(Refusal.NOT_INVITED, f"You're not on the list for {found.handle} "
                           "(you joined or left the team after it was sent?).")
    return error


def deadline_refused(error: DomainError, found: GameView, verb: str = "set") -> DomainError:
    """A deadline's refusal, told for the game ``found`` (the aggregate's own words for a
    deadline after the start already say all there is: the adapter adds when that is)."""
    if error.code is Refusal.CHECK_CLOSED:
        return DomainError(
            Refusal.CHECK_CLOSED, f"Answers for {found.handle} are closed already, so "
            f"there's no deadline left to {verb}.")
    return error


def clean_text(value: str | None, what: str, limit: int) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise DomainError(Refusal.EMPTY_TEXT, f"The {what} can't be empty.")
    if len(text) > limit:
        raise DomainError(Refusal.TOO_LONG, f"The {what} is {len(text)} characters; "
                          f"keep it to {limit}.")
    return text


def known_zone(name: str) -> ZoneInfo:
    try:
        if name not in _known_zones() and name != "UTC":
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DomainError(
            Refusal.INVALID_TIMEZONE, f"{name!r} isn't a time zone we know; use a name "
            "like America/Toronto or Europe/London.") from None


_known_zones = functools.cache(available_timezones)
