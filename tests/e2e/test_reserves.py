"""Reserves end to end: asked by Slack DM or by email when the team is short, released when
it is full (the Slack DM edited without its buttons, the emailed answer page saying they are no
longer needed), and the captain told who stepped in.

Slack runs over signed requests to the web app and DMs to the local stand-in for Slack's Web
API; email goes to a local SMTP server; the scheduler runs on a fake clock.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import discord
from aiohttp.test_utils import TestClient, TestServer

from bot.config import Config
from bot.delivery import DeliveryWorker
from bot.email.channel import EmailChannel
from bot.email.smtp import SmtpMailer, SmtpSettings
from bot.links import LinkSigner
from bot.serve import delivery_worker
from bot.web import create_web_app
from core.actors import Actor
from core.aggregates.common import Answer, Channel
from core.bootstrap import bootstrap
from scheduler import Scheduler
from tests.e2e import test_discord as discord_harness
from tests.e2e import test_slack as slack_harness
from tests.e2e.test_discord import ALICE as D_ALICE
from tests.e2e.test_discord import CAPTAIN as D_CAPTAIN
from tests.e2e.test_discord import Discord
from tests.e2e.test_slack import CAPTAIN, Slack
from tests.support.clock import FakeClock
from tests.support.smtp_sink import Inbox

slack, fake_slack = slack_harness.slack, slack_harness.fake_slack  # the Slack fixtures
ALICE, DAN = "U2", "U3"  # the reserves on Slack
H = timedelta(hours=1)


async def test_slack_reserves_are_asked_one_steps_in_and_the_others_dm_loses_its_buttons(
        slack: Slack) -> None:
    await slack.say(CAPTAIN, "team create The Alchemists tz America/Toronto")
    await slack.say(CAPTAIN, "team add Bob bob@example.org")
    assert "as a reserve" in await slack.say(CAPTAIN, f"team add <@{ALICE}|alice> reserve")
    assert "as a reserve" in await slack.say(CAPTAIN, f"team add <@{DAN}|dan> reserve")
    assert "Saved." in await slack.say(CAPTAIN, "team settings min 3 reserves 24h")
    refused = await slack.say(CAPTAIN, "team add Bobby bob@example.org reserve")
    assert "A reserve who is already a player" in refused
    day = (slack.clock.now + timedelta(days=3)).strftime("%Y-%m-%d")
    await slack.say(CAPTAIN, f"schedule {day} 19:00 vs Hawks")
    captain = Actor.slack("T0001", CAPTAIN)
    starts_at = slack.app.service.status(captain, "G1").game.starts_at
    scheduler = Scheduler(slack.app.service, db=slack.app.db, runtime=slack.app.runtime,
                          clock=slack.clock)
    worker = delivery_worker(slack.app, slack.config)

    slack.clock.now = starts_at - 47 * H  # the check opens without the reserves
    scheduler.run_due()
    slack.app.run_handlers()
    await worker.run_once()
    assert slack.fake.dm(ALICE) == [] and slack.fake.dm(DAN) == []
    await slack.say(CAPTAIN, "answer yes")
    await slack.say(CAPTAIN, "answer yes for Bob")  # 2 of 3

    slack.clock.now = starts_at - 24 * H  # still short: the reserves are asked
    scheduler.run_due()
    slack.app.run_handlers()
    await worker.run_once()
    [asked] = slack.fake.dm(ALICE)
    assert asked.text is not None and asked.text.startswith(
        "The Alchemists are short for ") and asked.text.endswith("vs Hawks: can you play?")
    assert asked.blocks is not None and len(asked.blocks) == 2  # with buttons

    response = await slack.tap(DAN, "yes", slack.check_id(), "tap-dan")  # 3 of 3
    assert response.status == 200
    slack.app.run_handlers()
    await worker.run_once()

    asked_now, released = slack.fake.dm(ALICE)
    assert released.text is not None and released.text.startswith(
        "Thanks — the team is full now.")
    assert asked_now.ts == asked.ts and asked_now.updates == 1
    assert [b["type"] for b in asked_now.blocks or []] == ["section"]  # no buttons left
    told = [m.text or "" for m in slack.fake.dm(CAPTAIN)]
    assert any(t.startswith("dan stepped in for ") and t.endswith(": 3 in, 3 needed.")
               for t in told), told
    reply = await slack.say(ALICE, "answer yes")
    assert "the team is full now" in reply


def test_an_email_reserve_is_asked_by_mail_then_told_the_team_is_full(
        database_url: str, clock: FakeClock, smtp_inbox: tuple[Inbox, int],
        tmp_path: Path) -> None:
    inbox, port = smtp_inbox
    keys = ("e2e-reserves-key-0123456789abcdef",)
    base = "https://attend.example.org"
    captain = Actor.console("cap@example.org")
    app = bootstrap(database_url, clock=clock)
    try:
        service = app.service
        service.create_team(captain, "Alchemists", "America/Toronto", player_name="Cap")
        service.add_player(captain, "Ana", email="ana@example.org")
        for name in ("Ray", "Sky"):
            service.add_player(captain, name, email=f"{name.lower()}@example.org", reserve=True)
        service.change_settings(captain, min_players=2, reserve_minutes=24 * 60)
        starts_at = clock.now + timedelta(days=3)
        service.schedule_game(captain, starts_at, opponent="Hawks")
        signer = LinkSigner(keys)
        mailer = SmtpMailer(SmtpSettings(host="127.0.0.1", port=port, starttls=False,
                                         timeout=5.0, local_hostname="localhost"))
        channel = EmailChannel(mailer, signer, base_url=base,
                               sender="Attend <attend@example.org>", clock=clock)
        worker = DeliveryWorker(app.db, app.router, {Channel.EMAIL: channel}, clock=clock)
        scheduler = Scheduler(service, db=app.db, runtime=app.runtime, clock=clock)

        def run(at: timedelta) -> None:
            clock.now = starts_at - at
            scheduler.run_due()
            app.run_handlers()
            asyncio.run(worker.run_once())

        run(47 * H)
        assert sorted(to for (to,), _ in inbox.mails) == ["ana@example.org", "cap@example.org"]
        run(24 * H)  # nobody said yes: the reserves are asked
        asks = {to: m for (to,), m in inbox.mails if "are short" in m["Subject"]}
        assert sorted(asks) == ["ray@example.org", "sky@example.org"]
        body = asks["sky@example.org"].get_body(preferencelist=("plain",))
        assert isinstance(body, EmailMessage)
        assert "Alchemists are short for" in body.get_content()
        sky_link = next(w for w in body.get_content().split() if w.startswith(f"{base}/r/"))

        service.answer(Actor.console("ray@example.org"), Answer.YES)
        service.answer(captain, Answer.YES)  # 2 of 2: Sky is released
        run(23 * H)
        released = [to for (to,), m in inbox.mails if "Not needed" in m["Subject"]]
        assert released == ["sky@example.org"]
        stepped = [to for (to,), m in inbox.mails if "Ray stepped in" in m["Subject"]]
        assert stepped == ["cap@example.org"]

        async def open_link() -> tuple[int, str]:
            config = Config(database_url=database_url, secret_keys=keys,
                            outbox_dir=tmp_path / "outbox")
            client = TestClient(TestServer(create_web_app(app, config, signer),
                                           host="127.0.0.1"))
            await client.start_server()
            try:
                split = urlsplit(sky_link)
                page = await client.get(f"{split.path}?{split.query}")
                return page.status, await page.text()
            finally:
                await client.close()

        status, page = asyncio.run(open_link())
        assert status == 410
        assert "No longer needed" in page and "full now" in page
    finally:
        app.close()


# -- Discord: the typed option, the DM and its edit -------------------------------------------
dc, fake_discord = discord_harness.dc, discord_harness.fake_discord  # the Discord fixtures
DANA = 13


async def test_discord_reserves_by_typed_option_asked_by_dm_and_released_by_an_edit(
        dc: Discord) -> None:
    dc.fake.add_user(DANA, "dana")
    await dc.say(D_CAPTAIN, "team", "create", name="The Alchemists", timezone="America/Toronto")
    for who in (D_ALICE, DANA):
        added = await dc.say(D_CAPTAIN, "team", "add", member=discord.Object(who), reserve=True)
        assert added.endswith("as a reserve: asked only when a game is short (see reserves in "
                              "/attend team settings).")
    assert "alice (reserve)" in await dc.say(D_CAPTAIN, "team", "roster")
    await dc.say(D_CAPTAIN, "team", "settings", changes="min 2 reserves 24h")
    day = (dc.clock.now + timedelta(days=3)).strftime("%Y-%m-%d")
    await dc.say(D_CAPTAIN, "schedule", when=f"{day} 19:00", opponent="Hawks")
    captain = Actor.discord(str(D_CAPTAIN))
    starts_at = dc.app.service.status(captain, "G1").game.starts_at
    scheduler = Scheduler(dc.app.service, db=dc.app.db, runtime=dc.app.runtime, clock=dc.clock)

    async def run(before: timedelta) -> None:
        dc.clock.now = starts_at - before
        scheduler.run_due()
        dc.app.run_handlers()
        await delivery_worker(dc.app, dc.config, discord_bot=dc.bot).run_once()

    await run(47 * H)
    assert dc.fake.dm_messages(D_ALICE) == []  # the check opened without the reserves
    await dc.say(D_CAPTAIN, "answer", answer="yes")  # 1 of 2
    await run(24 * H)
    [asked] = dc.fake.dm_messages(D_ALICE)
    assert asked.content.startswith("**The Alchemists are short for ")
    assert asked.content.split("\n")[0].endswith("vs Hawks: can you play?**")
    assert asked.components  # the buttons
    [dana_asked] = dc.fake.dm_messages(DANA)

    await dc.tap(DANA, dana_asked, "yes")  # 2 of 2: Alice is released
    dc.app.run_handlers()
    await delivery_worker(dc.app, dc.config, discord_bot=dc.bot).run_once()

    asked_now, released = dc.fake.dm_messages(D_ALICE)
    assert released.content.startswith("**Thanks — the team is full now.**")
    assert asked_now.id == asked.id and asked_now.edits == 1
    assert asked_now.components == []
    told = [m.content for m in dc.fake.dm_messages(D_CAPTAIN)]
    assert any(t.startswith("**dana stepped in**") for t in told), told
