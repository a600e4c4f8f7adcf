"""``decide``: the series' rules.

A series has 1 to 52 games, in time order, all in the future, on distinct game ids. Only its
own games move or are cancelled with it, to times still ahead; a cancelled series changes no
more (cancelling it again records nothing). A move that changes neither the rule nor a game
records nothing. Which games are still to play is the caller's to say: the games'
own streams know, the series does not.
"""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from typing import assert_never

from core.aggregates.series.commands import (
    CancelSeries,
    RescheduleSeries,
    ScheduleSeries,
    SeriesCommand,
)
from core.aggregates.series.events import (
    SeriesCancelled,
    SeriesEvent,
    SeriesGame,
    SeriesRescheduled,
    SeriesScheduled,
)
from core.aggregates.series.recurrence import MAX_SERIES_GAMES
from core.aggregates.series.state import SeriesState
from core.errors import DomainError, Refusal


def decide(state: SeriesState, command: SeriesCommand, *, now: datetime) -> list[SeriesEvent]:
    if isinstance(command, ScheduleSeries):
        if state.series_id is not None:
            raise DomainError(Refusal.SERIES_ALREADY_SCHEDULED,
                              "That series is already on the schedule.")
        _check_games(command.games, now)
        if len({g.game_id for g in command.games}) != len(command.games):
            raise DomainError(Refusal.INVALID_SERIES, "Each game of a series is a game of its own.")
        return [SeriesScheduled(
            series_id=command.series_id, team_id=command.team_id, rule=command.rule,
            games=command.games, location=command.location, opponent=command.opponent,
            original_text=command.original_text)]
    if state.series_id is None:
        raise DomainError(Refusal.SERIES_NOT_FOUND, "There is no such series on the schedule.")
    match command:
        case RescheduleSeries(rule=rule, games=games):
            _refuse_cancelled(state, "rescheduled")
            _refuse_foreign(state, tuple(g.game_id for g in games))
            if not games and rule == state.rule:
                return []
            if games:
                _check_games(games, now)
            return [SeriesRescheduled(series_id=state.series_id, team_id=state.team_id,
                                      rule=rule, games=games,
                                      original_text=command.original_text)]
        case CancelSeries(game_ids=game_ids, reason=reason):
            if state.cancelled:
                return []
            _refuse_foreign(state, game_ids)
            return [SeriesCancelled(series_id=state.series_id, team_id=state.team_id,
                                    game_ids=game_ids, reason=reason, cancelled_at=now)]
        case _:
            assert_never(command)


def _check_games(games: tuple[SeriesGame, ...], now: datetime) -> None:
    if not games:
        raise DomainError(Refusal.INVALID_SERIES, "A series needs at least one game.")
    if len(games) > MAX_SERIES_GAMES:
        raise DomainError(Refusal.SERIES_TOO_LONG, f"That makes {len(games)} games; a series "
                          f"holds at most {MAX_SERIES_GAMES}. End it sooner.")
    if any(later.starts_at <= earlier.starts_at for earlier, later in pairwise(games)):
        raise DomainError(Refusal.INVALID_SERIES, "A series' games come one after another.")
    if games[0].starts_at <= now:
        raise DomainError(Refusal.START_IN_PAST,
                          "That time has already passed; pick a later one.")


def _refuse_cancelled(state: SeriesState, action: str) -> None:
    if state.cancelled:
        raise DomainError(Refusal.SERIES_CANCELLED,
                          f"That series was cancelled, so it can't be {action}.")


def _refuse_foreign(state: SeriesState, game_ids: tuple[str, ...]) -> None:
    if not set(game_ids) <= set(state.game_ids):
        raise DomainError(Refusal.WRONG_SERIES, "That game belongs to another series.")
