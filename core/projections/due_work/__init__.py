"""Due work: what the scheduler must do for each game, and when. Its source of truth.

- :mod:`~core.projections.due_work.plan`: the scheduling rules, pure functions from a game's
  state and its team's timing to its due items (check start, reminders, minimum check,
  answer deadline, start and end of the game);
- :mod:`~core.projections.due_work.projection`: the projection that writes those items and
  their status from the events;
- :mod:`~core.projections.due_work.tables` and :mod:`~core.projections.due_work.queries`:
  the rows and the reads (:class:`DueItem`);
- :mod:`~core.projections.due_work.claims`: the scheduler's lease on due items.
"""

from __future__ import annotations

from core.projections.due_work.plan import DueKind, DueStatus
from core.projections.due_work.projection import DueWorkProjection
from core.projections.due_work.queries import (
    DueItem,
    changed_since,
    items_for_game,
    last_change,
    pending,
)
from core.projections.due_work.tables import due_work

__all__ = ["DueItem", "DueKind", "DueStatus", "DueWorkProjection", "changed_since", "due_work",
           "items_for_game", "last_change", "pending"]
