"""What a series remembers, and ``evolve``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import assert_never

from core.aggregates.series.events import (
    SeriesCancelled,
    SeriesEvent,
    SeriesRescheduled,
    SeriesScheduled,
)
from core.aggregates.series.recurrence import Recurrence


@dataclass(frozen=True, kw_only=True, slots=True)
class SeriesState:
    series_id: str | None = None  # None until scheduled
    team_id: str = ""
    rule: Recurrence | None = None
    game_ids: tuple[str, ...] = ()
    cancelled: bool = False


def evolve(state: SeriesState, event: SeriesEvent) -> SeriesState:
    match event:
        case SeriesScheduled():
            return replace(state, series_id=event.series_id, team_id=event.team_id,
                           rule=event.rule, game_ids=tuple(g.game_id for g in event.games))
        case SeriesRescheduled(rule=rule):
            return replace(state, rule=rule)
        case SeriesCancelled():
            return replace(state, cancelled=True)
        case _:
            assert_never(event)
