"""The web pages through aiohttp's test client, on SQLite and PostgreSQL.

A link fetched (GET or HEAD) changes nothing; only the page's POST records. Refused links
get friendly pages with distinct statuses: 400 damaged, 410 expired, 403 withdrawn,
409 game closed, 429 too many answers.
"""

from __future__ import annotations

import dataclasses
import html
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.config import SmtpConfig
from bot.email.models import GameEmail, GameEmailKind
from bot.email.outbox import OutboxMailer
from bot.email.render import build_message
from core.aggregates.common import Answer, AnswerSource
from core.eventstore.database import Database
from core.projections.board import BoardLine
from core.projections.roster import PlayerView
from tests.e2e.conftest import CAPTAIN, Story

Client = TestClient[web.Request, web.Application]
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@asynccontextmanager
async def served(story: Story, **options: Any) -> AsyncIterator[Client]:
    async with TestClient(TestServer(story.web_app(**options))) as client:
        yield client


async def body(response: aiohttp.ClientResponse) -> str:
    """The page as a reader sees it: entities such as &#39; turned back into characters."""
    return html.unescape(await response.text())


def line(story: Story, player: PlayerView) -> BoardLine:
    return next(ln for ln in story.board().lines if ln.player_id == player.player_id)


def count(text: str, label: str) -> int:
    found = re.search(rf'<span class="number">(\d+)</span> {label}</li>', text)
    assert found is not None, f"no {label!r} count on the page"
    return int(found.group(1))


def tampered(url: str) -> str:
    # Change a character in the middle of the token: the last character of a base64
    # signature carries unused bits, so changing it may leave the signature valid.
    middle = len(url) - 30
    return url[:middle] + ("A" if url[middle] != "A" else "B") + url[middle + 1:]


async def test_opening_a_link_shows_the_game_and_changes_nothing(story: Story) -> None:
    before = story.board()
    async with served(story) as client:
        page = await client.get(story.answer_url(story.alice))
        text = await body(page)
        assert page.status == 200
        for shown in ("The Alchemists", "against Hawks", "Monarch Park",
                      "Tue Dec 1, 10:00 AM EST", "You haven't answered yet",
                      '<form method="post"', 'name="note"', '<label for="note">'):
            assert shown in text
        assert page.headers["Referrer-Policy"] == "no-referrer"  # the token stays here
        assert page.headers["Cache-Control"] == "no-store"

        head = await client.head(story.answer_url(story.alice, "?a=yes"))
        assert head.status == 200
        picked = await body(await client.get(story.answer_url(story.alice, "?a=yes")))
        assert "Answer <em>Yes</em>" in picked
        assert "choice yes picked" in picked and "choice no picked" not in picked
        odd = await client.get(story.answer_url(story.alice, "?a=<script>"))
        assert odd.status == 200 and "picked" not in await odd.text()
    assert story.board() == before


async def test_posting_records_the_answer_and_shows_the_counts(
        story: Story, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.web")
    url = story.answer_url(story.alice)
    async with served(story) as client:
        page = await client.post(url, data={"answer": "yes", "note": " bringing the ball "},
                                 headers={"User-Agent": "PhoneMail/1.0"})
        text = await body(page)
        assert page.status == 200
        assert "You're in" in text and "Changed your mind? Pick again" in text
        assert (count(text, "in"), count(text, "out"), count(text, "maybe"),
                count(text, "no answer")) == (1, 0, 0, 2)
        assert "bringing the ball" in text
    recorded = line(story, story.alice)
    assert (recorded.answer, recorded.note, recorded.source) == (
        Answer.YES, "bringing the ball", AnswerSource.EMAIL)
    assert any("PhoneMail/1.0" in r.getMessage() for r in caplog.records)


async def test_answering_again_is_idempotent_and_a_change_is_kept(story: Story) -> None:
    url = story.answer_url(story.alice)
    async with served(story) as client:
        for _ in range(2):
            again = await client.post(url, data={"answer": "maybe"})
            assert again.status == 200 and "You're a maybe" in await body(again)
        assert len(story.board().history) == 1
        changed = await client.post(url, data={"answer": "no"})
        text = await body(changed)
        assert "You're out" in text and count(text, "out") == 1 and count(text, "maybe") == 0
    assert [c.answer for c in story.board().history] == [Answer.MAYBE, Answer.NO]


async def test_a_bad_answer_or_note_is_refused_with_the_form_again(story: Story) -> None:
    url = story.answer_url(story.alice)
    async with served(story) as client:
        for form in ({"answer": "definitely"}, {}, {"answer": "YES"}):
            page = await client.post(url, data=form)
            text = await body(page)
            assert page.status == 400
            assert "Pick Yes, No or Maybe" in text and '<form method="post"' in text
        long_note = await client.post(url, data={"answer": "yes", "note": "x" * 201})
        assert long_note.status == 400 and "keep it to 200" in await body(long_note)
    assert story.board().history == ()


async def test_damaged_and_expired_links_get_friendly_pages(story: Story) -> None:
    url = story.answer_url(story.alice)
    async with served(story) as client:
        for method in ("GET", "HEAD", "POST"):
            page = await client.request(method, tampered(url), data={"answer": "yes"})
            assert page.status == 400
        text = await body(await client.get(tampered(url)))
        assert "This link doesn't work" in text and "Traceback" not in text
        # A board token is signed for another purpose: it never opens an answer page.
        board_token = story.board_url().removeprefix("/b/")
        assert (await client.get(f"/r/{board_token}")).status == 400

        story.clock.now = story.expires_at
        expired = await client.get(url)
        assert expired.status == 410 and "expired" in await expired.text()
        assert (await client.post(url, data={"answer": "yes"})).status == 410
    assert story.board().history == ()


async def test_a_player_who_left_finds_the_invitation_withdrawn(story: Story) -> None:
    await_remove = story.app.service.remove_player(CAPTAIN, "Bob")
    assert await_remove.name == "Bob"
    url = story.answer_url(story.bob)
    async with served(story) as client:
        page = await client.get(url)
        assert page.status == 403 and "withdrawn" in await page.text()
        assert (await client.post(url, data={"answer": "yes"})).status == 403
    assert all(c.player_id != story.bob.player_id for c in story.board().history)


async def test_a_cancelled_game_says_answers_are_closed(story: Story) -> None:
    story.app.service.cancel_game(CAPTAIN, "G1", reason="field flooded")
    url = story.answer_url(story.alice)
    async with served(story) as client:
        page = await client.get(url)
        text = await body(page)
        assert page.status == 409
        assert "This game was cancelled (field flooded)" in text
        assert '<form method="post"' not in text
        posted = await client.post(url, data={"answer": "yes"})
        assert posted.status == 409 and "cancelled" in await posted.text()
    assert story.board().history == ()


async def test_too_many_answers_from_one_link_are_slowed_down(story: Story) -> None:
    url = story.answer_url(story.alice)
    async with served(story, answer_posts_per_minute=3) as client:
        for answer in ("yes", "no", "yes"):
            assert (await client.post(url, data={"answer": answer})).status == 200
        refused = await client.post(url, data={"answer": "maybe"})
        assert refused.status == 429 and int(refused.headers["Retry-After"]) > 0
        # The limit is per link: Bob is not held up by Alice.
        bob = await client.post(story.answer_url(story.bob), data={"answer": "yes"})
        assert bob.status == 200
    assert line(story, story.alice).answer is Answer.YES


def unsubscribed(story: Story, player: PlayerView) -> bool:
    _, players = story.app.service.roster(CAPTAIN)
    return next(p for p in players if p.player_id == player.player_id).email_unsubscribed


async def test_one_click_unsubscribe_stops_emails_for_the_team(story: Story) -> None:
    url = story.unsubscribe_url(story.alice)
    async with served(story) as client:
        confirm = await client.get(url)
        assert confirm.status == 200 and "Stop emails from The Alchemists?" in await body(confirm)
        assert (await client.head(url)).status == 200
        assert not unsubscribed(story, story.alice)

        assert (await client.post(url, data={})).status == 400  # not a one-click request
        done = await client.post(url, data=ONE_CLICK)  # as a mail client sends it
        assert done.status == 200
        assert "won't get emails for The Alchemists" in await body(done)
        assert unsubscribed(story, story.alice)
        assert (await client.post(url, data=ONE_CLICK)).status == 200  # idempotent

        # RFC 8058 allows multipart/form-data too.
        multipart = aiohttp.FormData(ONE_CLICK, default_to_multipart=True)
        bob = await client.post(story.unsubscribe_url(story.bob), data=multipart)
        assert bob.status == 200
        assert (await client.get(tampered(url))).status == 400
    assert unsubscribed(story, story.bob)


async def test_the_captains_board_shows_everyone(story: Story) -> None:
    story.app.service.answer_by_link(story.check_id, story.alice.player_id, Answer.YES,
                                     "bringing <the> ball")
    async with served(story) as client:
        page = await client.get(story.board_url())
        text = await page.text()  # raw: the note must arrive escaped
        assert page.status == 200
        for shown in ("Alice", "Bob", "Cap", "bringing &lt;the&gt; ball", "via email",
                      '<meta http-equiv="refresh" content="15">'):
            assert shown in text
        assert re.search(r"Not answered yet</h2>\s*<p>Cap, Bob</p>", text)
        counts = await client.get(story.board_url() + "/counts.json")
        assert await counts.json() == {"game": "G1", "status": "scheduled", "check": True,
                                       "in": 1, "out": 0, "maybe": 0, "no_answer": 2,
                                       "waitlist": 0, "open": True}
        assert (await client.get(tampered(story.board_url()))).status == 400
        answer_token = story.answer_url(story.alice).removeprefix("/r/")
        assert (await client.get(f"/b/{answer_token}")).status == 400

        # The link was for Cap as captain: it stops working once Cap steps down.
        board_url = story.board_url()
        story.app.service.appoint_captain(CAPTAIN, "Alice")
        story.app.service.relieve_captain(CAPTAIN, "Cap")
        assert (await client.get(board_url)).status == 403


async def test_both_pages_say_when_answers_close_until_the_deadline_is_cleared(
        story: Story) -> None:
    shown = "Answers close <strong>Mon Nov 30, 6:00 PM EST</strong>."
    async with served(story) as client:
        assert "Answers close" not in await body(await client.get(story.answer_url(
            story.alice)))
        story.app.service.set_deadline(CAPTAIN, "G1", datetime(2026, 11, 30, 23, tzinfo=UTC))
        for url in (story.answer_url(story.alice), story.board_url()):
            assert shown in await body(await client.get(url))
        story.app.service.clear_deadline(CAPTAIN, "G1")
        for url in (story.answer_url(story.alice), story.board_url()):
            assert "Answers close" not in await body(await client.get(url))


async def test_healthz_reports_the_database(story: Story) -> None:
    async with served(story) as client:
        ok = await client.get("/healthz")
        assert ok.status == 200 and await ok.json() == {"status": "ok", "database": "ok"}
    broken_url = ("sqlite:////nonexistent-attend-dir/attend.db" if story.app.db.is_sqlite
                  else "postgresql+psycopg://postgres@127.0.0.1:1/attend")
    broken = dataclasses.replace(story.app, db=Database(broken_url))
    try:
        async with TestClient(TestServer(
                dataclasses.replace(story, app=broken).web_app())) as client:
            down = await client.get("/healthz")
            body = await down.json()
            assert down.status == 503
            assert body["status"] == "error" and "OperationalError" in body["database"]
    finally:
        broken.db.dispose()


async def test_the_local_outbox_lists_and_shows_messages(story: Story) -> None:
    model = GameEmail(
        kind=GameEmailKind.INVITATION, to_address="alice@example.com", to_name="Alice",
        team_name="The Alchemists", opponent="Hawks", location="Monarch Park",
        local_when="Tue Dec 1, 10:00 AM EST", current_answer=None,
        answer_urls={"yes": "http://127.0.0.1:8000" + story.answer_url(story.alice, "?a=yes")},
        unsubscribe_url="http://127.0.0.1:8000" + story.unsubscribe_url(story.alice))
    message = build_message(model, sender="Attend <attend@example.org>",
                            message_domain="example.org",
                            date=datetime(2026, 11, 28, 15, 0, tzinfo=UTC))
    await OutboxMailer(story.outbox_dir).send(message)
    async with served(story) as client:
        home = await (await client.get("/")).text()
        assert 'href="/outbox"' in home
        listing = await client.get("/outbox")
        text = await listing.text()
        assert listing.status == 200
        assert "Tue Dec 1, 10:00 AM EST vs Hawks" in text and "alice@example.com" in text
        found = re.search(r'href="(/outbox/[^"]+\.eml)"', text)
        assert found is not None
        shown = await client.get(found.group(1))
        mail = await shown.text()
        assert shown.status == 200
        assert '<iframe class="mail" title="The message as HTML" sandbox srcdoc="&lt;' in mail
        assert f'<a href="http://127.0.0.1:8000{story.answer_url(story.alice)}' in mail
        assert (await client.get("/outbox/..%2Fattend.db")).status == 404
        assert (await client.get("/outbox/nothing.eml")).status == 404

    smtp = SmtpConfig(host="smtp.example.org", port=587, starttls=True, use_tls=False,
                      username=None, password=None)
    with_smtp = dataclasses.replace(story, config=dataclasses.replace(story.config, smtp=smtp))
    async with TestClient(TestServer(with_smtp.web_app())) as c:
        assert (await c.get("/outbox")).status == 404
        assert 'href="/outbox"' not in await (await c.get("/")).text()


@pytest.mark.parametrize(("host", "public", "served"), [
    ("0.0.0.0", False, False), ("192.0.2.10", False, False), ("0.0.0.0", True, True),
    ("::1", False, True)])
async def test_the_outbox_stays_private_unless_said_otherwise(
        story: Story, host: str, public: bool, served: bool) -> None:
    config = dataclasses.replace(story.config, host=host, outbox_public=public)
    async with TestClient(TestServer(dataclasses.replace(story, config=config).web_app())) as c:
        assert ((await c.get("/outbox")).status == 200) is served
        assert ('href="/outbox"' in await (await c.get("/")).text()) is served


async def test_unknown_pages_and_crashes_get_friendly_pages(
        story: Story, caplog: pytest.LogCaptureFixture) -> None:
    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("secret internals")

    async with served(story, extra_routes=[web.get("/boom", boom)]) as client:
        missing = await client.get("/nope")
        assert missing.status == 404 and "There's no page here" in await body(missing)
        wrong = await client.put(story.answer_url(story.alice))
        assert wrong.status == 405 and "POST" in wrong.headers["Allow"]
        crash = await client.get("/boom")
        text = await body(crash)
        assert crash.status == 500 and "Something went wrong on our side" in text
        assert "secret internals" not in text and "Traceback" not in text
    assert any(r.exc_info and "secret internals" in str(r.exc_info[1])
               for r in caplog.records)
