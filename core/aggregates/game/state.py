"""What a game remembers, and ``evolve``: how each event changes it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime
from typing import assert_never

from core.aggregates.game.events import (
    AttendanceCheckStarted,
    GameCancelled,
    GameEnded,
    GameEvent,
    GameRescheduled,
    GameScheduled,
    GameStarted,
)


class GameStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    STARTED = "started"
    ENDED = "ended"
    CANCELLED = "cancelled"


@dataclass(frozen=True, kw_only=True, slots=True)
class GameState:
    game_id: str | None = None  # None until scheduled
    team_id: str = ""
    status: GameStatus = GameStatus.SCHEDULED
    starts_at: datetime | None = None
    location: str | None = None
    opponent: str | None = None
    original_text: str | None = None
    check_id: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None


def evolve(state: GameState, event: GameEvent) -> GameState:
    match event:
        case GameScheduled():
            return replace(
                state,
                game_id=event.game_id,
                team_id=event.team_id,
                status=GameStatus.SCHEDULED,
                starts_at=event.starts_at,
                location=event.location,
                opponent=event.opponent,
                original_text=event.original_text,
            )
        case GameRescheduled(starts_at=starts_at, original_text=original_text):
            return replace(state, starts_at=starts_at, original_text=original_text)
        case GameCancelled(reason=reason, cancelled_at=cancelled_at):
            return replace(
                state,
                status=GameStatus.CANCELLED,
                cancelled_at=cancelled_at,
                cancel_reason=reason,
            )
        case GameStarted(started_at=started_at):
            return replace(state, status=GameStatus.STARTED, started_at=started_at)
        case GameEnded(ended_at=ended_at):
            return replace(state, status=GameStatus.ENDED, ended_at=ended_at)
        case AttendanceCheckStarted(check_id=check_id):
            return replace(state, check_id=check_id)
        case _:
            assert_never(event)
