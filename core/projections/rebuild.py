"""Rebuild read models from the whole log: clear their rows, then replay every event.

Used after a projection's code changed. The service must be stopped: rebuilding takes each
projection's lease, so a running handler and a rebuild never write the same tables. All the
leases are taken before anything is cleared, so a refusal leaves every table as it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from sqlalchemy import delete

from core.errors import AttendError, LeaseLost
from core.eventstore import EventStore, Lease
from core.projections.types import Projection

Progress = Callable[[int, int], None]


class ProjectionInUse(AttendError):
    """Another process holds a projection's lease, so it may be writing its tables."""


def rebuild(store: EventStore, projections: Sequence[Projection], *, owner: str,
            progress: Progress | None = None, batch_size: int = 1000,
            lease_ttl: float = 300.0, clock: Callable[[], float] = time.time) -> int:
    """Clear and replay ``projections``; returns how many events were read.

    ``progress(done, total)`` is called after each batch: ``done`` is the position reached
    and ``total`` the last position of the log (positions count events, one apart).
    Each batch is applied per projection in one transaction with its checkpoint, as the
    runtime does, so an interrupted rebuild resumes under ``attend serve``. ``clock``
    must be the time base of the runtime's leases (``time.time``).
    """
    leases = _take_leases(store, projections, owner, lease_ttl, clock)
    try:
        for projection in projections:
            with store.handler_transaction(leases[projection.name]) as tx:
                for table in reversed(projection.tables):
                    tx.connection.execute(delete(table))
                tx.advance(0)
        total = store.last_position()
        position = read = 0
        renew_at = clock() + lease_ttl / 3
        while batch := store.read_all(after=position, limit=batch_size):
            if clock() >= renew_at:
                leases = {name: _renew(store, lease, lease_ttl, clock)
                          for name, lease in leases.items()}
                renew_at = clock() + lease_ttl / 3
            for projection in projections:
                with store.handler_transaction(leases[projection.name]) as tx:
                    for recorded in batch:
                        if type(recorded.event) in projection.events:
                            projection.handle(tx, recorded)
                    tx.advance(batch[-1].position)
            position = batch[-1].position
            read += len(batch)
            total = max(total, position)  # events appended meanwhile are replayed too
            if progress is not None:
                progress(position, total)
        return read
    finally:
        for lease in leases.values():
            store.release_lease(lease)


def _take_leases(store: EventStore, projections: Sequence[Projection], owner: str,
                 ttl: float, clock: Callable[[], float]) -> dict[str, Lease]:
    taken: dict[str, Lease] = {}
    for projection in projections:
        lease = store.acquire_lease(projection.name, owner=owner, now=clock(), ttl=ttl)
        if lease is None:
            for held in taken.values():
                store.release_lease(held)
            raise ProjectionInUse(
                f"projection {projection.name!r} is being run by another process: stop "
                "`attend serve` first, then rebuild again (if it crashed, its lease lapses "
                "after the lease time, 30 s by default). Nothing was changed.")
        taken[projection.name] = lease
    return taken


def _renew(store: EventStore, lease: Lease, ttl: float, clock: Callable[[], float]) -> Lease:
    renewed = store.acquire_lease(lease.handler, owner=lease.owner, now=clock(), ttl=ttl)
    if renewed is None or renewed.epoch != lease.epoch:
        raise LeaseLost(f"projection {lease.handler!r} was taken over during the rebuild: "
                        "is `attend serve` running? Stop it and rebuild again.")
    return renewed
