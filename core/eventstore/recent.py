"""The last events this process appended, kept in memory for the handlers that follow them.

Every handler thread reads each new event right after it is written; serving those reads
from memory spares a query and a decode per handler. Safe because positions are handed out
in commit order (see :mod:`core.eventstore.sql`): if position ``p`` is here, every position
below it committed before it, so a read "after ``p - 1``" may start here.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from core.eventstore import RecordedEvent

SIZE = 4096  # the last positions of the log kept, those appended here


class RecentEvents:
    """A ring: position ``p`` sits at ``p % SIZE`` until a newer one takes its place."""

    def __init__(self) -> None:
        self._ring: list[RecordedEvent | None] = [None] * SIZE
        self._size = SIZE
        self._newest = 0  # the last position this process appended
        self._lock = threading.Lock()

    def add(self, recorded: Sequence[RecordedEvent]) -> None:
        ring, size = self._ring, self._size
        with self._lock:
            for item in recorded:
                ring[item.position % size] = item
            last = recorded[-1].position
            if last > self._newest:
                self._newest = last

    def after(self, after: int, limit: int, *, local: bool) -> list[RecordedEvent] | None:
        """Up to ``limit`` events after ``after`` from memory. ``None`` when the database
        must be asked; ``[]`` when ``local`` and this process appended nothing after it."""
        with self._lock:
            if local and after >= self._newest:
                return []
            cached: list[RecordedEvent] = []
            position = after + 1
            while len(cached) < limit and (item := self.get(position)) is not None:
                cached.append(item)
                position += 1
        return cached or None

    def get(self, position: int) -> RecordedEvent | None:
        """The event at ``position`` if this process appended it lately, else ``None``."""
        item = self._ring[position % self._size]
        return item if item is not None and item.position == position else None
