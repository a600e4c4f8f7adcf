"""An in-memory event store for fast unit tests; passes the same contract as SQL."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from core.errors import ConcurrencyError, LeaseLost
from core.eventstore import (
    Lease,
    NewEvent,
    ParkedEvent,
    PendingCommand,
    RecordedEvent,
    Snapshot,
)
from core.messages import MessageRegistry


class _Subscription:
    def __init__(self) -> None:
        self.position = 0
        self.owner: str | None = None
        self.until = 0.0
        self.epoch = 0


class MemoryEventStore:
    def __init__(self, registry: MessageRegistry) -> None:
        self.registry = registry
        self._lock = threading.RLock()
        self._log: list[RecordedEvent] = []
        self._streams: dict[str, list[RecordedEvent]] = {}
        self._snapshots: dict[str, Snapshot] = {}
        self._subscriptions: dict[str, _Subscription] = {}
        self._parked: list[ParkedEvent] = []
        self._state: dict[tuple[str, str], dict[str, Any]] = {}
        self._outbox: dict[str, dict[str, PendingCommand]] = {}
        self._command_keys: set[str] = set()
        self._listeners: list[Callable[[Sequence[RecordedEvent]], None]] = []

    # -- events ------------------------------------------------------------------------------
    def append(self, stream_id: str, events: Sequence[NewEvent], *, expected_version: int,
               command_key: str | None = None) -> list[RecordedEvent]:
        with self._lock:
            if command_key is not None and command_key in self._command_keys:
                return []
            stream = self._streams.setdefault(stream_id, [])
            if len(stream) != expected_version:
                raise ConcurrencyError(stream_id, expected_version)
            for new in events:  # fail before writing anything if a type is unknown
                self.registry.of(new.event)
            recorded = [
                RecordedEvent(len(self._log) + i + 1, stream_id, expected_version + i + 1,
                              new.event, new.metadata)
                for i, new in enumerate(events)
            ]
            self._log.extend(recorded)
            stream.extend(recorded)
            if command_key is not None:
                self._command_keys.add(command_key)
            listeners = list(self._listeners)
        if recorded:
            for listener in listeners:
                listener(recorded)
        return recorded

    def read_stream(self, stream_id: str, *, after_version: int = 0) -> list[RecordedEvent]:
        with self._lock:
            return list(self._streams.get(stream_id, [])[after_version:])

    def read_events(self, stream_id: str, *, after_version: int = 0) -> list[Any]:
        return [recorded.event for recorded in self.read_stream(stream_id,
                                                                after_version=after_version)]

    def read_aggregate(self, stream_id: str, *,
                       state_version: int) -> tuple[Snapshot | None, list[Any]]:
        with self._lock:
            snapshot = self._snapshots.get(stream_id)
            if snapshot is not None and snapshot.state_version != state_version:
                snapshot = None
            after = 0 if snapshot is None else snapshot.version
            return snapshot, self.read_events(stream_id, after_version=after)

    def read_all(self, *, after: int = 0, limit: int = 1000,
                 local: bool = False) -> list[RecordedEvent]:
        with self._lock:
            return self._log[after:after + limit]

    def last_position(self) -> int:
        return len(self._log)

    def load_snapshot(self, stream_id: str) -> Snapshot | None:
        return self._snapshots.get(stream_id)

    def save_snapshot(self, snapshot: Snapshot) -> None:
        with self._lock:
            known = self._snapshots.get(snapshot.stream_id)
            if known is None or known.version <= snapshot.version:
                self._snapshots[snapshot.stream_id] = snapshot

    def subscribe(self, listener: Callable[[Sequence[RecordedEvent]], None]
                  ) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # -- handlers ----------------------------------------------------------------------------
    def acquire_lease(self, handler: str, *, owner: str, now: float, ttl: float,
                      replacing: Collection[str] = ()) -> Lease | None:
        with self._lock:
            sub = self._subscriptions.setdefault(handler, _Subscription())
            if sub.owner not in (None, owner) and sub.until >= now and \
                    sub.owner not in replacing:
                return None
            if sub.owner != owner:
                sub.epoch += 1
            sub.owner, sub.until = owner, now + ttl
            return Lease(handler, owner, sub.epoch, sub.position, sub.until)

    def renew_leases(self, handlers: Collection[str], *, owner: str, now: float,
                     ttl: float) -> dict[str, int]:
        renewed = {}
        with self._lock:
            for handler in handlers:
                sub = self._subscriptions.get(handler)
                if sub is not None and sub.owner == owner:
                    sub.until = now + ttl
                    renewed[handler] = sub.epoch
        return renewed

    def lease_holders(self, handlers: Collection[str]) -> dict[str, str]:
        with self._lock:
            return {h: sub.owner for h in handlers
                    if (sub := self._subscriptions.get(h)) is not None and sub.owner is not None}

    def release_lease(self, lease: Lease) -> None:
        with self._lock:
            sub = self._subscriptions.get(lease.handler)
            if sub is not None and sub.owner == lease.owner and sub.epoch == lease.epoch:
                sub.owner, sub.until = None, 0.0

    @contextmanager
    def handler_transaction(self, lease: Lease, *,
                            durable: bool = True) -> Iterator[_MemoryTransaction]:
        with self._lock:
            tx = _MemoryTransaction(self, lease)
            yield tx
            tx.commit()

    def checkpoint(self, handler: str) -> int:
        sub = self._subscriptions.get(handler)
        return sub.position if sub else 0

    def reset_checkpoint(self, handler: str, position: int = 0) -> None:
        with self._lock:
            self._subscriptions.setdefault(handler, _Subscription()).position = position
            for key in [k for k in self._state if k[0] == handler]:
                del self._state[key]

    def parked(self, handler: str | None = None) -> list[ParkedEvent]:
        return [p for p in self._parked if handler in (None, p.handler)]

    def pending_commands(self, handler: str) -> list[PendingCommand]:
        with self._lock:
            return list(self._outbox.get(handler, {}).values())

    def mark_sent(self, handler: str, command_id: str) -> None:
        with self._lock:
            self._outbox.get(handler, {}).pop(command_id, None)


class _MemoryTransaction:
    """Buffers writes and applies them together, so a failing handler leaves no trace."""

    connection = None

    def __init__(self, store: MemoryEventStore, lease: Lease) -> None:
        self._store = store
        self._lease = lease
        self._state: dict[str, dict[str, Any] | None] = {}
        self._enqueued: list[PendingCommand] = []
        self._parked: list[ParkedEvent] = []
        self._position: int | None = None

    def load_state(self, key: str) -> dict[str, Any] | None:
        if key in self._state:
            return copy.deepcopy(self._state[key])
        return copy.deepcopy(self._store._state.get((self._lease.handler, key)))

    def save_state(self, key: str, state: dict[str, Any] | None) -> None:
        self._state[key] = copy.deepcopy(state)

    def enqueue(self, command: Any, *, command_id: str, correlation_id: str,
                causation_id: str) -> None:
        self._store.registry.of(command)
        self._enqueued.append(PendingCommand(self._lease.handler, command_id, command,
                                             correlation_id, causation_id))

    def park(self, recorded: RecordedEvent, error: str) -> None:
        self._parked.append(ParkedEvent(self._lease.handler, recorded.position,
                                        recorded.metadata.event_id,
                                        self._store.registry.of(recorded.event).name, error,
                                        datetime.now(UTC)))

    def advance(self, position: int) -> None:
        self._position = position

    def commit(self) -> None:
        store, lease = self._store, self._lease
        sub = store._subscriptions.setdefault(lease.handler, _Subscription())
        if sub.owner != lease.owner or sub.epoch != lease.epoch:
            raise LeaseLost(f"handler {lease.handler!r} is now run by {sub.owner!r}")
        for key, state in self._state.items():
            if state is None:
                store._state.pop((lease.handler, key), None)
            else:
                store._state[(lease.handler, key)] = state
        outbox = store._outbox.setdefault(lease.handler, {})
        for pending in self._enqueued:
            outbox.setdefault(pending.command_id, pending)
        store._parked.extend(self._parked)
        if self._position is not None:
            sub.position = max(sub.position, self._position)
