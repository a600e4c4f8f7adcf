"""The service lets a set number of requests in at once; the others wait their turn."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from core.actors import Actor
from core.aggregates.registry import AGGREGATES
from core.bootstrap import build_registry
from core.eventstore.database import Database
from core.eventstore.sql import SqlEventStore
from core.projections import read_models
from core.router import Router
from core.runtime import HandlerRuntime
from core.service import AttendService
from tests.support.clock import FakeClock

CAPTAIN = Actor.console("captain@example.com")


def test_a_request_waits_while_the_only_slot_is_taken(db: Database, clock: FakeClock) -> None:
    store = SqlEventStore(db, build_registry())
    router = Router(store, AGGREGATES, clock=clock)
    runtime = HandlerRuntime(store, router, read_models())
    release = threading.Event()

    def catch_up(_position: int, _names: Sequence[str]) -> None:
        release.wait(10)  # the first request holds its slot until the test lets go
        runtime.run_until_idle()

    service = AttendService(db, router, clock=clock, catch_up=catch_up, request_slots=1)
    first = threading.Thread(target=lambda: service.create_team(CAPTAIN, "A", "UTC"))
    first.start()
    answered: list[object] = []
    second = threading.Thread(target=lambda: answered.append(service.memberships(CAPTAIN)))
    deadline = time.monotonic() + 10
    while not release.is_set() and service._gate.waiting == 0:
        if not second.is_alive() and not answered:
            second.start()
        assert time.monotonic() < deadline, "the second request never queued"
        time.sleep(0.001)
    assert answered == []  # queued behind the first, not answered beside it
    release.set()
    first.join(10)
    second.join(10)
    assert [m.team_name for m in answered[0]] == ["A"]  # type: ignore[attr-defined]
    runtime.stop()
