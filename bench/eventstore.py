"""Event store and router speed, with a plain-INSERT floor measured in the same run.

    python bench/eventstore.py [--json] [--postgres URL] [--n 6000]

Prints one JSON object per backend: dispatch_per_s (router, one event per command, cached
aggregate, one client), floor_per_s (one single-row INSERT per transaction through the same
engine, durability settings and transaction style as an append), dispatch_vs_floor (the
median of the ratios of 20 rounds, each measuring both side by side), driver_floor_per_s
and dispatch_vs_driver_floor (the same INSERTs on the driver alone, without the engine's
plumbing), concurrent_dispatch_per_s (8 threads on distinct streams), read_all_per_s
(decoded into event objects), select_per_s (the same pages of the same rows, read by the
same SELECT on the driver alone, not decoded) and read_all_vs_select (the median of the
ratios of rounds measuring both in turn), rehydrate_ms_1000 (an uncached aggregate of 1,000
events) and rehydrate_snapshot_ms_1000.
"""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from bench.common import backends, parser, progress, report
from core.eventstore.database import Database, on_driver
from core.eventstore.sql import SqlEventStore
from core.migrations import upgrade
from core.router import Router
from tests.support.tally import TALLY, AddToTally, OpenTally, tally_registry


def clock() -> datetime:
    return datetime.now(UTC)



def _floor_table(db: Database) -> tuple[str, Any]:
    """A table made like ``events`` (same columns, types and indexes) and the INSERT of the
    row an append writes, with parameters bound as an append binds them: ``(sql, row)``,
    the row without its position, a tuple on SQLite (numbered parameters) and a dict on
    PostgreSQL (named ones)."""
    with db.write() as conn:
        if db.is_sqlite:
            ddl = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'events'").scalar()
            conn.exec_driver_sql(str(ddl).replace("CREATE TABLE events", "CREATE TABLE IF NOT "
                                                  "EXISTS bench_floor", 1))
        else:
            conn.exec_driver_sql(
                "CREATE TABLE IF NOT EXISTS bench_floor (LIKE events INCLUDING ALL)")
    sql = ("INSERT INTO bench_floor VALUES (?1, ?2, ?1, ?3, 1, ?4, ?5, ?6)" if db.is_sqlite
           else "INSERT INTO bench_floor VALUES (%(i)s, %(sid)s, %(i)s, %(t)s, 1, "
                "%(d)s::jsonb, %(m)s::jsonb, %(r)s::timestamptz)")
    now = clock()
    row = {
        "sid": "tally-floor", "t": "TallyAdded", "r": now.isoformat() if db.is_sqlite else now,
        "d": json.dumps({"tally_id": "floor", "amount": 1, "total": 1}),
        "m": json.dumps({"event_id": uuid.uuid4().hex, "command_id": uuid.uuid4().hex,
                         "causation_id": uuid.uuid4().hex, "correlation_id": uuid.uuid4().hex,
                         "actor": "bench", "recorded_at": now.isoformat()}),
    }
    if db.is_sqlite:
        return sql, (row["sid"], row["t"], row["d"], row["m"], row["r"])
    return sql, row


_written = 0  # floor rows written so far, by every round


def _positions(n: int) -> range:
    """``n`` positions no floor round has written yet."""
    global _written
    _written += n
    return range(_written - n, _written)


def floor(db: Database, sql: str, row: Any, n: int) -> float:
    """Plain INSERTs of the row an append writes, one per transaction, sent the way an
    append sends its one statement (``Database.write_one``: autocommit on PostgreSQL,
    ``BEGIN IMMEDIATE`` on SQLite; the statement itself on the driver, ``on_driver``): the
    cost of storing an event through the same engine, with no logic around it."""
    positions = _positions(n)
    start = time.perf_counter()
    if db.is_sqlite:
        for i in positions:
            with db.write_one() as conn:
                on_driver(conn, sql, (i, *row))
    else:
        for i in positions:
            with db.write_one() as conn:
                on_driver(conn, sql, {**row, "i": i})
    return n / (time.perf_counter() - start)


def driver_floor(db: Database, driver: Any, sql: str, row: Any, n: int) -> float:
    """The same INSERTs, one per transaction, on ``driver``, one of the engine's driver
    connections (so with the same settings), and nothing else: no pool, no SQLAlchemy, no
    lock. What the database and its driver alone cost; the floor above adds the engine's
    plumbing, which an append pays too."""
    positions = _positions(n)
    start = time.perf_counter()
    if db.is_sqlite:
        for i in positions:
            driver.execute("BEGIN IMMEDIATE")
            driver.execute(sql, (i, *row))
            driver.execute("COMMIT")
    else:
        for i in positions:  # in autocommit, as an append
            driver.execute(sql, {**row, "i": i})
    return n / (time.perf_counter() - start)


def dispatch(store: SqlEventStore, n: int, router: Router) -> float:
    """The router's work on a command: like the floor's row, the command is made before the
    clock starts (each dispatch still gets its own command id, event id and time)."""
    command = AddToTally(tally_id="hot", amount=1)
    start = time.perf_counter()
    for _ in range(n):
        router.dispatch(command, actor="bench")
    return n / (time.perf_counter() - start)


def concurrent_dispatch(store: SqlEventStore, n: int, threads: int = 8) -> float:
    per_thread = max(1, n // threads)
    router = Router(store, [TALLY], clock=clock)
    for i in range(threads):
        router.dispatch(OpenTally(tally_id=f"c{i}"), actor="bench")
    barrier = threading.Barrier(threads + 1)

    def work(i: int) -> None:
        command = AddToTally(tally_id=f"c{i}", amount=1)
        barrier.wait()
        for _ in range(per_thread):
            router.dispatch(command, actor="bench")

    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in pool:
        t.join()
    return per_thread * threads / (time.perf_counter() - start)


def read_all(store: SqlEventStore) -> float:
    """Every event, in pages of 1,000, decoded into event objects."""
    count, after = 0, 0
    start = time.perf_counter()
    while batch := store.read_all(after=after, limit=1000):
        count += len(batch)
        after = batch[-1].position
    return count / (time.perf_counter() - start)


def select_pages(db: Database, store: SqlEventStore) -> float:
    """The same pages read_all reads from the database, by the same SELECT, on one of the
    engine's driver connections, and nothing else: the rows as the driver returns them."""
    sql = store._reader.read_all_sql
    pooled = db.engine.raw_connection()
    try:
        cursor = pooled.driver_connection.cursor()  # type: ignore[union-attr]
        count, after = 0, 0
        start = time.perf_counter()
        while True:
            if db.is_sqlite:
                rows = cursor.execute(sql, {"after": after, "limit": 1000}).fetchall()
            else:
                rows = cursor.execute(sql, {"after": after, "limit": 1000},
                                      prepare=False).fetchall()
            if not rows:
                break
            count += len(rows)
            after = rows[-1][0]
        rate = count / (time.perf_counter() - start)
        if not db.is_sqlite:
            pooled.driver_connection.rollback()  # type: ignore[union-attr]
        return rate
    finally:
        pooled.close()


def reads(db: Database) -> tuple[float, float, float]:
    """``(read_all_per_s, select_per_s, read_all_vs_select)``: both in turns over five
    rounds, the rates the best of the rounds, the ratio the median of the rounds' own."""
    # A store of its own: the benchmark's store keeps the events it appended in memory for
    # its handlers, and the figure is about reading them back from the database.
    store = SqlEventStore(db, tally_registry())
    read_rates, select_rates = [], []
    for r in range(5):
        pair = [lambda: read_rates.append(read_all(store)),
                lambda: select_rates.append(select_pages(db, store))]
        for measure in pair[r % 2:] + pair[:r % 2]:
            measure()
    ratio = statistics.median(a / b for a, b in zip(read_rates, select_rates, strict=True))
    return max(read_rates), max(select_rates), ratio


def rehydrate(store: SqlEventStore) -> tuple[float, float]:
    plain = Router(store, [TALLY], clock=clock, snapshot_every=10**9)
    plain.dispatch(OpenTally(tally_id="long"), actor="bench")
    for _ in range(999):
        plain.dispatch(AddToTally(tally_id="long", amount=1), actor="bench")

    def timed(snapshot_every: int) -> float:
        samples = []
        for _ in range(7):
            cold = Router(store, [TALLY], clock=clock, snapshot_every=snapshot_every)
            start = time.perf_counter()
            version, _state = cold.state_of(TALLY, "long")
            samples.append((time.perf_counter() - start) * 1000)
            assert version >= 1000
        return statistics.median(samples)

    without = timed(10**9)
    # Take a snapshot at version 1000 by dispatching once through a snapshotting router.
    snap = Router(store, [TALLY], clock=clock, snapshot_every=1001)
    snap.dispatch(AddToTally(tally_id="long", amount=1), actor="bench")
    with_snapshot = timed(1001)
    return without, with_snapshot


def run(name: str, url: str, n: int) -> dict[str, object]:
    progress(f"{name}: migrating")
    db = Database(url, pool_size=12)
    upgrade(db)
    store = SqlEventStore(db, tally_registry())
    # The floors and dispatch run in many short rounds, side by side and in turns (each goes
    # first in every third round), and a ratio is the median of the rounds' own ratios: a
    # slow spell on the machine falls on all of a round, and an odd round moves the median
    # little.
    router = Router(store, [TALLY], clock=clock)
    router.dispatch(OpenTally(tally_id="hot"), actor="bench")
    router.dispatch(AddToTally(tally_id="hot", amount=1), actor="bench")  # warm the cache
    rounds = 20
    per_round = max(1, n // rounds)
    # Taken out of the pool for the whole run, and thrown away after (it is changed).
    pooled = db.engine.raw_connection()
    driver = pooled.driver_connection
    if not db.is_sqlite:
        driver.autocommit = True  # type: ignore[union-attr]
    sql, row = _floor_table(db)
    rates: dict[str, list[float]] = {"floor": [], "dispatch": [], "driver_floor": []}
    measures = {"floor": lambda: floor(db, sql, row, per_round),
                "dispatch": lambda: dispatch(store, per_round, router),
                "driver_floor": lambda: driver_floor(db, driver, sql, row, per_round)}
    order = list(measures)
    for r in range(rounds):
        if r % 5 == 0:
            progress(f"{name}: floors and dispatch, round {r + 1} of {rounds}")
        for what in order[r % 3:] + order[:r % 3]:  # each goes first in turn
            rates[what].append(measures[what]())

    pooled.invalidate()

    def ratio(floor_rates: list[float]) -> float:
        return statistics.median(d / f for d, f in zip(rates["dispatch"], floor_rates,
                                                       strict=True))

    progress(f"{name}: 8 concurrent clients")
    concurrent = concurrent_dispatch(store, n)
    progress(f"{name}: rehydrate")
    rehydrate_ms, snapshot_ms = rehydrate(store)
    progress(f"{name}: read_all over {store.last_position()} events, and a plain SELECT")
    read_rate, select_rate, read_vs_select = reads(db)
    db.dispose()
    return {
        "backend": name,
        "dispatch_per_s": round(statistics.median(rates["dispatch"])),
        "floor_per_s": round(statistics.median(rates["floor"])),
        "dispatch_vs_floor": round(ratio(rates["floor"]), 3),
        "driver_floor_per_s": round(statistics.median(rates["driver_floor"])),
        "dispatch_vs_driver_floor": round(ratio(rates["driver_floor"]), 3),
        "concurrent_dispatch_per_s": round(concurrent),
        "read_all_per_s": round(read_rate),
        "select_per_s": round(select_rate),
        "read_all_vs_select": round(read_vs_select, 3),
        "rehydrate_ms_1000": round(rehydrate_ms, 3),
        "rehydrate_snapshot_ms_1000": round(snapshot_ms, 3),
    }


def main() -> None:
    args_parser = parser(__doc__)
    args_parser.add_argument("--n", type=int, default=6000,
                             help="commands (and floor inserts) in all, over 20 rounds")
    args = args_parser.parse_args()
    report([run(name, url, args.n) for name, url in backends(args.postgres)],
           as_json=args.json)


if __name__ == "__main__":
    main()
