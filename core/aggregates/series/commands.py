"""The commands a series takes, and their union ``SeriesCommand``.

The games' instants come in worked out (core/recurrence.py expands the rule): the aggregate
checks them, it does no calendar arithmetic."""

from __future__ import annotations

from dataclasses import dataclass

from core.aggregates.series.events import SeriesGame
from core.aggregates.series.recurrence import Recurrence


@dataclass(frozen=True, kw_only=True, slots=True)
class ScheduleSeries:
    series_id: str
    team_id: str
    rule: Recurrence
    games: tuple[SeriesGame, ...]  # in time order, a new game id each
    location: str | None = None
    opponent: str | None = None
    original_text: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class RescheduleSeries:
    """The series' games still to play move: each to its ``games`` entry's time."""

    series_id: str
    rule: Recurrence
    games: tuple[SeriesGame, ...]
    original_text: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CancelSeries:
    """The series ends: ``game_ids`` are its games still to play, each cancelled."""

    series_id: str
    game_ids: tuple[str, ...]
    reason: str | None = None


SeriesCommand = ScheduleSeries | RescheduleSeries | CancelSeries
