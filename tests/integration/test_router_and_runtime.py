"""The router and the handler runtime, on every backend."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.errors import DomainError, Refusal
from core.eventstore import EventStore, HandlerTransaction, RecordedEvent, Snapshot
from core.eventstore.database import Database
from core.eventstore.memory import MemoryEventStore
from core.eventstore.sql import SqlEventStore
from core.leases import LEASE_TTL
from core.migrations import upgrade
from core.router import Router
from core.runtime import HandlerRuntime, RetryPolicy, derived_command_id
from tests.support.clock import FakeClock
from tests.support.databases import backends, make_database_url
from tests.support.tally import (
    TALLY,
    AddToTally,
    OpenTally,
    TallyAdded,
    TallyOpened,
    TotalsInState,
    tally_registry,
)

FAST_RETRY = RetryPolicy(delays=(0.0, 0.0))


@pytest.fixture(params=["memory", *backends()])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    if request.param == "memory":
        yield MemoryEventStore(tally_registry())
        return
    for url in make_database_url(request.param, request, tmp_path):
        db = Database(url)
        upgrade(db)
        yield SqlEventStore(db, tally_registry())
        db.dispose()


def totals(store: EventStore, handler: TotalsInState, tally: str) -> dict[str, object] | None:
    lease = store.acquire_lease(handler.name, owner="reader", now=1e12, ttl=1)
    assert lease is not None
    with store.handler_transaction(lease) as tx:
        return tx.load_state(tally)


def test_dispatch_stamps_metadata_and_returns_positions(store: EventStore,
                                                        clock: FakeClock) -> None:
    router = Router(store, [TALLY], clock=clock)
    opened = router.dispatch(OpenTally(tally_id="a"), actor="console:ada",
                             correlation_id="corr-1")
    result = router.dispatch(AddToTally(tally_id="a", amount=2), actor="console:ada")
    [recorded] = result.events
    assert result.position == recorded.position > opened.position
    assert recorded.event == TallyAdded(tally_id="a", amount=2, total=2)
    assert recorded.metadata.actor == "console:ada"
    assert recorded.metadata.recorded_at == clock.now
    assert opened.events[0].metadata.correlation_id == "corr-1"
    assert result.events[0].metadata.causation_id == result.events[0].metadata.command_id


def test_refusals_and_no_ops_record_nothing(store: EventStore, clock: FakeClock) -> None:
    router = Router(store, [TALLY], clock=clock)
    with pytest.raises(DomainError) as refused:
        router.dispatch(AddToTally(tally_id="a", amount=1), actor="t")
    assert refused.value.code is Refusal.CHECK_NOT_OPEN
    router.dispatch(OpenTally(tally_id="a"), actor="t")
    assert not router.dispatch(OpenTally(tally_id="a"), actor="t").changed
    assert len(store.read_all()) == 1


def test_a_stale_cache_is_caught_by_the_version_and_retried(store: EventStore,
                                                            clock: FakeClock) -> None:
    mine, theirs = Router(store, [TALLY], clock=clock), Router(store, [TALLY], clock=clock)
    mine.dispatch(OpenTally(tally_id="a"), actor="t")
    mine.dispatch(AddToTally(tally_id="a", amount=1), actor="t")  # cached at version 2
    theirs.dispatch(AddToTally(tally_id="a", amount=10), actor="t")  # another process
    result = mine.dispatch(AddToTally(tally_id="a", amount=100), actor="t")
    assert result.events[0].event.total == 111
    assert result.events[0].version == 4


def test_deduplicated_commands_apply_once(store: EventStore, clock: FakeClock) -> None:
    router = Router(store, [TALLY], clock=clock)
    router.dispatch(OpenTally(tally_id="a"), actor="t")
    for _ in range(3):
        router.dispatch(AddToTally(tally_id="a", amount=5), actor="t", command_id="same",
                        dedupe=True)
    assert router.state_of(TALLY, "a")[1].total == 5


def test_snapshots_are_taken_and_used(store: EventStore, clock: FakeClock) -> None:
    router = Router(store, [TALLY], clock=clock, snapshot_every=10)
    router.dispatch(OpenTally(tally_id="a"), actor="t")
    for i in range(25):
        router.dispatch(AddToTally(tally_id="a", amount=i), actor="t")
    snapshot = store.load_snapshot("tally-a")
    assert snapshot is not None and snapshot.version == 20
    cold = Router(store, [TALLY], clock=clock)
    version, state = cold.state_of(TALLY, "a")
    assert version == 26 and state.total == sum(range(25))
    assert state.history == tuple(range(20, 25))


def test_a_cold_load_starts_from_a_snapshot_only_of_the_current_state_shape(
        store: EventStore, clock: FakeClock) -> None:
    router = Router(store, [TALLY], clock=clock, snapshot_every=10)
    router.dispatch(OpenTally(tally_id="a"), actor="t")
    for _ in range(11):
        router.dispatch(AddToTally(tally_id="a", amount=1), actor="t")
    # A snapshot that disagrees with the events shows which one a cold load started from.
    store.save_snapshot(Snapshot("tally-a", 10, {"opened": True, "total": 100,
                                                 "history": [7]}, TALLY.state_version))
    version, state = Router(store, [TALLY], clock=clock).state_of(TALLY, "a")
    assert (version, state.history) == (12, (7, 1, 1))
    reshaped = dataclasses.replace(TALLY, state_version=TALLY.state_version + 1)
    version, state = Router(store, [reshaped], clock=clock).state_of(reshaped, "a")
    assert (version, state.history) == (12, (1, 1, 1, 1, 1))


def test_runtime_follows_the_log_and_resumes_from_its_checkpoint(store: EventStore,
                                                                 clock: FakeClock) -> None:
    router = Router(store, [TALLY], clock=clock)
    router.dispatch(OpenTally(tally_id="a"), actor="t")
    router.dispatch(AddToTally(tally_id="a", amount=1), actor="t")
    handler = TotalsInState()
    runtime = HandlerRuntime(store, router, [handler], retry=FAST_RETRY)
    runtime.run_until_idle()
    runtime.stop()
    router.dispatch(AddToTally(tally_id="a", amount=2), actor="t")
    # A new process: it must continue after the checkpoint, not re-apply the first event.
    again = HandlerRuntime(store, router, [handler], retry=FAST_RETRY)
    again.run_until_idle()
    state = totals(store, handler, "a")
    assert state is not None and state["sum"] == 3
    seen = list(state["seen"])  # type: ignore[call-overload]
    assert seen == sorted(set(seen))  # nothing applied twice


@pytest.mark.parametrize("at_once", [False, True], ids=["one_by_one", "batch_at_once"])
def test_a_failing_event_is_retried_then_parked_and_the_rest_flows_on(
        store: EventStore, clock: FakeClock, caplog: pytest.LogCaptureFixture,
        at_once: bool) -> None:
    router = Router(store, [TALLY], clock=clock)
    router.dispatch(OpenTally(tally_id="a"), actor="t")
    for amount in (1, 13, 2):
        router.dispatch(AddToTally(tally_id="a", amount=amount), actor="t")
    handler = (GatheredTotals(gather=0.0, fail_on=13) if at_once
               else TotalsInState(fail_on=13))
    runtime = HandlerRuntime(store, router, [handler], retry=FAST_RETRY)
    with caplog.at_level(logging.ERROR):
        runtime.run_until_idle()
    if isinstance(handler, GatheredTotals):  # tried whole, then one event at a time
        assert handler.batches == [[1, 13, 2]]
    state = totals(store, handler, "a")
    assert state is not None and state["sum"] == 3  # 1 and 2, not 13
    [parked] = store.parked(handler.name)
    assert "cannot count 13" in parked.error
    assert any("parked" in r.message for r in caplog.records)
    assert store.checkpoint(handler.name) == store.last_position()


class Doubler:
    """A process manager: each opened tally gets one AddToTally(2) through the outbox."""

    name = "doubler"
    events = frozenset({TallyOpened})
    sends_commands = True

    def handle(self, tx: HandlerTransaction, recorded: RecordedEvent) -> None:
        tx.save_state(recorded.event.tally_id, {"asked": True})
        tx.enqueue(AddToTally(tally_id=recorded.event.tally_id, amount=2),
                   command_id=derived_command_id(recorded),
                   correlation_id=recorded.metadata.correlation_id,
                   causation_id=recorded.metadata.event_id)


def test_process_manager_commands_are_sent_once_even_if_resent(store: EventStore,
                                                              clock: FakeClock) -> None:
    router = Router(store, [TALLY], clock=clock)
    opened = router.dispatch(OpenTally(tally_id="a"), actor="t", correlation_id="story")
    runtime = HandlerRuntime(store, router, [Doubler()], retry=FAST_RETRY)
    runtime.run_until_idle()
    # A crash after sending but before marking sent: the same command goes out again.
    [recorded] = opened.events
    router.dispatch(AddToTally(tally_id="a", amount=2), actor="process:doubler",
                    command_id=derived_command_id(recorded), dedupe=True)
    events = store.read_stream("tally-a")
    assert [type(r.event) for r in events] == [TallyOpened, TallyAdded]
    assert events[1].metadata.correlation_id == "story"
    assert events[1].metadata.causation_id == recorded.metadata.event_id


@pytest.mark.parametrize("gathering", [False, True], ids=["plain", "gathering"])
def test_wait_for_returns_once_the_handler_has_the_position(store: EventStore,
                                                           clock: FakeClock,
                                                           gathering: bool) -> None:
    """A handler that gathers bursts (for a minute here) is not let gather while a request
    waits for it."""
    router = Router(store, [TALLY], clock=clock)
    handler = GatheredTotals(gather=60.0) if gathering else TotalsInState()
    runtime = HandlerRuntime(store, router, [handler], poll_interval=60.0)
    runtime.start()
    try:
        router.dispatch(OpenTally(tally_id="a"), actor="t")
        result = router.dispatch(AddToTally(tally_id="a", amount=4), actor="t")
        assert runtime.wait_for(result.position, [handler.name], timeout=10)
        assert runtime.position_of(handler.name) >= result.position
    finally:
        runtime.stop()
    state = totals(store, handler, "a")
    assert state is not None and state["sum"] == 4


def test_waiting_on_another_process_ignores_events_its_handler_skips(
        store: EventStore, clock: FakeClock) -> None:
    """`attend say` next to a running server waits for the server's read models; a handler
    there moves its durable checkpoint only when it writes, so an event it skips must not
    keep the waiter waiting."""
    router = Router(store, [TALLY], clock=clock)
    server = HandlerRuntime(store, router, [TotalsInState()], poll_interval=0.05)
    server.start()
    console = HandlerRuntime(store, router, [TotalsInState()])
    try:
        added = router.dispatch(OpenTally(tally_id="a"), actor="t")
        router.dispatch(AddToTally(tally_id="a", amount=1), actor="t")
        assert console.wait_for(store.last_position(), ["totals"], timeout=5)
        skipped = router.dispatch(OpenTally(tally_id="b"), actor="t")  # totals skips it
        assert skipped.position > added.position
        assert console.wait_for(skipped.position, ["totals"], timeout=5)
        assert not console.run_until_idle()  # the server holds the handler
    finally:
        server.stop()


class OpenedTallies:
    """Counts opened tallies; takes no interest in additions."""

    name = "opened"
    events = frozenset({TallyOpened})

    def handle(self, tx: HandlerTransaction, recorded: RecordedEvent) -> None:
        state = tx.load_state("all") or {"count": 0}
        tx.save_state("all", {"count": state["count"] + 1})


def test_an_append_wakes_the_handlers_that_want_it_and_waiting_wakes_the_rest(
        store: EventStore, clock: FakeClock) -> None:
    """Handlers poll once a minute here: only a wake-up gets them going in time."""
    router = Router(store, [TALLY], clock=clock)
    runtime = HandlerRuntime(store, router, [TotalsInState(), OpenedTallies()],
                             poll_interval=60.0)
    runtime.start()
    try:
        router.dispatch(OpenTally(tally_id="a"), actor="t")
        added = router.dispatch(AddToTally(tally_id="a", amount=4), actor="t")
        assert runtime.wait_for(added.position, ["totals"], timeout=10)
        # "opened" has no interest in the addition, so nothing woke it for that; asking
        # for it makes it skip ahead rather than wait for its poll.
        assert runtime.wait_for(added.position, ["opened"], timeout=10)
        assert runtime.position_of("opened") >= added.position
    finally:
        runtime.stop()


def test_generations_change_exactly_when_a_handler_may_have_written(
        store: EventStore, clock: FakeClock) -> None:
    router = Router(store, [TALLY], clock=clock)
    runtime = HandlerRuntime(store, router, [TotalsInState(), OpenedTallies()])
    assert runtime.generation("totals") is None  # not running it yet: only the db knows
    router.dispatch(OpenTally(tally_id="a"), actor="t")
    runtime.run_until_idle()
    totals_before, opened_before = runtime.generation("totals"), runtime.generation("opened")
    assert totals_before is not None and opened_before is not None
    router.dispatch(AddToTally(tally_id="a", amount=1), actor="t")
    runtime.run_until_idle()
    assert runtime.generation("totals") != totals_before  # it wrote
    assert runtime.generation("opened") == opened_before  # it only skipped
    assert runtime.generation("nobody") is None
    runtime.stop()
    assert runtime.generation("totals") is None  # released: another process may take it


class SlowTotals(TotalsInState):
    """Totals that take ``pause`` seconds over the event of amount ``slow_on``."""

    def __init__(self, pause: float, slow_on: int) -> None:
        super().__init__()
        self.pause, self.slow_on = pause, slow_on

    def handle(self, tx: HandlerTransaction, recorded: RecordedEvent) -> None:
        if recorded.event.amount == self.slow_on:
            time.sleep(self.pause)
        super().handle(tx, recorded)


def test_a_live_holder_keeps_its_lease_through_a_batch_longer_than_the_lease(
        store: EventStore, clock: FakeClock) -> None:
    """The heartbeat renews the lease while the batch runs: the other runtime never gets
    the handler, and the long batch commits (no LeaseLost, nothing handled twice).

    Not on SQLite: its one writer is the batch, so the heartbeat's renewal waits for the
    batch to commit and may lose the race to the other runtime (fencing then refuses the
    old holder, as tested elsewhere). SQLite runs one server at a time anyway."""
    if isinstance(store, SqlEventStore) and store.db.is_sqlite:
        pytest.skip("SQLite has one writer: a batch holds off the heartbeat's renewal")
    router = Router(store, [TALLY], clock=clock)
    slow, other = SlowTotals(pause=2.0, slow_on=2), TotalsInState()
    first = HandlerRuntime(store, router, [slow], poll_interval=0.05, lease_ttl=0.6)
    second = HandlerRuntime(store, router, [other], poll_interval=0.05, lease_ttl=0.6)
    first.start()
    try:
        router.dispatch(OpenTally(tally_id="a"), actor="t")
        deadline = time.monotonic() + 30
        while not first.runs_here("totals"):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        second.start()
        added = [router.dispatch(AddToTally(tally_id="a", amount=n), actor="t").position
                 for n in range(1, 4)]
        assert first.wait_for(added[-1], ["totals"], timeout=60)
    finally:
        first.stop()
        second.stop()
    assert other.calls == 0
    state = totals(store, slow, "a")
    assert state is not None and state["sum"] == 6 and state["seen"] == added


def test_a_runtime_without_the_lease_asks_for_it_once_a_retry_however_often_woken(
        store: EventStore, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process holds the handler: appends (each a wake-up) must not make this one
    ask the database for the lease each time. Asking at every append took a share of the
    CPU that a second server needed for its deliveries, and blocked on the holder's row."""
    asked: list[str] = []
    acquire = store.acquire_lease

    def counted(handler: str, **options: Any) -> Any:
        if options["owner"] == "second":
            asked.append(handler)
        return acquire(handler, **options)

    monkeypatch.setattr(store, "acquire_lease", counted)
    router = Router(store, [TALLY], clock=clock)
    first = HandlerRuntime(store, router, [TotalsInState()], poll_interval=0.05, owner="first")
    second = HandlerRuntime(store, router, [TotalsInState()], poll_interval=0.05,
                            owner="second")
    first.start()
    try:
        router.dispatch(OpenTally(tally_id="a"), actor="t")
        assert first.wait_for(router.dispatch(AddToTally(tally_id="a", amount=0),
                                              actor="t").position, ["totals"], timeout=30)
        second.start()
        started = time.monotonic()
        for n in range(1, 101):
            router.dispatch(AddToTally(tally_id="a", amount=n), actor="t")
            second.wake()
            time.sleep(0.01)
        waited = time.monotonic() - started
    finally:
        second.stop()
        first.stop()
    assert not second.runs_here("totals")
    assert 1 <= len(asked) <= 2 + waited / min(LEASE_TTL / 3, 1.0), (len(asked), waited)


class GatheredTotals(TotalsInState):
    """Totals that let a burst gather and take a batch in one call."""

    name = "gathered"

    def __init__(self, gather: float, fail_on: int | None = None) -> None:
        super().__init__(fail_on=fail_on)
        self.gather = gather
        self.batches: list[list[int]] = []

    def handle_all(self, tx: HandlerTransaction, batch: list[RecordedEvent]) -> None:
        self.batches.append([r.event.amount for r in batch])
        for recorded in batch:
            self.handle(tx, recorded)


def test_a_gathering_handler_takes_a_burst_in_one_batch(store: EventStore,
                                                        clock: FakeClock) -> None:
    router = Router(store, [TALLY], clock=clock)
    handler = GatheredTotals(gather=2.0)
    runtime = HandlerRuntime(store, router, [handler], poll_interval=60.0)
    runtime.start()
    try:
        opened = router.dispatch(OpenTally(tally_id="a"), actor="t")
        assert runtime.wait_for(opened.position, ["gathered"], timeout=10)  # started, idle
        for amount in (1, 2, 3, 4):  # well within the two seconds it gathers for
            last = router.dispatch(AddToTally(tally_id="a", amount=amount), actor="t")
            time.sleep(0.05)  # time enough to step between them, were it not gathering
        deadline = time.monotonic() + 20
        while runtime.position_of("gathered") < last.position and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        runtime.stop()
    assert handler.batches == [[1, 2, 3, 4]]  # only the additions, in order, in one call
    state = totals(store, handler, "a")
    assert state is not None and state["sum"] == 10
