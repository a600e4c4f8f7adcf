"""The commands a game takes, and their union ``GameCommand``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class ScheduleGame:
    game_id: str
    team_id: str
    starts_at: datetime
    location: str | None = None
    opponent: str | None = None
    original_text: str | None = None  # what the captain typed, echoed back


@dataclass(frozen=True, kw_only=True, slots=True)
class RescheduleGame:
    game_id: str
    starts_at: datetime
    original_text: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CancelGame:
    game_id: str
    reason: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class StartGame:
    game_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class EndGame:
    game_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckAttendance:
    game_id: str
    team_id: str
    check_id: str


GameCommand = ScheduleGame | RescheduleGame | CancelGame | StartGame | EndGame | CheckAttendance
