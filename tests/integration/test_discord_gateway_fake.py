"""The Discord gateway stand-in (tests/support/discord_gateway.py) speaks to discord.py's real
client as Discord's gateway does: HELLO, IDENTIFY and READY, heartbeats, dispatches on a
``zlib-stream`` transport, and a dropped connection resumed without losing a dispatch."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
import yarl

from tests.support.discord_api import FakeDiscord
from tests.support.waiting import eventually

ALICE = 42


class Listener(discord.Client):
    """Records the interactions it receives."""

    def __init__(self) -> None:
        super().__init__(intents=discord.Intents.default())
        self.received: list[discord.Interaction[Any]] = []

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        self.received.append(interaction)


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as running:
        monkeypatch.setattr(discord.http.Route, "BASE", running.base)
        monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY",
                            yarl.URL(running.gateway.url))
        running.add_user(ALICE, "alice")
        yield running


@pytest.fixture
async def client(fake: FakeDiscord) -> AsyncIterator[Listener]:
    listener = Listener()
    running = asyncio.create_task(listener.start(fake.token))
    try:
        assert await fake.gateway.wait_connected(timeout=10)
        yield listener
    finally:
        await listener.close()
        await asyncio.wait_for(running, timeout=10)


async def test_the_client_identifies_over_zlib_stream_and_is_ready(
        fake: FakeDiscord, client: Listener) -> None:
    assert fake.gateway.compressions == ["zlib-stream"]
    assert fake.gateway.identified == 1
    assert client.user is not None and client.user.id == fake.bot_id
    assert client.application_id == fake.application_id
    assert await eventually(lambda: fake.gateway.heartbeats >= 1)  # one at once, then paced
    await asyncio.wait_for(client.wait_until_ready(), timeout=10)


async def test_a_dispatched_interaction_reaches_the_client(
        fake: FakeDiscord, client: Listener) -> None:
    # Long enough that the compressed payload goes in two websocket frames.
    payload = fake.command_interaction(ALICE, "schedule", when="sat 7pm",
                                       location=secrets.token_hex(600))
    await fake.gateway.interact(payload)
    assert fake.gateway.split == 1

    assert await eventually(lambda: client.received)
    [interaction] = client.received
    assert (interaction.id, interaction.user.id) == (int(payload["id"]), ALICE)
    assert interaction.type is discord.InteractionType.application_command


async def test_a_dropped_connection_is_resumed_and_what_it_missed_is_replayed(
        fake: FakeDiscord, client: Listener) -> None:
    await fake.gateway.drop(code=4000)
    missed = fake.command_interaction(ALICE, "games")
    await fake.gateway.interact(missed)  # while the client is away

    assert await eventually(lambda: fake.gateway.resumed == 1, timeout=15)
    assert await eventually(lambda: client.received)
    assert [i.id for i in client.received] == [int(missed["id"])]
    assert fake.gateway.identified == 1  # resumed, not identified again


async def test_heartbeats_at_the_interval_hello_gives_are_acknowledged(
        fake: FakeDiscord) -> None:
    fake.gateway.heartbeat_interval_ms = 100
    listener = Listener()
    running = asyncio.create_task(listener.start(fake.token))
    try:
        assert await eventually(lambda: fake.gateway.heartbeats >= 4, timeout=10)
        assert listener.latency < 5  # it measured the acknowledgements
    finally:
        await listener.close()
        await asyncio.wait_for(running, timeout=10)
    assert (fake.gateway.identified, fake.gateway.resumed) == (1, 0)  # never reconnected
