"""Engine set-up for SQLite (embedded default) and PostgreSQL (psycopg 3).

SQLite allows one writer at a time and its busy handler waits by sleeping in growing steps
(up to 100 ms), which wrecks latency when threads of one process compete. So writers in one
process take a lock first and start their transaction with ``BEGIN IMMEDIATE``; the busy
timeout then only arbitrates between processes. As one writer at a time is all SQLite
allows, the writers of a process share one connection, held open between transactions:
taking a connection from the pool and giving it back cost more than the write itself.
PostgreSQL needs none of this.

:class:`DriverSql` and :func:`on_driver` run the few statements on every button press's path
(an append among them) on the driver itself, bypassing SQLAlchemy's statement layer.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.pool import StaticPool

from core.errors import ConfigError

SQLITE_BUSY_TIMEOUT_S = 30


class Database:
    """One engine plus the knowledge of how to write to it safely."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        parsed = make_url(url)
        self.url = parsed
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            self.engine = _sqlite_engine(url)
            self._relaxed = self.engine
        elif self.dialect == "postgresql":
            if parsed.get_driver_name() not in ("psycopg", ""):
                raise ConfigError(
                    f"PostgreSQL URLs must use psycopg 3: write postgresql+psycopg://... "
                    f"(got {parsed.drivername})"
                )
            # No pre-ping: it costs a round trip per checkout; dropped connections are
            # invalidated when used and the pool recycles them. Last in, first out: the
            # connections in use stay few and warm (psycopg prepares a statement on a
            # connection once it has run there a few times), the rest idle.
            psycopg_url = parsed.set(drivername="postgresql+psycopg")
            connect_args = {"options": _session_options(parsed.query.get("options"))}
            self.engine = create_engine(psycopg_url, pool_size=pool_size, max_overflow=pool_size,
                                        pool_recycle=1800, pool_use_lifo=True,
                                        connect_args=connect_args)
            # For writes the log can rebuild (read models): commit without waiting for the
            # WAL flush. PostgreSQL still commits them whole and in order; a crash can only
            # lose the last few, checkpoint included, and those events are handled again.
            # Only handler threads write through it (one each, at most): a small pool.
            self._relaxed = create_engine(psycopg_url, pool_size=4, max_overflow=6,
                                          pool_recycle=1800, pool_use_lifo=True,
                                          connect_args=connect_args)
            for engine in (self.engine, self._relaxed):
                event.listen(engine, "handle_error", _recognise_lost_connection)

            @event.listens_for(self._relaxed, "connect")
            def _relax(dbapi_conn: Any, _record: Any) -> None:
                with dbapi_conn.cursor() as cur:  # a setting of this session only
                    cur.execute("SET synchronous_commit = off")
                dbapi_conn.commit()
        else:
            raise ConfigError(
                f"unsupported database {parsed.drivername!r}: use sqlite:///FILE or "
                "postgresql+psycopg://USER@HOST/DB"
            )
        self._write_lock = threading.RLock()  # SQLite's writers in this process, one at a time
        self._writer = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._held: Connection | None = None  # SQLite's writer connection, under the lock
        # Reads are single statements or tolerate read-committed snapshots: on PostgreSQL
        # autocommit saves the BEGIN and COMMIT round trips.
        self._reader = self.engine if self.is_sqlite else self.engine.execution_options(
            isolation_level="AUTOCOMMIT")

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def write(self, *, durable: bool = True) -> Iterator[Connection]:
        """A write transaction: committed on success, rolled back on any exception. With
        ``durable=False`` (PostgreSQL) the commit doesn't wait for the disk: only for what
        the event log can rebuild. SQLite in WAL mode with ``synchronous=NORMAL`` already
        commits that way, and stays consistent."""
        if self.is_sqlite:
            # BEGIN and COMMIT on the driver: SQLAlchemy's transaction objects cost as much
            # as the write. A SQLAlchemy statement in between makes SQLAlchemy join the
            # transaction (see _on_begin); then SQLAlchemy ends it.
            with self._write_lock:
                conn = self._writer_connection()
                driver = on_driver(conn, "BEGIN IMMEDIATE", ()).connection
                try:
                    yield conn
                    _end(conn, driver, commit=True)
                except BaseException:
                    # Also when COMMIT fails: SQLite may leave the transaction open (a
                    # deferred foreign key, say), and the next write could not begin.
                    _end(conn, driver, commit=False)
                    raise
            return
        with (self._writer if durable else self._relaxed).connect() as conn, conn.begin():
            yield conn

    def _writer_connection(self) -> Connection:
        """SQLite's writer connection (the caller holds the write lock): the one held open,
        or a new one if there is none yet or it was closed. (One that was lost, and so
        invalidated, takes a new driver connection from the pool by itself on next use.)"""
        held = self._held
        if held is None or held.closed:
            held = self._held = self._writer.connect()
        return held

    def write_one(self) -> AbstractContextManager[Connection]:
        """For exactly one writing statement, which is its own transaction: on PostgreSQL
        in autocommit (one round trip instead of three), on SQLite as :meth:`write`."""
        return self.write() if self.is_sqlite else self._reader.connect()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._reader.connect() as conn:
            yield conn

    def dispose(self) -> None:
        with self._write_lock:
            if self._held is not None:
                self._held.close()
                self._held = None
        self.engine.dispose()
        if self._relaxed is not self.engine:
            self._relaxed.dispose()


def upsert(conn: Connection, table: Table) -> Any:
    """``INSERT INTO table`` in ``conn``'s dialect, which has ``on_conflict_do_update`` and
    ``on_conflict_do_nothing`` (SQLite and PostgreSQL spell them alike)."""
    insert = sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert
    return insert(table)


def _end(conn: Connection, driver: Any, *, commit: bool) -> None:
    """End the SQLite write transaction begun on ``driver``, ``conn``'s driver connection:
    through SQLAlchemy if it joined it, else on the driver (unless something in between
    already ended it)."""
    if conn.in_transaction():
        if commit:
            conn.commit()
        else:
            conn.rollback()
    elif driver.in_transaction:
        driver.execute("COMMIT" if commit else "ROLLBACK")


def _session_options(given: str | tuple[str, ...] | None) -> str:
    """Settings for every PostgreSQL session Attend opens, sent with the connection (no round
    trip); any ``options`` in the database URL come after them, so an operator's settings win.

    ``random_page_cost=1.1``, as PostgreSQL's documentation advises for data on SSDs or in
    memory, where a random read costs little more than a sequential one: the default (4)
    assumes spinning disks. It matters most before the table has statistics (a freshly
    filled or restored ``events`` table, until autovacuum analyses it): the planner then
    guesses that ``position > X`` matches a third of the table, and with the default it
    reads a page of 1,000 events by scanning and sorting the whole table, not by walking
    the primary key; up to about 20,000 events, 5 to 20 times slower."""
    ours = "-c random_page_cost=1.1"
    extra = " ".join(given) if isinstance(given, tuple) else given
    return f"{ours} {extra}" if extra else ours


class DriverSql:
    """One statement for both drivers, run on the connection's driver directly.

    For the few statements on the path of every button press (an append's checkpoint, an
    answer on the board) and of every cold aggregate load: SQLAlchemy's statement and result
    machinery costs several times what SQLite takes to run them. Written with psycopg's
    ``%s`` placeholders; sqlite3 gets them as ``?``. Rows come back as the
    driver's tuples, so the caller converts them.
    """

    def __init__(self, text: str) -> None:
        self.postgresql = text
        self.sqlite = text.replace("%s", "?")

    def run(self, conn: Connection, *params: Any) -> Any:
        """Execute on ``conn``'s own driver connection (inside its transaction, if any);
        returns the driver's cursor."""
        return on_driver(conn, self._text(conn), params)

    def rows(self, conn: Connection, *params: Any) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self.run(conn, *params).fetchall()
        return rows

    def run_many(self, conn: Connection, params: Sequence[Sequence[Any]]) -> None:
        """Execute once per item of ``params``, in order, as one call to the driver:
        sqlite3's ``executemany`` loops in C, psycopg's pipelines the lot in one round trip
        (a thread that waits on the network gives up Python's lock, and getting it back
        under load costs more than the statement)."""
        if params:
            on_driver(conn, self._text(conn), params, many=True)

    def _text(self, conn: Connection) -> str:
        return self.sqlite if conn.dialect.name == "sqlite" else self.postgresql


class DriverSqlIn(DriverSql):
    """A :class:`DriverSql` whose last parameter is the values a column may take, written
    ``{one_of}`` in the text (``WHERE player_id {one_of}``): PostgreSQL gets them as an array
    (``= ANY``), SQLite as a JSON list (``IN`` its ``json_each``). One statement, prepared
    once, for any number of values; SQLAlchemy's expanding ``IN`` renders each size anew."""

    def __init__(self, text: str) -> None:
        super().__init__(text.replace("{one_of}", "= ANY(%s)"))
        self.sqlite = text.replace("{one_of}", "IN (SELECT value FROM json_each(%s))").replace(
            "%s", "?")

    def rows_in(self, conn: Connection, *params: Any,
                values: Sequence[Any]) -> list[tuple[Any, ...]]:
        one_of = json.dumps(list(values)) if conn.dialect.name == "sqlite" else list(values)
        return self.rows(conn, *params, one_of)


def on_driver(conn: Connection, sql: str, params: Any, **options: Any) -> Any:
    """Execute ``sql``, written in the driver's own placeholder style, on ``conn``'s driver
    connection (inside its transaction, if any) and return the driver's cursor. Errors are
    the driver's own: ``conn.dialect.loaded_dbapi.IntegrityError``, not SQLAlchemy's.
    ``options`` go to the driver's ``execute`` (psycopg's ``prepare``, say); ``many=True``
    runs ``executemany`` with ``params`` a sequence of parameter rows; ``as_written=True``
    sends PostgreSQL's own ``$1`` placeholders untouched, with ``params`` a sequence
    (psycopg's raw cursor: no parsing of the text on every run).

    A lost connection is handled as SQLAlchemy would have: this one is thrown away, and so
    are the pool's idle ones, which a database restart has most likely cut too. Otherwise
    every pooled connection would fail one more request before the pool learned."""
    raw: Any = conn.connection.driver_connection
    try:
        if options.pop("many", False):
            if conn.dialect.name == "sqlite":
                return raw.executemany(sql, params)
            with raw.cursor() as cursor:
                cursor.executemany(sql, params)
            return None
        if options.pop("as_written", False) and conn.dialect.name != "sqlite":
            from psycopg import RawCursor  # not imported for SQLite alone (a quarter second)

            return RawCursor(raw).execute(sql, params, **options)
        return raw.execute(sql, params, **options)
    except conn.dialect.loaded_dbapi.Error as error:
        if _lost_connection(conn.dialect, error, raw):
            conn.invalidate(error)
            conn.engine.pool.dispose()
        raise


def _lost_connection(dialect: Any, error: BaseException, driver_conn: Any) -> bool:
    """Whether ``error`` means ``driver_conn`` can no longer be used."""
    return dialect.is_disconnect(error, driver_conn, None) or _cut_off(dialect, error)


def _cut_off(dialect: Any, error: BaseException) -> bool:
    """The failures SQLAlchemy's psycopg dialect misses. It asks the connection whether it
    is broken; but when the socket fails under psycopg's wait (a restart cutting it
    mid-statement), psycopg raises ``OperationalError("connection socket closed")`` and the
    connection still looks healthy. So also: any psycopg ``OperationalError`` without a
    SQLSTATE (the client's side failed, not a statement), a connection exception (class
    08), or the server shutting down (57P01 to 57P03). sqlite3's errors have no SQLSTATE
    and are left to the dialect."""
    if not isinstance(error, dialect.loaded_dbapi.OperationalError):
        return False
    if not hasattr(error, "sqlstate"):
        return False
    sqlstate = error.sqlstate
    return sqlstate is None or sqlstate.startswith("08") or sqlstate in _SERVER_SHUTTING_DOWN


_SERVER_SHUTTING_DOWN = frozenset({"57P01", "57P02", "57P03"})


def _recognise_lost_connection(context: ExceptionContext) -> None:
    """For SQLAlchemy's own statements: the same rule as :func:`on_driver`'s, so whichever
    path meets a lost connection, it is thrown away and the pool's others with it."""
    if not context.is_disconnect and _cut_off(context.dialect, context.original_exception):
        context.is_disconnect = True


def _sqlite_engine(url: str) -> Engine:
    parsed = make_url(url)
    memory = parsed.database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False,
                                               "timeout": SQLITE_BUSY_TIMEOUT_S}}
    if memory:
        # One shared connection, or every checkout would see its own empty database.
        kwargs["poolclass"] = StaticPool
    else:
        # Request threads plus a thread per handler: keep their connections open rather
        # than reconnecting (and re-running the PRAGMAs) for every overflow checkout.
        kwargs |= {"pool_size": 24, "max_overflow": 16}
    engine = create_engine(parsed, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")  # durable across app crashes in WAL mode
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # SQLAlchemy begins when a statement needs a transaction. On the writer connection
        # inside Database.write the driver is in one already, and SQLAlchemy joins it.
        # Otherwise BEGIN on the driver: through SQLAlchemy's statement machinery it cost
        # a fifth of a one-event append. (Only the writer joins: a reader sharing the
        # driver connection of an in-memory database must not, or giving it back to the
        # pool would roll the write back; its BEGIN fails loudly instead.)
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode == "IMMEDIATE":  # a writer: is Database.write's transaction open?
            driver: Any = conn.connection.driver_connection
            if driver.in_transaction:
                return
        on_driver(conn, f"BEGIN {mode}", ())

    return engine

