"""The event loop Attend's own processes run on: uvloop where it is installed (Linux and
macOS), else asyncio's.

``attend serve`` spends most of a fan-out on its loop: SMTP replies, DM requests, the hand-off
of every database step to a thread and back. uvloop does that work in C; on a 1,000-mail
fan-out the loop's thread used about a tenth less CPU (``bench/fanout.py``). Nothing in
Attend depends on which loop runs it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop, if uvloop is installed; None means asyncio's own."""
    try:
        import uvloop
    except ImportError:  # Windows: uvloop is not built there
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on :func:`loop_factory`'s loop."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
