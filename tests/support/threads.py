"""Running test code on several threads at once."""

from __future__ import annotations

import threading
from collections.abc import Callable


def run_threads(count: int, target: Callable[[int], object]) -> list[BaseException]:
    """Run ``target(0)`` to ``target(count - 1)`` on threads of their own, wait for them (a
    minute at most) and return what they raised."""
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            target(i)
        except BaseException as error:  # reported to the caller
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a thread was still running after a minute"
    return errors
