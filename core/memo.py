"""Memoised read-model lookups, current for exactly as long as their read models stand still.

Resolving who is asking and which game they mean takes four small queries per request
(directory, team, player, game), all against read models that change a few times a season.
The handler runtime numbers each read model's changes (:meth:`HandlerRuntime.generation`);
a lookup is kept under the numbers it was read under and served again only while they are
the same. Where this process doesn't run a read model (another ``attend serve`` holds it),
there is no number and every lookup goes to the database.

A request takes its stamp *before* its first query: an entry is then never newer-labelled
than what it holds, whether the read saw a snapshot from the start of the request (SQLite)
or the latest commit (PostgreSQL).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")
Generation = Callable[[str], int | None]
Stamp = Mapping[str, int | None]


class ReadMemo:
    def __init__(self, generation: Generation, models: tuple[str, ...], *,
                 size: int = 20_000) -> None:
        self._generation = generation
        self._models = models
        self._size = size
        self._entries: OrderedDict[Hashable, tuple[int, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def stamp(self) -> Stamp:
        """The read models' numbers now: take it before reading."""
        return {model: self._generation(model) for model in self._models}

    def get(self, stamp: Stamp, model: str, key: Hashable, load: Callable[[], T]) -> T:
        """``load()``'s value, memoised under ``model``'s number in ``stamp``."""
        number = stamp.get(model)
        if number is None:
            return load()
        entry_key = (model, key)
        with self._lock:
            entry = self._entries.get(entry_key)
        if entry is not None and entry[0] == number:
            value: T = entry[1]
            return value
        value = load()
        with self._lock:
            self._entries[entry_key] = (number, value)
            self._entries.move_to_end(entry_key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value


def no_generations(_model: str) -> int | None:
    """For a service without a runtime to ask: nothing is memoised."""
    return None
