"""The events a series records, and their union ``SeriesEvent``.

Each carries the games it concerns with their instants, so the series manager turns it into
game commands without reading anything else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.aggregates.series.recurrence import Recurrence


@dataclass(frozen=True, kw_only=True, slots=True)
class SeriesGame:
    game_id: str
    starts_at: datetime  # UTC


@dataclass(frozen=True, kw_only=True, slots=True)
class SeriesScheduled:
    series_id: str
    team_id: str
    rule: Recurrence
    games: tuple[SeriesGame, ...]
    location: str | None = None
    opponent: str | None = None
    original_text: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class SeriesRescheduled:
    series_id: str
    team_id: str
    rule: Recurrence
    games: tuple[SeriesGame, ...]  # the games moved, at their new times
    original_text: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class SeriesCancelled:
    series_id: str
    team_id: str
    game_ids: tuple[str, ...]  # the games still to play, each cancelled
    reason: str | None
    cancelled_at: datetime


SeriesEvent = SeriesScheduled | SeriesRescheduled | SeriesCancelled
