"""Game: when and where a team plays, and the one attendance check asked for it.

Stream ``game-<game_id>``. A game is scheduled in the future, may be rescheduled until it
starts, cancelled until it ends, and ends only after it started.

Decisions the rules leave open: a captain may start a game before its scheduled time; no check
starts once the game has started (``game_started``); resending ``CheckAttendance`` with the
game's own check id records nothing whatever the game's status, so a late resend is harmless.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime
from typing import assert_never

from core.aggregates import Aggregate
from core.errors import DomainError


class GameStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    STARTED = "started"
    ENDED = "ended"
    CANCELLED = "cancelled"


# Commands


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


# Events


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


# State


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


GameCommand = ScheduleGame | RescheduleGame | CancelGame | StartGame | EndGame | CheckAttendance
GameEvent = (
    GameScheduled
    | GameRescheduled
    | GameCancelled
    | GameStarted
    | GameEnded
    | AttendanceCheckStarted
)

_CANCELLED = "That game was cancelled, so it can't be {}."
_ENDED = "That game is over, so it can't be {}."


def decide(state: GameState, command: GameCommand, *, now: datetime) -> list[GameEvent]:
    if isinstance(command, ScheduleGame):
        if state.game_id is not None:
            raise DomainError("game_already_scheduled", "That game is already on the schedule.")
        _refuse_past(command.starts_at, now)
        return [
            GameScheduled(
                game_id=command.game_id,
                team_id=command.team_id,
                starts_at=command.starts_at,
                location=command.location,
                opponent=command.opponent,
                original_text=command.original_text,
            )
        ]
    if state.game_id is None or state.starts_at is None:
        raise DomainError("game_not_found", "There is no such game on the schedule.")
    game_id, status = state.game_id, state.status
    match command:
        case RescheduleGame(starts_at=starts_at):
            _refuse(status, GameStatus.CANCELLED, GameStatus.ENDED, action="rescheduled")
            if status is GameStatus.STARTED:
                raise DomainError("game_started", "That game has started; it can't be moved.")
            if starts_at == state.starts_at:
                return []
            _refuse_past(starts_at, now)
            return [
                GameRescheduled(
                    game_id=game_id,
                    previous_starts_at=state.starts_at,
                    starts_at=starts_at,
                    original_text=command.original_text,
                )
            ]
        case CancelGame(reason=reason):
            if status is GameStatus.CANCELLED:
                return []
            _refuse(status, GameStatus.ENDED, action="cancelled")
            return [GameCancelled(game_id=game_id, reason=reason, cancelled_at=now)]
        case StartGame():
            _refuse(status, GameStatus.CANCELLED, GameStatus.ENDED, action="started")
            if status is GameStatus.STARTED:
                return []
            return [GameStarted(game_id=game_id, started_at=now)]
        case EndGame():
            if status is GameStatus.ENDED:
                return []
            _refuse(status, GameStatus.CANCELLED, action="ended")
            if status is not GameStatus.STARTED:
                raise DomainError("game_not_started", "That game hasn't started yet.")
            return [GameEnded(game_id=game_id, ended_at=now)]
        case CheckAttendance(team_id=team_id, check_id=check_id):
            if team_id != state.team_id:
                raise DomainError("wrong_team", "That game belongs to another team.")
            if check_id == state.check_id:
                return []
            _refuse(status, GameStatus.CANCELLED, GameStatus.ENDED, action="checked for attendance")
            if status is GameStatus.STARTED:
                raise DomainError("game_started", "That game has already started.")
            if state.check_id is not None:
                raise DomainError(
                    "check_already_started", "Attendance for that game is already being checked."
                )
            return [
                AttendanceCheckStarted(
                    game_id=game_id, team_id=team_id, check_id=check_id, starts_at=state.starts_at
                )
            ]
        case _:
            assert_never(command)


def _refuse_past(starts_at: datetime, now: datetime) -> None:
    if starts_at <= now:
        raise DomainError("start_in_past", "That time has already passed; pick a later one.")


def _refuse(status: GameStatus, *refused: GameStatus, action: str) -> None:
    if status in refused:
        if status is GameStatus.CANCELLED:
            raise DomainError("game_cancelled", _CANCELLED.format(action))
        raise DomainError("game_ended", _ENDED.format(action))


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


GAME: Aggregate[GameState] = Aggregate(
    name="game",
    initial=GameState(),
    decide=decide,
    evolve=evolve,
    commands={
        ScheduleGame: "game_id",
        RescheduleGame: "game_id",
        CancelGame: "game_id",
        StartGame: "game_id",
        EndGame: "game_id",
        CheckAttendance: "game_id",
    },
    events=(
        GameScheduled,
        GameRescheduled,
        GameCancelled,
        GameStarted,
        GameEnded,
        AttendanceCheckStarted,
    ),
)
