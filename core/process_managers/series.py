"""SeriesManager: turns what a series records into commands for its games.

``SeriesScheduled`` -> ``ScheduleGame`` for each of its games (in time order, so their
handles count up with the dates); ``SeriesRescheduled`` -> ``RescheduleGame`` for each game it
moves; ``SeriesCancelled`` -> ``CancelGame`` for each game still to play. Every event names its
games and their times, so the manager keeps no state. Commands carry ids derived from the
event, so a resend records nothing; a game that moved on meanwhile (started, cancelled alone)
refuses its command, which the runtime logs and passes over.
"""

from __future__ import annotations

from typing import Any

from core.aggregates import game, series
from core.eventstore import HandlerTransaction, RecordedEvent
from core.runtime import derived_command_id

CANCEL_REASON = "the series was cancelled"


class SeriesManager:
    name = "series_manager"
    sends_commands = True
    events: frozenset[type] = frozenset({
        series.SeriesScheduled, series.SeriesRescheduled, series.SeriesCancelled})

    def handle(self, tx: HandlerTransaction, recorded: RecordedEvent) -> None:
        commands: list[Any]
        match recorded.event:
            case series.SeriesScheduled() as e:
                commands = [game.ScheduleGame(
                    game_id=g.game_id, team_id=e.team_id, starts_at=g.starts_at,
                    location=e.location, opponent=e.opponent, original_text=e.original_text)
                    for g in e.games]
            case series.SeriesRescheduled() as e:
                commands = [game.RescheduleGame(game_id=g.game_id, starts_at=g.starts_at,
                                                original_text=e.original_text)
                            for g in e.games]
            case series.SeriesCancelled() as e:
                commands = [game.CancelGame(game_id=game_id, reason=e.reason or CANCEL_REASON)
                            for game_id in e.game_ids]
            case _:
                return
        meta = recorded.metadata
        for index, command in enumerate(commands):
            tx.enqueue(command, command_id=derived_command_id(recorded, index),
                       correlation_id=meta.correlation_id, causation_id=meta.event_id)
