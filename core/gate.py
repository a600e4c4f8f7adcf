"""How many requests one process works on at once, and in what order.

Python runs one thread at a time. Eight request threads let loose together don't finish
sooner: they hand the interpreter lock (and, on SQLite, the write lock) back and forth at
every database call, and every hand-over is a context switch. With eight clients answering
at once (``bench/domain.py``) that costs more CPU than the answers themselves and puts the
slowest answer at several times the median. A few at a time (three by default) keep one
thread working while the others wait on the database, and the rest queue in arrival
order, so nobody waits behind a lucky thread that keeps getting back in first. (Measured
with eight clients on two cores: one slot leaves PostgreSQL's round trips unoverlapped;
three gave the best throughput and p99 on both databases; four did no better.)
"""

from __future__ import annotations

import threading
from collections import deque
from types import TracebackType


class RequestGate:
    """At most ``slots`` threads inside at once; the others enter in arrival order.

    Re-entrant: a thread already inside passes straight through (one service method may
    use another). A leaving thread hands its slot directly to the longest waiter.
    """

    def __init__(self, slots: int = 3) -> None:
        if slots < 1:
            raise ValueError("a gate needs at least one slot")
        self._lock = threading.Lock()
        self._free = slots
        self._queue: deque[threading.Lock] = deque()
        self._inside = threading.local()

    @property
    def waiting(self) -> int:
        """How many requests are queued for a slot."""
        return len(self._queue)

    def __enter__(self) -> None:
        depth = getattr(self._inside, "depth", 0)
        self._inside.depth = depth + 1
        if depth:
            return
        with self._lock:
            if self._free and not self._queue:
                self._free -= 1
                return
            turn = threading.Lock()
            turn.acquire()
            self._queue.append(turn)
        try:
            turn.acquire()  # released by the thread that hands us its slot
        except BaseException:  # interrupted while waiting (Ctrl-C in the main thread)
            self._inside.depth = 0
            with self._lock:
                if turn in self._queue:
                    self._queue.remove(turn)
                else:
                    self._hand_on()  # the slot came as we gave up: pass it on
            raise

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._inside.depth -= 1
        if self._inside.depth:
            return
        with self._lock:
            self._hand_on()

    def _hand_on(self) -> None:
        if self._queue:
            self._queue.popleft().release()
        else:
            self._free += 1
