"""The season through its edges, on SQLite and PostgreSQL: ``/attend season`` and
``/attend calendar`` from the console grammar, then the links they give, fetched from the
real web app: the captain's season page and its CSV, the player's calendar feed (parsed with
``icalendar``, answered 304 while nothing changed), and friendly refusals for bad links."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer

from bot.commands import CommandRunner
from bot.links import BoardLinks, LinkSigner
from bot.web import create_web_app
from core.actors import Actor
from core.aggregates.common import Answer
from tests.e2e.conftest import CAPTAIN, KEYS, Story

Client = TestClient[web.Request, web.Application]
BASE = "https://attend.example.org"
TORONTO = ZoneInfo("America/Toronto")


@asynccontextmanager
async def served(story: Story, signer: LinkSigner | None = None) -> AsyncIterator[Client]:
    web_app = create_web_app(story.app, story.config, signer or story.signer)
    async with TestClient(TestServer(web_app)) as client:
        yield client


def runner(story: Story) -> CommandRunner:
    return CommandRunner(story.app.service, clock=story.clock,
                         boards=BoardLinks(story.signer, BASE))


def link_in(reply: str) -> str:
    """The path of the one link in a reply."""
    [url] = re.findall(r"https://\S+", reply)
    assert url.startswith(BASE)
    return urlsplit(url).path


def player(story: Story, name: str) -> Actor:
    who = story.alice if name == "alice" else story.bob
    return Actor.player(story.game.team_id, who.player_id)


def answer(story: Story, name: str, said: Answer) -> None:
    story.app.service.answer_in_check(player(story, name), story.check_id, said)


def tampered(path: str) -> str:
    token = path.split("/")[2]
    middle = len(token) // 2 + len(token) // 4  # inside the signature
    changed = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1:]
    return path.replace(token, changed)


async def text_of(response: ClientResponse) -> str:
    return html.unescape(await response.text())


# -- the season --------------------------------------------------------------------------------
async def test_a_captain_gets_the_season_in_chat_and_on_a_page_with_a_csv(story: Story) -> None:
    # Joins during the open check, so is asked too; a spreadsheet must not run the name.
    story.app.service.add_player(CAPTAIN, "=SUM(A1:A9)", email="sum@example.com")
    answer(story, "alice", Answer.YES)
    answer(story, "bob", Answer.YES)
    story.clock.advance(days=2, hours=12)  # the game is 9.5 hours away: Bob drops out late
    answer(story, "bob", Answer.NO)

    reply = runner(story).run(CAPTAIN, "/attend season")
    assert reply.ok, reply.text
    head, *lines = reply.text.splitlines()
    assert head == "The Alchemists · season · 1 game asked about"
    assert lines[0].startswith("Season page with a CSV download, yours alone")
    assert lines[2:] == [
        "Rate, then asked/in/out/maybe/no answer/late drop-outs:",
        "• =SUM(A1:A9): 0% · 1/0/0/0/1/0",
        "• Alice: 100% · 1/1/0/0/0/0",
        "• Bob: 0% · 1/0/1/0/0/1",  # out on the day: a late drop-out
        "• Cap: 0% · 1/0/0/0/1/0",
    ]
    path = link_in(reply.text)

    async with served(story) as client:
        page = await client.get(path)
        text = await text_of(page)
        assert page.status == 200, text
        rows = re.findall(r'<th scope="row">([^<]+)</th>((?:\s*<td>[^<]*</td>)+)', text)
        table = {name: re.findall(r"<td>([^<]*)</td>", cells) for name, cells in rows}
        assert table["Bob"] == ["1", "0", "1", "0", "0", "1", "0%"]
        assert table["Alice"] == ["1", "1", "0", "0", "0", "0", "100%"]
        assert table["Cap"][4] == "1"  # the captain was asked too, and hasn't answered

        download = await client.get(f"{path}/season.csv")
        assert download.status == 200
        assert download.content_type == "text/csv"
        assert download.headers["Content-Disposition"] == \
            'attachment; filename="the-alchemists-season.csv"'
        read = list(csv.reader(io.StringIO(await download.text())))
        assert read[0] == ["player", "asked", "in", "out", "maybe", "no answer",
                           "late drop-outs", "rate"]
        assert ["Bob", "1", "0", "1", "0", "0", "1", "0%"] in read
        assert ["'=SUM(A1:A9)", "1", "0", "0", "0", "1", "0", "0%"] in read

        damaged = await client.get(tampered(path))
        assert damaged.status == 400
        assert "This link doesn't work" in await text_of(damaged)


async def test_the_season_page_is_for_captains_and_its_link_expires(story: Story) -> None:
    reply = runner(story).run(Actor.player(story.game.team_id, story.alice.player_id),
                              "season")
    assert reply.ok and "https://" not in reply.text  # a player sees the table, no link
    alices = story.signer.season_token(story.game.team_id, story.alice.player_id,
                                       story.clock.now + timedelta(days=1))
    captains = link_in(runner(story).run(CAPTAIN, "season").text)
    async with served(story) as client:
        refused = await client.get(f"/s/{alices}")
        assert refused.status == 403
        assert "This season link was for a captain" in await text_of(refused)
        story.clock.advance(days=31)
        expired = await client.get(captains)
        assert expired.status == 410


# -- the calendar ------------------------------------------------------------------------------
def events(body: bytes) -> list[icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(body)
    assert isinstance(calendar, icalendar.Calendar)
    return list(calendar.walk("VEVENT"))  # type: ignore[arg-type]


async def test_a_players_calendar_feed_follows_their_answer_and_the_game(
        story: Story) -> None:
    reply = runner(story).run(Actor.player(story.game.team_id, story.alice.player_id),
                              "/attend calendar")
    assert reply.ok and "subscription" in reply.text
    path = link_in(reply.text)
    assert path.endswith("/attend.ics")
    service = story.app.service

    async with served(story) as client:
        first = await client.get(path)
        assert first.status == 200 and first.content_type == "text/calendar"
        [game] = events(await first.read())
        assert str(game["SUMMARY"]) == "vs Hawks"  # not answered yet
        assert str(game["LOCATION"]) == "Monarch Park"
        assert str(game["STATUS"]) == "CONFIRMED"
        starts = game.decoded("DTSTART")
        assert game["DTSTART"].params["TZID"] == "America/Toronto"
        assert starts == datetime(2026, 12, 1, 10, 0, tzinfo=TORONTO)
        assert starts.tzinfo is not None and str(starts.tzinfo) == "America/Toronto"
        etag, modified = first.headers["ETag"], first.headers["Last-Modified"]

        again = await client.get(path, headers={"If-None-Match": etag})
        assert again.status == 304 and await again.read() == b""
        since = await client.get(path, headers={"If-Modified-Since": modified})
        assert since.status == 304

        story.clock.advance(minutes=3)
        answer(story, "alice", Answer.YES)
        answered = await client.get(path, headers={"If-None-Match": etag,
                                                   "If-Modified-Since": modified})
        assert answered.status == 200 and answered.headers["ETag"] != etag
        assert str(events(await answered.read())[0]["SUMMARY"]) == "✅ vs Hawks"
        assert (await client.get(path, headers={"If-Modified-Since": modified})).status == 200

        story.clock.advance(minutes=3)
        service.reschedule_game(CAPTAIN, "G1", datetime(2026, 12, 2, 19, 30, tzinfo=TORONTO))
        [moved] = events(await (await client.get(path)).read())
        assert moved.decoded("DTSTART") == datetime(2026, 12, 2, 19, 30, tzinfo=TORONTO)
        assert moved["SEQUENCE"] == 1

        service.cancel_game(CAPTAIN, "G1", "pitch closed")
        [cancelled] = events(await (await client.get(path)).read())
        assert str(cancelled["STATUS"]) == "CANCELLED"
        assert cancelled["SEQUENCE"] == 2


async def test_a_tampered_or_rotated_out_calendar_link_is_refused(story: Story) -> None:
    path = link_in(runner(story).run(CAPTAIN, "calendar").text)
    async with served(story) as client:
        damaged = await client.get(tampered(path))
        assert damaged.status == 400
        assert "This link doesn't work" in await text_of(damaged)
    rotated = LinkSigner([KEYS[0], "a-newer-key-0123456789abcdef"])
    async with served(story, rotated) as client:  # the old key still verifies
        assert (await client.get(path)).status == 200
    dropped = LinkSigner(["a-newer-key-0123456789abcdef"])
    async with served(story, dropped) as client:  # the old key dropped: revoked
        refused = await client.get(path)
        assert refused.status == 400
        assert "This link doesn't work" in await text_of(refused)
        assert b"BEGIN:VCALENDAR" not in await refused.read()


async def test_a_player_who_left_the_team_loses_the_feed(story: Story) -> None:
    path = link_in(runner(story).run(Actor.player(story.game.team_id, story.bob.player_id),
                                     "calendar").text)
    story.app.service.remove_player(CAPTAIN, "Bob")
    async with served(story) as client:
        refused = await client.get(path)
        assert refused.status == 403
        assert b"BEGIN:VCALENDAR" not in await refused.read()
