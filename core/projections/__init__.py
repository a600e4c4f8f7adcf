"""Read models: plain tables kept by projections, and plain query functions over them.

Each projection is a handler the runtime feeds from the log; its rows and its checkpoint
commit together. Queries take a SQLAlchemy ``Connection`` and return frozen dataclasses;
they never load aggregates.
"""

from __future__ import annotations

from core.projections.board import BoardProjection
from core.projections.directory import DirectoryProjection
from core.projections.due_work import DueWorkProjection
from core.projections.roster import RosterProjection
from core.projections.schedule import ScheduleProjection
from core.projections.season import SeasonProjection
from core.projections.series import SeriesProjection
from core.projections.types import Projection

__all__ = ["Projection", "read_models"]


def read_models() -> list[Projection]:
    """A fresh instance of every projection (a player's games is a query over the board
    and schedule tables). The notifier's delivery jobs are not here: they record
    what was sent, so rebuilding them would send everything again."""
    return [RosterProjection(), DirectoryProjection(), ScheduleProjection(), BoardProjection(),
            DueWorkProjection(), SeriesProjection(), SeasonProjection()]
