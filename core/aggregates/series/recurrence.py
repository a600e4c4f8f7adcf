"""``Recurrence``: when a series' games are, as plain data (expanded in core/recurrence.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

MAX_SERIES_GAMES = 52  # a season of weekly games; a longer run is almost always a typo
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True, kw_only=True, slots=True)
class Recurrence:
    """A game on ``weekday`` (0 is Monday) at ``hour``:``minute`` local time in
    ``timezone``, every ``every_weeks`` weeks, from the first such day on or after
    ``first_day`` until ``last_day`` (inclusive) or for ``count`` games."""

    weekday: int
    hour: int
    minute: int
    timezone: str
    first_day: date
    every_weeks: int = 1
    last_day: date | None = None
    count: int | None = None

    @property
    def day_name(self) -> str:
        return DAY_NAMES[self.weekday]
