"""The answer page in a real headless Chromium, served by the real aiohttp server.

Few and fast on purpose: the page-by-page behaviour is covered by test_web_pages.py; these
check what only a browser shows (a working form, the layout on a phone).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from core.aggregates.common import Answer
from tests.e2e.conftest import LiveServer, Story

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ViewportSize

pytestmark = pytest.mark.browser
PHONE: ViewportSize = {"width": 390, "height": 844}


def test_a_player_answers_yes_from_the_email_link(
        browser: Browser, live_server: LiveServer, sqlite_story: Story) -> None:
    page = browser.new_page()
    try:
        opened = page.goto(live_server.url + sqlite_story.answer_url(sqlite_story.alice, "?a=yes"))
        assert opened is not None and opened.status == 200
        main = page.locator("main")
        assert "Answer Yes for the game against Hawks?" in main.inner_text()
        assert "Tue Dec 1, 10:00 AM EST" in main.inner_text()
        assert "Monarch Park" in main.inner_text()

        page.get_by_label("Note for the captain").fill("bringing the ball")
        page.get_by_role("button", name="Yes, I'm in").click()
        page.get_by_role("heading", name="You're in").wait_for()
        counts = page.get_by_role("list", name="Answers so far").inner_text()
        assert "1\nin" in counts and "2\nno answer" in counts
        assert page.get_by_text("Changed your mind? Pick again").is_visible()
    finally:
        page.close()
    alice = next(ln for ln in sqlite_story.board().lines
                 if ln.player_id == sqlite_story.alice.player_id)
    assert (alice.answer, alice.note) == (Answer.YES, "bringing the ball")


def test_a_damaged_link_shows_a_friendly_page(
        browser: Browser, live_server: LiveServer, sqlite_story: Story) -> None:
    page = browser.new_page()
    try:
        opened = page.goto(live_server.url + sqlite_story.answer_url(sqlite_story.alice)[:-4])
        assert opened is not None and opened.status == 400
        assert page.get_by_role("heading", name="This link doesn't work").is_visible()
        assert "Traceback" not in page.content()
    finally:
        page.close()


def test_the_buttons_fit_a_phone_screen(
        browser: Browser, live_server: LiveServer, sqlite_story: Story,
        tmp_path: Path) -> None:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                  has_touch=True)
    try:
        page = context.new_page()
        page.goto(live_server.url + sqlite_story.answer_url(sqlite_story.bob))
        for name in ("Yes, I'm in", "No, I can't", "Maybe"):
            box = page.get_by_role("button", name=name).bounding_box()
            assert box is not None, f"{name} is not shown"
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
            assert box["height"] >= 44  # a comfortable tap target
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], "the page scrolls sideways on a phone"
        shot = tmp_path / "answer-page-phone.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 1000
    finally:
        context.close()
