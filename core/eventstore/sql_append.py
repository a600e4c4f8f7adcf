"""Appending to the log on SQLite and PostgreSQL: the guarded, one-statement append.

See :mod:`core.eventstore.sql` for why global order equals commit order. An append is one
statement when it can be (guard, positions, rows and, on PostgreSQL, the notification), sent
on the driver; its SQL is built once per number of events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from core.errors import ConcurrencyError
from core.eventstore import NewEvent, encode_metadata, time_text
from core.eventstore.database import Database, on_driver
from core.messages import MessageRegistry

CHUNK = 200  # events per INSERT statement
_PER_EVENT = 5  # values an event's row is written from (see SqlAppender._values)


class SqlAppender:
    """Writes events at an expected stream version; returns the last position written."""

    def __init__(self, db: Database, registry: MessageRegistry) -> None:
        self.db = db
        self.registry = registry
        self._pg = not db.is_sqlite
        self._sql: dict[int, str] = {}
        # Appends run on the driver (see _append_pg), so a conflict is the driver's error.
        self._conflict: type[Exception] = db.engine.dialect.loaded_dbapi.IntegrityError
        self._claim_sql = ("INSERT INTO command_log (command_key, stream_id) VALUES "
                           + ("(%(key)s, %(sid)s)" if self._pg else "(:key, :sid)")
                           + " ON CONFLICT DO NOTHING")

    def append(self, stream_id: str, events: Sequence[NewEvent], *, expected_version: int,
               command_key: str | None = None) -> int | None:
        """The last position written; ``None`` for a resent command (``command_key`` seen
        before), which writes nothing. Raises :class:`ConcurrencyError` on a stale version."""
        # Large appends (opening a check for a big team) go in chunks, in one transaction:
        # statements have limits on terms and parameters. Each chunk is guarded by the
        # version the previous one left. (Encoded here, before the transaction: on SQLite
        # other writers wait for it.)
        if len(events) <= CHUNK:
            chunks = [(expected_version, self._values(events))]
        else:
            chunks = [(expected_version + start, self._values(events[start:start + CHUNK]))
                      for start in range(0, len(events), CHUNK)]
        append = self._append_pg if self._pg else self._append_sqlite
        # The usual append is one statement (guard, positions and rows together), which
        # needs no transaction around it; a resend check or several chunks do.
        alone = command_key is None and len(chunks) == 1
        try:
            with self.db.write_one() if alone else self.db.write() as conn:
                if command_key is not None and not self._claim_command(conn, command_key,
                                                                       stream_id):
                    return None
                for version, values in chunks:
                    last = append(conn, stream_id, version, values)
        except self._conflict as error:
            # PostgreSQL's unique index, SQLite's unique index or its NOT NULL version.
            if "events_stream_version" in str(error) or "events.version" in str(error):
                raise ConcurrencyError(stream_id, expected_version) from None
            raise
        return last

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
        return conn.exec_driver_sql(self._claim_sql,
                                    {"key": key, "sid": stream_id}).rowcount == 1

    def _append_sqlite(self, conn: Connection, stream_id: str, expected_version: int,
                       values: list[Any]) -> int:
        n = len(values) // _PER_EVENT
        sql = self._sql.get(n)
        if sql is None:
            # Numbered parameters: ?1 is the stream, ?2 the expected version, then five for
            # each event. Positional values bind for less than named ones, in Python (a
            # tuple, not a dict) and in the driver (no name to look up per parameter).
            columns = "stream_id, version, type, schema_version, data, metadata, recorded_at"
            current = "(SELECT coalesce(max(version), 0) FROM events WHERE stream_id = ?1)"
            if n == 1:
                # The usual append. On a stale or too-new expected version the version is
                # NULL, which the NOT NULL constraint refuses (a ConcurrencyError above):
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
            self._sql[n] = sql
        cursor = on_driver(conn, sql, (stream_id, expected_version, *values))
        if cursor.rowcount != n:
            raise ConcurrencyError(stream_id, expected_version)
        # One writer at a time: the rowids of this insert are consecutive, ending here.
        return int(cursor.lastrowid)

    def _append_pg(self, conn: Connection, stream_id: str, expected_version: int,
                   values: list[Any]) -> int:
        n = len(values) // _PER_EVENT
        sql = self._sql.get(n)
        if sql is None:
            # Server-side placeholders ($1 the stream, $2 the expected version, then five
            # for each event), sent as written: psycopg parses a %s text anew each time once
            # it has over 50 parameters, several milliseconds for a chunk of 200 events.
            rows = ", ".join(
                "({}, ${}::text, ${}::int, ${}::jsonb, ${}::jsonb, ${}::timestamptz)".format(
                    i + 1, *range(3 + _PER_EVENT * i, 3 + _PER_EVENT * (i + 1)))
                for i in range(n))
            # ORDER BY: PostgreSQL evaluates volatile output columns (nextval) after the
            # sort, so versions and positions rise together.
            sql = f"""
                WITH guard AS (
                    SELECT pg_advisory_xact_lock('events'::regclass::oid::bigint)
                    WHERE $2::int = 0 OR EXISTS (
                        SELECT 1 FROM events WHERE stream_id = $1 AND version = $2)
                ), written AS (
                    INSERT INTO events (position, stream_id, version, type, schema_version,
                                        data, metadata, recorded_at)
                    SELECT nextval('event_positions'), $1, $2::int + v.i, v.type,
                           v.sv, v.data, v.meta, v.rec
                    FROM guard, (VALUES {rows}) AS v(i, type, sv, data, meta, rec)
                    ORDER BY v.i
                    RETURNING position
                )
                SELECT max(position),
                       pg_notify('attend_events:' || current_schema(), max(position)::text)
                FROM written HAVING count(*) > 0"""
            self._sql[n] = sql
        # On the driver: SQLAlchemy's result for this one number (column metadata, row
        # processors) cost more than the rest of the append's Python put together. Prepared
        # at its first run on a connection: each count of events is its own text, and most
        # would not run often enough on one connection for psycopg to prepare them itself.
        row = on_driver(conn, sql, (stream_id, expected_version, *values), prepare=True,
                        as_written=True).fetchone()
        if row is None:
            raise ConcurrencyError(stream_id, expected_version)
        return int(row[0])
