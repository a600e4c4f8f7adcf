"""Slack's App Home end to end: signed Events API requests over real HTTP to the web app (and
Socket Mode envelopes), and Homes published over real HTTP to the local stand-in for Slack's
Web API (``views.publish`` in ``tests/support/slack_api.py``).

The captain (U1) and Alice (U2, also alice@example.org) are in workspace T0001; Bob has
only an email address; U9 is on no team.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.config import Config, SlackConfig
from bot.links import BoardLinks, LinkSigner
from bot.slack.app import routes, slack_app, slack_home, socket_mode
from bot.slack.home import HomeChanges, HomeViews, home_refresher
from bot.slack.home.refresh import HomeRefresher
from bot.web import create_web_app
from core.actors import Actor
from core.aggregates.common import Answer
from core.bootstrap import App, bootstrap
from tests.support.clock import FakeClock
from tests.support.slack_api import SECRET, FakeSlack, signed
from tests.support.smtp_sink import free_loopback_port
from tests.support.waiting import eventually, wait_for_health

KEYS = ("e2e-slack-home-key-0123456789abcd",)
WORKSPACE = "T0001"
CAPTAIN, ALICE, STRANGER = "U1", "U2", "U9"
BASE = "https://attend.example.org"


@dataclass
class Home:
    app: App
    fake: FakeSlack
    client: TestClient[Any, Any]
    clock: FakeClock
    signer: LinkSigner
    changes: HomeChanges
    refresher: HomeRefresher
    refreshing: asyncio.Task[None]

    async def post(self, body: str, *, secret: str = SECRET, json_body: bool = False,
                   headers: dict[str, str] | None = None) -> Any:
        sent = signed(body, secret=secret)
        if json_body:
            sent["Content-Type"] = "application/json"
        return await self.client.post("/slack/events", data=body,
                                      headers={**sent, **(headers or {})})

    async def say(self, user: str, text: str) -> str:
        response = await self.post(urlencode({
            "command": "/attend", "text": text, "team_id": WORKSPACE, "user_id": user,
            "user_name": user.lower(), "response_url": self.fake.response_url()}))
        assert response.status == 200
        reply: str = (await response.json())["text"]
        return reply

    async def open_home(self, user: str, *, event_id: str | None = None, retry: int = 0,
                        secret: str = SECRET) -> Any:
        body = json.dumps({
            "token": "unused", "team_id": WORKSPACE, "api_app_id": "A1",
            "type": "event_callback", "event_id": event_id or f"Ev{user}{time.monotonic_ns()}",
            "event_time": 1700000000, "event": {
                "type": "app_home_opened", "user": user, "channel": f"D{user}",
                "tab": "home", "event_ts": "1700000000.000100"}})
        retried = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} \
            if retry else {}
        return await self.post(body, secret=secret, json_body=True, headers=retried)

    async def tap(self, user: str, answer: str, check_id: str) -> Any:
        """A tap on a button of the Home: no response_url, a view as its container."""
        payload = {
            "type": "block_actions", "user": {"id": user, "team_id": WORKSPACE},
            "team": {"id": WORKSPACE}, "api_app_id": "A1", "trigger_id": "t3",
            "container": {"type": "view", "view_id": "V1"},
            "view": {"id": "V1", "type": "home", "blocks": []},
            "actions": [{"type": "button", "action_id": f"attend_home_{answer}",
                         "block_id": f"home:{check_id}", "value": check_id,
                         "action_ts": "3"}]}
        return await self.post(urlencode({"payload": json.dumps(payload)}))

    async def published(self, user: str, count: int = 1) -> dict[str, Any]:
        """The Home shown once at least ``count`` views were published for ``user``."""
        assert await eventually(lambda: len(self.fake.homes(user)) >= count), \
            f"{user}'s Home was published {len(self.fake.homes(user))} times, not {count}"
        return self.fake.homes(user)[-1]

    async def stop_refreshing(self) -> None:
        """Stop refreshing Homes by itself: then only what a test does publishes."""
        self.refreshing.cancel()
        await asyncio.gather(self.refreshing, return_exceptions=True)
        self.changes.take()

    def check_id(self) -> str:
        status = self.app.service.status(Actor.slack(WORKSPACE, CAPTAIN), "G1")
        assert status.game.check_id is not None
        return status.game.check_id


def shown(view: dict[str, Any]) -> str:
    """Every text on the Home, one block a line."""
    lines = []
    for block in view["blocks"]:
        if "text" in block:
            lines.append(block["text"]["text"])
        for element in block.get("elements", ()):
            lines.append(element["text"] if isinstance(element["text"], str)
                         else element["text"]["text"])
    return "\n".join(lines)


def buttons(view: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """(action id, value, style) of every button on the Home."""
    return [(b["action_id"], b["value"], b.get("style")) for block in view["blocks"]
            if block["type"] == "actions" for b in block["elements"]]


@pytest.fixture
async def home(database_url: str, clock: FakeClock, tmp_path: Path) -> AsyncIterator[Home]:
    with FakeSlack(token="xoxb-test", team_id=WORKSPACE) as fake:
        slack = SlackConfig(bot_token="xoxb-test", signing_secret=SECRET, api_url=fake.url)
        config = Config(database_url=database_url, secret_keys=KEYS,
                        outbox_dir=tmp_path / "outbox", slack=slack)
        changes = HomeChanges()
        app = bootstrap(config.database_url, clock=clock, extra_handlers=(changes,))
        signer = LinkSigner(KEYS)
        boards = BoardLinks(signer, BASE)
        publisher = slack_home(slack, app.service, HomeViews(app.db), clock=clock,
                               boards=boards)
        web_app = create_web_app(app, config, signer, extra_routes=routes(slack_app(
            slack, app.service, clock=clock, boards=boards, home=publisher)))
        client = TestClient(TestServer(web_app, host="127.0.0.1"))
        await client.start_server()
        refresher = home_refresher(changes, publisher, app)
        refreshing = asyncio.create_task(refresher.run())
        try:
            yield Home(app=app, fake=fake, client=client, clock=clock, signer=signer,
                       changes=changes, refresher=refresher, refreshing=refreshing)
        finally:
            refreshing.cancel()
            await asyncio.gather(refreshing, return_exceptions=True)
            await client.close()
            app.close()


async def a_team_with_two_games(home: Home) -> None:
    """G1 on Tuesday, with attendance checked; G2 a week later, not asked yet."""
    await home.say(CAPTAIN, "team create The Alchemists tz America/Toronto")
    await home.say(CAPTAIN, f"team add <@{ALICE}|alice> alice@example.org")
    await home.say(CAPTAIN, "team add Bob bob@example.org")
    day = (home.clock.now + timedelta(days=3)).strftime("%Y-%m-%d")
    assert (await home.say(CAPTAIN, f"schedule {day} 19:00 at Monarch Park vs Hawks")
            ).startswith("Scheduled G1")
    later = (home.clock.now + timedelta(days=10)).strftime("%Y-%m-%d")
    assert (await home.say(CAPTAIN, f"schedule {later} 19:00 vs Owls")).startswith(
        "Scheduled G2")
    assert (await home.say(CAPTAIN, "check G1")).startswith("Asked 3 players about G1")


async def test_opening_the_home_shows_the_players_games_answers_and_buttons(
        home: Home) -> None:
    await a_team_with_two_games(home)
    await home.say(ALICE, "answer G1 maybe")

    response = await home.open_home(ALICE)

    assert response.status == 200
    view = await home.published(ALICE)
    assert view["type"] == "home"
    text = shown(view)
    assert "The Alchemists* vs *Hawks* (G1)" in text and "Monarch Park" in text
    assert "7:00 PM EST" in text  # the team's time
    assert "❔ You're a maybe" in text
    assert "*Owls* (G2)" in text and "Not asked yet" in text
    assert text.index("Hawks") < text.index("Owls")  # soonest first
    check_id = home.check_id()
    assert buttons(view) == [("attend_home_yes", check_id, None),
                             ("attend_home_no", check_id, None),
                             ("attend_home_maybe", check_id, "primary")]  # G2: none yet
    assert "live board" not in text and "In 0" not in text  # a player sees no counts
    # Handlers still catching up on the team's story may publish it once more: the same.
    calls = home.fake.calls("views.publish")
    assert calls and all(c.args["user_id"] == ALICE and c.team == WORKSPACE for c in calls)


async def test_a_captain_also_sees_the_counts_and_a_link_to_the_live_board(
        home: Home) -> None:
    await a_team_with_two_games(home)
    await home.say(ALICE, "answer G1 yes")

    await home.open_home(CAPTAIN)

    view = await home.published(CAPTAIN)
    text = shown(view)
    assert "In 1 · Out 0 · Maybe 0 · No answer 2" in text
    assert "No answer yet" in text  # the captain's own answer
    links = [part.split("|")[0] for part in text.split("<")[1:]]
    assert links and all(link.startswith(f"{BASE}/b/") for link in links)
    page = await home.client.get(links[0].removeprefix(BASE))
    assert page.status == 200 and "Hawks" in await page.text()


async def test_someone_on_no_team_is_told_how_to_join(home: Home) -> None:
    await a_team_with_two_games(home)

    await home.open_home(STRANGER)

    view = await home.published(STRANGER)
    assert "You're not on a team yet" in shown(view)
    assert "/attend team add" in shown(view) and buttons(view) == []


async def test_a_forged_event_is_refused_and_nothing_is_published(home: Home) -> None:
    await a_team_with_two_games(home)

    response = await home.open_home(ALICE, secret="not-the-secret")

    assert response.status == 401
    await home.open_home(CAPTAIN)  # a genuine one goes through meanwhile
    await home.published(CAPTAIN)
    assert home.fake.homes(ALICE) == []


async def test_a_resent_event_is_handled_once(home: Home) -> None:
    await a_team_with_two_games(home)
    await home.stop_refreshing()  # so only the events publish

    first = await home.open_home(ALICE, event_id="Ev0001")
    again = await home.open_home(ALICE, event_id="Ev0001", retry=1)

    assert first.status == again.status == 200  # Slack stops resending
    await home.published(ALICE)
    await home.open_home(CAPTAIN)  # handled after the resend: by now it would have shown
    await home.published(CAPTAIN)
    assert len(home.fake.homes(ALICE)) == 1


async def test_slacks_url_verification_gets_its_challenge_back(home: Home) -> None:
    body = json.dumps({"token": "unused", "challenge": "c-123", "type": "url_verification"})
    response = await home.post(body, json_body=True)
    assert response.status == 200 and (await response.json())["challenge"] == "c-123"


async def test_a_tap_on_the_home_records_the_answer_and_shows_it(home: Home) -> None:
    await a_team_with_two_games(home)
    await home.open_home(ALICE)
    await home.published(ALICE)

    response = await home.tap(ALICE, "yes", home.check_id())

    assert response.status == 200
    assert await eventually(lambda: "✅ You're in" in shown(home.fake.homes(ALICE)[-1]))
    status = home.app.service.status(Actor.slack(WORKSPACE, CAPTAIN), "G1")
    assert status.board is not None  # the Home showed it: so does the captain's board
    [alice] = [line for line in status.board.lines if line.name == "alice"]
    assert alice.answer is Answer.YES
    assert ("attend_home_yes", home.check_id(), "primary") in buttons(
        home.fake.homes(ALICE)[-1])


async def test_a_refused_tap_on_the_home_says_why(home: Home) -> None:
    await a_team_with_two_games(home)
    await home.open_home(ALICE)
    await home.published(ALICE)
    check_id = home.check_id()
    assert (await home.say(CAPTAIN, "cancel G1 Field flooded")).startswith("Cancelled G1")

    await home.tap(ALICE, "yes", check_id)

    def noted() -> list[str]:
        return [shown(v) for v in home.fake.homes(ALICE) if "⚠" in shown(v)]

    assert await eventually(noted)
    [note] = noted()
    assert "cancelled" in note.lower() or "closed" in note.lower()
    assert "Hawks" not in note  # cancelled: gone from the Home
    status = home.app.service.status(Actor.slack(WORKSPACE, CAPTAIN), "G1")
    assert status.board is not None and status.board.yes == 0


async def test_an_answer_given_by_email_refreshes_the_homes_that_show_it(home: Home) -> None:
    await a_team_with_two_games(home)
    await home.open_home(ALICE)
    assert "No answer yet" in shown(await home.published(ALICE))
    [alice] = [p for p in home.app.service.roster(Actor.slack(WORKSPACE, CAPTAIN))[1]
               if p.name == "alice"]
    token = home.signer.answer_token(home.check_id(), alice.player_id,
                                     home.clock.now + timedelta(days=4))

    answered = await home.client.post(f"/r/{token}", data={"answer": "no"})

    assert answered.status == 200
    assert await eventually(
        lambda: "❌ You're out" in shown(home.fake.homes(ALICE)[-1]), timeout=10)
    assert home.fake.homes(CAPTAIN) == []  # never opened: nothing published for it


async def test_a_tap_in_a_dm_refreshes_the_home(home: Home) -> None:
    await a_team_with_two_games(home)
    await home.open_home(ALICE)
    await home.published(ALICE)
    check_id = home.check_id()
    payload = {
        "type": "block_actions", "user": {"id": ALICE, "team_id": WORKSPACE},
        "team": {"id": WORKSPACE}, "response_url": home.fake.response_url("dm"),
        "container": {"type": "message", "message_ts": "1", "channel_id": f"D{ALICE}"},
        "actions": [{"type": "button", "action_id": "attend_no", "value": check_id,
                     "block_id": f"attend:{check_id}", "action_ts": "1"}]}

    tapped = await home.post(urlencode({"payload": json.dumps(payload)}))

    assert tapped.status == 200
    assert await eventually(lambda: home.fake.responses("dm"))  # the DM, as before
    assert await eventually(
        lambda: "❌ You're out" in shown(home.fake.homes(ALICE)[-1]), timeout=10)


async def test_a_captains_home_follows_the_teams_answers(home: Home) -> None:
    await a_team_with_two_games(home)
    await home.open_home(CAPTAIN)
    assert "In 0 · Out 0" in shown(await home.published(CAPTAIN))

    await home.say(ALICE, "answer G1 yes")
    await home.say(CAPTAIN, "answer G1 no for Bob")

    assert await eventually(lambda: "In 1 · Out 1 · Maybe 0 · No answer 1" in shown(
        home.fake.homes(CAPTAIN)[-1]), timeout=10)


async def test_a_burst_of_answers_refreshes_each_home_once(home: Home) -> None:
    await a_team_with_two_games(home)
    await home.open_home(CAPTAIN)
    await home.open_home(ALICE)
    await home.published(CAPTAIN)
    await home.published(ALICE)
    await home.stop_refreshing()  # refreshed by hand below, to count what one round does
    captain, alice = len(home.fake.homes(CAPTAIN)), len(home.fake.homes(ALICE))

    for user, line in ((ALICE, "answer G1 yes"), (CAPTAIN, "answer G1 no for Bob"),
                       (ALICE, "answer G1 maybe"), (CAPTAIN, "answer G1 yes")):
        await home.say(user, line)
    assert await home.refresher.refresh() == 2  # Bob has no Slack, so no Home

    assert len(home.fake.homes(CAPTAIN)) == captain + 1
    assert len(home.fake.homes(ALICE)) == alice + 1
    assert "In 1 · Out 1 · Maybe 1 · No answer 0" in shown(home.fake.homes(CAPTAIN)[-1])
    assert "❔ You're a maybe" in shown(home.fake.homes(ALICE)[-1])


async def test_the_home_opens_over_socket_mode_too(database_url: str, clock: FakeClock,
                                                   tmp_path: Path) -> None:
    with FakeSlack() as fake:
        slack = SlackConfig(bot_token="xoxb-test", app_token="xapp-test", api_url=fake.url)
        app = bootstrap(database_url, clock=clock)
        publisher = slack_home(slack, app.service, HomeViews(app.db), clock=clock)
        handler = socket_mode(slack_app(slack, app.service, clock=clock, home=publisher), slack)
        await handler.connect_async()
        try:
            assert await eventually(lambda: fake.socket.connections == 1)
            app.service.create_team(Actor.slack(WORKSPACE, CAPTAIN), "Night Owls", "UTC")
            envelope = {"team_id": WORKSPACE, "api_app_id": "A1", "type": "event_callback",
                        "event_id": "Ev0002", "event_time": 1700000000,
                        "event": {"type": "app_home_opened", "user": CAPTAIN, "tab": "home",
                                  "channel": f"D{CAPTAIN}", "event_ts": "1.2"}}
            await asyncio.to_thread(fake.socket.request, "events_api", envelope)
            assert await eventually(lambda: fake.homes(CAPTAIN))
        finally:
            await handler.close_async()
            app.close()
    assert "No games coming up for *Night Owls*" in shown(fake.homes(CAPTAIN)[-1])


def test_attend_serve_refreshes_a_home_after_an_answer_from_the_console(
        tmp_path: Path) -> None:
    """Another process (``attend say``) answers: serve's Home handler follows the log."""
    with FakeSlack() as fake:
        port = free_loopback_port()
        env = {**os.environ, "ATTEND_DATABASE_URL": f"sqlite:///{tmp_path}/attend.db",
               "ATTEND_SECRET_KEYS": KEYS[0], "ATTEND_PORT": str(port),
               "ATTEND_SLACK_BOT_TOKEN": "xoxb-test", "ATTEND_SLACK_SIGNING_SECRET": SECRET,
               "ATTEND_SLACK_API_URL": fake.url}
        base = f"http://127.0.0.1:{port}"

        def post(body: str, content_type: str) -> str:
            headers = {**signed(body), "Content-Type": content_type}
            request = urllib.request.Request(f"{base}/slack/events", data=body.encode(),
                                             headers=headers)
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.read().decode()

        def command(text: str) -> None:
            post(urlencode({"command": "/attend", "text": text, "team_id": WORKSPACE,
                            "user_id": CAPTAIN, "response_url": fake.response_url()}),
                 "application/x-www-form-urlencoded")

        def until(predicate: Any) -> bool:
            deadline = time.monotonic() + 20
            while not predicate() and time.monotonic() < deadline:
                time.sleep(0.05)
            return bool(predicate())

        server = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for_health(base, server)
            command("team create The Alchemists tz America/Toronto")
            command(f"team add <@{ALICE}|alice> alice@example.org")
            day = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%d")
            command(f"schedule {day} 19:00 vs Hawks")
            command("check G1")
            post(json.dumps({"team_id": WORKSPACE, "type": "event_callback",
                             "event_id": "Ev0003", "event": {
                                 "type": "app_home_opened", "user": ALICE, "tab": "home"}}),
                 "application/json")
            assert until(lambda: any("No answer yet" in shown(v) for v in fake.homes(ALICE)))
            said = subprocess.run(
                [sys.executable, "-m", "bot.cli", "say", "/attend answer G1 yes", "--as",
                 "alice@example.org"], env=env, capture_output=True, text=True, timeout=60)
            assert said.returncode == 0, said.stderr
            assert until(lambda: "✅ You're in" in shown(fake.homes(ALICE)[-1]))
        finally:
            server.send_signal(signal.SIGTERM)
            _, errors = server.communicate(timeout=30)
    assert server.returncode == 0, errors
    assert "Traceback" not in errors
