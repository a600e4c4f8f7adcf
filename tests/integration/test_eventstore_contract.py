"""The contract every event store passes: memory, SQLite and PostgreSQL alike."""

from __future__ import annotations

import enum
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from core.errors import ConcurrencyError, LeaseLost, UnknownEventType
from core.eventstore import EventMetadata, EventStore, NewEvent, RecordedEvent, Snapshot, recent
from core.eventstore.database import Database
from core.eventstore.memory import MemoryEventStore
from core.eventstore.sql import SqlEventStore
from core.messages import MessageRegistry
from core.migrations import upgrade
from tests.support.databases import backends, make_database_url
from tests.support.tally import AddToTally, TallyAdded, TallyOpened, tally_registry


class Colour(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True, kw_only=True, slots=True)
class Shirt:
    colour: Colour
    number: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class KitIssued:
    team_id: str
    issued_at: datetime
    on: date
    shirts: tuple[Shirt, ...]
    sizes: dict[str, int]
    note: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Renamed:
    """Version 2 of an event whose v1 stored ``name`` instead of ``first`` and ``last``."""

    first: str
    last: str


def _split_name(data: dict[str, object]) -> dict[str, object]:
    first, _, last = str(data.pop("name")).partition(" ")
    return {**data, "first": first, "last": last}


def registry() -> MessageRegistry:
    reg = tally_registry()
    reg.register(KitIssued)
    reg.register(Renamed, version=2, upcasters={1: _split_name})
    return reg


@pytest.fixture(params=["memory", *backends()])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    if request.param == "memory":
        yield MemoryEventStore(registry())
        return
    for url in make_database_url(request.param, request, tmp_path):
        db = Database(url)
        upgrade(db)
        yield SqlEventStore(db, registry())
        db.dispose()


def meta(n: int = 0) -> EventMetadata:
    return EventMetadata(event_id=uuid.uuid4().hex, command_id=f"c{n}", causation_id=f"c{n}",
                         correlation_id="corr", actor="test",
                         recorded_at=datetime(2026, 11, 28, 12, 0, n, tzinfo=UTC))


def added(tally: str, amount: int, total: int) -> NewEvent:
    return NewEvent(TallyAdded(tally_id=tally, amount=amount, total=total), meta(amount % 60))


def test_append_assigns_versions_and_increasing_positions(store: EventStore) -> None:
    first = store.append("tally-a", [added("a", 1, 1), added("a", 2, 3)], expected_version=0)
    second = store.append("tally-b", [added("b", 5, 5)], expected_version=0)
    third = store.append("tally-a", [added("a", 3, 6)], expected_version=2)
    assert [r.version for r in first] == [1, 2]
    assert [r.version for r in third] == [3]
    positions = [r.position for r in (*first, *second, *third)]
    assert positions == sorted(positions) and len(set(positions)) == 4
    assert store.last_position() == positions[-1]
    assert [r.event.amount for r in store.read_stream("tally-a")] == [1, 2, 3]
    assert [r.event.amount for r in store.read_stream("tally-a", after_version=2)] == [3]


def test_read_events_gives_a_streams_events_after_a_version(store: EventStore) -> None:
    store.append("tally-a", [added("a", 1, 1), added("a", 2, 3)], expected_version=0)
    store.append("tally-b", [added("b", 5, 5)], expected_version=0)
    store.append("tally-a", [added("a", 3, 6)], expected_version=2)
    assert [e.total for e in store.read_events("tally-a")] == [1, 3, 6]
    assert [e.total for e in store.read_events("tally-a", after_version=1)] == [3, 6]
    assert store.read_events("tally-a", after_version=3) == []
    assert store.read_events("tally-none") == []
    assert store.read_events("tally-b") == [r.event for r in store.read_stream("tally-b")]


def test_stale_expected_version_is_refused_and_writes_nothing(store: EventStore) -> None:
    store.append("tally-a", [added("a", 1, 1)], expected_version=0)
    with pytest.raises(ConcurrencyError):
        store.append("tally-a", [added("a", 2, 3), added("a", 3, 6)], expected_version=0)
    with pytest.raises(ConcurrencyError):  # ahead of the stream is stale too
        store.append("tally-a", [added("a", 2, 3)], expected_version=5)
    assert [r.event.amount for r in store.read_stream("tally-a")] == [1]
    assert len(store.read_all()) == 1


def test_a_command_key_seen_before_appends_nothing(store: EventStore) -> None:
    assert store.append("tally-a", [added("a", 1, 1)], expected_version=0, command_key="k1")
    assert store.append("tally-a", [added("a", 1, 2)], expected_version=1,
                        command_key="k1") == []
    assert len(store.read_stream("tally-a")) == 1


def test_unknown_event_types_are_refused_before_anything_is_written(store: EventStore) -> None:
    @dataclass(frozen=True)
    class Stray:
        x: int

    with pytest.raises(UnknownEventType):
        store.append("tally-a", [added("a", 1, 1), NewEvent(Stray(x=1), meta())],
                     expected_version=0)
    assert store.read_all() == []


def test_read_all_pages_in_global_order(store: EventStore) -> None:
    for i in range(1, 8):
        store.append(f"tally-{i}", [added(str(i), i, i)], expected_version=0)
    page1 = store.read_all(after=0, limit=3)
    page2 = store.read_all(after=page1[-1].position, limit=3)
    page3 = store.read_all(after=page2[-1].position, limit=3)
    assert [r.event.amount for r in (*page1, *page2, *page3)] == list(range(1, 8))
    assert store.read_all(after=page3[-1].position) == []


def test_round_trip_of_datetimes_enums_tuples_and_nested_dataclasses(store: EventStore) -> None:
    event = KitIssued(team_id="t1", issued_at=datetime(2026, 12, 5, 19, 0, tzinfo=UTC),
                      on=date(2026, 12, 5),
                      shirts=(Shirt(colour=Colour.RED, number=7), Shirt(colour=Colour.BLUE)),
                      sizes={"M": 3, "L": 1}, note="wash first")
    metadata = meta(3)
    store.append("kit-1", [NewEvent(event, metadata)], expected_version=0)
    [read] = store.read_stream("kit-1")
    assert read.event == event
    assert read.event.issued_at.tzinfo is not None
    assert read.metadata == metadata


def test_metadata_keeps_any_actor_text_exactly(store: EventStore) -> None:
    metadata = meta(1)._replace(actor='slack:T1:U2 "Zoë" \\ \n \u2028 \t')
    opened = TallyOpened(tally_id="m", opened_at=datetime(2026, 11, 28, tzinfo=UTC))
    store.append("tally-m", [NewEvent(opened, metadata)], expected_version=0)
    [read] = store.read_stream("tally-m")
    assert read.metadata == metadata


def test_old_shapes_are_upcast_on_read(store: EventStore) -> None:
    store.append("person-1", [NewEvent(Renamed(first="Ada", last="Lovelace"), meta())],
                 expected_version=0)
    if isinstance(store, SqlEventStore):  # write a v1 row as an older release would have
        with store.db.write() as conn:
            conn.exec_driver_sql(
                "UPDATE events SET schema_version = 1, data = "
                + ("'{\"name\": \"Grace Hopper\"}'" if store.db.is_sqlite else
                   "'{\"name\": \"Grace Hopper\"}'::jsonb"))
        [read] = store.read_stream("person-1")
        assert read.event == Renamed(first="Grace", last="Hopper")
        assert store.read_events("person-1") == [Renamed(first="Grace", last="Hopper")]
    else:
        entry = store.registry.named("Renamed")
        assert entry.load({"name": "Grace Hopper"}, 1) == Renamed(first="Grace", last="Hopper")


def test_snapshots_keep_the_newest(store: EventStore) -> None:
    assert store.load_snapshot("tally-a") is None
    store.save_snapshot(Snapshot("tally-a", 10, {"total": 10}, 1))
    store.save_snapshot(Snapshot("tally-a", 5, {"total": 5}, 1))  # older: ignored
    assert store.load_snapshot("tally-a") == Snapshot("tally-a", 10, {"total": 10}, 1)
    store.save_snapshot(Snapshot("tally-a", 20, {"total": 20}, 2))
    assert store.load_snapshot("tally-a") == Snapshot("tally-a", 20, {"total": 20}, 2)


def test_an_aggregate_loads_from_its_snapshot_of_the_current_shape(store: EventStore) -> None:
    assert store.read_aggregate("tally-a", state_version=1) == (None, [])
    store.append("tally-a", [added("a", i, i) for i in range(1, 5)], expected_version=0)
    every = store.read_events("tally-a")
    assert store.read_aggregate("tally-a", state_version=1) == (None, every)
    snapshot = Snapshot("tally-a", 3, {"total": 6, "note": "été"}, 1)
    store.save_snapshot(snapshot)
    assert store.read_aggregate("tally-a", state_version=1) == (snapshot, every[3:])
    store.append("tally-a", [added("a", 5, 5)], expected_version=4)
    assert store.read_aggregate("tally-a", state_version=1) == (
        snapshot, store.read_events("tally-a", after_version=3))
    # A snapshot of another shape of the state is no use: every event instead.
    assert store.read_aggregate("tally-a", state_version=2) == (
        None, store.read_events("tally-a"))
    store.save_snapshot(Snapshot("tally-a", 5, {"total": 15}, 1))  # as new as the stream
    assert store.read_aggregate("tally-a", state_version=1) == (
        Snapshot("tally-a", 5, {"total": 15}, 1), [])


def test_leases_fence_off_a_replaced_holder(store: EventStore) -> None:
    first = store.acquire_lease("board", owner="p1", now=100.0, ttl=10.0)
    assert first is not None
    assert store.acquire_lease("board", owner="p2", now=105.0, ttl=10.0) is None
    renewed = store.acquire_lease("board", owner="p1", now=106.0, ttl=10.0)
    assert renewed is not None and renewed.epoch == first.epoch
    with store.handler_transaction(first) as tx:
        tx.advance(3)
    assert store.checkpoint("board") == 3
    # p1 stalls past its lease; p2 takes over and starts from the durable checkpoint.
    second = store.acquire_lease("board", owner="p2", now=120.0, ttl=10.0)
    assert second is not None and second.epoch > first.epoch and second.position == 3
    with pytest.raises(LeaseLost), store.handler_transaction(first) as tx:
        tx.save_state("k", {"stale": True})
        tx.advance(9)
    assert store.checkpoint("board") == 3
    with store.handler_transaction(second) as tx:
        assert tx.load_state("k") is None
    store.release_lease(second)
    assert store.acquire_lease("board", owner="p1", now=121.0, ttl=10.0) is not None


def test_a_heartbeat_renews_only_the_leases_its_owner_still_holds(store: EventStore) -> None:
    board = store.acquire_lease("board", owner="p1", now=100.0, ttl=6.0)
    roster = store.acquire_lease("roster", owner="p1", now=100.0, ttl=6.0)
    gateway = store.acquire_lease("gateway", owner="p1", now=100.0, ttl=60.0)
    assert board is not None and roster is not None and gateway is not None
    # Renewed while p1 lives: still p1's after the first expiry would have come.
    assert store.renew_leases(["board", "roster"], owner="p1", now=104.0, ttl=6.0) == {
        "board": board.epoch, "roster": roster.epoch}
    assert store.acquire_lease("board", owner="p2", now=108.0, ttl=6.0) is None
    # p1 stalls; p2 takes the board over; p1's next beat renews only what it still holds.
    taken = store.acquire_lease("board", owner="p2", now=111.0, ttl=6.0)
    assert taken is not None and taken.epoch > board.epoch
    assert store.renew_leases(["board", "roster"], owner="p1", now=112.0, ttl=6.0) == {
        "roster": roster.epoch}
    with pytest.raises(LeaseLost), store.handler_transaction(board) as tx:
        tx.advance(1)  # the stale holder's write is refused
    # Leases not named (another kind, with its own ttl) are left as they were.
    assert store.acquire_lease("gateway", owner="p2", now=150.0, ttl=6.0) is None
    assert store.lease_holders(["board", "roster", "gateway", "none"]) == {
        "board": "p2", "roster": "p1", "gateway": "p1"}


def test_a_lease_of_an_owner_known_dead_is_taken_at_once(store: EventStore) -> None:
    old = store.acquire_lease("board", owner="host/1/41/aaaa", now=100.0, ttl=60.0)
    assert old is not None
    assert store.acquire_lease("board", owner="host/1/42/bbbb", now=101.0, ttl=60.0,
                               replacing={"host/1/7/cccc"}) is None
    new = store.acquire_lease("board", owner="host/1/42/bbbb", now=101.0, ttl=60.0,
                              replacing={"host/1/41/aaaa"})
    assert new is not None and new.epoch > old.epoch
    with pytest.raises(LeaseLost), store.handler_transaction(old) as tx:
        tx.advance(1)


def test_handler_state_outbox_and_parking_commit_with_the_checkpoint(store: EventStore) -> None:
    [recorded] = store.append("tally-a", [NewEvent(TallyOpened(
        tally_id="a", opened_at=datetime(2026, 11, 28, tzinfo=UTC)), meta())],
        expected_version=0)
    lease = store.acquire_lease("pm", owner="p1", now=0.0, ttl=60.0)
    assert lease is not None
    with pytest.raises(RuntimeError), store.handler_transaction(lease) as tx:
        tx.save_state("a", {"step": 1})
        tx.enqueue(AddToTally(tally_id="a", amount=1), command_id="cmd-1",
                   correlation_id="corr", causation_id="cause")
        tx.advance(recorded.position)
        raise RuntimeError("crash before commit")
    assert store.checkpoint("pm") == 0 and store.pending_commands("pm") == []
    with store.handler_transaction(lease) as tx:
        tx.save_state("a", {"step": 1})
        tx.enqueue(AddToTally(tally_id="a", amount=1), command_id="cmd-1",
                   correlation_id="corr", causation_id="cause")
        tx.enqueue(AddToTally(tally_id="a", amount=1), command_id="cmd-1",
                   correlation_id="corr", causation_id="cause")  # same id: once
        tx.park(recorded, "Traceback: boom")
        tx.advance(recorded.position)
    assert store.checkpoint("pm") == recorded.position
    [pending] = store.pending_commands("pm")
    assert pending.command == AddToTally(tally_id="a", amount=1)
    assert pending.command_id == "cmd-1"
    store.mark_sent("pm", "cmd-1")
    assert store.pending_commands("pm") == []
    [parked] = store.parked("pm")
    assert parked.position == recorded.position and "boom" in parked.error
    assert parked.type_name == "TallyOpened"
    with store.handler_transaction(lease) as tx:
        assert tx.load_state("a") == {"step": 1}
        tx.save_state("a", None)
    with store.handler_transaction(lease) as tx:
        assert tx.load_state("a") is None


def test_listeners_hear_appends_in_this_process(store: EventStore) -> None:
    heard: list[list[RecordedEvent]] = []
    unsubscribe = store.subscribe(lambda recorded: heard.append(list(recorded)))
    recorded = store.append("tally-a", [added("a", 1, 1), added("a", 2, 3)],
                           expected_version=0)
    unsubscribe()
    store.append("tally-a", [added("a", 3, 6)], expected_version=2)
    assert heard == [recorded]


def test_a_large_append_is_atomic_and_in_order(store: EventStore) -> None:
    """Opening a check for a big team appends over a thousand events at once."""
    events = [added("big", i, i) for i in range(1, 1201)]
    recorded = store.append("tally-big", events, expected_version=0)
    assert [r.version for r in recorded] == list(range(1, 1201))
    assert [r.position for r in recorded] == list(range(1, 1201))
    stored = store.read_stream("tally-big")
    assert [r.event.amount for r in stored] == list(range(1, 1201))
    # The positions the database gave rise with the versions, as the append reported them.
    assert [r.position for r in stored] == [r.position for r in recorded]
    with pytest.raises(ConcurrencyError):
        store.append("tally-big", events, expected_version=5)
    assert len(store.read_all(limit=5000)) == 1200


def test_reads_of_this_process_appends_come_from_memory_and_match_the_database(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The store keeps its own latest appends for its handlers; reads it serves from
    memory give what the database holds, whoever appended, however long ago."""
    monkeypatch.setattr(recent, "SIZE", 8)  # the ring wraps after 8 events
    here, elsewhere = SqlEventStore(db, registry()), SqlEventStore(db, registry())
    mine: list[int] = []
    for i in range(1, 13):  # this process's appends, with another process's in between
        mine += [r.position for r in here.append("tally-a", [added("a", i, i)],
                                                 expected_version=i - 1)]
        if i % 3 == 0:
            elsewhere.append(f"tally-b{i}", [added("b", i, i)], expected_version=0)
    everything = SqlEventStore(db, registry()).read_all(limit=100)  # from the database
    assert len(everything) == 16
    # A page may stop short where memory has a gap (the next read goes to the database), but
    # never skips, reorders or makes up an event, and is empty only at the end.
    for after in range(17):
        for limit in (1, 3, 100):
            page = here.read_all(after=after, limit=limit)
            assert page == everything[after:after + len(page)]
            assert len(page) <= limit and bool(page) == (after < 16)
    paged, after = [], 0
    while page := here.read_all(after=after, limit=5):
        paged += page
        after = page[-1].position
    assert paged == everything
    # Memory holds the last 8 positions of the log, those this process appended.
    assert [p for p in mine if here.appended_here(p)] == [p for p in mine if p > 16 - 8]
    assert not any(here.appended_here(r.position) for r in everything
                   if r.stream_id.startswith("tally-b"))
    assert here.read_all(after=mine[-1], local=True) == []


def test_a_notice_that_beats_its_own_append_is_still_known_as_ours(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL may deliver an append's notification before the appending thread has put
    the events in memory: asked with a wait, the store waits for its own append to land
    rather than taking it for another process's (which would wake every handler)."""
    here = SqlEventStore(db, registry())
    committed, go_on = threading.Event(), threading.Event()
    appender = here._appender
    real_append = appender.append

    def committed_then_slow(*args: Any, **kwargs: Any) -> int | None:
        position = real_append(*args, **kwargs)
        committed.set()
        go_on.wait(10)
        return position

    monkeypatch.setattr(appender, "append", committed_then_slow)
    worker = threading.Thread(target=here.append,
                              args=("tally-a", [added("a", 1, 1)]),
                              kwargs={"expected_version": 0})
    worker.start()
    assert committed.wait(10)
    position = here.last_position()
    assert not here.appended_here(position)  # not in memory yet
    threading.Timer(0.2, go_on.set).start()
    assert here.appended_here(position, wait=10)  # it lands: ours
    worker.join(10)
    elsewhere = SqlEventStore(db, registry()).append("tally-b", [added("b", 1, 1)],
                                                     expected_version=0)
    assert not here.appended_here(elsewhere[0].position, wait=0.1)  # another process's


def test_read_model_commits_skip_only_the_wait_for_the_disk(db: Database) -> None:
    """Handlers whose writes the log can rebuild commit without waiting for the WAL flush
    on PostgreSQL; what they commit is there for every reader all the same."""
    store = SqlEventStore(db, tally_registry())
    lease = store.acquire_lease("board", owner="me", now=1.0, ttl=30)
    assert lease is not None
    with store.handler_transaction(lease, durable=False) as tx:
        tx.save_state("k", {"v": 1})
        tx.advance(7)
        if not db.is_sqlite:
            setting = tx.connection.exec_driver_sql("SHOW synchronous_commit").scalar()
            assert setting == "off"
    assert store.checkpoint("board") == 7
    with store.handler_transaction(lease) as tx:
        assert tx.load_state("k") == {"v": 1}
        if not db.is_sqlite:
            assert tx.connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
