"""Real `attend serve` processes delivering a fan-out to a local SMTP server, for the
recovery tests and ``bench/recovery.py``: kill one with SIGKILL mid fan-out, start it again,
run two on one database, and count what the server received (per recipient, so what was
lost and what came twice is plain).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select

from core.actors import Actor
from core.aggregates.common import PlayerProfile
from core.aggregates.team import AddPlayer
from core.bootstrap import bootstrap, utc_now
from core.deliveries import deliveries
from tests.support.smtp_sink import free_loopback_port, smtp_server
from tests.support.waiting import wait_for_health

CAPTAIN = Actor.console("captain@example.com")
KEYS = "recovery-test-key-0123456789abcdef"


class Counting:
    """An SMTP handler that counts mail per recipient and can SIGKILL a process at the
    ``n``-th mail, before answering it (so the sender never hears that it arrived)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.received: list[tuple[str, str]] = []  # (recipient, Message-ID)
        self._kill: tuple[int, int] | None = None
        self.killed_at: float | None = None

    def kill_at(self, count: int, pid: int) -> None:
        with self._lock:
            self._kill = (count, pid)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        head = envelope.content.split(b"\r\n\r\n", 1)[0]
        message_id = next((line.split(b":", 1)[1].strip().decode()
                           for line in head.split(b"\r\n")
                           if line.lower().startswith(b"message-id:")), "")
        with self._lock:
            for rcpt in envelope.rcpt_tos:
                self.received.append((rcpt, message_id))
            if self._kill is not None and len(self.received) >= self._kill[0]:
                os.kill(self._kill[1], signal.SIGKILL)
                self._kill, self.killed_at = None, time.monotonic()
        return "250 OK"

    @property
    def total(self) -> int:
        return len(self.received)

    def messages(self) -> set[str]:
        """The distinct messages received (a message sent twice has one Message-ID)."""
        with self._lock:
            return {m for _, m in self.received}

    def duplicates(self) -> int:
        with self._lock:
            return len(self.received) - len({m for _, m in self.received})

    def recipients_of_repeats(self) -> Counter[str]:
        """Recipient -> how many distinct Message-IDs they got more than once."""
        with self._lock:
            counts = Counter(self.received)
        return Counter(r for (r, _), n in counts.items() if n > 1)


@contextmanager
def counting_server() -> Iterator[tuple[Counting, int]]:
    handler = Counting()
    with smtp_server(handler) as port:
        yield handler, port


def seed(url: str, players: int) -> None:
    """A team of ``players`` email players (the captain among them), and games G1 and G2."""
    app = bootstrap(url)
    try:
        team_id = app.service.create_team(CAPTAIN, "Recovery FC", "America/Toronto",
                                          player_name="Captain").team.team_id
        for i in range(players - 1):
            app.router.dispatch(AddPlayer(team_id=team_id, player=PlayerProfile(
                player_id=f"p{i:05d}", name=f"Player {i}", email=f"p{i:05d}@example.com")),
                actor=CAPTAIN.key)
        app.run_handlers()
        for days in (3, 4):
            app.service.schedule_game(CAPTAIN, utc_now() + timedelta(days=days),
                                      opponent="Hawks")
    finally:
        app.close()


def start_check(url: str, handle: str) -> None:
    """Start a check from outside the servers (as `attend say` would); they fan it out."""
    app = bootstrap(url)
    try:
        app.service.start_check(CAPTAIN, handle)
    finally:
        app.close()


class Server:
    """One `attend serve` in a subprocess, mailing to the SMTP server at ``smtp_port``."""

    def __init__(self, url: str, smtp_port: int, workdir: Path) -> None:
        self.url, self.smtp_port, self.workdir = url, smtp_port, workdir
        self.port = free_loopback_port()
        self.process: subprocess.Popen[str] | None = None
        self.log = workdir / f"serve-{self.port}.log"

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        env = {**os.environ, "ATTEND_DATABASE_URL": self.url, "ATTEND_SECRET_KEYS": KEYS,
               "ATTEND_SMTP_HOST": "127.0.0.1", "ATTEND_SMTP_PORT": str(self.smtp_port),
               "ATTEND_SMTP_STARTTLS": "false", "ATTEND_PORT": str(self.port),
               "ATTEND_MAIL_FROM": "Attend <attend@example.org>"}
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "serve"], env=env, cwd=self.workdir,
                stdout=log, stderr=subprocess.STDOUT, text=True)

    def wait_ready(self) -> None:
        assert self.process is not None
        wait_for_health(f"http://127.0.0.1:{self.port}", self.process)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def wait_killed(self) -> None:
        assert self.process is not None
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def wait_until(predicate: Callable[[], bool], timeout: float) -> float | None:
    """Seconds until ``predicate`` held (polled every 50 ms), or None after ``timeout``."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            return None
        time.sleep(0.05)
    return time.monotonic() - start


def jobs_written(url: str) -> int:
    """Delivery jobs in the database (the notifier writes them as the fan-out goes)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(deliveries)).scalar_one())
    finally:
        engine.dispose()
