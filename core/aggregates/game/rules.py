"""``decide``: the game's rules, from a command and the state to new events."""

from __future__ import annotations

from datetime import datetime
from typing import assert_never

from core.aggregates.game.commands import (
    CancelGame,
    CheckAttendance,
    EndGame,
    GameCommand,
    RescheduleGame,
    ScheduleGame,
    StartGame,
)
from core.aggregates.game.events import (
    AttendanceCheckStarted,
    GameCancelled,
    GameEnded,
    GameEvent,
    GameRescheduled,
    GameScheduled,
    GameStarted,
)
from core.aggregates.game.state import GameState, GameStatus
from core.errors import DomainError, Refusal

# Why a game that moved on can't be changed: one wording per status, the change filled in.
_MOVED_ON = {
    GameStatus.CANCELLED: (Refusal.GAME_CANCELLED, "That game was cancelled, so it can't be {}."),
    GameStatus.STARTED: (Refusal.GAME_STARTED, "That game has started, so it can't be {}."),
    GameStatus.ENDED: (Refusal.GAME_ENDED, "That game is over, so it can't be {}."),
}


def decide(state: GameState, command: GameCommand, *, now: datetime) -> list[GameEvent]:
    if isinstance(command, ScheduleGame):
        if state.game_id is not None:
            raise DomainError(
                Refusal.GAME_ALREADY_SCHEDULED, "That game is already on the schedule.")
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
        raise DomainError(Refusal.GAME_NOT_FOUND, "There is no such game on the schedule.")
    game_id, status = state.game_id, state.status
    match command:
        case RescheduleGame(starts_at=starts_at):
            _refuse(status, GameStatus.CANCELLED, GameStatus.ENDED, GameStatus.STARTED,
                    action="rescheduled")
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
                raise DomainError(Refusal.GAME_NOT_STARTED, "That game hasn't started yet.")
            return [GameEnded(game_id=game_id, ended_at=now)]
        case CheckAttendance(team_id=team_id, check_id=check_id):
            if team_id != state.team_id:
                raise DomainError(Refusal.WRONG_TEAM, "That game belongs to another team.")
            if check_id == state.check_id:
                return []
            _refuse(status, GameStatus.CANCELLED, GameStatus.ENDED, GameStatus.STARTED,
                    action="checked for attendance")
            if state.check_id is not None:
                raise DomainError(Refusal.CHECK_ALREADY_STARTED,
                                  "Attendance for that game is already being checked.")
            return [
                AttendanceCheckStarted(
                    game_id=game_id, team_id=team_id, check_id=check_id, starts_at=state.starts_at
                )
            ]
        case _:
            assert_never(command)


def _refuse_past(starts_at: datetime, now: datetime) -> None:
    if starts_at <= now:
        raise DomainError(Refusal.START_IN_PAST, "That time has already passed; pick a later one.")


def _refuse(status: GameStatus, *refused: GameStatus, action: str) -> None:
    if status in refused:
        code, message = _MOVED_ON[status]
        raise DomainError(code, message.format(action))
