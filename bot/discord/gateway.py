"""One process at a time keeps Discord's gateway connection.

With several ``attend serve`` processes on one PostgreSQL, each would otherwise connect the
bot to Discord's gateway and each would receive the same commands and taps. The gateway is
held like a handler: under a lease in the event store, renewed while the process runs,
taken over by another process when it lapses. Every process still sends DMs through
Discord's REST API, which needs no gateway.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from core.eventstore import EventStore

log = logging.getLogger(__name__)

LEASE = "discord-gateway"
LEASE_TTL_S = 30.0


class GatewayLeader:
    """Runs ``connect()`` while this process holds the gateway lease; cancels it when the
    lease is lost and releases the lease when stopped. A ``connect()`` that ends by itself
    (a refused token) is not started again while the lease stays here."""

    def __init__(self, store: EventStore, *, owner: str,
                 connect: Callable[[], Coroutine[Any, Any, None]], ttl: float | None = None,
                 now: Callable[[], float] = time.time) -> None:
        self._store = store
        self._owner = owner
        self._connect = connect
        self._ttl = LEASE_TTL_S if ttl is None else ttl  # read now: tests shorten it
        self._now = now
        self._gateway: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self._gateway is not None and not self._gateway.done()

    async def run(self) -> None:
        """Until cancelled: hold (or wait for) the lease, renewing it a third of its life."""
        lease = None
        try:
            while True:
                lease = await asyncio.to_thread(self._store.acquire_lease, LEASE,
                                                owner=self._owner, now=self._now(),
                                                ttl=self._ttl)
                if lease is not None and self._gateway is None:
                    log.info("this process now keeps the Discord gateway connection")
                    self._gateway = asyncio.create_task(self._connect(),
                                                        name="attend-discord-gateway")
                elif lease is None and self._gateway is not None:
                    log.warning("another process took over the Discord gateway; stepping back")
                    await self._disconnect()
                await asyncio.sleep(self._ttl / 3)
        finally:
            await self._disconnect()
            if lease is not None:
                await asyncio.to_thread(self._store.release_lease, lease)

    async def _disconnect(self) -> None:
        gateway, self._gateway = self._gateway, None
        if gateway is not None:
            gateway.cancel()
            await asyncio.gather(gateway, return_exceptions=True)
