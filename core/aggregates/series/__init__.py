"""Series: a team's weekly (or every-n-weeks) game, as one thing a captain can schedule,
move and cancel.

Stream ``series-<series_id>``. Each game of a series is an ordinary game with its own
handle: the series manager (core/process_managers/series.py) sends ``ScheduleGame``,
``RescheduleGame`` and ``CancelGame`` for the games each event names, so checks, reminders
and boards work for them as for any game, and one game can still be moved or cancelled alone.

The package's modules: ``recurrence`` the rule (plain data); ``commands``, ``events``,
``state`` with ``evolve``, ``rules`` with ``decide``.
"""

from __future__ import annotations

from core.aggregates import Aggregate, message_types
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
from core.aggregates.series.recurrence import MAX_SERIES_GAMES, Recurrence
from core.aggregates.series.rules import decide
from core.aggregates.series.state import SeriesState, evolve

SERIES: Aggregate[SeriesState] = Aggregate(
    name="series",
    initial=SeriesState(),
    decide=decide,
    evolve=evolve,
    commands=dict.fromkeys(message_types(SeriesCommand), "series_id"),
    events=message_types(SeriesEvent),
)

__all__ = [
    "MAX_SERIES_GAMES",
    "SERIES",
    "CancelSeries",
    "Recurrence",
    "RescheduleSeries",
    "ScheduleSeries",
    "SeriesCancelled",
    "SeriesCommand",
    "SeriesEvent",
    "SeriesGame",
    "SeriesRescheduled",
    "SeriesScheduled",
    "SeriesState",
    "decide",
    "evolve",
]
