"""Slack workspaces installing Attend (OAuth), over real HTTP to the web app and to the local
stand-in for Slack's Web API: one Attend serving several workspaces, each with its own
bot token.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.config import Config, SlackConfig
from bot.links import LinkSigner
from bot.serve import delivery_worker
from bot.slack.app import routes, slack_app
from bot.slack.installations import Installations
from bot.web import create_web_app
from core.actors import Actor
from core.bootstrap import App, bootstrap
from tests.support.clock import FakeClock
from tests.support.slack_api import SECRET, FakeSlack, signed
from tests.support.waiting import eventually

KEYS = ("e2e-slack-install-key-0123456789ab",)
BASE = "https://attend.example.org"
CLIENT_ID, CLIENT_SECRET = "111.222", "client-secret"


@dataclass
class Installing:
    app: App
    config: Config
    fake: FakeSlack
    client: TestClient[Any, Any]
    installations: Installations
    clock: FakeClock

    async def start_install(self) -> str:
        """Open the "Add to Slack" page; the state its link carries."""
        page = await self.client.get("/slack/install")
        assert page.status == 200
        link = re.search(r'href="(https://slack.com/oauth/v2/authorize\?[^"]+)"',
                         await page.text())
        assert link is not None
        query = parse_qs(urlsplit(unescape(link.group(1))).query)
        assert query["client_id"] == [CLIENT_ID]
        assert query["scope"] == ["commands,chat:write,im:write,users:read"]
        assert query["redirect_uri"] == [f"{BASE}/slack/oauth_redirect"]
        [state] = query["state"]
        return state

    async def come_back(self, code: str, state: str) -> Any:
        """Slack sends the installer's browser back, with the state cookie it was given."""
        return await self.client.get(f"/slack/oauth_redirect?code={code}&state={state}",
                                     headers={"Cookie": f"slack-app-oauth-state={state}"})

    async def say(self, workspace: str, user: str, text: str) -> str:
        body = urlencode({"command": "/attend", "text": text, "team_id": workspace,
                          "user_id": user, "user_name": user.lower(),
                          "response_url": self.fake.response_url()})
        response = await self.client.post("/slack/events", data=body, headers=signed(body))
        assert response.status == 200
        reply: str = (await response.json())["text"]
        return reply


@pytest.fixture
async def installing(database_url: str, clock: FakeClock,
                     tmp_path: Path) -> AsyncIterator[Installing]:
    with FakeSlack(client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as fake:
        slack = SlackConfig(signing_secret=SECRET, client_id=CLIENT_ID,
                            client_secret=CLIENT_SECRET, api_url=fake.url)
        config = Config(database_url=database_url, secret_keys=KEYS, base_url=BASE,
                        outbox_dir=tmp_path / "outbox", slack=slack)
        app = bootstrap(config.database_url, clock=clock)
        installations = Installations.open(app.db.engine, CLIENT_ID)
        web_app = create_web_app(app, config, LinkSigner(KEYS), extra_routes=routes(slack_app(
            slack, app.service, clock=clock, base_url=BASE, installations=installations)))
        client = TestClient(TestServer(web_app, host="127.0.0.1"))
        await client.start_server()
        try:
            yield Installing(app=app, config=config, fake=fake, client=client,
                             installations=installations, clock=clock)
        finally:
            await client.close()
            app.close()


async def test_a_workspace_installs_attend_and_its_captain_and_players_use_it(
        installing: Installing) -> None:
    state = await installing.start_install()
    installing.fake.grant("code-1", "T0002", "xoxb-second")

    finished = await installing.come_back("code-1", state)

    assert finished.status == 200
    assert await installing.installations.bot_token("T0002") == "xoxb-second"
    assert "you're its captain" in await installing.say(
        "T0002", "U1", "team create Night Owls tz America/Toronto")
    await installing.say("T0002", "U1", "team add <@U2|bea>")
    day = (installing.clock.now + timedelta(days=3)).strftime("%Y-%m-%d")
    await installing.say("T0002", "U1", f"schedule {day} 19:00 vs Hawks")
    assert (await installing.say("T0002", "U1", "check G1")).startswith("Asked 2 players")

    assert await delivery_worker(installing.app, installing.config,
                                 slack_installations=installing.installations).run_once() == 2
    posts = installing.fake.calls("chat.postMessage")
    assert sorted(c.args["channel"] for c in posts) == ["DU1", "DU2"]
    assert {c.team for c in posts} == {"T0002"}  # with that workspace's own token


async def test_an_install_with_a_forged_or_used_state_is_refused_and_saves_nothing(
        installing: Installing) -> None:
    installing.fake.grant("code-1", "T0002", "xoxb-second")
    forged = await installing.come_back("code-1", "made-up-state")
    assert forged.status == 401
    assert "Please try again from" in await forged.text()  # with a link to start over
    assert await installing.installations.bot_token("T0002") is None

    state = await installing.start_install()
    assert (await installing.come_back("code-1", state)).status == 200
    installing.fake.grant("code-2", "T0003", "xoxb-third")
    replayed = await installing.come_back("code-2", state)  # a state works once
    assert replayed.status == 401
    assert await installing.installations.bot_token("T0003") is None


async def test_a_workspace_that_has_not_installed_attend_is_told_to_install_it(
        installing: Installing) -> None:
    body = urlencode({"command": "/attend", "text": "team create Strangers", "team_id": "T0009",
                      "user_id": "U1", "response_url": installing.fake.response_url()})
    response = await installing.client.post("/slack/events", data=body, headers=signed(body))

    assert response.status == 200
    assert await eventually(lambda: installing.fake.responses("r1"))
    [told] = installing.fake.responses("r1")
    assert told["text"] == ("Attend isn't installed in this Slack workspace, or its "
                            f"installation was removed. Install it from {BASE}/slack/install")
    assert installing.app.service.memberships(Actor.slack("T0009", "U1")) == []
