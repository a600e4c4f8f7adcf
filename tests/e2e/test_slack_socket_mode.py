"""Slack over Socket Mode: Attend opens a websocket to the local stand-in for Slack and gets
commands and taps through it, with no public address; the same app, the same replies.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config, SlackConfig
from bot.slack.app import slack_app, socket_mode
from core.actors import Actor
from core.bootstrap import App, bootstrap
from tests.support.clock import FakeClock
from tests.support.slack_api import FakeSlack
from tests.support.smtp_sink import free_loopback_port
from tests.support.waiting import eventually, wait_for_health

KEYS = ("e2e-slack-socket-key-0123456789ab",)
WORKSPACE, CAPTAIN, ALICE = "T0001", "U1", "U2"


@dataclass
class Socket:
    app: App
    fake: FakeSlack
    clock: FakeClock

    async def say(self, user: str, text: str) -> str:
        ack = await asyncio.to_thread(self.fake.socket.request, "slash_commands", {
            "command": "/attend", "text": text, "team_id": WORKSPACE, "user_id": user,
            "user_name": user.lower(), "response_url": self.fake.response_url()})
        reply: str = ack["payload"]["text"]
        return reply

    async def tap(self, user: str, answer: str, check_id: str, respond_to: str) -> Any:
        return await asyncio.to_thread(self.fake.socket.request, "interactive", {
            "type": "block_actions", "user": {"id": user, "team_id": WORKSPACE},
            "team": {"id": WORKSPACE}, "response_url": self.fake.response_url(respond_to),
            "actions": [{"type": "button", "action_id": f"attend_{answer}",
                         "value": check_id, "block_id": f"attend:{check_id}",
                         "action_ts": "1"}]})


@pytest.fixture
async def over_socket(database_url: str, clock: FakeClock,
                      tmp_path: Path) -> AsyncIterator[Socket]:
    with FakeSlack() as fake:
        slack = SlackConfig(bot_token="xoxb-test", app_token="xapp-test", api_url=fake.url)
        config = Config(database_url=database_url, secret_keys=KEYS,
                        outbox_dir=tmp_path / "outbox", slack=slack)
        app = bootstrap(config.database_url, clock=clock)
        handler = socket_mode(slack_app(slack, app.service, clock=clock), slack)
        await handler.connect_async()
        # The stand-in counts the connection on its own thread, a moment later.
        assert await eventually(lambda: fake.socket.connections == 1)
        try:
            yield Socket(app=app, fake=fake, clock=clock)
        finally:
            await handler.close_async()
            app.close()


async def test_commands_and_taps_arrive_over_the_socket(over_socket: Socket) -> None:
    assert "you're its captain" in await over_socket.say(
        CAPTAIN, "team create The Alchemists tz America/Toronto")
    await over_socket.say(CAPTAIN, f"team add <@{ALICE}|alice>")
    day = (over_socket.clock.now + timedelta(days=3)).strftime("%Y-%m-%d")
    await over_socket.say(CAPTAIN, f"schedule {day} 19:00 vs Hawks")
    assert (await over_socket.say(CAPTAIN, "check G1")).startswith("Asked 2 players about G1")
    status = over_socket.app.service.status(Actor.slack(WORKSPACE, CAPTAIN), "G1")
    assert status.game.check_id is not None

    await over_socket.tap(ALICE, "yes", status.game.check_id, respond_to="alice")

    assert await eventually(lambda: over_socket.fake.responses("alice"))
    assert over_socket.fake.responses("alice")[0]["text"].startswith("✅ You're in")
    assert "✅ alice" in await over_socket.say(CAPTAIN, "status G1")


def test_attend_serve_with_an_app_token_connects_over_socket_mode(tmp_path: Path) -> None:
    with FakeSlack() as fake:
        port = free_loopback_port()
        env = {**os.environ, "ATTEND_DATABASE_URL": f"sqlite:///{tmp_path}/attend.db",
               "ATTEND_SECRET_KEYS": KEYS[0], "ATTEND_PORT": str(port),
               "ATTEND_SLACK_BOT_TOKEN": "xoxb-test", "ATTEND_SLACK_APP_TOKEN": "xapp-test",
               "ATTEND_SLACK_API_URL": fake.url}
        server = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for_health(f"http://127.0.0.1:{port}", server)
            ack = None
            for _ in range(100):  # the socket opens just after the web app
                if fake.socket.connections:
                    ack = fake.socket.request("slash_commands", {
                        "command": "/attend", "text": "help", "team_id": WORKSPACE,
                        "user_id": CAPTAIN, "response_url": fake.response_url()})
                    break
                time.sleep(0.05)
            assert ack is not None, "attend serve never opened the socket"
        finally:
            server.send_signal(signal.SIGTERM)
            _, errors = server.communicate(timeout=30)
    assert ack["payload"]["text"].startswith("Attend asks your players")
    assert server.returncode == 0, errors
    assert "Slack over Socket Mode" in errors
