"""The router: sends each command to its aggregate and appends what it decides.

Load state (in-process cache of ``(version, state)``, else snapshot plus newer events), run
``decide``, append at the loaded version; on a version conflict reload the newer events and
decide again, a bounded number of times. Every event gets metadata: its id, the command's id,
causation and correlation ids, the actor and the time it was recorded.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from core.aggregates import Aggregate
from core.codec import decoder_for, encoder_for
from core.errors import AttendError, ConcurrencyError
from core.eventstore import EventMetadata, EventStore, NewEvent, RecordedEvent, Snapshot

Clock = Callable[[], datetime]


_spare_ids: deque[str] = deque()  # popleft and extend are atomic: no lock needed
os.register_at_fork(after_in_child=_spare_ids.clear)  # a child must not reuse its parent's


def new_id() -> str:
    """128 random bits from the OS as 32 hex digits: as unique as a uuid4. They are read 256
    at a time: a system call for every id cost more than twice as much, and every command
    makes two."""
    try:
        return _spare_ids.popleft()
    except IndexError:
        block = os.urandom(16 * 256).hex()
        _spare_ids.extend(block[start:start + 32] for start in range(32, len(block), 32))
        return block[:32]


class DispatchResult(NamedTuple):
    """What a command recorded. (A named tuple: one is made for every command, for a third
    less than a frozen dataclass.)"""

    events: tuple[RecordedEvent, ...]
    position: int  # global position of the last new event; 0 when nothing was recorded

    @property
    def changed(self) -> bool:
        return bool(self.events)


_NOTHING = DispatchResult((), 0)


class UnknownCommand(AttendError):
    pass


class Router:
    def __init__(self, store: EventStore, aggregates: Sequence[Aggregate[Any]], *, clock: Clock,
                 snapshot_every: int = 200, max_attempts: int = 60,
                 cache_size: int = 50_000) -> None:
        self._store = store
        self._clock = clock
        self._snapshot_every = snapshot_every
        self._max_attempts = max_attempts
        self._routes: dict[type, tuple[Aggregate[Any], str]] = {}
        for aggregate in aggregates:
            for command_type, field in aggregate.commands.items():
                self._routes[command_type] = (aggregate, field)
        self._cache: OrderedDict[str, tuple[int, Any]] = OrderedDict()  # least recent first
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()

    def dispatch(self, command: Any, *, actor: str, command_id: str | None = None,
                 correlation_id: str | None = None, causation_id: str | None = None,
                 dedupe: bool = False) -> DispatchResult:
        """Decide and append. With ``dedupe``, a ``command_id`` seen before records nothing."""
        try:
            aggregate, field = self._routes[type(command)]
        except KeyError:
            raise UnknownCommand(f"no aggregate handles {type(command).__name__}") from None
        stream_id = aggregate.stream_id(getattr(command, field))
        command_id = command_id or new_id()
        # A cached state is trusted optimistically: if it is stale the append fails on the
        # version and we reload. A refusal or a no-op decided on a cached state could be
        # stale too (another process may have changed the stream), so those are re-decided
        # on fresh state before they are believed.
        fresh = False
        for _attempt in range(self._max_attempts):
            cached = None if fresh else self._cache.get(stream_id)  # atomic, no lock needed
            version, state = self._load(aggregate, stream_id) if cached is None else cached
            now = self._clock()
            try:
                decided = aggregate.decide(state, command, now=now)
            except AttendError:
                if cached is not None:
                    fresh = True
                    continue
                raise
            if not decided:
                if cached is not None:
                    fresh = True
                    continue
                return _NOTHING
            causes, correlates = causation_id or command_id, correlation_id or command_id
            # Positionally, in field order: keywords cost a third more, for every event.
            new_events = [NewEvent(event, EventMetadata(
                new_id(), command_id, causes, correlates, actor, now)) for event in decided]
            try:
                recorded = self._store.append(stream_id, new_events, expected_version=version,
                                              command_key=command_id if dedupe else None)
            except ConcurrencyError:
                # Someone else appended: reload their events and decide again. Under a burst
                # on one stream (a whole team tapping Yes at once) a short random pause
                # spreads the retries out instead of having them collide again.
                fresh = True
                if _attempt:
                    time.sleep(random.uniform(0, 0.002 * min(_attempt, 10)))
                continue
            if not recorded:  # a resent command that was already recorded
                return _NOTHING
            new_state = aggregate.replay(decided, state)
            new_version = recorded[-1].version
            self._remember(stream_id, new_version, new_state)
            if new_version // self._snapshot_every > version // self._snapshot_every:
                self._store.save_snapshot(Snapshot(stream_id, new_version,
                                                   encoder_for(type(new_state))(new_state),
                                                   aggregate.state_version))
            return DispatchResult(tuple(recorded), recorded[-1].position)
        raise ConcurrencyError(stream_id, version)

    def state_of(self, aggregate: Aggregate[Any], identity: str) -> tuple[int, Any]:
        """The current ``(version, state)`` of one aggregate instance, read fresh."""
        return self._load(aggregate, aggregate.stream_id(identity))

    def _load(self, aggregate: Aggregate[Any], stream_id: str) -> tuple[int, Any]:
        """Fresh state: the cached one (else a snapshot's) brought up to date."""
        cached = self._cache.get(stream_id)
        if cached is None:
            snapshot, newer = self._store.read_aggregate(
                stream_id, state_version=aggregate.state_version)
            if snapshot is None:
                version, state = 0, aggregate.initial
            else:
                version = snapshot.version
                state = decoder_for(type(aggregate.initial))(snapshot.state)
        else:
            version, state = cached
            newer = self._store.read_events(stream_id, after_version=version)
        if newer:
            state = aggregate.replay(newer, state)
            version += len(newer)
        self._remember(stream_id, version, state)
        return version, state

    def _remember(self, stream_id: str, version: int, state: Any) -> None:
        cache = self._cache
        with self._cache_lock:
            known = cache.get(stream_id)
            if known is None or known[0] < version:
                cache[stream_id] = (version, state)
            cache.move_to_end(stream_id)
            if len(cache) > self._cache_size:
                cache.popitem(last=False)
