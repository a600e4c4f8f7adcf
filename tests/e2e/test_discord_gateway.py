"""``attend serve`` as a process, reached through Discord's gateway: the local stand-ins for
Discord's REST API and gateway (tests/support/discord_api.py and discord_gateway.py) run in
the test, the server in a subprocess finds them through ``sitecustomize``.

Commands and taps arrive as INTERACTION_CREATE dispatches on the gateway and are answered
through the interaction callback; DMs go out over REST. A tap on a DM sent before a restart
still counts after it; on PostgreSQL, when the process holding the gateway stops (SIGTERM, or
killed outright), another takes it over and answers the next command.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.databases import make_database_url
from tests.support.discord_api import FakeDiscord, Message
from tests.support.smtp_sink import free_loopback_port
from tests.support.waiting import eventually, wait_for_health

pytestmark = pytest.mark.slow

KEYS = "e2e-gateway-key-0123456789abcdefgh"
TOKEN = "MTA0.gateway.token"
CAPTAIN, ALICE = 11, 12
LEASE_TTL_S = 3.0  # the gateway's lease in these servers: a killed holder's lapses soon
EPHEMERAL = 64


@dataclass
class Server:
    """One ``attend serve`` process; what it logged goes to a file."""

    process: subprocess.Popen[str]
    log: Path

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)

    def kill(self) -> None:
        self.process.kill()  # SIGKILL: nothing is released
        self.process.wait(timeout=30)

    @property
    def said(self) -> str:
        return self.log.read_text()


class Servers:
    """Starts ``attend serve`` processes on one database, all pointed at the stand-ins."""

    def __init__(self, fake: FakeDiscord, database_url: str, where: Path) -> None:
        # The servers find the stand-ins (and a short gateway lease) through sitecustomize.
        (where / "sitecustomize.py").write_text(
            "import discord.gateway, discord.http, yarl\n"
            f"discord.http.Route.BASE = {fake.base!r}\n"
            "discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = "
            f"yarl.URL({fake.gateway.url!r})\n"
            "import bot.discord.gateway\n"
            f"bot.discord.gateway.LEASE_TTL_S = {LEASE_TTL_S}\n")
        self.env = {**os.environ, "ATTEND_DATABASE_URL": database_url,
                    "ATTEND_SECRET_KEYS": KEYS, "ATTEND_DISCORD_BOT_TOKEN": TOKEN,
                    "ATTEND_OUTBOX_DIR": str(where / "outbox"),
                    "PYTHONPATH": os.pathsep.join([str(where),
                                                   os.environ.get("PYTHONPATH", "")])}
        self.where = where
        self.started: list[Server] = []

    async def start(self, *, discord: bool = True) -> Server:
        """A server, with Discord or (``discord=False``) only the web app and the core."""
        port = free_loopback_port()
        log = self.where / f"serve-{len(self.started) + 1}.log"
        env = {**self.env, "ATTEND_PORT": str(port)}
        if not discord:
            del env["ATTEND_DISCORD_BOT_TOKEN"]
        with log.open("w") as errors:
            process = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=env,
                                       stdout=subprocess.DEVNULL, stderr=errors, text=True,
                                       cwd=self.where)
        server = Server(process, log)
        self.started.append(server)
        await asyncio.to_thread(wait_for_health, f"http://127.0.0.1:{port}", process)
        return server

    def close(self) -> None:
        for server in self.started:
            if server.process.poll() is None:
                server.process.kill()
                server.process.wait(timeout=30)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(token=TOKEN) as running:
        running.add_user(CAPTAIN, "casey")
        running.add_user(ALICE, "alice")
        yield running


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from make_database_url("postgresql", request, tmp_path)


async def callback(fake: FakeDiscord, payload: dict[str, Any]) -> dict[str, Any]:
    """Dispatch the interaction on the gateway; the answer the server gave Discord."""
    await fake.gateway.interact(payload)
    assert await eventually(lambda: fake.callbacks(payload["id"]), timeout=15), \
        f"no answer to {payload['data']}"
    [answer] = fake.callbacks(payload["id"])
    return answer


async def say(fake: FakeDiscord, user: int, *path: str, **options: Any) -> str:
    """``/attend <path...>`` through the gateway: the reply only ``user`` sees, at once or,
    from a server slower than Discord's 3 seconds (one just started), after "thinking"."""
    payload = fake.command_interaction(user, *path, **options)
    answer = await callback(fake, payload)
    assert answer["data"]["flags"] == EPHEMERAL
    if answer["type"] == 5:  # deferred
        assert await eventually(lambda: fake.followups(payload["token"]), timeout=15)
        [reply] = fake.followups(payload["token"])
        later: str = reply["content"]
        return later
    assert answer["type"] == 4
    content: str = answer["data"]["content"]
    return content


async def tap(fake: FakeDiscord, user: int, dm: Message, choice: str) -> str:
    """A tap on a DM's button through the gateway: the DM as it is updated."""
    answer = await callback(fake, fake.tap_interaction(user, dm, choice))
    assert answer["type"] == 7  # the DM itself is updated
    content: str = answer["data"]["content"]
    return content


def next_week() -> str:
    """A date a week ahead on the real clock the server runs on, in the team's zone."""
    day = datetime.now(ZoneInfo("America/Toronto")).date() + timedelta(days=7)
    return f"{day:%Y-%m-%d}"


async def test_commands_and_taps_reach_attend_serve_through_the_gateway_and_a_restart(
        fake: FakeDiscord, tmp_path: Path) -> None:
    servers = Servers(fake, f"sqlite:///{tmp_path}/attend.db", tmp_path)
    try:
        first = await servers.start()
        assert await fake.gateway.wait_connected(timeout=30)
        assert fake.gateway.compressions == ["zlib-stream"]

        assert "you're its captain" in await say(fake, CAPTAIN, "team", "create",
                                                 name="The Alchemists",
                                                 timezone="America/Toronto")
        assert await say(fake, CAPTAIN, "team", "add", member=("user", ALICE)) == \
            "Added alice to The Alchemists."
        scheduled = await say(fake, CAPTAIN, "schedule", when=f"{next_week()} 19:00",
                              opponent="Hawks", location="Monarch Park")
        assert scheduled.startswith("Scheduled G1 · ")
        assert (await say(fake, CAPTAIN, "check", game="G1")).startswith(
            "Asked 2 players about G1")
        assert await eventually(lambda: fake.dm_messages(ALICE) and fake.dm_messages(CAPTAIN),
                                timeout=15)  # sent over REST by the server's worker
        [alice_dm], [captain_dm] = fake.dm_messages(ALICE), fake.dm_messages(CAPTAIN)

        assert (await tap(fake, ALICE, alice_dm, "yes")).startswith("**✅ You're in.**")

        assert first.stop() == 0
        await servers.start()  # the same database; nothing of the first in memory
        assert await fake.gateway.wait_connected(timeout=30, sessions=2)

        # Taps on DMs sent before the restart.
        assert (await tap(fake, ALICE, alice_dm, "maybe")).startswith(
            "**❔ You're a maybe.**")
        shown = await tap(fake, CAPTAIN, captain_dm, "no")
        assert "In 0 · Out 1 · Maybe 1 · No answer 0" in shown
        status = await say(fake, CAPTAIN, "status", game="G1")
        assert "❔ alice" in status and "❌ casey" in status
    finally:
        servers.close()

    # Each player's DM channel was opened once; the DMs were one request each.
    assert len(fake.requests("POST", "/users/@me/channels")) == 2
    assert not fake.requests("GET", "/users/1")  # never a user fetched to DM them
    for server in servers.started:
        assert "now keeps the Discord gateway connection" in server.said
        assert not re.search(r" (ERROR|CRITICAL) |Traceback", server.said), server.said


@pytest.mark.postgres
async def test_when_the_process_holding_the_gateway_stops_another_takes_it_over(
        fake: FakeDiscord, postgres_url: str, tmp_path: Path) -> None:
    servers = Servers(fake, postgres_url, tmp_path)
    try:
        # Started first, a server without Discord keeps the read models (the handlers'
        # leases), so answers are not held up when a Discord server is killed below.
        core = await servers.start(discord=False)
        first = await servers.start()
        assert await fake.gateway.wait_connected(timeout=30)
        second = await servers.start()
        assert "you're its captain" in await say(fake, CAPTAIN, "team", "create",
                                                 name="The Alchemists")
        await asyncio.sleep(LEASE_TTL_S / 2)  # the second has asked for the lease by now
        assert fake.gateway.identified == 1  # one process holds the gateway

        first.kill()  # killed: nothing let go, its lease lapses
        assert await fake.gateway.wait_connected(timeout=30, sessions=2)
        assert await say(fake, CAPTAIN, "team", "add", member=("user", ALICE)) == \
            "Added alice to The Alchemists."

        third = await servers.start()
        assert second.stop() == 0  # stopped: it lets go of the lease at once
        assert await fake.gateway.wait_connected(timeout=30, sessions=3)
        assert (await say(fake, CAPTAIN, "schedule", when=f"{next_week()} 19:00",
                          opponent="Hawks")).startswith("Scheduled G1 · ")
        assert third.process.poll() is None and core.process.poll() is None
    finally:
        servers.close()
    assert fake.gateway.identified == 3
    for server in (first, second, third):
        assert "now keeps the Discord gateway connection" in server.said
    for server in servers.started:
        assert not re.search(r" (ERROR|CRITICAL) |Traceback", server.said), server.said
