"""The event store on SQLite and PostgreSQL.

**Global order equals commit order.** A reader tailing ``position > last_seen`` must never
miss an event that commits later with a smaller position. SQLite has a single writer, so its
rowid order is commit order. On PostgreSQL an append takes a transaction-level advisory lock
(one per ``events`` table, so several schemas in one database don't wait for each other)
before it takes its positions from the ``event_positions`` sequence, and holds the lock
until it commits: the next writer gets its positions only after the previous one committed,
and a transaction's lock is released only once its commit is visible. It costs one round
trip per append: the guard on the expected version, the lock, the positions, the insert and
``pg_notify`` are one statement (data-modifying CTEs), sent in autocommit as its own
transaction (no BEGIN or COMMIT round trips; an append that must also record its command
id, or that comes in several chunks, takes a transaction around its statements). The
notification (channel ``attend_events:<schema>``, the last position as payload) is delivered
at commit and wakes listeners in other processes.

Positions only grow, but may skip a number: a sequence does not give back the value of an
append that failed (two writers racing for one stream version), nor the few it had logged
ahead before a crash. Readers ask for ``position > last_seen`` and never count on the next
number.

Hot paths use driver-level SQL built once per shape; everything else uses SQLAlchemy Core.

:class:`SqlEventStore` puts together the parts, each in its own module: appending
(:mod:`.sql_append`), reading (:mod:`.sql_read`), this process's latest appends kept in
memory (:mod:`.recent`), the handlers' checkpoints, leases and outboxes
(:mod:`.sql_handlers`) and PostgreSQL's wake-ups (:mod:`.pg_wakeups`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractContextManager
from typing import Any

from core.eventstore import (
    HandlerTransaction,
    Lease,
    NewEvent,
    ParkedEvent,
    PendingCommand,
    RecordedEvent,
    Snapshot,
)
from core.eventstore.database import Database
from core.eventstore.pg_wakeups import PostgresWakeups
from core.eventstore.recent import RecentEvents
from core.eventstore.sql_append import SqlAppender
from core.eventstore.sql_handlers import SqlHandlerBook
from core.eventstore.sql_read import SqlReader
from core.messages import MessageRegistry

__all__ = ["PostgresWakeups", "SqlEventStore"]


class SqlEventStore:
    """The :class:`~core.eventstore.EventStore` on SQLite or PostgreSQL."""

    def __init__(self, db: Database, registry: MessageRegistry) -> None:
        self.db = db
        self.registry = registry
        self._listeners: list[Callable[[Sequence[RecordedEvent]], None]] = []
        self._appender = SqlAppender(db, registry)
        self._reader = SqlReader(db, registry)
        self._handlers = SqlHandlerBook(db, registry)
        self._recent = RecentEvents()
        # Appends between their statement and their place in _recent: PostgreSQL may notify
        # the listener of one before the appending thread has put it there.
        self._in_flight = 0
        self._landed = threading.Condition()

    # -- appending ---------------------------------------------------------------------------
    def append(self, stream_id: str, events: Sequence[NewEvent], *, expected_version: int,
               command_key: str | None = None) -> list[RecordedEvent]:
        if not events:
            return []
        with self._landed:
            self._in_flight += 1
        try:
            last = self._appender.append(stream_id, events, expected_version=expected_version,
                                         command_key=command_key)
            if last is None:  # a resent command
                return []
            first = last - len(events) + 1
            recorded = [RecordedEvent(first + i, stream_id, expected_version + i + 1,
                                      new.event, new.metadata) for i, new in enumerate(events)]
            self._recent.add(recorded)
        finally:
            with self._landed:
                self._in_flight -= 1
                self._landed.notify_all()
        for listener in self._listeners:
            listener(recorded)
        return recorded

    def subscribe(self, listener: Callable[[Sequence[RecordedEvent]], None]
                  ) -> Callable[[], None]:
        # Copy on write: append() iterates the list it finds without a lock.
        self._listeners = [*self._listeners, listener]

        def unsubscribe() -> None:
            self._listeners = [known for known in self._listeners if known is not listener]
        return unsubscribe

    # -- reading -----------------------------------------------------------------------------
    def read_all(self, *, after: int = 0, limit: int = 1000,
                 local: bool = False) -> list[RecordedEvent]:
        cached = self._recent.after(after, limit, local=local)
        if cached is not None:
            return cached
        return self._reader.read_all(after=after, limit=limit)

    def appended_here(self, position: int, *, wait: float = 0.0) -> bool:
        """Whether this process appended the event at ``position`` (lately). With ``wait``,
        an append of this process still finishing is given up to that long to land: a
        notification can overtake the thread that made it."""
        deadline = time.monotonic() + wait
        with self._landed:
            while self._recent.get(position) is None:
                left = deadline - time.monotonic()
                if not self._in_flight or left <= 0:
                    return False
                self._landed.wait(left)
        return True

    def read_stream(self, stream_id: str, *, after_version: int = 0) -> list[RecordedEvent]:
        return self._reader.read_stream(stream_id, after_version=after_version)

    def read_events(self, stream_id: str, *, after_version: int = 0) -> list[Any]:
        return self._reader.read_events(stream_id, after_version=after_version)

    def read_aggregate(self, stream_id: str, *,
                       state_version: int) -> tuple[Snapshot | None, list[Any]]:
        return self._reader.read_aggregate(stream_id, state_version=state_version)

    def last_position(self) -> int:
        return self._reader.last_position()

    def load_snapshot(self, stream_id: str) -> Snapshot | None:
        return self._reader.load_snapshot(stream_id)

    def save_snapshot(self, snapshot: Snapshot) -> None:
        self._reader.save_snapshot(snapshot)

    # -- handlers ----------------------------------------------------------------------------
    def acquire_lease(self, handler: str, *, owner: str, now: float, ttl: float,
                      replacing: Collection[str] = ()) -> Lease | None:
        return self._handlers.acquire_lease(handler, owner=owner, now=now, ttl=ttl,
                                            replacing=replacing)

    def renew_leases(self, handlers: Collection[str], *, owner: str, now: float,
                     ttl: float) -> dict[str, int]:
        return self._handlers.renew_leases(handlers, owner=owner, now=now, ttl=ttl)

    def lease_holders(self, handlers: Collection[str]) -> dict[str, str]:
        return self._handlers.lease_holders(handlers)

    def release_lease(self, lease: Lease) -> None:
        self._handlers.release_lease(lease)

    def handler_transaction(self, lease: Lease, *, durable: bool = True
                            ) -> AbstractContextManager[HandlerTransaction]:
        return self._handlers.handler_transaction(lease, durable=durable)

    def checkpoint(self, handler: str) -> int:
        return self._handlers.checkpoint(handler)

    def reset_checkpoint(self, handler: str, position: int = 0) -> None:
        self._handlers.reset_checkpoint(handler, position)

    def parked(self, handler: str | None = None) -> list[ParkedEvent]:
        return self._handlers.parked(handler)

    def pending_commands(self, handler: str) -> list[PendingCommand]:
        return self._handlers.pending_commands(handler)

    def mark_sent(self, handler: str, command_id: str) -> None:
        self._handlers.mark_sent(handler, command_id)
