"""SQLite's writers: the threads of a process share one writer connection, held open between
transactions, and other processes wait for it through SQLite's own lock."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from core.eventstore import database
from core.eventstore.database import Database, on_driver
from core.eventstore.sql import SqlEventStore
from core.migrations import upgrade
from core.router import Router
from tests.support.clock import FakeClock
from tests.support.tally import TALLY, AddToTally, OpenTally, tally_registry
from tests.support.threads import run_threads


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "attend.db"


@pytest.fixture
def db(path: Path) -> Iterator[Database]:
    opened = Database(f"sqlite:///{path}")
    upgrade(opened)
    yield opened
    opened.dispose()


def _amounts(store: SqlEventStore, tally: str) -> list[int]:
    return [r.event.amount for r in store.read_stream(f"tally-{tally}")[1:]]


def test_threads_and_another_process_write_every_version_once(db: Database, path: Path,
                                                              clock: FakeClock) -> None:
    # Eight threads of this process, and a second Database on the same file standing for
    # another process (the command line, say), all on one stream.
    other = Database(f"sqlite:///{path}")
    stores = [SqlEventStore(db, tally_registry()), SqlEventStore(other, tally_registry())]
    Router(stores[0], [TALLY], clock=clock).dispatch(OpenTally(tally_id="x"), actor="t")

    def writer(i: int) -> None:
        router = Router(stores[i % 2], [TALLY], clock=clock, max_attempts=200)
        for n in range(25):
            router.dispatch(AddToTally(tally_id="x", amount=i * 100 + n), actor=f"w{i}")

    errors = run_threads(10, writer)
    other.dispose()
    assert errors == []
    events = stores[0].read_stream("tally-x")
    assert [r.version for r in events] == list(range(1, 252))  # every version once
    assert sorted(_amounts(stores[0], "x")) == sorted(
        i * 100 + n for i in range(10) for n in range(25))  # none lost
    assert events[-1].event.total == sum(_amounts(stores[0], "x"))


def test_a_write_that_waits_past_the_busy_timeout_fails_cleanly_and_the_next_one_works(
        path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_S", 1)
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    store = SqlEventStore(db, tally_registry())
    router = Router(store, [TALLY], clock=clock)
    router.dispatch(OpenTally(tally_id="x"), actor="t")
    router.dispatch(AddToTally(tally_id="x", amount=1), actor="t")

    elsewhere = sqlite3.connect(path, isolation_level=None)
    elsewhere.execute("BEGIN IMMEDIATE")  # another process holds the write lock, too long
    with pytest.raises((sqlite3.OperationalError, DBAPIError), match="database is locked"):
        router.dispatch(AddToTally(tally_id="x", amount=2), actor="t")
    elsewhere.execute("ROLLBACK")
    elsewhere.close()

    router.dispatch(AddToTally(tally_id="x", amount=3), actor="t")
    assert _amounts(store, "x") == [1, 3]  # the refused one wrote nothing
    db.dispose()


def test_a_writer_connection_closed_under_us_is_replaced(db: Database,
                                                         clock: FakeClock) -> None:
    store = SqlEventStore(db, tally_registry())
    router = Router(store, [TALLY], clock=clock)
    router.dispatch(OpenTally(tally_id="x"), actor="t")
    with db.write() as conn:
        driver = conn.connection.driver_connection
    assert driver is not None
    driver.close()  # as if the driver had lost it

    with pytest.raises((sqlite3.ProgrammingError, DBAPIError), match="closed database"):
        router.dispatch(AddToTally(tally_id="x", amount=1), actor="t")
    router.dispatch(AddToTally(tally_id="x", amount=2), actor="t")
    assert _amounts(store, "x") == [2]


@pytest.mark.parametrize("how", ["driver", "sqlalchemy", "both"])
def test_a_write_commits_whole_or_rolls_back_whole(db: Database, how: str) -> None:
    with db.write() as conn:
        conn.exec_driver_sql("CREATE TABLE notes (body TEXT NOT NULL)")

    def write_two(conn: Connection, first: str, second: str) -> None:
        for body, on in ((first, how in ("driver", "both")), (second, how == "driver")):
            if on:
                on_driver(conn, "INSERT INTO notes VALUES (?)", (body,))
            else:
                conn.execute(text("INSERT INTO notes VALUES (:body)"), {"body": body})

    with pytest.raises(RuntimeError), db.write() as conn:
        write_two(conn, "lost-1", "lost-2")
        raise RuntimeError("the handler failed after writing")
    with db.write() as conn:
        write_two(conn, "kept-1", "kept-2")
    with pytest.raises(DBAPIError), db.write() as conn:  # a failing statement, second
        write_two(conn, "lost-3", "lost-4")
        conn.execute(text("INSERT INTO notes VALUES (NULL)"))

    with db.read() as conn:
        bodies = [row[0] for row in conn.exec_driver_sql("SELECT body FROM notes")]
    assert bodies == ["kept-1", "kept-2"]
    with db.write() as conn:  # and the writer connection is still good
        write_two(conn, "kept-3", "kept-4")


@pytest.mark.parametrize("through", ["driver", "sqlalchemy"])
def test_a_commit_that_fails_rolls_back_and_the_next_write_works(db: Database,
                                                                 through: str) -> None:
    # A deferred foreign key is checked at COMMIT, and SQLite leaves the transaction open
    # when it refuses it: the write must not leave it open for the next one.
    with db.write() as conn:
        conn.exec_driver_sql("CREATE TABLE teams (id TEXT PRIMARY KEY)")
        conn.exec_driver_sql("CREATE TABLE players (team TEXT REFERENCES teams (id) "
                             "DEFERRABLE INITIALLY DEFERRED)")
    with pytest.raises((sqlite3.IntegrityError, DBAPIError), match="FOREIGN KEY"), \
            db.write() as conn:
        if through == "driver":
            on_driver(conn, "INSERT INTO players VALUES ('no-such-team')", ())
        else:
            conn.execute(text("INSERT INTO players VALUES ('no-such-team')"))

    with db.write() as conn:
        on_driver(conn, "INSERT INTO teams VALUES ('hawks')", ())
        on_driver(conn, "INSERT INTO players VALUES ('hawks')", ())
    with db.read() as conn:
        players = [row[0] for row in conn.exec_driver_sql("SELECT team FROM players")]
    assert players == ["hawks"]


def test_in_memory_a_read_inside_a_write_never_loses_the_write_silently() -> None:
    # An in-memory database is one driver connection, shared by readers and the writer.
    db = Database("sqlite://")
    with db.write() as conn:
        conn.exec_driver_sql("CREATE TABLE notes (body TEXT)")
    try:
        with db.write() as conn:
            on_driver(conn, "INSERT INTO notes VALUES ('x')", ())
            with db.read() as reader:
                reader.exec_driver_sql("SELECT count(*) FROM notes").scalar()
    except (sqlite3.Error, DBAPIError):
        refused = True  # the read failed, and the write with it: the caller knows
    else:
        refused = False
    with db.read() as reader:
        count = reader.exec_driver_sql("SELECT count(*) FROM notes").scalar()
    assert count == (0 if refused else 1)
    db.dispose()
