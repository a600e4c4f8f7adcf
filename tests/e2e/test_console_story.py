"""The seed story as a newcomer lives it: `attend say` as captain and players, invitations by
real SMTP to a local server, the emailed link opened against a running `attend serve`.

Runs the real command line in subprocesses against one SQLite file, like a terminal would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.support.smtp_sink import Inbox, free_loopback_port
from tests.support.waiting import wait_for_health


@pytest.fixture
def env(tmp_path: Path, smtp_inbox: tuple[Inbox, int]) -> dict[str, str]:
    port = free_loopback_port()
    return {
        **os.environ,
        "ATTEND_DATABASE_URL": f"sqlite:///{tmp_path}/attend.db",
        "ATTEND_SECRET_KEYS": "console-story-key-0123456789abcdef",
        "ATTEND_SMTP_HOST": "127.0.0.1",
        "ATTEND_SMTP_PORT": str(smtp_inbox[1]),
        "ATTEND_SMTP_STARTTLS": "false",
        "ATTEND_PORT": str(port),
        "ATTEND_MAIL_FROM": "Attend <attend@example.org>",
    }


def say(env: dict[str, str], line: str, who: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", "say", line, "--as", who],
                          env=env, capture_output=True, text=True, timeout=60)


def answer_link(mail: EmailMessage) -> str:
    body = mail.get_body(("plain",))
    assert body is not None
    links = [w for w in body.get_content().split() if "/r/" in w]
    return links[0].split("?")[0]


def test_the_seed_story_through_the_console_email_and_the_answer_page(
        env: dict[str, str], smtp_inbox: tuple[Inbox, int]) -> None:
    inbox, _ = smtp_inbox
    captain = "captain@example.com"
    # A week ahead on the real clock (the command line runs on it), in the team's zone.
    day = datetime.now(ZoneInfo("America/Toronto")).date() + timedelta(days=7)
    evening = datetime(day.year, day.month, day.day, 19, tzinfo=ZoneInfo("America/Toronto"))
    steps = [
        ("/attend team create The Alchemists tz America/Toronto", "Created The Alchemists"),
        ("/attend team add Alice McGee alice@example.com", "Added Alice McGee"),
        (f"/attend schedule {day:%Y-%m-%d} 19:00 at Monarch Park vs Hawks",
         f"Scheduled G1 · {day:%a %b} {day.day}, 7:00 PM {evening:%Z} vs Hawks at Monarch Park"),
        ("/attend check G1", "Asked 2 players about G1"),
    ]
    for line, expected in steps:
        result = say(env, line, captain)
        assert result.returncode == 0, result.stderr
        assert expected in result.stdout

    # With no server running, `say` delivered the invitations itself, by SMTP.
    to = sorted(rcpt for rcpts, _ in inbox.mails for rcpt in rcpts)
    assert to == ["alice@example.com", "captain@example.com"]
    alice_mail = next(m for rcpts, m in inbox.mails if rcpts == ["alice@example.com"])
    assert alice_mail.get_content_type() == "multipart/alternative"
    assert "Hawks" in str(alice_mail["Subject"])
    link = answer_link(alice_mail)

    server = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{env['ATTEND_PORT']}"
    try:
        wait_for_health(base, server)
        local = link.replace(urllib.parse.urlsplit(link).netloc, f"127.0.0.1:"
                             f"{env['ATTEND_PORT']}").replace("https://", "http://")
        with urllib.request.urlopen(local + "?a=yes", timeout=10) as page:
            assert page.status == 200
            assert "Hawks" in page.read().decode()
        status = say(env, "/attend status G1", captain)  # a mail scanner's GET changed nothing
        assert "In 0 · Out 0 · Maybe 0 · No answer 2" in status.stdout, status.stdout

        form = urllib.parse.urlencode({"answer": "maybe", "note": "running late"}).encode()
        with urllib.request.urlopen(urllib.request.Request(local, data=form),
                                    timeout=10) as posted:
            assert posted.status == 200
            assert "maybe" in posted.read().decode().lower()
        status = say(env, "/attend status G1", captain)
        assert "Maybe 1" in status.stdout, status.stdout
        assert "Alice McGee — “running late”" in status.stdout

        refused = say(env, f"/attend schedule {day:%Y-%m-%d} 20:00", "alice@example.com")
        assert refused.returncode == 1
        assert "Only a captain can schedule games" in refused.stdout
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            _, errors = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            raise
    assert server.returncode == 0, errors
    assert "stopping" in errors


def test_serve_demo_starts_on_a_fresh_file_and_stops_cleanly_on_sigterm(
        env: dict[str, str]) -> None:
    env = {k: v for k, v in env.items() if not k.startswith("ATTEND_SMTP")}
    server = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--demo"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    base = f"http://127.0.0.1:{env['ATTEND_PORT']}"
    try:
        wait_for_health(base, server)
        deadline = time.monotonic() + 15
        outbox = ""
        while time.monotonic() < deadline and outbox.count("/outbox/") < 5:
            with urllib.request.urlopen(f"{base}/outbox", timeout=5) as page:
                outbox = page.read().decode()
            time.sleep(0.2)
        assert outbox.count("are you in?") >= 5  # the demo's five invitations
    finally:
        server.send_signal(signal.SIGTERM)
        _, errors = server.communicate(timeout=30)
    assert server.returncode == 0, errors
    assert "Captain's board: http" in errors
    assert "Traceback" not in errors
