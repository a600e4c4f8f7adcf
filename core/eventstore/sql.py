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
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from json.scanner import make_scanner
from typing import Any, cast

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from core.errors import ConcurrencyError, LeaseLost
from core.eventstore import (
    Lease,
    NewEvent,
    ParkedEvent,
    PendingCommand,
    RecordedEvent,
    Snapshot,
    encode_metadata,
    time_text,
)
from core.eventstore.database import Database, DriverSql, on_driver
from core.eventstore.schema import (
    command_outbox,
    handler_state,
    parked_events,
    subscriptions,
)
from core.messages import MessageRegistry

# typeshed types make_scanner's argument as the scanner class itself; it takes a decoder.
_scan: Callable[[str, int], tuple[Any, int]] = make_scanner(cast(Any, json.JSONDecoder()))


def _loads(text: str) -> Any:
    """``json.loads`` without its whitespace regexes: the text is ours, written compact (or
    by PostgreSQL's jsonb output), and reading events is the hot path of every rebuild."""
    try:
        return _scan(text, 0)[0]
    except StopIteration:
        return json.loads(text)  # raises the usual, readable JSONDecodeError


_RECENT = 4096  # the last positions of the log kept in memory, those appended here
_CHUNK = 200  # events per INSERT statement
_PER_EVENT = 5  # values an event's row is written from (see SqlEventStore._values)
# PostgreSQL's parameter names for the values of a chunk's events (type, schema version,
# data, metadata, time: t1, s1, d1, m1, r1, t2, ...).
_PG_KEYS = [f"{k}{i}" for i in range(1, _CHUNK + 1) for k in "tsdmr"]

_COLUMNS = "position, stream_id, version, type, schema_version, data, metadata"


class SqlEventStore:
    def __init__(self, db: Database, registry: MessageRegistry) -> None:
        self.db = db
        self.registry = registry
        self._listeners: list[Callable[[Sequence[RecordedEvent]], None]] = []
        self._pg = not db.is_sqlite
        self._ph = "%({})s" if self._pg else ":{}"
        self._append_sql: dict[int, str] = {}
        # Appends run on the driver (see _append_pg), so a conflict is the driver's error.
        self._conflict: type[Exception] = db.engine.dialect.loaded_dbapi.IntegrityError
        # Metadata comes back as text and is decoded only if someone reads it.
        columns = _COLUMNS if db.is_sqlite else _COLUMNS.replace(
            "data, metadata", "data::text, metadata::text")
        # The text conversion happens outside the LIMIT: should the planner pick a scan of
        # the whole table, it then converts one page of rows, not all of them.
        self._read_all_sql = self._sql(
            f"SELECT {columns} FROM (SELECT * FROM events WHERE position > {{after}} "
            "ORDER BY position LIMIT {limit}) AS page ORDER BY position")
        self._read_stream_sql = self._sql(
            f"SELECT {columns} FROM events WHERE stream_id = {{sid}} AND version > {{after}} "
            "ORDER BY version")
        self._insert_sql = sqlite.insert if db.is_sqlite else postgresql.insert
        # A snapshot replaces an older one of its stream, never a newer one. On the driver:
        # through SQLAlchemy's statement machinery a save took as long as six appends.
        self._save_snapshot_sql = self._sql(
            "INSERT INTO snapshots (stream_id, version, state_version, state) "
            f"VALUES ({{sid}}, {{v}}, {{sv}}, {{st}}{'::jsonb' if self._pg else ''}) "
            "ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, "
            "state_version = excluded.state_version, state = excluded.state "
            "WHERE snapshots.version <= excluded.version")
        # The last events this process appended, in a ring: position p sits at p % _RECENT
        # until a newer one takes its place. Every handler thread reads each new event right
        # after it is written, and serving those reads from memory spares a query and a
        # decode per handler. Safe because positions are handed out in commit order (see
        # above): if position p is here, every position below it committed before it, so a
        # read "after p - 1" may start here.
        self._recent: list[RecordedEvent | None] = [None] * _RECENT
        self._newest_here = 0  # the last position this process appended
        self._recent_lock = threading.Lock()

    def _sql(self, template: str) -> str:
        names = ["after", "limit", "sid", "ev", "n", "key", "v", "sv", "st"]
        return template.format(**{n: self._ph.format(n) for n in names})

    # -- appending ---------------------------------------------------------------------------
    def append(self, stream_id: str, events: Sequence[NewEvent], *, expected_version: int,
               command_key: str | None = None) -> list[RecordedEvent]:
        if not events:
            return []
        # Large appends (opening a check for a big team) go in chunks, in one transaction:
        # statements have limits on terms and parameters. Each chunk is guarded by the
        # version the previous one left. (Encoded here, before the transaction: on SQLite
        # other writers wait for it.)
        if len(events) <= _CHUNK:
            chunks = [(expected_version, self._values(events))]
        else:
            chunks = [(expected_version + start, self._values(events[start:start + _CHUNK]))
                      for start in range(0, len(events), _CHUNK)]
        append = self._append_pg if self._pg else self._append_sqlite
        # The usual append is one statement (guard, positions and rows together), which
        # needs no transaction around it; a resend check or several chunks do.
        alone = command_key is None and len(chunks) == 1
        try:
            with self.db.write_one() if alone else self.db.write() as conn:
                if command_key is not None and not self._claim_command(conn, command_key,
                                                                       stream_id):
                    return []
                for version, values in chunks:
                    last = append(conn, stream_id, version, values)
        except self._conflict as error:
            # PostgreSQL's unique index, SQLite's unique index or its NOT NULL version.
            if "events_stream_version" in str(error) or "events.version" in str(error):
                raise ConcurrencyError(stream_id, expected_version) from None
            raise
        first = last - len(events) + 1
        recorded = [RecordedEvent(first + i, stream_id, expected_version + i + 1, new.event,
                                  new.metadata) for i, new in enumerate(events)]
        recent = self._recent
        with self._recent_lock:
            for item in recorded:
                recent[item.position % _RECENT] = item
            if last > self._newest_here:
                self._newest_here = last
        for listener in self._listeners:
            listener(recorded)
        return recorded

    def _values(self, events: Sequence[NewEvent]) -> list[Any]:
        """What the rows of ``events`` hold, ``_PER_EVENT`` values an event: type, schema
        version, data, metadata and time."""
        values: list[Any] = []
        of, pg = self.registry.of, self._pg
        for new in events:
            entry, meta = of(new.event), new.metadata
            recorded_at = time_text(meta.recorded_at)
            values += (entry.name, entry.version, entry.write_json(new.event),
                       encode_metadata(meta, recorded_at), meta.recorded_at if pg else recorded_at)
        return values

    def _claim_command(self, conn: Connection, key: str, stream_id: str) -> bool:
        sql = self._sql("INSERT INTO command_log (command_key, stream_id) VALUES ({key}, {sid}) "
                        "ON CONFLICT DO NOTHING")
        return conn.exec_driver_sql(sql, {"key": key, "sid": stream_id}).rowcount == 1

    def _append_sqlite(self, conn: Connection, stream_id: str, expected_version: int,
                       values: list[Any]) -> int:
        n = len(values) // _PER_EVENT
        sql = self._append_sql.get(n)
        if sql is None:
            # Numbered parameters: ?1 is the stream, ?2 the expected version, then five for
            # each event. Positional values bind for less than named ones, in Python (a
            # tuple, not a dict) and in the driver (no name to look up per parameter).
            columns = "stream_id, version, type, schema_version, data, metadata, recorded_at"
            current = "(SELECT coalesce(max(version), 0) FROM events WHERE stream_id = ?1)"
            if n == 1:
                # The usual append. On a stale or too-new expected version the version is
                # NULL, which the NOT NULL constraint refuses (a ConcurrencyError below):
                # cheaper for SQLite than the guarded INSERT ... SELECT the general case
                # needs, as each row of a multi-row VALUES would see the rows before it.
                sql = (f"INSERT INTO events ({columns}) VALUES (?1, CASE WHEN {current} = "
                       "?2 THEN ?2 + 1 END, ?3, ?4, ?5, ?6, ?7)")
            else:
                # The guard makes a stale or too-new expected version insert nothing; the
                # unique (stream_id, version) index is the second line of defence.
                rows = " UNION ALL ".join(
                    "SELECT ?1, ?2 + {}, ?{}, ?{}, ?{}, ?{}, ?{}".format(
                        i + 1, *range(3 + _PER_EVENT * i, 3 + _PER_EVENT * (i + 1)))
                    for i in range(n))
                sql = (f"INSERT INTO events ({columns}) SELECT * FROM ({rows}) "
                       f"WHERE {current} = ?2")
            self._append_sql[n] = sql
        cursor = on_driver(conn, sql, (stream_id, expected_version, *values))
        if cursor.rowcount != n:
            raise ConcurrencyError(stream_id, expected_version)
        # One writer at a time: the rowids of this insert are consecutive, ending here.
        return int(cursor.lastrowid)

    def _append_pg(self, conn: Connection, stream_id: str, expected_version: int,
                   values: list[Any]) -> int:
        n = len(values) // _PER_EVENT
        sql = self._append_sql.get(n)
        if sql is None:
            rows = ", ".join(
                f"({i}, %(t{i})s::text, %(s{i})s::int, %(d{i})s::jsonb, %(m{i})s::jsonb, "
                f"%(r{i})s::timestamptz)" for i in range(1, n + 1))
            # ORDER BY: PostgreSQL evaluates volatile output columns (nextval) after the
            # sort, so versions and positions rise together.
            sql = f"""
                WITH guard AS (
                    SELECT pg_advisory_xact_lock('events'::regclass::oid::bigint)
                    WHERE %(ev)s::int = 0 OR EXISTS (
                        SELECT 1 FROM events WHERE stream_id = %(sid)s AND version = %(ev)s)
                ), written AS (
                    INSERT INTO events (position, stream_id, version, type, schema_version,
                                        data, metadata, recorded_at)
                    SELECT nextval('event_positions'), %(sid)s, %(ev)s::int + v.i, v.type,
                           v.sv, v.data, v.meta, v.rec
                    FROM guard, (VALUES {rows}) AS v(i, type, sv, data, meta, rec)
                    ORDER BY v.i
                    RETURNING position
                )
                SELECT max(position),
                       pg_notify('attend_events:' || current_schema(), max(position)::text)
                FROM written HAVING count(*) > 0"""
            self._append_sql[n] = sql
        params = dict(zip(_PG_KEYS, values, strict=False))
        params["sid"], params["ev"] = stream_id, expected_version
        # On the driver: SQLAlchemy's result for this one number (column metadata, row
        # processors) cost more than the rest of the append's Python put together.
        row = on_driver(conn, sql, params).fetchone()
        if row is None:
            raise ConcurrencyError(stream_id, expected_version)
        return int(row[0])

    # -- reading -----------------------------------------------------------------------------
    def _event(self, type_name: str, schema_version: int, data: Any) -> Any:
        if isinstance(data, str):
            data = _loads(data)
        return self.registry.named(type_name).load(data, schema_version)

    def _decode(self, row: Sequence[Any]) -> RecordedEvent:
        position, stream_id, version, type_name, schema_version, data, meta = row
        return RecordedEvent(position, stream_id, version,
                             self._event(type_name, schema_version, data), raw_metadata=meta)

    def read_stream(self, stream_id: str, *, after_version: int = 0) -> list[RecordedEvent]:
        with self.db.read() as conn:
            rows = conn.exec_driver_sql(self._read_stream_sql,
                                        {"sid": stream_id, "after": after_version}).all()
        return [self._decode(row) for row in rows]

    def read_events(self, stream_id: str, *, after_version: int = 0) -> list[Any]:
        with self.db.read() as conn:
            rows = _READ_EVENTS.rows(conn, stream_id, after_version)
        return [self._event(*row) for row in rows]

    def read_aggregate(self, stream_id: str, *,
                       state_version: int) -> tuple[Snapshot | None, list[Any]]:
        with self.db.read() as conn:
            rows = _READ_AGGREGATE.rows(conn, stream_id, state_version, stream_id)
        snapshot, first = None, 0
        if rows and rows[0][1] is None:  # the snapshot's row: first, and it has no type
            version, _, _, state = rows[0]
            snapshot, first = Snapshot(stream_id, version, _loads(state), state_version), 1
        return snapshot, [self._event(type_name, schema_version, data)
                          for _, type_name, schema_version, data in rows[first:]]

    def read_all(self, *, after: int = 0, limit: int = 1000,
                 local: bool = False) -> list[RecordedEvent]:
        with self._recent_lock:
            if local and after >= self._newest_here:
                return []
            cached: list[RecordedEvent] = []
            position = after + 1
            while len(cached) < limit and (item := self._here(position)) is not None:
                cached.append(item)
                position += 1
        if cached:
            return cached
        params = {"after": after, "limit": limit}
        with self.db.read() as conn:
            if self._pg:
                # Never a prepared statement here: PostgreSQL's generic plan for
                # "position > $1" guesses a third of the table and scans all of it, every
                # poll. Planned with the actual position, it walks the primary key.
                rows = on_driver(conn, self._read_all_sql, params, prepare=False).fetchall()
            else:
                rows = conn.exec_driver_sql(self._read_all_sql, params).all()
        return [self._decode(row) for row in rows]

    def appended_here(self, position: int) -> bool:
        """Whether this process appended the event at ``position`` (lately)."""
        return self._here(position) is not None

    def _here(self, position: int) -> RecordedEvent | None:
        """The event at ``position`` if this process appended it lately, else ``None``."""
        item = self._recent[position % _RECENT]
        return item if item is not None and item.position == position else None

    def last_position(self) -> int:
        with self.db.read() as conn:
            return int(conn.exec_driver_sql("SELECT coalesce(max(position), 0) FROM events")
                       .scalar() or 0)

    def subscribe(self, listener: Callable[[Sequence[RecordedEvent]], None]
                  ) -> Callable[[], None]:
        # Copy on write: append() iterates the list it finds without a lock.
        self._listeners = [*self._listeners, listener]

        def unsubscribe() -> None:
            self._listeners = [known for known in self._listeners if known is not listener]
        return unsubscribe

    # -- snapshots ---------------------------------------------------------------------------
    def load_snapshot(self, stream_id: str) -> Snapshot | None:
        with self.db.read() as conn:
            rows = _LOAD_SNAPSHOT.rows(conn, stream_id)
        if not rows:
            return None
        [(version, state, state_version)] = rows
        return Snapshot(stream_id, version, _loads(state), state_version)

    def save_snapshot(self, snapshot: Snapshot) -> None:
        state = json.dumps(snapshot.state, separators=(",", ":"), ensure_ascii=False)
        with self.db.write_one() as conn:
            on_driver(conn, self._save_snapshot_sql, {
                "sid": snapshot.stream_id, "v": snapshot.version,
                "sv": snapshot.state_version, "st": state})

    # -- handlers ----------------------------------------------------------------------------
    def acquire_lease(self, handler: str, *, owner: str, now: float,
                      ttl: float) -> Lease | None:
        with self.db.write() as conn:
            conn.execute(self._insert_sql(subscriptions).values(
                handler=handler, position=0, owner=None, lease_until=0.0, epoch=0)
                .on_conflict_do_nothing())
            c = subscriptions.c
            row = conn.execute(
                update(subscriptions)
                .where(c.handler == handler)
                .where((c.owner.is_(None)) | (c.owner == owner) | (c.lease_until < now))
                .values(epoch=_bump_unless_owner(owner), owner=owner, lease_until=now + ttl)
                .returning(c.epoch, c.position)).first()
        if row is None:
            return None
        return Lease(handler, owner, row.epoch, row.position, now + ttl)

    def release_lease(self, lease: Lease) -> None:
        c = subscriptions.c
        with self.db.write() as conn:
            conn.execute(update(subscriptions)
                         .where(c.handler == lease.handler, c.owner == lease.owner,
                                c.epoch == lease.epoch)
                         .values(owner=None, lease_until=0.0))

    @contextmanager
    def handler_transaction(self, lease: Lease, *,
                            durable: bool = True) -> Iterator[_SqlTransaction]:
        with self.db.write(durable=durable) as conn:
            yield _SqlTransaction(self, conn, lease)

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
            r.data if not isinstance(r.data, str) else _loads(r.data), 1),
            r.correlation_id, r.causation_id) for r in rows]

    def mark_sent(self, handler: str, command_id: str) -> None:
        c = command_outbox.c
        with self.db.write() as conn:
            conn.execute(delete(command_outbox).where(c.handler == handler,
                                                      c.command_id == command_id))


def _bump_unless_owner(owner: str) -> Any:
    from sqlalchemy import case
    c = subscriptions.c
    return case((c.owner == owner, c.epoch), else_=c.epoch + 1)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# The reads of loading an aggregate run on the driver: a thousand rows through SQLAlchemy's
# result cost a millisecond. JSON comes back as text on both databases.
_LOAD_SNAPSHOT = DriverSql("SELECT version, CAST(state AS TEXT), state_version FROM snapshots "
                           "WHERE stream_id = %s")
# A cold load in one round trip: the snapshot's row (no type; its version sorts it first)
# and the events after it, or after version 0 without a snapshot of this state's shape.
_READ_AGGREGATE = DriverSql("""
    WITH snapshot AS (
        SELECT version, CAST(state AS TEXT) AS state FROM snapshots
        WHERE stream_id = %s AND state_version = %s)
    SELECT version, NULL, NULL, state FROM snapshot
    UNION ALL
    SELECT version, type, schema_version, CAST(data AS TEXT) FROM events
    WHERE stream_id = %s AND version > coalesce((SELECT version FROM snapshot), 0)
    ORDER BY 1""")
_READ_EVENTS = DriverSql("SELECT type, schema_version, CAST(data AS TEXT) FROM events "
                         "WHERE stream_id = %s AND version > %s ORDER BY version")

# The fenced checkpoint write ends every handler transaction (one per button press for the
# board), so it goes to the driver directly.
_ADVANCE = DriverSql("UPDATE subscriptions SET position = %s "
                     "WHERE handler = %s AND owner = %s AND epoch = %s")


class _SqlTransaction:
    def __init__(self, store: SqlEventStore, conn: Connection, lease: Lease) -> None:
        self._store = store
        self.connection = conn
        self._lease = lease

    def load_state(self, key: str) -> dict[str, Any] | None:
        c = handler_state.c
        value = self.connection.execute(select(c.state).where(
            c.handler == self._lease.handler, c.key == key)).scalar()
        return _loads(value) if isinstance(value, str) else value

    def save_state(self, key: str, state: dict[str, Any] | None) -> None:
        c = handler_state.c
        if state is None:
            self.connection.execute(delete(handler_state).where(
                c.handler == self._lease.handler, c.key == key))
            return
        stmt = self._store._insert_sql(handler_state).values(
            handler=self._lease.handler, key=key, state=state)
        self.connection.execute(stmt.on_conflict_do_update(
            index_elements=["handler", "key"], set_={"state": stmt.excluded.state}))

    def enqueue(self, command: Any, *, command_id: str, correlation_id: str,
                causation_id: str) -> None:
        entry = self._store.registry.of(command)
        self.connection.execute(self._store._insert_sql(command_outbox).values(
            handler=self._lease.handler, command_id=command_id, type=entry.name,
            data=entry.encode(command), correlation_id=correlation_id,
            causation_id=causation_id).on_conflict_do_nothing())

    def park(self, recorded: RecordedEvent, error: str) -> None:
        self.connection.execute(parked_events.insert().values(
            handler=self._lease.handler, position=recorded.position,
            event_id=recorded.metadata.event_id,
            type=self._store.registry.of(recorded.event).name, error=error,
            parked_at=datetime.now(UTC)))

    def advance(self, position: int) -> None:
        lease = self._lease
        cursor = _ADVANCE.run(self.connection, position, lease.handler, lease.owner,
                              lease.epoch)
        if cursor.rowcount != 1:
            raise LeaseLost(f"handler {lease.handler!r} was taken over by another process")


class PostgresWakeups:
    """Listens for this schema's append notifications; calls back with positions.

    Wake-ups only make handlers look sooner: they always poll too, so a lost notification
    (a dropped connection, a restart) delays work by one poll interval, never loses it.
    """

    def __init__(self, db: Database, callback: Callable[[int], None]) -> None:
        self._db = db
        self._callback = callback
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="attend-pg-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        import logging

        import psycopg
        from psycopg import sql

        log = logging.getLogger(__name__)
        url = self._db.url.set(drivername="postgresql")
        conninfo = url.render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    row = conn.execute("SELECT current_schema()").fetchone()
                    channel = f"attend_events:{row[0] if row else 'public'}"
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5, stop_after=1):
                            self._callback(int(note.payload or 0))
            except Exception as error:  # keep listening; polling covers the gap
                log.warning("LISTEN connection lost (%s); retrying in 1 s, polling meanwhile",
                            error)
                self._stop.wait(1.0)
