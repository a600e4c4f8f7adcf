"""Reading the log and snapshots on SQLite and PostgreSQL, decoded into events.

The reads of every button press and every rebuild run on the driver with SQL built once:
a thousand rows through SQLAlchemy's result cost a millisecond. JSON comes back as text on
both databases and is decoded here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from core.codec import dumps, loads, text_decoder_for
from core.eventstore import RecordedEvent, Snapshot
from core.eventstore.database import Database, DriverSql, on_driver
from core.messages import MessageRegistry

_COLUMNS = "position, stream_id, version, type, schema_version, data, metadata"

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


class SqlReader:
    def __init__(self, db: Database, registry: MessageRegistry) -> None:
        self.db = db
        self.registry = registry
        self._pg = not db.is_sqlite
        # Decoders of the event types read lately, by stored name: (schema version, decoder).
        self._current: dict[str, tuple[int, Callable[[Any], Any]]] = {}
        ph = "%({})s" if self._pg else ":{}"
        # Metadata comes back as text and is decoded only if someone reads it.
        columns = _COLUMNS if db.is_sqlite else _COLUMNS.replace(
            "data, metadata", "data::text, metadata::text")
        # The text conversion happens outside the LIMIT: should the planner pick a scan of
        # the whole table, it then converts one page of rows, not all of them.
        self.read_all_sql = (
            f"SELECT {columns} FROM (SELECT * FROM events WHERE position > "
            f"{ph.format('after')} ORDER BY position LIMIT {ph.format('limit')}) AS page "
            "ORDER BY position")
        self._read_stream_sql = (
            f"SELECT {columns} FROM events WHERE stream_id = {ph.format('sid')} AND version > "
            f"{ph.format('after')} ORDER BY version")
        # A snapshot replaces an older one of its stream, never a newer one. On the driver:
        # through SQLAlchemy's statement machinery a save took as long as six appends.
        self._save_snapshot_sql = (
            "INSERT INTO snapshots (stream_id, version, state_version, state) VALUES "
            f"({ph.format('sid')}, {ph.format('v')}, {ph.format('sv')}, {ph.format('st')}"
            f"{'::jsonb' if self._pg else ''}) "
            "ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, "
            "state_version = excluded.state_version, state = excluded.state "
            "WHERE snapshots.version <= excluded.version")

    def _event(self, type_name: str, schema_version: int, data: Any) -> Any:
        """The event of a row: its type's stored name, schema version and data (JSON text,
        or already decoded)."""
        known = self._current.get(type_name)
        if known is not None and known[0] == schema_version and type(data) is str:
            return known[1](data)
        entry = self.registry.named(type_name)
        if schema_version == entry.version:
            self._current[type_name] = (entry.version, text_decoder_for(entry.cls))
        if isinstance(data, str):
            data = loads(data)
        return entry.load(data, schema_version)

    def _decode_page(self, rows: list[tuple[Any, ...]]) -> list[RecordedEvent]:
        """Rows of ``read_all`` as recorded events. The loop of every rebuild and of every
        handler catching up: a row of its type's current shape is decoded here, in line,
        by the decoder kept for that stored name (not looked up in the registry each row);
        any other row goes the general way (:meth:`_event`)."""
        recorded: list[RecordedEvent] = []
        add = recorded.append
        current, event_of, str_ = self._current, self._event, str
        for position, stream_id, version, type_name, schema_version, data, meta in rows:
            known = current.get(type_name)
            if known is not None and known[0] == schema_version and type(data) is str_:
                event = known[1](data)
            else:
                event = event_of(type_name, schema_version, data)
            add(RecordedEvent(position, stream_id, version, event, raw_metadata=meta))
        return recorded

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
            snapshot, first = Snapshot(stream_id, version, loads(state), state_version), 1
        return snapshot, [self._event(type_name, schema_version, data)
                          for _, type_name, schema_version, data in rows[first:]]

    def read_all(self, *, after: int, limit: int) -> list[RecordedEvent]:
        """Events after ``after`` from the database."""
        params = {"after": after, "limit": limit}
        with self.db.read() as conn:
            # Never a prepared statement on PostgreSQL: its generic plan for "position > $1"
            # guesses a third of the table and scans all of it, every poll. Planned with the
            # actual position, it walks the primary key.
            options = {"prepare": False} if self._pg else {}
            rows = on_driver(conn, self.read_all_sql, params, **options).fetchall()
        return self._decode_page(rows)

    def last_position(self) -> int:
        with self.db.read() as conn:
            return int(conn.exec_driver_sql("SELECT coalesce(max(position), 0) FROM events")
                       .scalar() or 0)

    def load_snapshot(self, stream_id: str) -> Snapshot | None:
        with self.db.read() as conn:
            rows = _LOAD_SNAPSHOT.rows(conn, stream_id)
        if not rows:
            return None
        [(version, state, state_version)] = rows
        return Snapshot(stream_id, version, loads(state), state_version)

    def save_snapshot(self, snapshot: Snapshot) -> None:
        state = dumps(snapshot.state)
        with self.db.write_one() as conn:
            on_driver(conn, self._save_snapshot_sql, {
                "sid": snapshot.stream_id, "v": snapshot.version,
                "sv": snapshot.state_version, "st": state})
