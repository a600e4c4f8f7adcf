"""Waiting for handlers to reach a position of the log (read-your-writes for a request).

A request that changed something waits until the read models it shows have handled the
change. The waiter is woken only when one of its handlers passes its position, not on every
step of every handler: with eight requests waiting, a broadcast would wake all eight for
each of a dozen handler steps per event. Handlers run by another process don't tell this
one when they move, so a wait for one of them polls.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from core.eventstore import EventStore


class Followed(Protocol):
    """What waiting asks of the runtime that runs the handlers."""

    def position_of(self, name: str) -> int:
        """How far handler ``name`` is: here if this process runs it, else its checkpoint."""

    def runs_here(self, name: str) -> bool | None:
        """True if this process holds ``name``'s lease, False if another process may run
        it, ``None`` if this runtime doesn't know the handler."""

    def events_of(self, name: str) -> frozenset[type]: ...

    def nudge(self, name: str) -> None:
        """Make handler ``name`` step now (it may have nothing to do but skip ahead)."""


class _Waiter:
    __slots__ = ("names", "position", "ready")

    def __init__(self, position: int, names: frozenset[str]) -> None:
        self.position = position
        self.names = names
        self.ready = threading.Event()


class Waits:
    def __init__(self, runtime: Followed, store: EventStore, *, batch_size: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._runtime = runtime
        self._store = store
        self._batch = batch_size
        self._clock = clock
        self._waiters: list[_Waiter] = []
        self._lock = threading.Lock()

    def passed(self, name: str, position: int) -> None:
        """Handler ``name`` has handled everything up to ``position``."""
        if not self._waiters:
            return
        with self._lock:
            for waiter in self._waiters:
                if position >= waiter.position and name in waiter.names:
                    waiter.ready.set()

    def wait_for(self, position: int, handlers: Sequence[str], *, timeout: float) -> bool:
        """Block until each named handler has processed ``position``; False on timeout."""
        if position <= 0:
            return True
        deadline = self._clock() + timeout
        runtime = self._runtime
        for name in handlers:
            runtime.nudge(name)
        waiter = _Waiter(position, frozenset(handlers))
        with self._lock:
            self._waiters.append(waiter)
        try:
            while True:
                waiter.ready.clear()
                if all(self._has_seen(name, position) for name in handlers):
                    return True
                remaining = deadline - self._clock()
                if remaining <= 0:
                    return False
                # Handlers run by another process don't notify us: poll them.
                local = all(runtime.runs_here(name) for name in handlers)
                waiter.ready.wait(min(remaining, 0.5 if local else 0.02))
        finally:
            with self._lock:
                self._waiters.remove(waiter)

    def _has_seen(self, name: str, position: int) -> bool:
        seen = self._runtime.position_of(name)
        if seen >= position:
            return True
        if self._runtime.runs_here(name) is not False:
            return False
        # Run by another process, which moves its durable checkpoint only when it writes:
        # events the handler has no interest in don't count. (Far behind is just behind.)
        if position - seen > self._batch:
            return False
        pending = self._store.read_all(after=seen, limit=position - seen)
        events = self._runtime.events_of(name)
        return bool(pending) and pending[-1].position >= position and not any(
            type(r.event) in events for r in pending)
