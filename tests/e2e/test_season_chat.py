"""``/attend season`` and ``/attend calendar`` from Slack (the same grammar, through
slack-bolt and signed requests) and Discord (typed sub-commands, through discord.py against
the local stand-in), on SQLite and PostgreSQL; the links they give open in the web app."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import icalendar
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.links import BoardLinks, LinkSigner
from bot.web import create_web_app
from tests.e2e import test_discord as discord_harness
from tests.e2e import test_slack as slack_harness
from tests.e2e.test_discord import Discord, signed_in
from tests.e2e.test_slack import Slack
from tests.support.waiting import eventually

dc, fake_discord = discord_harness.dc, discord_harness.fake_discord  # the fixtures
slack, fake_slack = slack_harness.slack, slack_harness.fake_slack
BASE = "https://attend.example.org"


def path_in(reply: str) -> str:
    [url] = re.findall(rf"{BASE}(/\S+)", reply)
    return url


def summaries(body: bytes) -> list[str]:
    calendar = icalendar.Calendar.from_ical(body)
    assert isinstance(calendar, icalendar.Calendar)
    return [str(event["SUMMARY"]) for event in calendar.walk("VEVENT")]


async def test_the_season_and_a_calendar_from_slack(slack: Slack) -> None:
    await slack_harness.team_with_a_game(slack)
    await slack.say(slack_harness.CAPTAIN, "check G1")
    await slack.tap(slack_harness.ALICE, "yes", slack.check_id(), respond_to="alice")
    assert await eventually(lambda: slack.fake.responses("alice"))  # the board has it

    season = await slack.say(slack_harness.CAPTAIN, "season")
    assert season.startswith("The Alchemists · season · 1 game asked about")
    assert "\n• alice: 100% · 1/1/0/0/0/0\n" in season
    page = await slack.client.get(path_in(season))
    assert page.status == 200 and "alice" in await page.text()
    for_alice = await slack.say(slack_harness.ALICE, "season")
    assert "\n• Bob: 0% · 1/0/0/0/1/0\n" in for_alice
    assert BASE not in for_alice  # no page for players

    calendar = await slack.say(slack_harness.ALICE, "calendar")
    assert calendar.startswith("Your calendar of The Alchemists's games")
    feed = await slack.client.get(path_in(calendar))
    assert feed.status == 200 and feed.content_type == "text/calendar"
    assert summaries(await feed.read()) == ["✅ vs Hawks"]
    assert (await slack.say(slack_harness.ALICE, "season now")).startswith(
        "I didn't expect 'now' after season.")


@asynccontextmanager
async def web_of(dc: Discord) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with TestClient(TestServer(create_web_app(
            dc.app, dc.config, LinkSigner(discord_harness.KEYS)))) as client:
        yield client


async def test_the_season_and_a_calendar_from_discord(dc: Discord) -> None:
    await dc.bot.close()
    dc.bot = await signed_in(dc.app, dc.fake, boards=BoardLinks(
        LinkSigner(discord_harness.KEYS), BASE))
    await discord_harness.team_with_a_game(dc)
    await dc.say(discord_harness.CAPTAIN, "check", game="G1")
    await dc.say(discord_harness.ALICE, "answer", answer="maybe", game="G1")

    season = await dc.say(discord_harness.CAPTAIN, "season")
    assert "\n• alice: 0% · 1/0/0/1/0/0\n" in season
    calendar = await dc.say(discord_harness.ALICE, "calendar", team="The Alchemists")
    assert "\\" not in path_in(calendar)  # Discord's escaping leaves the link whole
    async with web_of(dc) as client:
        page = await client.get(path_in(season))
        assert page.status == 200 and "casey" in await page.text()
        feed = await client.get(path_in(calendar))
        assert feed.status == 200
        assert summaries(await feed.read()) == ["❔ vs Hawks"]
        cached = await client.get(path_in(calendar),
                                  headers={"If-None-Match": feed.headers["ETag"]})
        assert cached.status == 304
