"""Input checks and friendlier refusals, shared by the service's requests."""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from core.aggregates import game
from core.errors import DomainError
from core.projections.schedule import GameView

EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def no_check_yet(found: GameView) -> DomainError:
    return DomainError("no_check", f"{found.handle} has no attendance check yet. A captain can "
                       f"start it with /attend check {found.handle}.")


def friendlier(error: DomainError, found: GameView, now: datetime) -> DomainError:
    if error.code == "check_closed":
        if found.status == game.GameStatus.SCHEDULED and found.starts_at > now:
            # Only the captain's deadline closes a check before its game starts.
            return DomainError("check_closed", f"Answers for {found.handle} are closed: the "
                               "captain's deadline has passed.")
        return DomainError("check_closed", f"Answers for {found.handle} are closed: the game "
                           "has started, ended or was cancelled.")
    if error.code == "not_invited":
        return DomainError("not_invited", f"You're not on the list for {found.handle} "
                           "(you joined or left the team after it was sent?).")
    return error


def deadline_refused(error: DomainError, found: GameView, verb: str = "set") -> DomainError:
    if error.code == "check_closed":
        return DomainError("check_closed", f"Answers for {found.handle} are closed already, so "
                           f"there's no deadline left to {verb}.")
    if error.code == "deadline_after_start":
        return DomainError("deadline_after_start", f"Answers for {found.handle} can't close "
                           "after the game starts; pick an earlier time.")
    return error


def clean_text(value: str | None, what: str, limit: int) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise DomainError("empty_text", f"The {what} can't be empty.")
    if len(text) > limit:
        raise DomainError("too_long", f"The {what} is {len(text)} characters; "
                          f"keep it to {limit}.")
    return text


def clean_email(value: str) -> str:
    email = value.strip().lower()
    if not EMAIL.match(email):
        raise DomainError("invalid_email", f"{value!r} doesn't look like an email address.")
    return email


def known_zone(name: str) -> ZoneInfo:
    try:
        if name not in _known_zones() and name != "UTC":
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DomainError("invalid_timezone", f"{name!r} isn't a time zone we know; use a name "
                          "like America/Toronto or Europe/London.") from None


_known_zones = functools.cache(available_timezones)


def poll_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Wait until ``predicate()`` holds (checking every 20 ms); False after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
