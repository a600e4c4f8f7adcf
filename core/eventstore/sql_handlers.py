"""The durable state of the handlers that follow the log, on SQLite and PostgreSQL.

Each handler has a row in ``subscriptions``: its checkpoint and its lease (owner, expiry and
fencing epoch; a new holder bumps the epoch, and every checkpoint write names the epoch, so a
process that lost the lease cannot commit). Besides: handler state and the outbox of
commands a process manager will send, written in the handler's transaction, and the events
a handler gave up on (parked).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from core.codec import loads
from core.errors import LeaseLost
from core.eventstore import Lease, ParkedEvent, PendingCommand, RecordedEvent
from core.eventstore.database import Database, DriverSql
from core.eventstore.schema import command_outbox, handler_state, parked_events, subscriptions
from core.messages import MessageRegistry

# The fenced checkpoint write ends every handler transaction (one per button press for the
# board), so it goes to the driver directly.
_ADVANCE = DriverSql("UPDATE subscriptions SET position = %s "
                     "WHERE handler = %s AND owner = %s AND epoch = %s")


class SqlHandlerBook:
    """Leases, checkpoints, handler transactions, parked events and outboxes."""

    def __init__(self, db: Database, registry: MessageRegistry) -> None:
        self.db = db
        self.registry = registry
        self.insert = sqlite.insert if db.is_sqlite else postgresql.insert
        # Handlers load and save state for nearly every event: the statements are built
        # once (building one costs more than running it).
        c = handler_state.c
        self.load_state = select(c.state).where(c.handler == bindparam("h"),
                                                c.key == bindparam("k"))
        saved = self.insert(handler_state).values(handler=bindparam("h"), key=bindparam("k"),
                                                  state=bindparam("s"))
        self.save_state = saved.on_conflict_do_update(index_elements=["handler", "key"],
                                                      set_={"state": saved.excluded.state})
        self.drop_state = delete(handler_state).where(c.handler == bindparam("h"),
                                                      c.key == bindparam("k"))

    def acquire_lease(self, handler: str, *, owner: str, now: float, ttl: float,
                      replacing: Collection[str] = ()) -> Lease | None:
        with self.db.write() as conn:
            conn.execute(self.insert(subscriptions).values(
                handler=handler, position=0, owner=None, lease_until=0.0, epoch=0)
                .on_conflict_do_nothing())
            c = subscriptions.c
            free = (c.owner.is_(None)) | (c.owner == owner) | (c.lease_until < now)
            if replacing:
                free |= c.owner.in_(sorted(replacing))
            row = conn.execute(
                update(subscriptions)
                .where(c.handler == handler)
                .where(free)
                .values(epoch=case((c.owner == owner, c.epoch), else_=c.epoch + 1),
                        owner=owner, lease_until=now + ttl)
                .returning(c.epoch, c.position)).first()
        if row is None:
            return None
        return Lease(handler, owner, row.epoch, row.position, now + ttl)

    def renew_leases(self, handlers: Collection[str], *, owner: str, now: float,
                     ttl: float) -> dict[str, int]:
        if not handlers:
            return {}
        c = subscriptions.c
        with self.db.write() as conn:
            rows = conn.execute(update(subscriptions)
                                .where(c.owner == owner, c.handler.in_(sorted(handlers)))
                                .values(lease_until=now + ttl)
                                .returning(c.handler, c.epoch)).all()
        return {row.handler: row.epoch for row in rows}

    def lease_holders(self, handlers: Collection[str]) -> dict[str, str]:
        c = subscriptions.c
        with self.db.read() as conn:
            rows = conn.execute(select(c.handler, c.owner).where(
                c.handler.in_(sorted(handlers)), c.owner.is_not(None))).all()
        return {row.handler: row.owner for row in rows}

    def release_lease(self, lease: Lease) -> None:
        c = subscriptions.c
        with self.db.write() as conn:
            conn.execute(update(subscriptions)
                         .where(c.handler == lease.handler, c.owner == lease.owner,
                                c.epoch == lease.epoch)
                         .values(owner=None, lease_until=0.0))

    @contextmanager
    def handler_transaction(self, lease: Lease, *,
                            durable: bool = True) -> Iterator[SqlTransaction]:
        with self.db.write(durable=durable) as conn:
            yield SqlTransaction(self, conn, lease)

    def checkpoint(self, handler: str) -> int:
        with self.db.read() as conn:
            value = conn.execute(select(subscriptions.c.position)
                                 .where(subscriptions.c.handler == handler)).scalar()
        return int(value or 0)

    def reset_checkpoint(self, handler: str, position: int = 0) -> None:
        with self.db.write() as conn:
            conn.execute(update(subscriptions).where(subscriptions.c.handler == handler)
                         .values(position=position))
            conn.execute(delete(handler_state).where(handler_state.c.handler == handler))

    def parked(self, handler: str | None = None) -> list[ParkedEvent]:
        query = select(parked_events).order_by(parked_events.c.id)
        if handler is not None:
            query = query.where(parked_events.c.handler == handler)
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        return [ParkedEvent(r.handler, r.position, r.event_id, r.type, r.error,
                            _aware(r.parked_at)) for r in rows]

    def pending_commands(self, handler: str) -> list[PendingCommand]:
        c = command_outbox.c
        with self.db.read() as conn:
            rows = conn.execute(select(command_outbox).where(c.handler == handler)
                                .order_by(c.id)).all()
        return [PendingCommand(r.handler, r.command_id, self.registry.named(r.type).load(
            r.data if not isinstance(r.data, str) else loads(r.data), 1),
            r.correlation_id, r.causation_id) for r in rows]

    def mark_sent(self, handler: str, command_id: str) -> None:
        c = command_outbox.c
        with self.db.write() as conn:
            conn.execute(delete(command_outbox).where(c.handler == handler,
                                                      c.command_id == command_id))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class SqlTransaction:
    """What a handler holding ``lease`` writes, committed with its checkpoint."""

    def __init__(self, book: SqlHandlerBook, conn: Connection, lease: Lease) -> None:
        self._book = book
        self.connection = conn
        self._lease = lease

    def load_state(self, key: str) -> dict[str, Any] | None:
        value = self.connection.execute(self._book.load_state,
                                        {"h": self._lease.handler, "k": key}).scalar()
        return loads(value) if isinstance(value, str) else value

    def save_state(self, key: str, state: dict[str, Any] | None) -> None:
        params = {"h": self._lease.handler, "k": key}
        if state is None:
            self.connection.execute(self._book.drop_state, params)
        else:
            self.connection.execute(self._book.save_state, {**params, "s": state})

    def enqueue(self, command: Any, *, command_id: str, correlation_id: str,
                causation_id: str) -> None:
        entry = self._book.registry.of(command)
        self.connection.execute(self._book.insert(command_outbox).values(
            handler=self._lease.handler, command_id=command_id, type=entry.name,
            data=entry.encode(command), correlation_id=correlation_id,
            causation_id=causation_id).on_conflict_do_nothing())

    def park(self, recorded: RecordedEvent, error: str) -> None:
        self.connection.execute(parked_events.insert().values(
            handler=self._lease.handler, position=recorded.position,
            event_id=recorded.metadata.event_id,
            type=self._book.registry.of(recorded.event).name, error=error,
            parked_at=datetime.now(UTC)))

    def advance(self, position: int) -> None:
        lease = self._lease
        cursor = _ADVANCE.run(self.connection, position, lease.handler, lease.owner,
                              lease.epoch)
        if cursor.rowcount != 1:
            raise LeaseLost(f"handler {lease.handler!r} was taken over by another process")
