"""Game: when and where a team plays, and the one attendance check asked for it.

Stream ``game-<game_id>``. A game is scheduled in the future, may be rescheduled until it
starts, cancelled until it ends, and ends only after it started.

Decisions the rules leave open: a captain may start a game before its scheduled time; no check
starts once the game has started (``game_started``); resending ``CheckAttendance`` with the
game's own check id records nothing whatever the game's status, so a late resend is harmless.

The package's modules: ``commands`` commands (and their union); ``events`` events (and their
union); ``state`` the state and ``evolve``; ``rules`` ``decide`` and the rules it enforces.
"""

from __future__ import annotations

from core.aggregates import Aggregate, message_types
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
from core.aggregates.game.rules import decide
from core.aggregates.game.state import GameState, GameStatus, evolve

GAME: Aggregate[GameState] = Aggregate(
    name="game",
    initial=GameState(),
    decide=decide,
    evolve=evolve,
    commands=dict.fromkeys(message_types(GameCommand), "game_id"),
    events=message_types(GameEvent),
)

__all__ = [
    "GAME",
    "AttendanceCheckStarted",
    "CancelGame",
    "CheckAttendance",
    "EndGame",
    "GameCancelled",
    "GameCommand",
    "GameEnded",
    "GameEvent",
    "GameRescheduled",
    "GameScheduled",
    "GameStarted",
    "GameState",
    "GameStatus",
    "RescheduleGame",
    "ScheduleGame",
    "StartGame",
    "decide",
    "evolve",
]
