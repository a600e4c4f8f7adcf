"""The Discord API fake (tests/support/discord_api.py) answers discord.py's real client as
Discord does."""

import io
import time
from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest
from discord import app_commands

from tests.support.discord_api import FakeDiscord


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as running:
        monkeypatch.setattr(discord.http.Route, "BASE", running.base)
        running.add_user(42, "alice")
        yield running


@pytest.fixture
async def client(fake: FakeDiscord) -> AsyncIterator[discord.Client]:
    logged_in = discord.Client(intents=discord.Intents.default())
    await logged_in.login(fake.token)
    yield logged_in
    await logged_in.close()


def interaction(client: discord.Client, token: str = "tok1") -> discord.Interaction:
    """A slash command invocation by user 42, as the gateway would hand it to discord.py."""
    data = {
        "id": "7001",
        "application_id": "1000",
        "type": 2,
        "token": token,
        "version": 1,
        "attachment_size_limit": 10_000_000,
        "channel": {"id": "4000", "type": 1},
        "user": {"id": "42", "username": "alice", "discriminator": "0", "avatar": None},
        "data": {"id": "1", "name": "attend", "type": 1},
    }
    return discord.Interaction(data=data, state=client._connection)  # type: ignore[arg-type]


async def test_answers_are_exactly_application_json(fake: FakeDiscord) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{fake.base}/users/42", headers={"Authorization": "Bot fake-token"}) as r,
    ):
        assert r.headers["Content-Type"] == "application/json"
        assert (await r.json())["username"] == "alice"


async def test_login_names_the_bot_and_the_application(
    fake: FakeDiscord, client: discord.Client
) -> None:
    assert client.user is not None
    assert (client.user.id, client.user.bot) == (fake.bot_id, True)
    assert client.application_id == fake.application_id
    assert [r.path for r in fake.requests("GET")] == ["/users/@me", "/oauth2/applications/@me"]


async def test_a_wrong_token_fails_login(fake: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents.default())
    with pytest.raises(discord.LoginFailure):
        await client.login("wrong-token")
    await client.close()


async def test_a_dm_is_stored_with_its_components(
    fake: FakeDiscord, client: discord.Client
) -> None:
    user = await client.fetch_user(42)
    first = await user.send("hi")
    view = discord.ui.View()
    view.add_item(discord.ui.Button(custom_id="attend:c1:yes", label="Yes"))
    second = await user.send("Coming?", view=view)

    [hi, coming] = fake.dm_messages(42)
    assert (hi.id, hi.content, hi.components) == (str(first.id), "hi", [])
    assert isinstance(first.channel, discord.DMChannel)
    assert hi.channel_id == str(first.channel.id)
    [row] = coming.components
    assert row["components"][0]["custom_id"] == "attend:c1:yes"
    assert second.components[0].children[0].label == "Yes"  # type: ignore[union-attr]
    assert second.author.id == fake.bot_id
    assert [r.path for r in fake.requests("POST", "/users/@me/channels")] == [
        "/users/@me/channels"  # discord.py keeps the DM channel it opened
    ]


async def test_a_file_is_sent_as_multipart_with_payload_json(
    fake: FakeDiscord, client: discord.Client
) -> None:
    user = await client.fetch_user(42)
    sent = await user.send("Roster", file=discord.File(io.BytesIO(b"a,b\n"), "roster.csv"))
    [stored] = fake.dm_messages(42)
    assert stored.content == "Roster"
    assert (sent.attachments[0].filename, sent.attachments[0].size) == ("roster.csv", 4)


async def test_closed_dms_are_forbidden_with_code_50007(
    fake: FakeDiscord, client: discord.Client
) -> None:
    fake.close_dms(42)
    with pytest.raises(discord.Forbidden) as refused:
        await (await client.fetch_user(42)).send("hi")
    assert refused.value.code == 50007
    assert fake.dm_messages(42) == []


async def test_an_unknown_user_is_not_found(fake: FakeDiscord, client: discord.Client) -> None:
    with pytest.raises(discord.NotFound) as unknown:
        await client.fetch_user(99)
    assert unknown.value.code == 10013


async def test_a_short_rate_limit_is_retried_by_discord_py(
    fake: FakeDiscord, client: discord.Client
) -> None:
    user = await client.fetch_user(42)
    fake.rate_limit("POST", "/messages", times=2, retry_after=0.05)
    started = time.monotonic()
    await user.send("hi")
    assert time.monotonic() - started >= 0.1
    assert [r.limited for r in fake.requests("POST", "/messages")] == [True, True, False]
    assert len(fake.dm_messages(42)) == 1


async def test_a_long_rate_limit_raises_rate_limited(fake: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents.default(), max_ratelimit_timeout=30.0)
    try:
        await client.login(fake.token)
        user = await client.fetch_user(42)
        fake.rate_limit("POST", "/messages", retry_after=60.0)
        with pytest.raises(discord.RateLimited) as limited:
            await user.send("hi")
        assert limited.value.retry_after == 60.0
        assert fake.dm_messages(42) == []
    finally:
        await client.close()


async def test_editing_a_message_changes_the_stored_one(
    fake: FakeDiscord, client: discord.Client
) -> None:
    sent = await (await client.fetch_user(42)).send("Coming?")
    edited = await sent.edit(content="You are in.")
    [stored] = fake.dm_messages(42)
    assert (stored.content, stored.edits) == ("You are in.", 1)
    assert edited.content == "You are in."
    assert edited.edited_at is not None


async def test_tree_sync_stores_the_commands(fake: FakeDiscord, client: discord.Client) -> None:
    tree = app_commands.CommandTree(client)

    @tree.command(name="attend", description="Who is coming?")
    async def attend(interaction: discord.Interaction) -> None:
        pass

    [synced] = await tree.sync()
    [resynced] = await tree.sync()
    [stored] = fake.commands()
    assert (synced.name, synced.description) == ("attend", "Who is coming?")
    assert synced.id == resynced.id == int(stored["id"])
    assert fake.commands(guild_id=1) == []

    tree.copy_global_to(guild=discord.Object(1))
    [in_guild] = await tree.sync(guild=discord.Object(1))
    assert in_guild.guild_id == 1
    assert [c["name"] for c in fake.commands(guild_id=1)] == ["attend"]


async def test_an_interaction_is_answered_followed_up_and_edited(
    fake: FakeDiscord, client: discord.Client
) -> None:
    clicked = interaction(client)
    answer = await clicked.response.send_message("Noted.", ephemeral=True)
    followup = await clicked.followup.send("One more thing.", wait=True)
    edited = await clicked.edit_original_response(content="Noted, see you Sunday.")
    original = await clicked.original_response()

    assert answer.is_ephemeral() and not answer.is_thinking()
    assert isinstance(answer.resource, discord.InteractionMessage)
    assert answer.resource.content == "Noted."
    [callback] = fake.callbacks("7001")
    assert (callback["type"], callback["data"]["content"]) == (4, "Noted.")
    assert followup.content == "One more thing."
    assert [f["content"] for f in fake.followups("tok1")] == ["One more thing."]
    assert edited.content == original.content == "Noted, see you Sunday."
    assert [e["content"] for e in fake.edits("tok1")] == ["Noted, see you Sunday."]
    assert len(fake.requests("GET", "/webhooks/1000/tok1/messages/@original")) == 1


async def test_a_deferred_interaction_is_thinking_until_edited(
    fake: FakeDiscord, client: discord.Client
) -> None:
    clicked = interaction(client, token="tok2")
    answer = await clicked.response.defer(thinking=True)
    assert answer is not None and answer.is_thinking()
    edited = await clicked.edit_original_response(content="Done.")
    assert not edited.flags.loading
    assert [c["type"] for c in fake.callbacks()] == [5]


async def test_webhooks_are_unknown_until_the_interaction_is_answered(
    fake: FakeDiscord, client: discord.Client
) -> None:
    clicked = interaction(client, token="tok3")
    with pytest.raises(discord.NotFound) as early:
        await clicked.followup.send("too early")
    assert early.value.code == 10015
    await clicked.response.send_message("Noted.")
    with pytest.raises(discord.HTTPException) as twice:
        await interaction(client, token="tok3").response.send_message("again")
    assert twice.value.code == 40060
