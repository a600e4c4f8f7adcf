"""End-to-end fixtures: a team's story told through the service, the web app served for real,
and a headless Chromium (Debian's, through Playwright; never a downloaded one).

Set ``ATTEND_TEST_BROWSER`` to another Chromium binary if needed. With
``ATTEND_TEST_REQUIRE_ALL=1`` (as in CI) a missing browser fails the browser tests instead
of skipping them.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web

from bot.config import Config
from bot.links import LinkSigner
from bot.web import create_web_app
from core.actors import Actor
from core.bootstrap import App, bootstrap
from core.projections.board import BoardView
from core.projections.roster import PlayerView
from core.projections.schedule import GameView
from tests.support.clock import FakeClock
from tests.support.databases import REQUIRE_ALL

if TYPE_CHECKING:
    from playwright.sync_api import Browser

BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-quic"]
KEYS = ("e2e-signing-key-0123456789abcdef",)
CAPTAIN = Actor.console("cap@example.com")
LINK_LIFETIME = timedelta(hours=6)  # answer links work until six hours after the start


@dataclass
class Story:
    """The Alchemists (Toronto) play the Hawks at Monarch Park; a check asks Cap, Alice, Bob."""

    app: App
    config: Config
    signer: LinkSigner
    clock: FakeClock
    game: GameView
    alice: PlayerView
    bob: PlayerView
    outbox_dir: Path

    @property
    def check_id(self) -> str:
        assert self.game.check_id is not None
        return self.game.check_id

    @property
    def expires_at(self) -> datetime:
        return self.game.starts_at + LINK_LIFETIME

    def answer_url(self, player: PlayerView, query: str = "") -> str:
        token = self.signer.answer_token(self.check_id, player.player_id, self.expires_at)
        return f"/r/{token}{query}"

    def board_url(self) -> str:
        captain = self.app.service.context(CAPTAIN).player
        token = self.signer.board_token(self.game.game_id, self.game.team_id,
                                        captain.player_id, self.expires_at)
        return f"/b/{token}"

    def unsubscribe_url(self, player: PlayerView) -> str:
        return f"/u/{self.signer.unsubscribe_token(self.game.team_id, player.player_id)}"

    def board(self) -> BoardView:
        status = self.app.service.board_for_game(self.game.game_id)
        assert status is not None and status.board is not None
        return status.board

    def web_app(self, **options: Any) -> web.Application:
        return create_web_app(self.app, self.config, self.signer, **options)


def tell_story(database_url: str, directory: Path) -> Story:
    clock = FakeClock()
    config = Config(database_url=database_url, secret_keys=KEYS,
                    outbox_dir=directory / "outbox")
    app = bootstrap(config.database_url, clock=clock, background=False)
    try:
        service = app.service
        service.create_team(CAPTAIN, "The Alchemists", "America/Toronto")
        alice = service.add_player(CAPTAIN, "Alice", email="alice@example.com")
        bob = service.add_player(CAPTAIN, "Bob", email="bob@example.com")
        # Tue Dec 1, 10:00 AM EST in Toronto.
        service.schedule_game(CAPTAIN, clock.now + timedelta(days=3), opponent="Hawks",
                              location="Monarch Park")
        game = service.start_check(CAPTAIN, "G1").game
    except BaseException:
        app.close()
        raise
    return Story(app=app, config=config, signer=LinkSigner(KEYS), clock=clock, game=game,
                 alice=alice, bob=bob, outbox_dir=config.outbox_dir)


@pytest.fixture
def story(database_url: str, tmp_path: Path) -> Iterator[Story]:
    """The story on each database backend."""
    told = tell_story(database_url, tmp_path)
    yield told
    told.app.close()


@pytest.fixture
def sqlite_story(tmp_path: Path) -> Iterator[Story]:
    told = tell_story(f"sqlite:///{tmp_path}/attend.db", tmp_path)
    yield told
    told.app.close()


class LiveServer:
    """The web app on 127.0.0.1 at a free port, served by its own event loop in a thread."""

    def __init__(self, web_app: web.Application) -> None:
        self._web_app = web_app
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="live-server",
                                        daemon=True)
        self._runner: web.AppRunner | None = None
        self.url = ""

    def start(self) -> None:
        self._thread.start()
        self.url = asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(10)

    async def _serve(self) -> str:
        self._runner = web.AppRunner(self._web_app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()  # the OS picks a free port
        port = self._runner.addresses[0][1]
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@pytest.fixture
def live_server(sqlite_story: Story) -> Iterator[LiveServer]:
    server = LiveServer(sqlite_story.web_app())
    server.start()
    yield server
    server.stop()


def _unavailable(reason: str) -> None:
    if REQUIRE_ALL:
        pytest.fail(f"ATTEND_TEST_REQUIRE_ALL=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """A headless Chromium for one test module (see scripts/install-browser)."""
    executable = os.environ.get("ATTEND_TEST_BROWSER", "/usr/bin/chromium")
    if not os.access(executable, os.X_OK):
        _unavailable(f"no browser at {executable} (run scripts/install-browser, or set "
                     "ATTEND_TEST_BROWSER)")
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[dev]')")
        raise  # unreachable: the line above fails or skips
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=executable,
                                                  args=BROWSER_ARGS)
        except Error as error:
            _unavailable(f"{executable} does not start under Playwright: {error}")
            raise
        yield launched
        launched.close()

