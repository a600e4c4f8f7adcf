"""A process that runs the tally's ``totals`` handler on a database until it is killed.

    python -m tests.support.lease_process URL LEASE_TTL

Prints its lease owner name once it holds the handler's lease, then keeps running it.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

from core.eventstore.database import Database
from core.eventstore.sql import SqlEventStore
from core.router import Router
from core.runtime import HandlerRuntime
from tests.support.tally import TALLY, TotalsInState, tally_registry


def main() -> None:
    url, ttl = sys.argv[1], float(sys.argv[2])
    store = SqlEventStore(Database(url), tally_registry())
    router = Router(store, [TALLY], clock=lambda: datetime.now(UTC))
    runtime = HandlerRuntime(store, router, [TotalsInState()], poll_interval=0.2, lease_ttl=ttl)
    runtime.start()
    while not runtime.runs_here("totals"):
        time.sleep(0.05)
    print(runtime.owner, flush=True)
    while True:
        time.sleep(60)


if __name__ == "__main__":
    main()
