"""Waiting for an ``attend serve`` started in a subprocess to take requests."""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request


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
