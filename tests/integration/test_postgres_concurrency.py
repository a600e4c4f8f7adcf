"""What only a real multi-writer database can show: PostgreSQL under concurrent writers."""

from __future__ import annotations

import os
import threading
import time

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from core.eventstore.database import Database
from core.eventstore.sql import SqlEventStore
from core.migrations import upgrade
from core.router import Router
from core.runtime import HandlerRuntime
from tests.support.clock import FakeClock
from tests.support.databases import postgres_schema_url
from tests.support.tally import TALLY, AddToTally, OpenTally, TotalsInState, tally_registry
from tests.support.threads import run_threads

pytestmark = pytest.mark.postgres


def test_eight_threads_on_one_stream_write_every_version_once(pg_store: SqlEventStore,
                                                             clock: FakeClock) -> None:
    Router(pg_store, [TALLY], clock=clock).dispatch(OpenTally(tally_id="x"), actor="t")

    def writer(i: int) -> None:
        router = Router(pg_store, [TALLY], clock=clock, max_attempts=200)
        for n in range(25):
            router.dispatch(AddToTally(tally_id="x", amount=i * 100 + n), actor=f"w{i}")

    assert run_threads(8, writer) == []
    events = pg_store.read_stream("tally-x")
    assert [r.version for r in events] == list(range(1, 202))  # every version once
    amounts = sorted(r.event.amount for r in events[1:])
    assert amounts == sorted(i * 100 + n for i in range(8) for n in range(25))  # none lost
    totals = [r.event.total for r in events[1:]]
    assert totals[-1] == sum(amounts)  # each decided on the state before it


def test_a_tailing_reader_never_misses_a_later_committing_smaller_position(
        pg_store: SqlEventStore, clock: FakeClock) -> None:
    done = threading.Event()
    seen: list[int] = []

    def writer(i: int) -> None:
        router = Router(pg_store, [TALLY], clock=clock)
        router.dispatch(OpenTally(tally_id=f"s{i}"), actor="t")
        for n in range(60):
            router.dispatch(AddToTally(tally_id=f"s{i}", amount=n), actor="t")

    def reader() -> None:
        last = 0
        while True:
            finished = done.is_set()
            batch = pg_store.read_all(after=last, limit=50)
            for recorded in batch:
                assert recorded.position > last, "positions went back"
                last = recorded.position
                seen.append(last)
            if finished and not batch:
                return

    tail = threading.Thread(target=reader)
    tail.start()
    assert run_threads(8, writer) == []
    done.set()
    tail.join(60)
    everything = [r.position for r in pg_store.read_all(limit=10_000)]
    assert len(everything) == 8 * 61
    assert seen == everything  # the tail saw exactly what a full read sees, in order


def test_two_runtimes_compete_and_only_one_processes(pg_store: SqlEventStore,
                                                     clock: FakeClock) -> None:
    router = Router(pg_store, [TALLY], clock=clock)
    first_handler, second_handler = TotalsInState(), TotalsInState()
    first = HandlerRuntime(pg_store, router, [first_handler], poll_interval=0.05)
    second = HandlerRuntime(pg_store, router, [second_handler], poll_interval=0.05)
    first.start()
    second.start()
    try:
        router.dispatch(OpenTally(tally_id="a"), actor="t")
        last = 0
        for n in range(1, 41):
            last = router.dispatch(AddToTally(tally_id="a", amount=n), actor="t").position
        deadline = time.monotonic() + 10
        while pg_store.checkpoint("totals") < last and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        first.stop()
        second.stop()
    assert pg_store.checkpoint("totals") == last
    calls = sorted([first_handler.calls, second_handler.calls])
    assert calls == [0, 40], "exactly one runtime handled the events"
    lease = pg_store.acquire_lease("totals", owner="check", now=1e12, ttl=1)
    assert lease is not None
    with pg_store.handler_transaction(lease) as tx:
        state = tx.load_state("a")
    assert state is not None and state["sum"] == sum(range(1, 41))
    assert len(state["seen"]) == 40


def test_listen_wakes_other_processes_on_append(pg_store: SqlEventStore,
                                                clock: FakeClock) -> None:
    from core.eventstore.sql import PostgresWakeups

    heard: list[int] = []
    got = threading.Event()

    def on_wake(position: int) -> None:
        heard.append(position)
        got.set()

    wakeups = PostgresWakeups(pg_store.db, on_wake)
    wakeups.start()
    other = SqlEventStore(Database(pg_store.db.url.render_as_string(hide_password=False)),
                          tally_registry())  # a separate engine: another process's view
    try:
        time.sleep(0.3)  # let it LISTEN
        result = Router(other, [TALLY], clock=clock).dispatch(OpenTally(tally_id="n"), actor="t")
        assert got.wait(5), "no NOTIFY arrived"
        assert heard == [result.position]  # this schema's append, and nothing else
    finally:
        other.db.dispose()
        wakeups.stop()


def test_listen_wakes_every_process_when_delivery_jobs_are_written(pg_store: SqlEventStore,
                                                                  clock: FakeClock) -> None:
    from core.deliveries import NewJob, add_jobs
    from core.eventstore.sql import PostgresWakeups
    from core.notifications import NotificationKind

    positions: list[int] = []
    jobs = threading.Event()
    wakeups = PostgresWakeups(pg_store.db, positions.append, on_jobs=jobs.set)
    wakeups.start()
    other = Database(pg_store.db.url.render_as_string(hide_password=False))
    try:
        time.sleep(0.3)  # let it LISTEN
        with other.write() as conn:
            add_jobs(conn, [NewJob(
                scope="c1", recipient_id="p1", message_key="invitation",
                kind=NotificationKind.INVITATION, team_id="t1", game_id="g1", check_id="c1",
                details={}, not_before=clock(), position=1)])
            time.sleep(0.2)
            assert not jobs.is_set()  # not before the jobs can be seen: at commit
        assert jobs.wait(5), "no NOTIFY arrived for the new jobs"
        assert positions == []  # jobs are not an append
    finally:
        other.dispose()
        wakeups.stop()


def test_upgrading_to_the_position_sequence_continues_after_the_events_written_before(
        postgres_admin_url: str, clock: FakeClock) -> None:
    for url in postgres_schema_url(postgres_admin_url):
        db = Database(url)
        try:
            upgrade(db, "0006")
            with db.write() as conn:  # two events as the release before wrote them
                for position in (1, 2):
                    conn.execute(text(
                        "INSERT INTO events VALUES (:p, 'tally-old', :p, 'TallyAdded', 1, "
                        "'{\"tally_id\": \"old\", \"amount\": 1, \"total\": 1}', :m, now())"),
                        {"p": position, "m": '{"event_id": "e", "command_id": "c", '
                         '"causation_id": "c", "correlation_id": "c", "actor": "t", '
                         '"recorded_at": "2026-11-28T10:00:00+00:00"}'})
                conn.execute(text("UPDATE event_counter SET position = 2"))

            upgrade(db)
            store = SqlEventStore(db, tally_registry())
            router = Router(store, [TALLY], clock=clock)
            assert router.dispatch(OpenTally(tally_id="new"), actor="t").position == 3
            fresh = SqlEventStore(db, tally_registry())  # reads the database, not memory
            assert [(r.position, r.stream_id) for r in fresh.read_all()] == [
                (1, "tally-old"), (2, "tally-old"), (3, "tally-new")]
            with db.read() as conn:
                assert conn.execute(text("SELECT to_regclass('event_counter')")).scalar() is None
        finally:
            db.dispose()


def test_a_database_restart_costs_one_failed_command_not_one_per_pooled_connection(
        pg_store: SqlEventStore, postgres_admin_url: str, clock: FakeClock) -> None:
    router = Router(pg_store, [TALLY], clock=clock)
    router.dispatch(OpenTally(tally_id="r"), actor="t")
    db = pg_store.db
    # Fill the pool: four connections, all checked in and idle afterwards.
    held = [db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            for _ in range(4)]
    pids = [conn.execute(text("SELECT pg_backend_pid()")).scalar() for conn in held]
    for conn in held:
        conn.close()
    admin = Database(postgres_admin_url)
    try:
        with admin.read() as conn:  # what a restart does to every one of them
            for pid in pids:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        admin.dispose()

    outcomes: list[int | str] = []
    for amount in range(1, 4):
        try:
            router.dispatch(AddToTally(tally_id="r", amount=amount), actor="t")
            outcomes.append(amount)
        except psycopg.OperationalError as error:  # "server closed the connection"
            outcomes.append(type(error).__name__)
    assert outcomes[1:] == [2, 3], outcomes
    totals = [r.event.total for r in SqlEventStore(db, tally_registry()).read_all()
              if r.stream_id == "tally-r" and r.version > 1]
    assert totals == ([1, 3, 6] if outcomes[0] == 1 else [2, 5])  # none lost, none twice


def test_a_socket_cut_under_a_statement_throws_the_pool_away_too(
        pg_store: SqlEventStore, clock: FakeClock) -> None:
    # The way a restart sometimes lands: the socket fails while psycopg waits on it, psycopg
    # says "connection socket closed" and the connection still reports itself healthy.
    # Here every pooled connection's socket is gone, as after that restart.
    router = Router(pg_store, [TALLY], clock=clock)
    router.dispatch(OpenTally(tally_id="s"), actor="t")
    db = pg_store.db
    _close_the_sockets_of_four_pooled_connections(db)

    outcomes: list[int | str] = []
    for amount in range(1, 4):
        try:
            router.dispatch(AddToTally(tally_id="s", amount=amount), actor="t")
            outcomes.append(amount)
        except psycopg.OperationalError as error:
            outcomes.append(str(error))
    assert outcomes == ["connection socket closed", 2, 3]
    totals = [r.event.total for r in SqlEventStore(db, tally_registry()).read_all()
              if r.stream_id == "tally-s" and r.version > 1]
    assert totals == [2, 5]


def test_sqlalchemy_statements_treat_a_cut_socket_as_a_lost_connection_too(
        pg_store: SqlEventStore) -> None:
    db = pg_store.db
    _close_the_sockets_of_four_pooled_connections(db)

    outcomes: list[object] = []
    for _ in range(3):
        try:
            with db.read() as conn:
                outcomes.append(conn.execute(text("SELECT 1")).scalar())
        except DBAPIError as error:
            outcomes.append(error.connection_invalidated)
    assert outcomes == [True, 1, 1]


def _close_the_sockets_of_four_pooled_connections(db: Database) -> None:
    """Leaves four idle connections in the pool whose sockets are closed under psycopg.
    The test must open no file before the first statement fails, or a new file could take
    a closed socket's number."""
    held = [db.engine.connect() for _ in range(4)]
    sockets = [conn.connection.dbapi_connection.pgconn.socket  # type: ignore[union-attr]
               for conn in held]
    for conn in held:
        conn.close()
    for fd in sockets:
        os.close(fd)
