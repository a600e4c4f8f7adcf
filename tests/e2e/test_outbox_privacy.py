"""`attend serve` on an address other machines may reach keeps the outbox to itself, and
says so when it starts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.smtp_sink import free_loopback_port
from tests.support.waiting import wait_for_health


@pytest.mark.parametrize("public", ["", "1"], ids=["private", "public"])
def test_serve_on_every_address_withholds_the_outbox_and_warns(
        tmp_path: Path, public: str) -> None:
    port = free_loopback_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTEND_")} | {
        "ATTEND_DATABASE_URL": f"sqlite:///{tmp_path}/attend.db",
        "ATTEND_SECRET_KEYS": "outbox-privacy-key-0123456789abcdef",
        "ATTEND_HOST": "0.0.0.0", "ATTEND_PORT": str(port),
        "ATTEND_OUTBOX_PUBLIC": public,
    }
    server = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(base, server)
        try:
            with urllib.request.urlopen(f"{base}/outbox", timeout=10) as page:
                status = page.status
        except urllib.error.HTTPError as error:
            status = error.code
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            _, errors = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            raise
    assert server.returncode == 0, errors
    if public:
        assert status == 200
        assert "outbox is not served" not in errors
    else:
        assert status == 404
        assert "The outbox is not served at /outbox: Attend listens on 0.0.0.0" in errors
        assert "ATTEND_OUTBOX_PUBLIC=1" in errors
