"""Slack end to end: signed requests over real HTTP to the web app, and DMs sent over real
HTTP to a local stand-in for Slack's Web API (``tests/support/slack_api.py``).

The captain (U1) and Alice (U2) are in Slack workspace T0001; Bob has only an email address.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.config import Config, SlackConfig
from bot.links import BoardLinks, LinkSigner
from bot.serve import delivery_worker
from bot.slack.app import routes, say_who_we_are, slack_app
from bot.web import create_web_app
from core.actors import Actor
from core.aggregates.check.events import AnswerRecorded
from core.aggregates.common import Answer
from core.bootstrap import App, bootstrap
from core.trouble import REPORT_HOLD
from tests.support.clock import FakeClock
from tests.support.slack_api import SECRET, FakeSlack, signed
from tests.support.smtp_sink import free_loopback_port
from tests.support.waiting import eventually, wait_for_health

KEYS = ("e2e-slack-key-0123456789abcdefgh",)
WORKSPACE = "T0001"
CAPTAIN, ALICE, STRANGER = "U1", "U2", "U9"


@dataclass
class Slack:
    app: App
    config: Config
    fake: FakeSlack
    client: TestClient[Any, Any]
    clock: FakeClock
    outbox: Path

    async def post(self, body: str, *, secret: str = SECRET, age: int = 0) -> Any:
        return await self.client.post("/slack/events", data=body,
                                      headers=signed(body, secret=secret, age=age))

    async def command(self, user: str, text: str, **signing: Any) -> Any:
        return await self.post(urlencode({
            "command": "/attend", "text": text, "team_id": WORKSPACE, "user_id": user,
            "user_name": user.lower(), "channel_id": "C1", "trigger_id": "t1",
            "response_url": self.fake.response_url(f"cmd-{user}")}), **signing)

    async def say(self, user: str, text: str) -> str:
        """The reply only ``user`` sees (the acknowledgement's text)."""
        response = await self.command(user, text)
        assert response.status == 200
        reply: str = (await response.json())["text"]
        return reply

    async def tap(self, user: str, answer: str, check_id: str, respond_to: str) -> Any:
        payload = {
            "type": "block_actions", "user": {"id": user, "team_id": WORKSPACE},
            "team": {"id": WORKSPACE}, "api_app_id": "A1", "trigger_id": "t2",
            "container": {"type": "message", "message_ts": "1", "channel_id": f"D{user}"},
            "channel": {"id": f"D{user}"}, "response_url": self.fake.response_url(respond_to),
            "actions": [{"type": "button", "action_id": f"attend_{answer}",
                         "block_id": f"attend:{check_id}", "value": check_id,
                         "action_ts": "2"}]}
        return await self.post(urlencode({"payload": json.dumps(payload)}))

    def check_id(self) -> str:
        status = self.app.service.status(Actor.slack(WORKSPACE, CAPTAIN), "G1")
        assert status.game.check_id is not None
        return status.game.check_id


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack(token="xoxb-test", team_id=WORKSPACE) as fake:
        yield fake


@pytest.fixture
async def slack(database_url: str, clock: FakeClock, fake_slack: FakeSlack,
                tmp_path: Path) -> AsyncIterator[Slack]:
    config = Config(database_url=database_url, secret_keys=KEYS, outbox_dir=tmp_path / "outbox",
                    slack=SlackConfig(bot_token="xoxb-test", signing_secret=SECRET,
                                      api_url=fake_slack.url))
    app = bootstrap(config.database_url, clock=clock)
    assert config.slack is not None
    boards = BoardLinks(LinkSigner(KEYS), "https://attend.example.org")
    web_app = create_web_app(app, config, LinkSigner(KEYS), extra_routes=routes(
        slack_app(config.slack, app.service, clock=clock, boards=boards)))
    client = TestClient(TestServer(web_app, host="127.0.0.1"))
    await client.start_server()
    try:
        yield Slack(app=app, config=config, fake=fake_slack, client=client, clock=clock,
                    outbox=config.outbox_dir)
    finally:
        await client.close()
        app.close()


async def team_with_a_game(slack: Slack) -> None:
    assert "you're its captain" in await slack.say(
        CAPTAIN, "team create The Alchemists tz America/Toronto")
    assert await slack.say(CAPTAIN, f"team add <@{ALICE}|alice>") == \
        "Added alice to The Alchemists."
    assert await slack.say(CAPTAIN, "team add Bob bob@example.org") == \
        "Added Bob to The Alchemists."
    day = (slack.clock.now + timedelta(days=3)).astimezone().strftime("%Y-%m-%d")
    scheduled = await slack.say(CAPTAIN, f"schedule {day} 19:00 at Monarch Park vs Hawks")
    assert scheduled.startswith("Scheduled G1")


def answers_in_log(slack: Slack) -> list[Answer]:
    """The answers in the event log, in order: what a tap's acknowledgement waits for (the
    board follows a moment later)."""
    return [r.event.answer for r in slack.app.store.read_all()
            if isinstance(r.event, AnswerRecorded)]


def board_page(slack: Slack) -> Any:
    """G1's board as the board page shows it, with its changes."""
    status = slack.app.service.status(Actor.slack(WORKSPACE, CAPTAIN), "G1")
    page = slack.app.service.board_for_game(status.game.game_id)
    return page.board if page is not None else None


async def test_a_captain_runs_a_check_from_slack_and_a_player_answers_with_a_button(
        slack: Slack) -> None:
    await team_with_a_game(slack)
    asked = await slack.say(CAPTAIN, "check G1")
    assert asked.startswith("Asked 3 players about G1")

    assert await delivery_worker(slack.app, slack.config).run_once() == 3
    [dm] = slack.fake.dm(ALICE)
    assert dm.text is not None and dm.blocks is not None
    assert "Are you coming?" in dm.text and "Hawks" in dm.text
    section, actions = dm.blocks
    assert "Monarch Park" in section["text"]["text"]
    assert "7:00 PM EST" in section["text"]["text"]  # the team's time, not the server's
    assert [b["action_id"] for b in actions["elements"]] == [
        "attend_yes", "attend_no", "attend_maybe"]
    assert len(slack.fake.dm(CAPTAIN)) == 1  # the captain plays too
    assert len(list(slack.outbox.glob("*.eml"))) == 1  # Bob, by email

    check_id = actions["elements"][0]["value"]
    response = await slack.tap(ALICE, "yes", check_id, respond_to="alice")
    assert response.status == 200
    assert answers_in_log(slack) == [Answer.YES]  # recorded before Slack heard "ok"
    assert await eventually(lambda: slack.fake.responses("alice"))
    [replaced] = slack.fake.responses("alice")
    assert replaced["replace_original"] is True
    assert replaced["text"].startswith("✅ You're in")
    shown = replaced["blocks"][0]["text"]["text"]
    assert "In 1 · Out 0 · Maybe 0 · No answer 2" in shown
    chosen = [b for b in replaced["blocks"][1]["elements"] if b.get("style") == "primary"]
    assert [b["action_id"] for b in chosen] == ["attend_yes"]  # she can still change it

    status = await slack.say(CAPTAIN, "status G1")
    assert "✅ alice" in status and "Not answered yet: u1, Bob" in status


async def test_a_tap_is_acknowledged_once_recorded_without_waiting_for_the_board(
        slack: Slack, monkeypatch: pytest.MonkeyPatch) -> None:
    await team_with_a_game(slack)
    await slack.say(CAPTAIN, "check G1")
    check_id = slack.check_id()
    service = slack.app.service
    catch_up, board_may_go = service._catch_up, threading.Event()

    def slow_board(position: int, names: Any) -> None:  # the board's handler, far behind
        assert board_may_go.wait(10)
        catch_up(position, names)

    monkeypatch.setattr(service, "_catch_up", slow_board)
    config = slack.config.slack
    assert config is not None
    patient = slack_app(config, service, clock=slack.clock, ack_budget=60.0)
    web_app = create_web_app(slack.app, slack.config, LinkSigner(KEYS),
                             extra_routes=routes(patient))
    async with TestClient(TestServer(web_app, host="127.0.0.1")) as client:
        slack.client = client
        # Not the ack budget running out (a minute here): the answer was in the log.
        acknowledged = await asyncio.wait_for(
            slack.tap(ALICE, "yes", check_id, respond_to="alice"), 5)

        assert acknowledged.status == 200
        assert not slack.fake.responses("alice")  # the DM's update waits for the board...
        assert answers_in_log(slack) == [Answer.YES]  # ...Slack's acknowledgement did not
        board_may_go.set()
        assert await eventually(lambda: slack.fake.responses("alice"))
    assert slack.fake.responses("alice")[0]["text"].startswith("✅ You're in")


async def test_changing_an_answer_from_the_dm_records_the_change(slack: Slack) -> None:
    await team_with_a_game(slack)
    await slack.say(CAPTAIN, "check G1")
    check_id = slack.check_id()
    await slack.tap(ALICE, "yes", check_id, respond_to="first")
    assert await eventually(lambda: slack.fake.responses("first"))
    await slack.tap(ALICE, "no", check_id, respond_to="second")
    assert await eventually(lambda: slack.fake.responses("second"))

    assert slack.fake.responses("second")[0]["text"].startswith("❌ You're out")
    board = board_page(slack)
    assert board is not None
    [alice] = [line for line in board.lines if line.name == "alice"]
    assert alice.answer is Answer.NO
    assert [c.answer for c in board.history if c.player_id == alice.player_id] == [
        Answer.YES, Answer.NO]


async def test_a_forged_or_stale_request_is_refused_and_changes_nothing(slack: Slack) -> None:
    forged = await slack.command(CAPTAIN, "team create Forgers", secret="not-the-secret")
    stale = await slack.command(CAPTAIN, "team create Latecomers", age=6 * 60)

    assert forged.status == stale.status == 401
    assert slack.app.service.memberships(Actor.slack(WORKSPACE, CAPTAIN)) == []


async def test_a_player_cannot_use_a_captains_command(slack: Slack) -> None:
    await team_with_a_game(slack)
    reply = await slack.say(ALICE, "cancel G1 rain")
    assert reply.startswith("Only a captain can")
    status = slack.app.service.status(Actor.slack(WORKSPACE, CAPTAIN), "G1")
    assert status.game.status == "scheduled"


async def test_someone_not_invited_tapping_a_button_is_told_and_nothing_is_recorded(
        slack: Slack) -> None:
    await team_with_a_game(slack)
    await slack.say(CAPTAIN, "check G1")
    check_id = slack.check_id()

    await slack.tap(STRANGER, "yes", check_id, respond_to="stranger")
    assert await eventually(lambda: slack.fake.responses("stranger"))

    [note] = slack.fake.responses("stranger")
    assert note["replace_original"] is False and note["response_type"] == "ephemeral"
    assert "not on a team" in note["text"] or "not on this team" in note["text"]
    board = board_page(slack)
    assert board is not None and board.yes == 0 and board.history == ()


async def test_bad_input_gets_the_usage_line_escaped_for_slack(slack: Slack) -> None:
    await team_with_a_game(slack)
    usage = await slack.say(CAPTAIN, "schedule")
    assert "Usage: /attend schedule &lt;when&gt;" in usage
    echoed = await slack.say(CAPTAIN, "schedule someday <soon>")
    assert "'someday &lt;soon&gt;'" in echoed  # shown as typed, never as a Slack link


async def test_a_rate_limited_dm_waits_for_retry_after_and_goes_out_once(
        slack: Slack) -> None:
    await team_with_a_game(slack)
    await slack.say(CAPTAIN, "check G1")
    slack.fake.rate_limit("chat.postMessage", times=1, retry_after=30)

    await delivery_worker(slack.app, slack.config).run_once()
    assert [c.limited for c in slack.fake.calls("chat.postMessage")] == [True]
    assert slack.fake.dm(CAPTAIN) == slack.fake.dm(ALICE) == []  # Slack said wait 30 s
    slack.clock.now += timedelta(seconds=10)
    await delivery_worker(slack.app, slack.config).run_once()
    assert slack.fake.dm(CAPTAIN) == slack.fake.dm(ALICE) == []
    slack.clock.now += timedelta(seconds=25)
    await delivery_worker(slack.app, slack.config).run_once()

    assert len(slack.fake.dm(CAPTAIN)) == len(slack.fake.dm(ALICE)) == 1
    await delivery_worker(slack.app, slack.config).run_once()  # and nothing goes out twice
    assert len(slack.fake.dm(CAPTAIN)) == len(slack.fake.dm(ALICE)) == 1


async def test_a_player_whose_slack_dms_are_closed_gets_email_and_the_captain_is_told(
        slack: Slack) -> None:
    assert "you're its captain" in await slack.say(
        CAPTAIN, "team create The Alchemists tz America/Toronto")
    await slack.say(CAPTAIN, f"team add <@{ALICE}|alice> alice@example.org")
    day = (slack.clock.now + timedelta(days=3)).strftime("%Y-%m-%d")
    await slack.say(CAPTAIN, f"schedule {day} 19:00 vs Hawks")
    slack.fake.refuse_dm(ALICE, "messages_tab_disabled")
    await slack.say(CAPTAIN, "check G1")

    for _ in range(2):  # the invitations and the fallback; then the captain's alert
        await delivery_worker(slack.app, slack.config).run_once()
        slack.app.run_handlers()  # the notifier puts the failure in the captain's report
        slack.clock.advance(seconds=REPORT_HOLD.total_seconds())  # which waits for more

    assert slack.fake.dm(ALICE) == []
    mails = [p.read_text() for p in slack.outbox.glob("*.eml")]
    assert [m for m in mails if "alice@example.org" in m]  # the invitation, by email
    alerts = [m.blocks for m in slack.fake.dm(CAPTAIN) if "Couldn't reach" in (m.text or "")]
    assert len(alerts) == 1 and alerts[0] is not None
    said = alerts[0][0]["text"]["text"]
    assert "Couldn't reach alice" in said and "turned off messages from Attend" in said
    board = re.search(r"<(http://127\.0\.0\.1:8000(/b/[^|]+))\|Open the live board>", said)
    assert board is not None  # the captain's alert links to the live board
    assert (await slack.client.get(board.group(2))).status == 200


async def test_a_slow_command_is_acknowledged_at_once_and_answered_when_done(
        slack: Slack) -> None:
    config = slack.config.slack
    assert config is not None
    impatient = slack_app(config, slack.app.service, clock=slack.clock, ack_budget=0.0)
    web_app = create_web_app(slack.app, slack.config, LinkSigner(KEYS),
                             extra_routes=routes(impatient))
    async with TestClient(TestServer(web_app, host="127.0.0.1")) as client:
        slack.client = client
        acknowledged = await slack.command(CAPTAIN, "team create The Alchemists tz UTC")
        assert (await acknowledged.json())["text"] == "Working on it…"
        assert await eventually(lambda: slack.fake.responses(f"cmd-{CAPTAIN}"))

    [reply] = slack.fake.responses(f"cmd-{CAPTAIN}")
    assert "you're its captain" in reply["text"] and reply["response_type"] == "ephemeral"


async def test_a_captain_of_two_teams_picks_one_with_team(slack: Slack) -> None:
    await team_with_a_game(slack)
    await slack.say(CAPTAIN, "team create Night Owls tz UTC")

    assert await slack.say(CAPTAIN, "games") == (
        "You're on several teams (Night Owls, The Alchemists); say which one by adding "
        "--team NAME to the command (on Discord: the team option).")
    assert (await slack.say(CAPTAIN, "games --team the alchemists")).startswith("G1 · ")
    assert await slack.say(CAPTAIN, "games --team Night Owls") == (
        "No upcoming games. /attend schedule sat 7pm vs Hawks adds one.")
    assert await slack.say(CAPTAIN, "games --team Hawks") == (
        "You're not on a team called 'Hawks' (yours: Night Owls, The Alchemists).")


def test_attend_serve_with_slack_set_takes_commands_sends_dms_and_records_taps(
        tmp_path: Path, fake_slack: FakeSlack) -> None:
    port = free_loopback_port()
    env = {**os.environ, "ATTEND_DATABASE_URL": f"sqlite:///{tmp_path}/attend.db",
           "ATTEND_SECRET_KEYS": KEYS[0], "ATTEND_PORT": str(port),
           "ATTEND_SLACK_BOT_TOKEN": "xoxb-test", "ATTEND_SLACK_SIGNING_SECRET": SECRET,
           "ATTEND_SLACK_API_URL": fake_slack.url}
    base = f"http://127.0.0.1:{port}"

    def post(form: dict[str, str]) -> str:
        body = urlencode(form)
        request = urllib.request.Request(f"{base}/slack/events", data=body.encode(),
                                         headers=signed(body))
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read().decode()

    def command(user: str, text: str) -> str:
        return str(json.loads(post({"command": "/attend", "text": text, "team_id": WORKSPACE,
                                    "user_id": user, "user_name": user.lower(),
                                    "response_url": fake_slack.response_url()}))["text"])

    server = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_health(base, server)
        command(CAPTAIN, "team create The Alchemists tz America/Toronto")
        command(CAPTAIN, f"team add <@{ALICE}|alice>")
        day = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%d")
        command(CAPTAIN, f"schedule {day} 19:00 vs Hawks")
        assert command(CAPTAIN, "check G1").startswith("Asked 2 players about G1")
        deadline = time.monotonic() + 15  # the server's delivery worker sends the DMs
        while not fake_slack.dm(ALICE) and time.monotonic() < deadline:
            time.sleep(0.05)
        [dm] = fake_slack.dm(ALICE)
        check_id = dm.blocks[1]["elements"][0]["value"] if dm.blocks else ""
        post({"payload": json.dumps({
            "type": "block_actions", "user": {"id": ALICE, "team_id": WORKSPACE},
            "team": {"id": WORKSPACE}, "response_url": fake_slack.response_url("tap"),
            "actions": [{"type": "button", "action_id": "attend_maybe", "value": check_id,
                         "block_id": f"attend:{check_id}", "action_ts": "1"}]})})
        while not fake_slack.responses("tap") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert fake_slack.responses("tap")[0]["text"].startswith("❔ You're a maybe")
        assert "Maybe 1" in command(CAPTAIN, "status G1")
    finally:
        server.send_signal(signal.SIGTERM)
        _, errors = server.communicate(timeout=30)
    assert server.returncode == 0, errors
    assert f"Slack at {base}/slack/events" in errors
    assert "Slack: signed in as attend in workspace Fake (T0001)" in errors  # checked at start
    assert "Traceback" not in errors


async def test_a_captain_gets_a_private_link_to_the_live_board(slack: Slack) -> None:
    await team_with_a_game(slack)
    await slack.say(CAPTAIN, "check G1")
    await slack.tap(ALICE, "yes", slack.check_id(), respond_to="alice")

    reply = await slack.say(CAPTAIN, "board G1")
    head, url = reply.splitlines()
    assert head.startswith("Live board for G1, yours alone")
    assert url.startswith("https://attend.example.org/b/")
    page = await slack.client.get(url.removeprefix("https://attend.example.org"))
    assert page.status == 200
    shown = await page.text()
    assert "Hawks" in shown and "alice" in shown

    refused = await slack.say(ALICE, "board G1")
    assert refused.startswith("Only a captain can open the live board")


async def test_a_team_created_without_a_zone_takes_the_captains_slack_time_zone(
        slack: Slack) -> None:
    slack.fake.set_timezone(CAPTAIN, "America/Chicago")

    created = await slack.say(CAPTAIN, "team create The Alchemists")

    assert created.startswith("Created The Alchemists (time zone America/Chicago)")
    day = (slack.clock.now + timedelta(days=3)).strftime("%Y-%m-%d")
    assert "7:00 PM CST" in await slack.say(CAPTAIN, f"schedule {day} 19:00")
    assert [c.args["user"] for c in slack.fake.calls("users.info")] == [CAPTAIN]  # once


async def test_without_a_slack_time_zone_a_new_team_is_on_utc_and_says_so(
        slack: Slack) -> None:
    created = await slack.say(CAPTAIN, "team create The Alchemists")
    assert created.startswith("Created The Alchemists (time zone UTC)")


async def test_with_a_refused_bot_token_the_captain_is_told_and_nothing_changes(
        slack: Slack) -> None:
    wrong = SlackConfig(bot_token="xoxb-revoked", signing_secret=SECRET, api_url=slack.fake.url)
    web_app = create_web_app(slack.app, slack.config, LinkSigner(KEYS), extra_routes=routes(
        slack_app(wrong, slack.app.service, clock=slack.clock)))
    async with TestClient(TestServer(web_app, host="127.0.0.1")) as client:
        slack.client = client
        response = await slack.command(CAPTAIN, "team create The Alchemists")
        assert response.status == 200  # shown to the captain, as Slack shows a reply
        told = await response.text()

    assert told.startswith("Slack refused Attend's bot token, so Attend can't act here.")
    assert slack.app.service.memberships(Actor.slack(WORKSPACE, CAPTAIN)) == []


async def test_a_cancelled_game_takes_the_buttons_off_the_invitation(slack: Slack) -> None:
    await team_with_a_game(slack)
    await slack.say(CAPTAIN, "check G1")
    await delivery_worker(slack.app, slack.config).run_once()
    [invitation] = slack.fake.dm(ALICE)
    assert invitation.blocks is not None and len(invitation.blocks) == 2  # with buttons

    assert (await slack.say(CAPTAIN, "cancel G1 Field flooded")).startswith("Cancelled G1")
    await delivery_worker(slack.app, slack.config).run_once()

    invitation_now, cancellation = slack.fake.dm(ALICE)
    assert cancellation.text is not None and cancellation.text.startswith("Cancelled.")
    assert invitation_now.ts == invitation.ts and invitation_now.updates == 1
    assert invitation_now.blocks == cancellation.blocks  # says cancelled; no buttons left
    assert [b["type"] for b in invitation_now.blocks or []] == ["section"]


async def test_a_wrong_bot_token_is_reported_at_start(
        fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    await say_who_we_are(SlackConfig(bot_token="xoxb-mistyped", signing_secret=SECRET,
                                     api_url=fake_slack.url))
    assert "Slack refused ATTEND_SLACK_BOT_TOKEN (invalid_auth)" in caplog.text


async def test_a_player_added_by_email_is_linked_to_their_slack_account(slack: Slack) -> None:
    await slack.say(CAPTAIN, "team create The Alchemists tz America/Toronto")
    assert await slack.say(CAPTAIN, "team add Alice alice@example.org") == \
        "Added Alice to The Alchemists."
    assert "not on a team" in await slack.say(ALICE, "me")  # Slack doesn't know her yet

    linked = await slack.say(CAPTAIN, f"team add <@{ALICE}|alice> alice@example.org")

    assert linked == "Alice is already on The Alchemists; now reached by email and Slack."
    assert (await slack.say(ALICE, "me")).startswith("Alice on The Alchemists")
    day = (slack.clock.now + timedelta(days=3)).strftime("%Y-%m-%d")
    await slack.say(CAPTAIN, f"schedule {day} 19:00 vs Hawks")
    await slack.say(CAPTAIN, "check G1")
    await delivery_worker(slack.app, slack.config).run_once()
    assert len(slack.fake.dm(ALICE)) == 1  # by Slack now, not by email
    assert not [p for p in slack.outbox.glob("*.eml") if "alice@example.org" in p.read_text()]


async def test_adding_contacts_refuses_what_would_mix_players_up(slack: Slack) -> None:
    await slack.say(CAPTAIN, "team create The Alchemists tz America/Toronto")
    await slack.say(CAPTAIN, "team add Alice alice@example.org")
    await slack.say(CAPTAIN, "team add Bob <@U3|bob>")

    assert await slack.say(CAPTAIN, "team add Alice alice@example.org") == \
        "Alice is already on The Alchemists, reached that way."
    assert await slack.say(CAPTAIN, "team add <@U3|bob> alice@example.org") == \
        "Those contacts belong to Alice and Bob; give one player's at a time."
    assert await slack.say(CAPTAIN, "team add <@U3|bob> bob@example.org") == \
        "Bob is already on The Alchemists; now reached by email and Slack."
    assert await slack.say(CAPTAIN, "team add <@U3|bob> robert@example.org") == \
        "Bob already has a different email; remove them and add them again to change it."
    roster = await slack.say(CAPTAIN, "team roster")
    assert "Alice — alice@example.org" in roster
    assert "Bob — bob@example.org, Slack" in roster


@pytest.mark.parametrize("line", [
    "team add Bob\x00 bob@example.org", "team add Eve eve\x00@example.org",
    "schedule sat 7pm vs Ha\x00wks", "answer yes a\x00b", "team create Rov\x1b[2Jers",
    "status G1 --team The\x00 Alchemists"])
async def test_a_control_character_from_slack_is_refused_and_changes_nothing(
        slack: Slack, line: str) -> None:
    await team_with_a_game(slack)
    before = slack.app.store.last_position()
    reply = await slack.say(CAPTAIN, line)
    assert "control character" in reply
    assert "\x00" not in reply and "\x1b" not in reply
    assert slack.app.store.last_position() == before


async def test_a_typo_in_an_address_from_slack_is_refused_saying_what_is_wrong(
        slack: Slack) -> None:
    await slack.say(CAPTAIN, "team create The Alchemists tz America/Toronto")
    reply = await slack.say(CAPTAIN, f"team add <@{ALICE}|alice> alice..smith@example.org")
    assert "two periods in a row" in reply
    assert "The Alchemists · 1 players" in await slack.say(CAPTAIN, "team roster")
    assert await slack.say(CAPTAIN, f"team add <@{ALICE}|alice> josé@example.org") == \
        "Added alice to The Alchemists."
