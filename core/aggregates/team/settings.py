"""``TeamSettings``: everything a captain can tune about a team."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True, slots=True)
class TeamSettings:
    """Everything a captain can tune. ``reminder_minutes`` are minutes before the start."""

    timezone: str
    check_lead_minutes: int = 2880
    reminder_minutes: tuple[int, ...] = (1440, 180)
    min_players: int | None = None
    max_players: int | None = None
    game_length_minutes: int = 120
