"""A small in-memory rate limit: at most ``limit`` events per key in a sliding window.

One process's memory is enough here: it only has to stop a runaway client or a scanner
hammering one link, not to be exact across several servers.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

MAX_KEYS = 10_000  # past this many keys, forget the idle ones


class RateLimiter:
    def __init__(self, limit: int, window: float, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a rate limit needs limit >= 1 and a positive window")
        self._limit = limit
        self._window = window
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}

    def wait(self, key: str) -> float | None:
        """Count one event for ``key``: None if allowed, else seconds until it would be."""
        now = self._clock()
        recent = self._seen.setdefault(key, deque())
        while recent and recent[0] <= now - self._window:
            recent.popleft()
        if len(recent) >= self._limit:
            return recent[0] + self._window - now
        recent.append(now)
        if len(self._seen) > MAX_KEYS:
            self._forget_idle(now)
        return None

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, times in self._seen.items() if times[-1] <= now - self._window]:
            del self._seen[key]
