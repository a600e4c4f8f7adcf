"""The season: every game of a team, every invitation and its answer, kept from the events.

- :mod:`~core.projections.season.tables`: the rows (migrations 0011 and 0014 make them);
- :mod:`~core.projections.season.projection`: the projection that writes them, so a season
  can be rebuilt from the log like any read model;
- :mod:`~core.projections.season.queries`: the season table per player
  (:class:`SeasonLine`) and a player's calendar (:class:`CalendarGame`).
"""

from __future__ import annotations

from core.projections.season.projection import SeasonProjection
from core.projections.season.queries import (
    CalendarFeed,
    CalendarGame,
    SeasonLine,
    calendar_feed,
    games_asked,
    season_attendance,
)

__all__ = ["CalendarFeed", "CalendarGame", "SeasonLine", "SeasonProjection", "calendar_feed",
           "games_asked", "season_attendance"]
