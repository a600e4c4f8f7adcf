"""The event store: an append-only log of events per stream, read back in global order.

The interface is small on purpose (after ``pyeventsourcing``'s recorders): append with an
expected version, read one stream, read everything after a position, keep snapshots, and keep
the durable state of the handlers that follow the log (checkpoints under a fenced lease,
parked events, process-manager state and outboxes). :mod:`.memory` is the test double and
:mod:`.sql` the SQLite / PostgreSQL implementation; both pass ``tests/integration/
test_eventstore_contract.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

from core.codec import loads, quote
from core.messages import MessageRegistry


class EventMetadata(NamedTuple):
    """Who caused an event and why; stamped by the router on every event.

    A named tuple rather than a frozen dataclass like the messages: the router makes one for
    every event it records, and a frozen dataclass takes four times as long to build (its
    ``__init__`` goes through ``object.__setattr__`` field by field). Build it with keywords,
    except on a hot path (the router's), where keywords cost a third more.
    """

    event_id: str
    command_id: str
    causation_id: str
    correlation_id: str
    actor: str
    recorded_at: datetime


class NewEvent(NamedTuple):
    """An event on its way into the store, with its metadata."""

    event: Any
    metadata: EventMetadata


class RecordedEvent:
    """An event as stored: its global position, its stream version and its metadata.

    Metadata is decoded on first use: most readers (projections replaying thousands of
    events) never look at it, and decoding it would double the cost of a read.
    """

    __slots__ = ("_metadata", "_raw_metadata", "event", "position", "stream_id", "version")

    def __init__(self, position: int, stream_id: str, version: int, event: Any,
                 metadata: EventMetadata | None = None, *,
                 raw_metadata: Any = None) -> None:
        self.position = position
        self.stream_id = stream_id
        self.version = version
        self.event = event
        self._metadata = metadata
        self._raw_metadata = raw_metadata

    @property
    def metadata(self) -> EventMetadata:
        if self._metadata is None:
            self._metadata = decode_metadata(self._raw_metadata)
        return self._metadata

    @property
    def type_name(self) -> str:
        return type(self.event).__name__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RecordedEvent):
            return NotImplemented
        return (self.position, self.stream_id, self.version, self.event, self.metadata) == (
            other.position, other.stream_id, other.version, other.event, other.metadata)

    def __hash__(self) -> int:
        return hash((self.position, self.stream_id))

    def __repr__(self) -> str:
        return (f"RecordedEvent(position={self.position}, stream_id={self.stream_id!r}, "
                f"version={self.version}, event={self.event!r})")


_second: tuple[tuple[int, ...], str] = ((), "")  # the last UTC second written, and its text


def time_text(t: datetime) -> str:
    """``t.isoformat()``, for every event's time: the same text, for half the cost when
    ``t`` is in UTC, by keeping the text of the last second written and adding the
    microseconds (``isoformat`` spends most of its time in C's ``sprintf``)."""
    global _second
    micro = t.microsecond
    if t.tzinfo is not UTC or not micro:  # isoformat writes no fraction for a whole second
        return t.isoformat()
    key = (t.second, t.minute, t.hour, t.day, t.month, t.year)
    seen, text = _second  # one read of one tuple: safe across threads
    if key != seen:
        text = t.isoformat()[:19]
        _second = (key, text)
    return f"{text}.{str(micro + 1_000_000)[1:]}+00:00"


def encode_metadata(meta: EventMetadata, recorded_at: str | None = None) -> str:
    """Metadata as stored: compact JSON, written out by hand (every append writes one, and
    this is a third of ``json.dumps``'s cost). ``recorded_at`` is the time already in ISO
    form, if the caller has it."""
    event_id, command_id, causation_id, correlation_id, actor, at = meta
    command = quote(command_id)
    # A person's command is its own cause and correlation: one id, quoted once.
    cause = command if causation_id is command_id else quote(causation_id)
    correlation = command if correlation_id is command_id else quote(correlation_id)
    return (f'{{"event_id":{quote(event_id)},"command_id":{command},'
            f'"causation_id":{cause},"correlation_id":{correlation},"actor":{quote(actor)},'
            f'"recorded_at":{quote(recorded_at or time_text(at))}}}')


def decode_metadata(raw: Any) -> EventMetadata:
    m = loads(raw) if isinstance(raw, str) else raw
    return EventMetadata(
        event_id=m["event_id"], command_id=m["command_id"], causation_id=m["causation_id"],
        correlation_id=m["correlation_id"], actor=m["actor"],
        recorded_at=datetime.fromisoformat(m["recorded_at"]),
    )


@dataclass(frozen=True, slots=True)
class Snapshot:
    stream_id: str
    version: int
    state: dict[str, Any]
    state_version: int


@dataclass(frozen=True, slots=True)
class Lease:
    """The right to run one handler, fenced by ``epoch``: a newer holder bumps it."""

    handler: str
    owner: str
    epoch: int
    position: int
    until: float


@dataclass(frozen=True, slots=True)
class ParkedEvent:
    handler: str
    position: int
    event_id: str
    type_name: str
    error: str
    parked_at: datetime


@dataclass(frozen=True, slots=True)
class PendingCommand:
    handler: str
    command_id: str
    command: Any
    correlation_id: str
    causation_id: str


class HandlerTransaction(Protocol):
    """What a handler may do atomically with moving its checkpoint."""

    @property
    def connection(self) -> Any:
        """The SQLAlchemy connection of this transaction (``None`` in memory)."""

    def load_state(self, key: str) -> dict[str, Any] | None: ...

    def save_state(self, key: str, state: dict[str, Any] | None) -> None: ...

    def enqueue(self, command: Any, *, command_id: str, correlation_id: str,
                causation_id: str) -> None: ...

    def park(self, recorded: RecordedEvent, error: str) -> None: ...

    def advance(self, position: int) -> None:
        """Move the checkpoint; raises :class:`~core.errors.LeaseLost` if fenced off."""


class EventStore(Protocol):
    registry: MessageRegistry

    def append(self, stream_id: str, events: Sequence[NewEvent], *, expected_version: int,
               command_key: str | None = None) -> list[RecordedEvent]:
        """Append atomically at ``expected_version`` (0: the stream must not exist).

        Raises :class:`~core.errors.ConcurrencyError` on a stale version. With a
        ``command_key`` seen before, appends nothing and returns ``[]``: a resent command.
        """

    def read_stream(self, stream_id: str, *, after_version: int = 0) -> list[RecordedEvent]: ...

    def read_events(self, stream_id: str, *, after_version: int = 0) -> list[Any]:
        """The events of one stream after ``after_version``, in order, without positions or
        metadata: all that loading an aggregate needs, read for about half the cost. Stream
        versions have no gaps, so the last one is ``after_version + len(events)``."""

    def read_aggregate(self, stream_id: str, *,
                       state_version: int) -> tuple[Snapshot | None, list[Any]]:
        """What loading an aggregate from the store takes, in one read: the stream's
        snapshot if it holds state of ``state_version`` (else ``None``), and the events after
        it (after version 0 without one), as :meth:`read_events` gives them."""

    def read_all(self, *, after: int = 0, limit: int = 1000,
                 local: bool = False) -> list[RecordedEvent]:
        """Events after global position ``after``, in order. With ``local``, when this
        process appended nothing after ``after``, return nothing without asking the
        database: for a caller that hears of other processes' appends another way."""

    def last_position(self) -> int: ...

    def load_snapshot(self, stream_id: str) -> Snapshot | None: ...

    def save_snapshot(self, snapshot: Snapshot) -> None: ...

    def acquire_lease(self, handler: str, *, owner: str, now: float, ttl: float,
                      replacing: Collection[str] = ()) -> Lease | None:
        """Take or renew the lease of ``handler`` until ``now + ttl``: if it is free, lapsed,
        ``owner``'s already, or held by one of ``replacing`` (owners the caller knows are
        dead). A new holder bumps the fencing epoch; ``None`` if another holds it."""

    def renew_leases(self, handlers: Collection[str], *, owner: str, now: float,
                     ttl: float) -> dict[str, int]:
        """Extend to ``now + ttl`` every lease of ``handlers`` that ``owner`` still holds, in
        one write (the heartbeat); returns their epochs by handler."""

    def lease_holders(self, handlers: Collection[str]) -> dict[str, str]:
        """Who holds the lease of each of ``handlers`` that is held (lapsed or not)."""

    def release_lease(self, lease: Lease) -> None: ...

    def handler_transaction(self, lease: Lease, *, durable: bool = True
                            ) -> AbstractContextManager[HandlerTransaction]:
        """A transaction for a handler holding ``lease``. ``durable=False`` is for writes
        that can be rebuilt from the log (read models): the commit may return before the
        disk has it. A crash may then lose the last such commits, rows and checkpoint
        together, and the handler simply handles those events again."""

    def checkpoint(self, handler: str) -> int: ...

    def reset_checkpoint(self, handler: str, position: int = 0) -> None: ...

    def parked(self, handler: str | None = None) -> list[ParkedEvent]: ...

    def pending_commands(self, handler: str) -> list[PendingCommand]: ...

    def mark_sent(self, handler: str, command_id: str) -> None: ...

    def subscribe(self, listener: Callable[[Sequence[RecordedEvent]], None]
                  ) -> Callable[[], None]:
        """Call ``listener(recorded)`` with the events of every append in this process, once
        they are committed; returns the function that unsubscribes."""

