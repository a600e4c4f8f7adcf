"""The season in a real headless Chromium: a player's calendar link downloads a feed that
``icalendar`` reads, and the captain's season page shows the table and downloads its CSV."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import icalendar
import pytest

from core.actors import Actor
from core.aggregates.common import Answer
from tests.e2e.conftest import CAPTAIN, LiveServer, Story

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Download, Page

pytestmark = pytest.mark.browser


def download(page: Page, url: str) -> Download:
    """Open ``url``, which the browser downloads rather than shows."""
    from playwright.sync_api import Error

    with page.expect_download() as started:
        try:
            page.goto(url)
        except Error as error:  # navigation ends where the download starts
            assert "Download is starting" in str(error)
    return started.value


def test_a_calendar_link_downloads_a_feed_a_calendar_reads(
        browser: Browser, live_server: LiveServer, sqlite_story: Story,
        tmp_path: Path) -> None:
    story = sqlite_story
    story.app.service.answer_in_check(Actor.player(story.game.team_id, story.alice.player_id),
                                      story.check_id, Answer.YES)
    token = story.signer.calendar_token(story.game.team_id, story.alice.player_id)
    context = browser.new_context(accept_downloads=True)
    try:
        got = download(context.new_page(), f"{live_server.url}/c/{token}/attend.ics")
        assert got.suggested_filename == "attend.ics"
        saved = tmp_path / "attend.ics"
        got.save_as(saved)
    finally:
        context.close()
    calendar = icalendar.Calendar.from_ical(saved.read_bytes())
    assert isinstance(calendar, icalendar.Calendar)
    [game] = calendar.walk("VEVENT")
    assert str(game["SUMMARY"]) == "✅ vs Hawks"
    assert game["DTSTART"].params["TZID"] == "America/Toronto"
    assert game.decoded("DTSTART").strftime("%Y-%m-%d %H:%M") == "2026-12-01 10:00"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["America/Toronto"]
    # Calendar apps that read it poll hourly; Google and Apple read these two.
    assert calendar.to_ical().count(b"PT1H") == 2


def test_the_season_page_shows_the_table_and_downloads_the_csv(
        browser: Browser, live_server: LiveServer, sqlite_story: Story) -> None:
    story = sqlite_story
    service = story.app.service
    captain = service.context(CAPTAIN).player
    service.answer_in_check(Actor.player(story.game.team_id, story.bob.player_id),
                            story.check_id, Answer.NO)
    token = story.signer.season_token(story.game.team_id, captain.player_id,
                                      story.clock.now + timedelta(days=1))
    context = browser.new_context(accept_downloads=True)
    try:
        page = context.new_page()
        opened = page.goto(f"{live_server.url}/s/{token}")
        assert opened is not None and opened.status == 200
        bob = page.get_by_role("row", name="Bob").inner_text().split()
        assert bob == ["Bob", "1", "0", "1", "0", "0", "0", "0%"]
        with page.expect_download() as started:
            page.get_by_role("link", name="Download the table (CSV)").click()
        csv = Path(started.value.path()).read_text(encoding="utf-8")
    finally:
        context.close()
    assert started.value.suggested_filename == "the-alchemists-season.csv"
    assert "Bob,1,0,1,0,0,0,0%" in csv.splitlines()
