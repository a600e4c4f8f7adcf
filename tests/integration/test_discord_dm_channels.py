"""A Discord DM is one request once the player's DM channel is known: the channel is opened
once, remembered in the database, and still known after a restart (a new bot on the same
database). Counted on the Discord REST stand-in (tests/support/discord_api.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import discord
import pytest

from bot.config import Config
from bot.discord.bot import AttendBot
from bot.serve import delivery_worker
from core.actors import Actor
from core.bootstrap import App, bootstrap
from tests.support.clock import FakeClock
from tests.support.discord_api import FakeDiscord, Request

KEYS = ("dm-channels-key-0123456789abcdefgh",)
ALICE, DANA = 12, 13
CAPTAIN = Actor.console("cap@example.org", name="Casey")


@dataclass
class Running:
    """One attend process: the core on the database, and a bot signed in to the fake."""

    app: App
    bot: AttendBot
    config: Config

    async def deliver(self, fake: FakeDiscord) -> list[Request]:
        """Send what is due; the requests Discord received for it (sign-in excluded)."""
        before = len(fake.requests())
        await delivery_worker(self.app, self.config, discord_bot=self.bot).run_once()
        return fake.requests()[before:]

    async def stop(self) -> None:
        await self.bot.close()
        self.app.close()


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as running:
        monkeypatch.setattr(discord.http.Route, "BASE", running.base)
        running.add_user(ALICE, "alice")
        running.add_user(DANA, "dana")
        yield running


@pytest.fixture
def config(database_url: str, tmp_path: Path) -> Iterator[Config]:
    yield Config(database_url=database_url, secret_keys=KEYS, outbox_dir=tmp_path / "outbox")


async def start(config: Config, clock: FakeClock, fake: FakeDiscord) -> Running:
    app = bootstrap(config.database_url, clock=clock)
    bot = AttendBot(app.service, clock=clock)
    await bot.login(fake.token)
    return Running(app, bot, config)


def a_check_for_alice_and_dana(app: App, clock: FakeClock) -> str:
    service = app.service
    service.create_team(CAPTAIN, "The Alchemists", "America/Toronto")
    service.add_player(CAPTAIN, "alice", discord_user=str(ALICE))
    service.add_player(CAPTAIN, "dana", discord_user=str(DANA))
    status = service.schedule_game(CAPTAIN, clock.now + timedelta(days=3), opponent="Hawks")
    service.start_check(CAPTAIN, status.game.handle)
    return status.game.handle


def per_player(requests: list[Request], fake: FakeDiscord) -> dict[int, list[str]]:
    """Each player's requests, as ``METHOD path``."""
    channels = {ALICE: {m.channel_id for m in fake.dm_messages(ALICE)},
                DANA: {m.channel_id for m in fake.dm_messages(DANA)}}
    seen: dict[int, list[str]] = {ALICE: [], DANA: []}
    for r in requests:
        for user, theirs in channels.items():
            if (r.path == f"/users/{user}" or str((r.json or {}).get("recipient_id")) == str(user)
                    or any(r.path.startswith(f"/channels/{c}/") for c in theirs)):
                seen[user].append(f"{r.method} {r.path}")
    return seen


async def test_a_dm_is_one_request_once_the_channel_is_known_even_after_a_restart(
        config: Config, clock: FakeClock, fake: FakeDiscord) -> None:
    first = await start(config, clock, fake)
    try:
        handle = a_check_for_alice_and_dana(first.app, clock)
        invitations = await first.deliver(fake)
        first.app.service.remind(CAPTAIN, handle)
        reminders = await first.deliver(fake)
    finally:
        await first.stop()

    # The first DM to a player opens the channel; from then on each DM is the message only.
    alice_dm = f"POST /channels/{5000 + ALICE}/messages"
    assert per_player(invitations, fake)[ALICE] == [
        "POST /users/@me/channels", alice_dm]
    assert len(invitations) == 4  # no GET /users/{id}
    assert per_player(reminders, fake) == {ALICE: [alice_dm],
                                           DANA: [f"POST /channels/{5000 + DANA}/messages"]}

    again = await start(config, clock, fake)  # a restart: nothing in memory
    try:
        again.app.service.remind(CAPTAIN, handle)
        after_restart = await again.deliver(fake)
    finally:
        await again.stop()
    assert per_player(after_restart, fake) == {ALICE: [alice_dm],
                                               DANA: [f"POST /channels/{5000 + DANA}/messages"]}
    assert len(after_restart) == 2
    assert [len(fake.dm_messages(user)) for user in (ALICE, DANA)] == [3, 3]


async def test_a_channel_discord_no_longer_knows_is_opened_again_once(
        config: Config, clock: FakeClock, fake: FakeDiscord) -> None:
    running = await start(config, clock, fake)
    try:
        handle = a_check_for_alice_and_dana(running.app, clock)
        await running.deliver(fake)
        old = fake.drop_dm_channel(ALICE)

        running.app.service.remind(CAPTAIN, handle)
        reopened = await running.deliver(fake)
        [new] = {m.channel_id for m in fake.dm_messages(ALICE)} - {old}
        assert per_player(reopened, fake)[ALICE] == [
            f"POST /channels/{old}/messages", "POST /users/@me/channels",
            f"POST /channels/{new}/messages"]

        running.app.service.remind(CAPTAIN, handle)
        assert per_player(await running.deliver(fake), fake)[ALICE] == [
            f"POST /channels/{new}/messages"]
    finally:
        await running.stop()
    assert [m.content.startswith("**Reminder") for m in fake.dm_messages(ALICE)] == [
        False, True, True]
