"""The events a game records, and their union ``GameEvent``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class GameScheduled:
    game_id: str
    team_id: str
    starts_at: datetime
    location: str | None = None
    opponent: str | None = None
    original_text: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class GameRescheduled:
    game_id: str
    previous_starts_at: datetime
    starts_at: datetime
    original_text: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class GameCancelled:
    game_id: str
    reason: str | None
    cancelled_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class GameStarted:
    game_id: str
    started_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class GameEnded:
    game_id: str
    ended_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class AttendanceCheckStarted:
    game_id: str
    team_id: str
    check_id: str
    starts_at: datetime


GameEvent = (
    GameScheduled
    | GameRescheduled
    | GameCancelled
    | GameStarted
    | GameEnded
    | AttendanceCheckStarted
)
