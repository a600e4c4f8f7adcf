"""Waiting in tests: for an ``attend serve`` in a subprocess to take requests, and, in async
tests, for something a background task or another thread does."""

from __future__ import annotations

import asyncio
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable


def wait_for_health(base: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise AssertionError("attend serve did not answer /healthz within 30 s")


async def eventually(predicate: Callable[[], object], timeout: float = 5.0) -> bool:
    """Whether ``predicate`` comes true within ``timeout``, polled every 10 ms; async, so the
    event loop's other tasks (an adapter answering in the background) can run meanwhile."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True
