"""Handler leases belong to a live process: when it dies, its handlers move on PostgreSQL.

Real processes, killed with SIGKILL (nothing released, nothing flushed): another process
takes the handler over once the short lease lapses, and a process restarted on the same
machine takes it back at once. The dead holder's writes stay refused.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from core.errors import LeaseLost
from core.eventstore import Lease
from core.eventstore.database import Database
from core.eventstore.sql import SqlEventStore
from core.router import Router
from core.runtime import HandlerRuntime
from tests.support.clock import FakeClock
from tests.support.tally import TALLY, AddToTally, OpenTally, TotalsInState, tally_registry

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]


class Holder:
    """``tests/support/lease_process.py`` running in a process of its own."""

    def __init__(self, url: str, ttl: float) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.lease_process", url, str(ttl)], cwd=ROOT,
            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.owner = ""

    def holding(self, timeout: float = 60.0) -> str:
        """Its owner name, once it holds the lease."""
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        assert ready, "the process never took the handler's lease"
        self.owner = self.process.stdout.readline().strip()
        assert self.owner, "the process ended before it held the lease"
        return self.owner

    def kill_9(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def holders(pg_store: SqlEventStore) -> Iterator[list[Holder]]:
    started: list[Holder] = []
    yield started
    for holder in started:
        holder.kill_9()


def _url(store: SqlEventStore) -> str:
    return store.db.url.render_as_string(hide_password=False)


def _epoch(store: SqlEventStore) -> int:
    with store.db.read() as conn:
        return int(conn.execute(text(
            "SELECT epoch FROM subscriptions WHERE handler = 'totals'")).scalar_one())


def _until_checkpoint(store: SqlEventStore, position: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while store.checkpoint("totals") < position:
        assert time.monotonic() < deadline, "the handler did not get there"
        time.sleep(0.05)


def _state(store: SqlEventStore) -> dict[str, object] | None:
    lease = store.acquire_lease("totals", owner="check", now=1e12, ttl=1)
    assert lease is not None
    with store.handler_transaction(lease) as tx:
        return tx.load_state("a")


def test_a_killed_holders_handler_moves_to_the_live_process(
        pg_store: SqlEventStore, clock: FakeClock, holders: list[Holder]) -> None:
    first = Holder(_url(pg_store), ttl=6.0)  # the default lease, renewed by the heartbeat
    holders.append(first)
    dead_owner = first.holding()
    # The live one: another process's view, with an engine of its own.
    other = SqlEventStore(Database(_url(pg_store)), tally_registry())
    router = Router(other, [TALLY], clock=clock)
    handler = TotalsInState()
    live = HandlerRuntime(other, router, [handler], poll_interval=0.2)
    live.start()
    try:
        router.dispatch(OpenTally(tally_id="a"), actor="t")
        last = 0
        for n in range(1, 6):
            last = router.dispatch(AddToTally(tally_id="a", amount=n), actor="t").position
        _until_checkpoint(pg_store, last)  # handled by the first process...
        assert handler.calls == 0 and not live.runs_here("totals")  # ...not this one
        dead_epoch = _epoch(pg_store)

        first.kill_9()
        killed = time.monotonic()
        for n in range(6, 11):
            last = router.dispatch(AddToTally(tally_id="a", amount=n), actor="t").position
        assert live.wait_for(last, ["totals"], timeout=60), "nobody took the handler over"
        print(f"handler moved {time.monotonic() - killed:.1f} s after the kill")
        assert live.runs_here("totals") and handler.calls == 5  # from the checkpoint on
    finally:
        live.stop()
        other.db.dispose()
    state = _state(pg_store)
    assert state is not None and state["sum"] == sum(range(1, 11))  # each event once
    # The dead holder's lease is fenced off: a write under it is refused.
    with pytest.raises(LeaseLost), pg_store.handler_transaction(
            Lease("totals", dead_owner, dead_epoch, 0, 0.0)) as tx:
        tx.advance(last + 100)
    assert pg_store.checkpoint("totals") == last


def test_a_restarted_process_takes_its_old_lease_back_at_once(
        pg_store: SqlEventStore, clock: FakeClock, holders: list[Holder]) -> None:
    # Leases far longer than the test may wait: only knowing the holder is dead can explain
    # a takeover.
    first = Holder(_url(pg_store), ttl=600.0)
    holders.append(first)
    first.holding()
    router = Router(pg_store, [TALLY], clock=clock)
    router.dispatch(OpenTally(tally_id="a"), actor="t")
    last = router.dispatch(AddToTally(tally_id="a", amount=1), actor="t").position
    _until_checkpoint(pg_store, last)
    dead_epoch = _epoch(pg_store)

    first.kill_9()
    restarted = Holder(_url(pg_store), ttl=600.0)
    holders.append(restarted)
    restarted.holding(timeout=60)
    assert _epoch(pg_store) > dead_epoch  # a new holder: the old one is fenced off
    last = router.dispatch(AddToTally(tally_id="a", amount=2), actor="t").position
    _until_checkpoint(pg_store, last)
    restarted.kill_9()
    state = _state(pg_store)
    assert state is not None and state["sum"] == 3
