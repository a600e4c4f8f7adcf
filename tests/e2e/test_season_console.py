"""The season from the command line: `attend say` as a captain and a player, the links they
get opened against a running `attend serve` (its web app, its handlers keeping the season).

Runs the real command line in subprocesses against one SQLite file, like a terminal would.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from email.message import Message
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest

from core.service import poll_until
from tests.e2e.test_console_story import say
from tests.support.smtp_sink import free_loopback_port
from tests.support.waiting import wait_for_health

pytestmark = pytest.mark.slow
CAPTAIN, ALICE = "captain@example.com", "alice@example.com"


def link(reply: str, base: str) -> str:
    [url] = re.findall(rf"{re.escape(base)}/\S+", reply)
    return url


def fetch(url: str, **headers: str) -> tuple[int, Message, bytes]:
    """Status, headers (any case) and body."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                    timeout=10) as got:
            return got.status, got.headers, got.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_a_season_and_a_calendar_from_the_console_on_a_running_server(tmp_path: Path) -> None:
    port = free_loopback_port()
    base = f"http://127.0.0.1:{port}"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("ATTEND_")},
           "ATTEND_DATABASE_URL": f"sqlite:///{tmp_path}/attend.db",
           "ATTEND_SECRET_KEYS": "season-console-key-0123456789abcdef",
           "ATTEND_PORT": str(port)}
    day = datetime.now(ZoneInfo("America/Toronto")).date() + timedelta(days=7)
    for line in ("/attend team create The Alchemists tz America/Toronto",
                 "/attend team add Alice McGee alice@example.com",
                 f"/attend schedule {day:%Y-%m-%d} 19:00 at Monarch Park vs Hawks",
                 "/attend check G1"):
        done = say(env, line, CAPTAIN)
        assert done.returncode == 0, done.stdout + done.stderr

    server = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_health(base, server)
        assert say(env, "/attend answer G1 yes", ALICE).returncode == 0

        season = say(env, "/attend season", CAPTAIN).stdout
        assert "Season page with a CSV download" in season, season
        page = link(season, base)
        assert poll_until(lambda: b"Alice McGee" in fetch(page)[2], timeout=30)
        status, headers, _ = fetch(f"{page}/season.csv")
        assert status == 200 and headers["content-type"].startswith("text/csv")

        feed = link(say(env, "/attend calendar", ALICE).stdout, base)

        def answered() -> bool:
            got = fetch(feed)[2]
            return got.startswith(b"BEGIN:VCALENDAR") and "✅ vs Hawks" in [
                str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(got).walk("VEVENT")]

        assert poll_until(answered, timeout=30)
        status, headers, _ = fetch(feed)
        assert status == 200 and headers["Content-Type"].startswith("text/calendar")
        assert fetch(feed, **{"If-None-Match": headers["ETag"]})[0] == 304
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            _, errors = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            raise
    assert server.returncode == 0, errors
    assert "Traceback" not in errors
