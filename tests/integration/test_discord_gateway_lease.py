"""Discord's gateway is kept by one attend process at a time, under a lease in the event
store, on SQLite and PostgreSQL. ``connect`` stands in for the gateway connection."""

from __future__ import annotations

import asyncio
import time

from bot.discord.gateway import LEASE, GatewayLeader
from core.eventstore.database import Database
from core.eventstore.sql import SqlEventStore
from tests.support.tally import tally_registry
from tests.support.waiting import eventually

TTL = 0.3  # renewed every 0.1 s


class Gateway:
    """Counts connections; one stays open until cancelled, as the real one does."""

    def __init__(self) -> None:
        self.opened = 0
        self.open = False

    async def connect(self) -> None:
        self.opened += 1
        self.open = True
        try:
            await asyncio.Event().wait()
        finally:
            self.open = False


def leader(store: SqlEventStore, owner: str, gateway: Gateway,
           ttl: float = TTL) -> GatewayLeader:
    return GatewayLeader(store, owner=owner, connect=gateway.connect, ttl=ttl)


async def test_of_two_processes_one_connects_and_the_other_takes_over_when_it_stops(
        db: Database) -> None:
    store = SqlEventStore(db, tally_registry())
    ttl = 3.0  # renewed every second: a lapse would take two seconds at least
    first, second = Gateway(), Gateway()
    running_first = asyncio.create_task(leader(store, "first", first, ttl).run())
    assert await eventually(lambda: first.open)
    running_second = asyncio.create_task(leader(store, "second", second, ttl).run())
    await asyncio.sleep(1.2)  # the second has asked at least once
    assert (first.opened, second.opened) == (1, 0)

    running_first.cancel()  # the first process stops: closes and releases at once
    await asyncio.gather(running_first, return_exceptions=True)

    assert not first.open
    assert await eventually(lambda: second.open, timeout=1.9)  # its next renewal, before a lapse
    running_second.cancel()
    await asyncio.gather(running_second, return_exceptions=True)
    assert not second.open


async def test_a_crashed_holder_is_replaced_once_its_lease_lapses(db: Database) -> None:
    store = SqlEventStore(db, tally_registry())
    assert store.acquire_lease(LEASE, owner="crashed", now=time.time(), ttl=TTL) is not None
    gateway = Gateway()
    started = time.time()
    running = asyncio.create_task(leader(store, "survivor", gateway).run())
    try:
        assert await eventually(lambda: gateway.open)
        assert time.time() - started >= TTL * 0.9  # not before the lease lapsed
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


async def test_a_process_that_loses_the_lease_disconnects(db: Database) -> None:
    store = SqlEventStore(db, tally_registry())
    gateway = Gateway()
    running = asyncio.create_task(leader(store, "slow", gateway).run())
    try:
        assert await eventually(lambda: gateway.open)
        # Another process saw the lease lapse (this one stalled past it) and took it.
        taken = store.acquire_lease(LEASE, owner="other", now=time.time() + 60, ttl=TTL)
        assert taken is not None
        assert await eventually(lambda: not gateway.open)
        assert gateway.opened == 1
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


async def test_a_connection_that_gives_up_is_not_started_again(db: Database) -> None:
    store = SqlEventStore(db, tally_registry())
    attempts = []

    async def refused() -> None:  # as with a token Discord refuses
        attempts.append(time.time())

    running = asyncio.create_task(GatewayLeader(store, owner="one", connect=refused,
                                                ttl=TTL).run())
    await asyncio.sleep(4 * TTL)
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    assert len(attempts) == 1
