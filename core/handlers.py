"""What follows the log: the handler protocol, its retry policy, its derived command ids,
and what the runtime (:mod:`core.runtime`) keeps for each handler it runs."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from core.eventstore import HandlerTransaction, Lease, RecordedEvent

_ID_NAMESPACE = uuid.UUID("5b0f7c3e-6a51-4d1e-9a55-0c7e2f1d9a10")


def derived_command_id(recorded: RecordedEvent, index: int = 0) -> str:
    """The id of the ``index``-th command caused by ``recorded``: the same on every replay."""
    return uuid.uuid5(_ID_NAMESPACE, f"{recorded.metadata.event_id}:{index}").hex


class Handler(Protocol):
    """Something that follows the log. Optional class attributes the runtime reads:

    - ``sends_commands = True``: a process manager; the runtime sends what it enqueues.
    - ``durable = False``: a crash may lose its last commits (rows and checkpoint together),
      because handling those events again does no harm; its commits don't wait for the disk.
      Read models are so already (the log rebuilds them).
    - ``gather = 0.25``: seconds it lets this process's appends gather before it steps, so
      a burst is one transaction. Only for a handler no request waits for: ``wait_for``
      cuts the gathering short.
    - ``handle_all(tx, batch)``: handles a batch (the events it reacts to, in log order)
      in one go, so rows of many events can be written by one call; ``handle`` still
      handles one event (the runtime isolates a failing event with it).
    - ``committed()``: called once a transaction in which it handled events has committed
      (the notifier tells this process's delivery workers that jobs are waiting).
    """

    @property
    def name(self) -> str: ...

    @property
    def events(self) -> frozenset[type]:
        """Event types the handler reacts to; others only move its checkpoint."""

    def handle(self, tx: HandlerTransaction, recorded: RecordedEvent) -> None: ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    delays: tuple[float, ...] = (0.1, 0.5, 2.0, 5.0)  # then park


class Follower:
    """What the runtime keeps for one handler it runs."""

    def __init__(self, handler: Handler, *, durable: bool = True) -> None:
        self.handler = handler
        self.name = handler.name
        # False for read models (the log can rebuild what they write) and for handlers that
        # say so: their commits need not wait for the disk (see
        # EventStore.handler_transaction).
        self.durable = durable and getattr(handler, "durable", True)
        self.gather: float = getattr(handler, "gather", 0.0)
        self.handle_all: Callable[[HandlerTransaction, list[RecordedEvent]], None] | None = (
            getattr(handler, "handle_all", None))
        self.committed: Callable[[], None] | None = getattr(handler, "committed", None)
        # Set by wait_for: someone waits for this handler, gathering stops now.
        self.wanted = threading.Event()
        self.lease: Lease | None = None
        self.renew_at = 0.0
        self.position = 0
        # One batch at a time per handler, even when several threads drive the runtime
        # (commands settling in the foreground from many request threads).
        self.busy = threading.Lock()
        # Process managers enqueue commands; only they need their outbox looked at.
        self.sends_commands: bool = getattr(handler, "sends_commands", False)
        self.unsaved = False  # position moved past skipped events, not yet written
        self.more = False  # the last step read a full batch: there may be more right away
        # Commands may wait in the outbox: true at start (a crash may have left some) and
        # after every batch the process manager handled; false once all were sent.
        self.outbox_dirty = self.sends_commands
        # Set when another process may have appended (a notification, the poll, a start):
        # the next step asks the database, not just this process's recent appends.
        self.look_everywhere = True
        # Bumped whenever the handler may have changed what it writes (a batch it handled
        # committed, or it changed hands): lets readers memoise lookups (see generation()).
        self.generation = 0
