"""Discord end to end: discord.py's real client against a local stand-in for Discord's REST
API (``tests/support/discord_api.py``), with interactions handed to it as its gateway would.

The captain (11) and Alice (12) are on Discord; Bob has only an email address.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.config import Config, DiscordConfig
from bot.discord.bot import AttendBot, keep_connected, sync_commands
from bot.serve import deliver_due, delivery_worker
from core.actors import Actor
from core.aggregates.common import Answer
from core.bootstrap import App, bootstrap
from core.trouble import REPORT_HOLD
from tests.support.clock import FakeClock
from tests.support.discord_api import FakeDiscord, Message
from tests.support.smtp_sink import free_loopback_port
from tests.support.waiting import eventually, wait_for_health

KEYS = ("e2e-discord-key-0123456789abcdefg",)
CAPTAIN, ALICE, STRANGER = 11, 12, 19
EPHEMERAL = 64


@dataclass
class Discord:
    app: App
    config: Config
    fake: FakeDiscord
    bot: AttendBot
    clock: FakeClock
    outbox: Path
    last_token: str = ""  # the token of the last interaction sent, for its followups

    def _interaction(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.last_token = payload["token"]
        # What the gateway does with an INTERACTION_CREATE: discord.py's private API, so
        # these tests stay few (tests/e2e/test_discord_gateway.py goes through a gateway).
        self.bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
        return payload

    async def command(self, user: int, *path: str, **options: Any) -> dict[str, Any]:
        """``/attend <path...>`` with typed options, as Discord sends it; the callback."""
        typed = {name: ("user", value.id) if isinstance(value, discord.Object) else value
                 for name, value in options.items()}
        payload = self._interaction(self.fake.command_interaction(user, *path, **typed))
        assert await eventually(lambda: self.fake.callbacks(payload["id"]))
        [callback] = self.fake.callbacks(payload["id"])
        return callback

    async def say(self, user: int, *path: str, **options: Any) -> str:
        """The reply only ``user`` sees."""
        callback = await self.command(user, *path, **options)
        assert callback["type"] == 4 and callback["data"]["flags"] == EPHEMERAL
        content: str = callback["data"]["content"]
        return content

    async def tap(self, user: int, dm: Message, answer: str) -> dict[str, Any]:
        payload = self._interaction(self.fake.tap_interaction(user, dm, answer))
        assert await eventually(lambda: self.fake.callbacks(payload["id"]))
        [callback] = self.fake.callbacks(payload["id"])
        return callback

    def board(self) -> Any:
        """G1's board as the board page shows it, with its changes."""
        status = self.app.service.status(Actor.discord(str(CAPTAIN)), "G1")
        page = self.app.service.board_for_game(status.game.game_id)
        assert page is not None and page.board is not None
        return page.board


@pytest.fixture
async def fake_discord(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        monkeypatch.setattr(discord.http.Route, "BASE", fake.base)
        fake.add_user(CAPTAIN, "casey")
        fake.add_user(ALICE, "alice")
        fake.add_user(STRANGER, "stranger")
        yield fake


async def signed_in(app: App, fake: FakeDiscord, **options: Any) -> AttendBot:
    bot = AttendBot(app.service, clock=app.clock, **options)
    await bot.login(fake.token)
    return bot


@pytest.fixture
async def dc(database_url: str, clock: FakeClock, fake_discord: FakeDiscord,
             tmp_path: Path) -> AsyncIterator[Discord]:
    config = Config(database_url=database_url, secret_keys=KEYS, outbox_dir=tmp_path / "outbox")
    app = bootstrap(config.database_url, clock=clock)
    running = Discord(app=app, config=config, fake=fake_discord,
                      bot=await signed_in(app, fake_discord), clock=clock,
                      outbox=config.outbox_dir)
    try:
        yield running
    finally:
        await running.bot.close()  # the one a test may have swapped in
        app.close()


async def team_with_a_game(dc: Discord) -> None:
    created = await dc.say(CAPTAIN, "team", "create", name="The Alchemists",
                           timezone="America/Toronto")
    assert "you're its captain" in created
    assert await dc.say(CAPTAIN, "team", "add", member=discord.Object(ALICE)) == \
        "Added alice to The Alchemists."
    assert await dc.say(CAPTAIN, "team", "add", name="Bob", email="bob@example.org") == \
        "Added Bob to The Alchemists."
    day = (dc.clock.now + timedelta(days=3)).strftime("%Y-%m-%d")
    scheduled = await dc.say(CAPTAIN, "schedule", when=f"{day} 19:00", opponent="Hawks",
                             location="Monarch Park")
    assert scheduled.startswith("Scheduled G1 · ") and "vs Hawks at Monarch Park" in scheduled


async def test_a_captain_runs_a_check_from_discord_and_a_player_answers_with_a_button(
        dc: Discord) -> None:
    await team_with_a_game(dc)
    assert (await dc.say(CAPTAIN, "check", game="G1")).startswith("Asked 3 players about G1")

    assert await delivery_worker(dc.app, dc.config, discord_bot=dc.bot).run_once() == 3
    [dm] = dc.fake.dm_messages(ALICE)
    assert dm.content.startswith("**Are you coming?**\n**The Alchemists** vs **Hawks**")
    assert "7:00 PM EST · Monarch Park" in dm.content  # the team's time, not the server's
    [row] = dm.components
    assert [b["label"] for b in row["components"]] == ["Yes, I'm in", "Can't make it", "Maybe"]
    assert len(dc.fake.dm_messages(CAPTAIN)) == 1  # the captain plays too
    assert len(list(dc.outbox.glob("*.eml"))) == 1  # Bob, by email

    callback = await dc.tap(ALICE, dm, "yes")

    assert callback["type"] == 7  # the DM itself is updated
    shown = callback["data"]["content"]
    assert shown.startswith("**✅ You're in.**") and "In 1 · Out 0 · Maybe 0 · No answer 2" in shown
    [row] = callback["data"]["components"]
    chosen = [b["custom_id"] for b in row["components"] if b["style"] != 2]  # 2: grey
    assert chosen == [f"attend:{dc.board().check_id}:yes"]
    assert "✅ alice" in await dc.say(CAPTAIN, "status", game="G1")


async def test_a_tap_on_a_dm_sent_before_a_restart_still_counts(dc: Discord) -> None:
    await team_with_a_game(dc)
    await dc.say(CAPTAIN, "check", game="G1")
    await delivery_worker(dc.app, dc.config, discord_bot=dc.bot).run_once()
    [dm] = dc.fake.dm_messages(ALICE)
    await dc.bot.close()

    dc.bot = await signed_in(dc.app, dc.fake)  # a new process: nothing in memory
    callback = await dc.tap(ALICE, dm, "maybe")

    assert callback["type"] == 7
    assert callback["data"]["content"].startswith("**❔ You're a maybe.**")
    [alice] = [line for line in dc.board().lines if line.name == "alice"]
    assert alice.answer is Answer.MAYBE


async def test_someone_not_invited_tapping_a_button_is_told_and_nothing_is_recorded(
        dc: Discord) -> None:
    await team_with_a_game(dc)
    await dc.say(CAPTAIN, "check", game="G1")
    await delivery_worker(dc.app, dc.config, discord_bot=dc.bot).run_once()
    [dm] = dc.fake.dm_messages(ALICE)

    callback = await dc.tap(STRANGER, dm, "yes")

    assert callback["type"] == 4 and callback["data"]["flags"] == EPHEMERAL
    assert "not on this team" in callback["data"]["content"]
    assert dc.board().yes == 0 and dc.board().history == ()


async def test_a_player_cannot_use_a_captains_command(dc: Discord) -> None:
    await team_with_a_game(dc)
    reply = await dc.say(ALICE, "cancel", game="G1", reason="rain")
    assert reply.startswith("Only a captain can")
    status = dc.app.service.status(Actor.discord(str(CAPTAIN)), "G1")
    assert status.game.status == "scheduled"


async def test_a_bad_date_is_explained_and_nothing_is_scheduled(dc: Discord) -> None:
    await team_with_a_game(dc)
    reply = await dc.say(CAPTAIN, "schedule", when="someday *soon*")
    assert reply.startswith("I couldn't read 'someday \\*soon\\*' as a date")  # no markdown
    assert len(dc.app.service.games(Actor.discord(str(CAPTAIN)))[1]) == 1


async def test_a_captain_answers_for_a_player(dc: Discord) -> None:
    await team_with_a_game(dc)
    await dc.say(CAPTAIN, "check", game="G1")
    reply = await dc.say(CAPTAIN, "answer", answer="no", game="G1", note="hurt knee",
                         player=discord.Object(ALICE))
    assert reply.startswith("alice is out for G1.")
    [alice] = [line for line in dc.board().lines if line.name == "alice"]
    assert (alice.answer, alice.note) == (Answer.NO, "hurt knee")


async def test_a_player_whose_discord_dms_are_closed_gets_email_and_the_captain_is_told(
        dc: Discord) -> None:
    await dc.say(CAPTAIN, "team", "create", name="The Alchemists", timezone="America/Toronto")
    await dc.say(CAPTAIN, "team", "add", member=discord.Object(ALICE),
                 email="alice@example.org")
    day = (dc.clock.now + timedelta(days=3)).strftime("%Y-%m-%d")
    await dc.say(CAPTAIN, "schedule", when=f"{day} 19:00", opponent="Hawks")
    dc.fake.close_dms(ALICE, code=50007)
    await dc.say(CAPTAIN, "check", game="G1")

    for _ in range(2):  # the invitations and the fallback; then the captain's alert
        await delivery_worker(dc.app, dc.config, discord_bot=dc.bot).run_once()
        dc.app.run_handlers()  # the notifier puts the failure in the captain's report
        dc.clock.advance(seconds=REPORT_HOLD.total_seconds())  # which waits for more

    assert dc.fake.dm_messages(ALICE) == []
    assert [p for p in dc.outbox.glob("*.eml") if "alice@example.org" in p.read_text()]
    alerts = [m.content for m in dc.fake.dm_messages(CAPTAIN) if "Couldn't reach" in m.content]
    assert len(alerts) == 1 and "don't take DMs from Attend" in alerts[0]
    assert "[Open the live board](<http://127.0.0.1:8000/b/" in alerts[0]
    attempts = dc.fake.requests("POST", f"/channels/{5000 + ALICE}/messages")
    assert len(attempts) == 1  # never asked again: Discord bans bots that keep trying


async def test_a_long_rate_limit_waits_for_its_end_and_the_dm_goes_out_once(
        dc: Discord) -> None:
    await team_with_a_game(dc)
    await dc.say(CAPTAIN, "check", game="G1")
    dc.fake.rate_limit("POST", "/messages", times=1, retry_after=60.0)

    await delivery_worker(dc.app, dc.config, discord_bot=dc.bot).run_once()
    assert len(dc.fake.dm_messages(CAPTAIN)) + len(dc.fake.dm_messages(ALICE)) == 0
    dc.clock.now += timedelta(seconds=61)
    await delivery_worker(dc.app, dc.config, discord_bot=dc.bot).run_once()
    await delivery_worker(dc.app, dc.config, discord_bot=dc.bot).run_once()

    assert len(dc.fake.dm_messages(CAPTAIN)) == len(dc.fake.dm_messages(ALICE)) == 1


async def test_a_slow_reply_is_deferred_then_sent(dc: Discord) -> None:
    await dc.bot.close()
    dc.bot = await signed_in(dc.app, dc.fake, reply_budget=0.0)
    callback = await dc.command(CAPTAIN, "team", "create", name="The Alchemists")

    assert callback["type"] == 5 and callback["data"]["flags"] == EPHEMERAL  # "thinking…"
    assert await eventually(lambda: dc.fake.followups(dc.last_token))
    [followup] = dc.fake.followups(dc.last_token)
    assert "you're its captain" in followup["content"]


async def test_a_command_that_fails_unexpectedly_is_said_not_left_waiting(
        dc: Discord, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    await team_with_a_game(dc)

    def out_of_reach(*args: object, **kwargs: object) -> None:
        raise ConnectionError("the database is out of reach")

    monkeypatch.setattr(dc.app.service, "games", out_of_reach)
    reply = await dc.say(CAPTAIN, "games")

    assert reply.startswith("Something went wrong on Attend's side. It may have gone through")
    assert "the Discord command /attend games failed" in caplog.text
    assert "the database is out of reach" in caplog.text  # with its traceback


async def test_a_tap_that_fails_unexpectedly_is_said_not_left_waiting(
        dc: Discord, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    await team_with_a_game(dc)
    await dc.say(CAPTAIN, "check", game="G1")
    await delivery_worker(dc.app, dc.config, discord_bot=dc.bot).run_once()
    [dm] = dc.fake.dm_messages(ALICE)

    def out_of_reach(*args: object, **kwargs: object) -> None:
        raise ConnectionError("the database is out of reach")

    monkeypatch.setattr(dc.app.service, "answer_in_check", out_of_reach)
    callback = await dc.tap(ALICE, dm, "yes")

    assert callback["type"] == 4 and callback["data"]["flags"] == EPHEMERAL
    assert callback["data"]["content"].startswith("Something went wrong on Attend's side.")
    assert "a Discord tap on yes" in caplog.text and "out of reach" in caplog.text

async def test_sync_registers_the_attend_group_with_its_team_subgroup(
        dc: Discord, fake_discord: FakeDiscord) -> None:
    names = await sync_commands(dc.app, fake_discord.token, guild=77)

    assert names == ["attend"]
    [attend] = fake_discord.commands(guild_id=77)
    subcommands = {option["name"]: option for option in attend["options"]}
    assert {"schedule", "check", "status", "board", "answer", "team"} <= set(subcommands)
    assert {o["name"] for o in subcommands["team"]["options"]} == {
        "create", "add", "remove", "roster", "captain", "reserve", "settings"}


async def test_a_refused_token_is_said_once_and_attend_runs_on(
        dc: Discord, caplog: pytest.LogCaptureFixture) -> None:
    bot = AttendBot(dc.app.service, clock=dc.clock)
    try:
        await asyncio.wait_for(keep_connected(bot, "not-the-token"), timeout=5)
    finally:
        await bot.close()
    assert "Discord refused ATTEND_DISCORD_BOT_TOKEN" in caplog.text


async def test_discord_out_of_reach_at_start_is_tried_again_until_attend_stops(
        dc: Discord, caplog: pytest.LogCaptureFixture) -> None:
    await dc.fake.stop()  # nothing listens on its port now
    bot = AttendBot(dc.app.service, clock=dc.clock)
    running = asyncio.create_task(keep_connected(bot, dc.fake.token, first_wait=0.01))
    try:
        assert await eventually(lambda: caplog.text.count("trying again") >= 2)
        assert not running.done()
    finally:
        await bot.close()
        await asyncio.wait_for(running, timeout=5)  # closing ends it


async def test_a_captain_of_two_teams_picks_one_with_the_team_option(dc: Discord) -> None:
    await team_with_a_game(dc)
    await dc.say(CAPTAIN, "team", "create", name="Night Owls")

    assert (await dc.say(CAPTAIN, "games")).startswith(
        "You're on several teams (Night Owls, The Alchemists); say which one")
    assert (await dc.say(CAPTAIN, "games", team="the alchemists")).startswith("G1 · ")
    assert (await dc.say(CAPTAIN, "status", game="G1", team="Night Owls")).startswith(
        "There's no game G1 on Night Owls's schedule.")


async def test_dms_wait_while_attend_is_not_signed_in_to_discord(dc: Discord) -> None:
    await dc.say(CAPTAIN, "team", "create", name="The Alchemists", timezone="America/Toronto")
    await dc.say(CAPTAIN, "team", "add", member=discord.Object(ALICE),
                 email="alice@example.org")
    day = (dc.clock.now + timedelta(days=3)).strftime("%Y-%m-%d")
    await dc.say(CAPTAIN, "schedule", when=f"{day} 19:00", opponent="Hawks")
    await dc.say(CAPTAIN, "check", game="G1")
    refused = Config(database_url=dc.config.database_url, secret_keys=KEYS,
                     outbox_dir=dc.outbox, discord=DiscordConfig(bot_token="a.refused.token"))
    elsewhere = bootstrap(refused.database_url, clock=dc.clock)  # attend say, no server
    try:
        assert await deliver_due(elsewhere, refused) == 2  # claimed, and put back for later
        elsewhere.run_handlers()
    finally:
        elsewhere.close()

    assert dc.fake.dm_messages(ALICE) == []
    assert not list(dc.outbox.glob("*.eml"))  # not by email, as if she had no Discord
    dc.clock.now += timedelta(minutes=1)  # past the first retry's wait
    await delivery_worker(dc.app, dc.config, discord_bot=dc.bot).run_once()
    assert len(dc.fake.dm_messages(ALICE)) == len(dc.fake.dm_messages(CAPTAIN)) == 1


async def test_attend_serve_with_discord_set_signs_in_and_sends_dms(
        fake_discord: FakeDiscord, tmp_path: Path) -> None:
    # The server is another process: it finds the stand-in through sitecustomize.
    (tmp_path / "sitecustomize.py").write_text(
        "import discord.gateway, discord.http, yarl\n"
        f"discord.http.Route.BASE = {fake_discord.base!r}\n"
        "discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = "
        f"yarl.URL({fake_discord.gateway.url!r})\n")
    port = free_loopback_port()
    env = {**os.environ, "ATTEND_DATABASE_URL": f"sqlite:///{tmp_path}/attend.db",
           "ATTEND_SECRET_KEYS": KEYS[0], "ATTEND_PORT": str(port),
           "ATTEND_DISCORD_BOT_TOKEN": "MTA0.fake.token",
           "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    fake_discord.token = env["ATTEND_DISCORD_BOT_TOKEN"]
    fake_discord.add_user(4242, "dana")
    server = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        await asyncio.to_thread(wait_for_health, f"http://127.0.0.1:{port}", server)
        captain = "cap@example.org"
        for line in ("team create The Alchemists tz America/Toronto", "team add Dana <@4242>",
                     "schedule tomorrow 19:00 vs Hawks", "check G1"):
            said = await asyncio.to_thread(subprocess.run, [
                sys.executable, "-m", "bot.cli", "say", f"/attend {line}", "--as",
                captain], env=env, capture_output=True, text=True, timeout=60)
            assert said.returncode == 0, said.stdout + said.stderr
        assert await eventually(lambda: fake_discord.dm_messages(4242),
                                           timeout=15)  # sent by the server's worker
    finally:
        server.send_signal(signal.SIGTERM)
        _, errors = await asyncio.to_thread(server.communicate, timeout=30)
    assert server.returncode == 0, errors
    [dm] = fake_discord.dm_messages(4242)
    assert dm.content.startswith("**Are you coming?**")
    assert "now keeps the Discord gateway connection" in errors  # the one process here
    assert "Discord: signed in as attend" in errors
    assert "voice will NOT be supported" not in errors  # Attend has no voice: no noise
    assert not re.search(r"(ERROR|CRITICAL) attend", errors)  # discord.py's retries aside


async def test_a_cancelled_game_takes_the_buttons_off_the_invitation(dc: Discord) -> None:
    await team_with_a_game(dc)
    await dc.say(CAPTAIN, "check", game="G1")
    await delivery_worker(dc.app, dc.config, discord_bot=dc.bot).run_once()
    [invitation] = dc.fake.dm_messages(ALICE)
    assert invitation.components  # the buttons

    await dc.say(CAPTAIN, "cancel", game="G1", reason="Field flooded")
    await delivery_worker(dc.app, dc.config, discord_bot=dc.bot).run_once()

    invitation_now, cancellation = dc.fake.dm_messages(ALICE)
    assert cancellation.content.startswith("**Cancelled.** Field flooded")
    assert invitation_now.id == invitation.id and invitation_now.edits == 1
    assert invitation_now.content == cancellation.content
    assert invitation_now.components == []


async def test_a_player_added_by_email_is_linked_to_their_discord_account(dc: Discord) -> None:
    await dc.say(CAPTAIN, "team", "create", name="The Alchemists", timezone="America/Toronto")
    await dc.say(CAPTAIN, "team", "add", name="Alice", email="alice@example.org")

    linked = await dc.say(CAPTAIN, "team", "add", member=discord.Object(ALICE),
                          email="alice@example.org")

    assert linked == "Alice is already on The Alchemists; now reached by email and Discord."
    assert (await dc.say(ALICE, "me")).startswith("Alice on The Alchemists")


@pytest.mark.parametrize("options", [
    {"name": "Bob\x00", "email": "bob@example.org"}, {"name": "Eve", "email": "eve\x00@x.org"},
    {"name": "Bob", "email": "bob@example.org", "team": "The\x1b Alchemists"}])
async def test_a_control_character_in_a_discord_option_is_refused_and_changes_nothing(
        dc: Discord, options: dict[str, str]) -> None:
    await team_with_a_game(dc)
    before = dc.app.store.last_position()
    reply = await dc.say(CAPTAIN, "team", "add", **options)
    assert "control character" in reply
    assert "\x00" not in reply and "\x1b" not in reply
    assert dc.app.store.last_position() == before
    scheduled = await dc.say(CAPTAIN, "schedule", when="sat 7pm", opponent="Ha\x00wks")
    assert "control character" in scheduled and "\x00" not in scheduled
    assert dc.app.store.last_position() == before


async def test_a_bad_address_in_the_discord_email_option_is_refused(dc: Discord) -> None:
    await dc.say(CAPTAIN, "team", "create", name="The Alchemists", timezone="America/Toronto")
    typo = await dc.say(CAPTAIN, "team", "add", name="Alice", email="alice..smith@example.org")
    assert "two periods in a row" in typo
    spaced = await dc.say(CAPTAIN, "team", "add", name="Alice", email="alice smith.example.org")
    assert "doesn't look like an email address" in spaced
    roster = await dc.say(CAPTAIN, "team", "roster")
    assert "Alice" not in roster
    assert await dc.say(CAPTAIN, "team", "add", name="José", email="josé@example.org") == \
        "Added José to The Alchemists."
