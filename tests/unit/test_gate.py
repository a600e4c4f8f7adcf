"""The request gate: how many requests run at once, and that the rest go in arrival order."""

from __future__ import annotations

import threading
import time

import pytest

from core.gate import RequestGate


def wait_until(predicate: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_no_more_than_the_slots_run_at_once() -> None:
    gate = RequestGate(2)
    inside, most = 0, 0
    count = threading.Lock()

    def request() -> None:
        nonlocal inside, most
        for _ in range(50):
            with gate:
                with count:
                    inside += 1
                    most = max(most, inside)
                time.sleep(0.0002)
                with count:
                    inside -= 1

    threads = [threading.Thread(target=request) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most == 2
    assert inside == 0


def test_waiting_requests_enter_in_the_order_they_came() -> None:
    gate = RequestGate(1)
    entered: list[int] = []
    gate.__enter__()  # the gate is busy while everyone lines up
    threads = []
    for i in range(6):
        def request(i: int = i) -> None:
            with gate:
                entered.append(i)
        thread = threading.Thread(target=request)
        thread.start()
        threads.append(thread)
        wait_until(lambda i=i: gate.waiting == i + 1)
    gate.__exit__(None, None, None)
    for t in threads:
        t.join()
    assert entered == [0, 1, 2, 3, 4, 5]


def test_a_request_inside_may_call_another_without_waiting_for_itself() -> None:
    gate = RequestGate(1)
    with gate:
        with gate:
            pass
        assert gate.waiting == 0
    with gate:  # and the slot is free again afterwards
        pass


def test_a_gate_needs_a_slot() -> None:
    with pytest.raises(ValueError, match="at least one slot"):
        RequestGate(0)
