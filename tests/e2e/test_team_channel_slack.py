"""A team's channel on Slack, end to end: the captain binds it with ``/attend channel here``,
each check's board is posted there and follows every answer (a DM tap, an email, a tap on
the board), and DMs follow the answer too; all over real HTTP to the Slack stand-in.

The captain (U1) and Alice (U2) are in workspace T0001; Bob has only an email address.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bot.edits.slack import SlackEditor
from bot.edits.worker import EditWorker
from bot.links import LinkSigner
from bot.serve import delivery_worker
from bot.slack.app import slack_client
from core.actors import Actor
from core.aggregates.common import Answer
from core.bootstrap import bootstrap
from tests.e2e import test_slack as slack_story
from tests.e2e.test_slack import (
    ALICE,
    CAPTAIN,
    KEYS,
    STRANGER,
    WORKSPACE,
    Slack,
    team_with_a_game,
)
from tests.support.slack_api import SECRET, FakeSlack, Message, signed
from tests.support.smtp_sink import free_loopback_port
from tests.support.waiting import eventually, wait_for_health

CHANNEL = "C1"  # where Slack.command says commands are typed
fake_slack, slack = slack_story.fake_slack, slack_story.slack  # the Slack tests' fixtures


def editor_for(slack: Slack, **options: Any) -> EditWorker:
    """The edit worker as attend serve builds it, with no delay unless ``options`` say."""
    assert slack.config.slack is not None

    async def token(_workspace: str) -> str | None:
        return "xoxb-test"

    options = {"delay": timedelta(0), "interval": timedelta(0), **options}
    return EditWorker(slack.app.db, slack.app.router,
                      {"slack": SlackEditor(slack_client(slack.config.slack), token)},
                      clock=slack.app.clock, **options)


def board(fake: FakeSlack) -> Message:
    [message] = fake.messages(CHANNEL)
    return message


def shown(message: Message) -> str:
    assert message.blocks is not None
    text: str = message.blocks[0]["text"]["text"]
    return text


def buttons(message: Message) -> list[str]:
    assert message.blocks is not None
    return [e["action_id"] for b in message.blocks[1:] for e in b["elements"]]


async def tap_board(slack: Slack, user: str, answer: str, check_id: str) -> Any:
    payload = {
        "type": "block_actions", "user": {"id": user, "team_id": WORKSPACE},
        "team": {"id": WORKSPACE}, "api_app_id": "A1", "trigger_id": "t3",
        "container": {"type": "message", "message_ts": "1", "channel_id": CHANNEL},
        "channel": {"id": CHANNEL}, "response_url": slack.fake.response_url(f"board-{user}"),
        "actions": [{"type": "button", "action_id": f"attend_board_{answer}",
                     "block_id": f"attend_board:{check_id}", "value": check_id,
                     "action_ts": "3"}]}
    return await slack.post(urlencode({"payload": json.dumps(payload)}))


async def test_the_board_in_the_channel_and_the_dms_follow_every_answer(slack: Slack) -> None:
    await team_with_a_game(slack)
    bound = await slack.say(CAPTAIN, "channel here")
    assert "posted in this channel" in bound and "invite Attend" in bound
    assert "the Slack channel C1" in await slack.say(CAPTAIN, "team settings")
    await slack.say(CAPTAIN, "check G1")
    await delivery_worker(slack.app, slack.config).run_once()
    edits = editor_for(slack)
    await edits.run_once()
    posted = board(slack.fake)
    assert "Are you coming? (G1)" in shown(posted) and "Hawks" in shown(posted)
    assert "Not answered yet: u1, alice, Bob" in shown(posted)
    assert buttons(posted) == ["attend_board_yes", "attend_board_no", "attend_board_maybe"]

    # Alice answers by email: her Slack DM and the board both show it.
    check_id, service = slack.check_id(), slack.app.service
    alice = next(p for p in service.roster(Actor.slack(WORKSPACE, CAPTAIN))[1]
                 if p.name == "alice")
    token = LinkSigner(KEYS).answer_token(check_id, alice.player_id,
                                          slack.clock.now + timedelta(days=5))
    answered = await slack.client.post(f"/r/{token}", data={"answer": "yes"})
    assert answered.status == 200
    await edits.run_once()
    [dm] = slack.fake.dm(ALICE)
    assert dm.updates == 1 and "You're in" in shown(dm)
    assert "✅ Yes: alice" in shown(board(slack.fake))
    assert "Not answered yet: u1, Bob" in shown(board(slack.fake))

    # A tap on the board answers for whoever tapped; only they see the reply.
    assert (await tap_board(slack, ALICE, "no", check_id)).status == 200
    assert await eventually(lambda: slack.fake.responses(f"board-{ALICE}"))
    [reply] = slack.fake.responses(f"board-{ALICE}")
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    assert "You're out" in reply["text"]
    # Someone not on the team gets a note only they see, and nothing changes.
    await tap_board(slack, STRANGER, "yes", check_id)
    assert await eventually(lambda: slack.fake.responses(f"board-{STRANGER}"))
    [refused] = slack.fake.responses(f"board-{STRANGER}")
    assert refused["response_type"] == "ephemeral" and "not" in refused["text"].lower()
    await edits.run_once()
    final = shown(board(slack.fake))
    assert "❌ No: alice" in final and "Yes:" not in final
    status = service.status(Actor.slack(WORKSPACE, CAPTAIN), "G1").board
    assert status is not None
    assert f"In {status.yes} · Out {status.no} · Maybe {status.maybe} · " \
        f"No answer {status.waiting}" in final
    assert "You're out" in shown(slack.fake.dm(ALICE)[0])  # the DM followed the tap too

    # Cancelled: the board says so, and its buttons go.
    await slack.say(CAPTAIN, "cancel G1 Field flooded")
    await edits.run_once()
    assert shown(board(slack.fake)).startswith("*Cancelled.* Field flooded")
    assert buttons(board(slack.fake)) == []
    assert len(slack.fake.messages(CHANNEL)) == 1  # always the one message, edited
    # The cancellation's own edit of Alice's invitation stands: no edit brings back an answer.
    await delivery_worker(slack.app, slack.config).run_once()
    slack.app.run_handlers()  # its delivery, recorded, as attend serve's handlers see it
    await edits.run_once()
    invitation, _cancellation = slack.fake.dm(ALICE)
    assert shown(invitation).startswith("*Cancelled.*") and buttons(invitation) == []


async def test_a_channel_bound_during_a_check_gets_that_checks_board(slack: Slack) -> None:
    await team_with_a_game(slack)
    await slack.say(CAPTAIN, "check G1")
    assert "in" in await slack.say(ALICE, "answer yes G1")
    await slack.say(CAPTAIN, "channel here")
    await editor_for(slack).run_once()
    posted = board(slack.fake)
    assert "Are you coming? (G1)" in shown(posted) and "✅ Yes: alice" in shown(posted)
    assert buttons(posted) == ["attend_board_yes", "attend_board_no", "attend_board_maybe"]


async def test_a_bot_removed_from_the_channel_tells_the_captain_once(slack: Slack) -> None:
    await team_with_a_game(slack)
    await slack.say(CAPTAIN, "channel here")
    slack.fake.remove_bot(CHANNEL)
    await slack.say(CAPTAIN, "check G1")
    await delivery_worker(slack.app, slack.config).run_once()
    edits = editor_for(slack)
    await edits.run_once()
    assert slack.fake.messages(CHANNEL) == []
    invitation, note = slack.fake.dm(CAPTAIN)  # DMs carry on; the captain is told
    assert "Are you coming?" in (invitation.text or "")
    assert "can't post" in (note.text or "") and "/invite @Attend" in (note.text or "")
    assert "not_in_channel" in (note.text or "")
    # Another game: still no board, and no second note.
    day = (slack.clock.now + timedelta(days=4)).astimezone().strftime("%Y-%m-%d")
    await slack.say(CAPTAIN, f"schedule {day} 19:00 vs Owls")
    await slack.say(CAPTAIN, "check G2")
    await delivery_worker(slack.app, slack.config).run_once()
    await edits.run_once()
    assert [m for m in slack.fake.dm(CAPTAIN) if "can't post" in (m.text or "")] == [note]
    assert len(slack.fake.dm(ALICE)) == 2  # both invitations went out


async def test_a_burst_of_40_answers_becomes_a_few_edits_the_last_showing_all(
        database_url: str, fake_slack: FakeSlack) -> None:
    app = bootstrap(database_url, background=True)  # the real clock, handlers in threads
    app.start()
    captain = Actor.slack(WORKSPACE, CAPTAIN)
    try:
        service = app.service
        ctx = service.create_team(captain, "Big Team", "America/Toronto")
        players = [service.add_player(captain, f"Player {i:02d}", email=f"p{i}@example.org")
                   for i in range(40)]
        service.bind_channel(captain, "slack", f"{WORKSPACE}:{CHANNEL}")
        service.schedule_game(captain, app.clock() + timedelta(days=3), opponent="Hawks")
        check_id = service.start_check(captain, "G1").game.check_id
        assert check_id is not None

        async def token(_workspace: str) -> str | None:
            return "xoxb-test"

        from bot.config import SlackConfig
        client = slack_client(SlackConfig(bot_token="xoxb-test", signing_secret="s",
                                          api_url=fake_slack.url))
        worker = EditWorker(app.db, app.router, {"slack": SlackEditor(client, token)},
                            clock=app.clock, catch_up=lambda: app.runtime.wait_for(
                                app.store.last_position(), ("board", "roster", "schedule")))
        worker.start()
        try:
            assert await eventually(lambda: fake_slack.messages(CHANNEL), timeout=20)

            def answer_all() -> None:  # 40 answers over about two seconds
                for player in players:
                    service.answer_by_link(check_id, player.player_id, Answer.YES)
                    threading.Event().wait(0.05)

            await asyncio.to_thread(answer_all)
            everyone = "In 40 · Out 0 · Maybe 0 · No answer 1"  # the captain is silent
            assert await eventually(lambda: everyone in shown(board(fake_slack)),
                                    timeout=30), shown(board(fake_slack))
            await asyncio.sleep(2.5)  # any edit still to come would come by now
        finally:
            await worker.stop()
        final = board(fake_slack)
        assert 1 <= final.updates <= 5, final.updates
        assert "In 40 · Out 0 · Maybe 0 · No answer 1" in shown(final)
        assert ctx.team.team_id
    finally:
        app.close()


def test_attend_serve_keeps_the_channel_board_and_the_dm_up_to_date(
        database_url: str, tmp_path: Path, fake_slack: FakeSlack) -> None:
    """Through ``attend serve`` itself: an answer given by email shows in the player's DM
    and on the channel's board within a few seconds."""
    port = free_loopback_port()
    env = {**os.environ, "ATTEND_DATABASE_URL": database_url, "ATTEND_SECRET_KEYS": KEYS[0],
           "ATTEND_PORT": str(port), "ATTEND_SLACK_BOT_TOKEN": "xoxb-test",
           "ATTEND_SLACK_SIGNING_SECRET": SECRET, "ATTEND_SLACK_API_URL": fake_slack.url,
           "ATTEND_OUTBOX_DIR": str(tmp_path / "outbox")}
    base = f"http://127.0.0.1:{port}"

    def post(path: str, body: str, headers: dict[str, str]) -> str:
        request = urllib.request.Request(f"{base}{path}", data=body.encode(), headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read().decode()

    def command(user: str, text: str) -> str:
        body = urlencode({"command": "/attend", "text": text, "team_id": WORKSPACE,
                          "user_id": user, "user_name": user.lower(), "channel_id": CHANNEL,
                          "response_url": fake_slack.response_url()})
        return str(json.loads(post("/slack/events", body, signed(body)))["text"])

    def soon(predicate: Any, timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    server = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_health(base, server)
        command(CAPTAIN, "team create The Alchemists tz America/Toronto")
        command(CAPTAIN, f"team add <@{ALICE}|alice> alice@example.org")
        assert "posted in this channel" in command(CAPTAIN, "channel here")
        day = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%d")
        command(CAPTAIN, f"schedule {day} 19:00 vs Hawks")
        command(CAPTAIN, "check G1")
        assert soon(lambda: fake_slack.dm(ALICE) and fake_slack.messages(CHANNEL))
        assert "Not answered yet: u1, alice" in shown(board(fake_slack))
        check_id = fake_slack.dm(ALICE)[0].blocks[1]["elements"][0]["value"]  # type: ignore[index]
        app = bootstrap(database_url, migrate=False, background=True)  # to read the roster
        try:
            [alice] = [p for p in app.service.roster(Actor.slack(WORKSPACE, CAPTAIN))[1]
                       if p.name == "alice"]
        finally:
            app.close()
        token = LinkSigner(KEYS).answer_token(check_id, alice.player_id,
                                              datetime.now(UTC) + timedelta(days=5))
        post(f"/r/{token}", urlencode({"answer": "no"}),
             {"Content-Type": "application/x-www-form-urlencoded"})
        assert soon(lambda: "You're out" in shown(fake_slack.dm(ALICE)[0]), timeout=10)
        assert soon(lambda: "❌ No: alice" in shown(board(fake_slack)), timeout=10)
        assert "Out 1" in command(CAPTAIN, "status G1")
    finally:
        server.send_signal(signal.SIGTERM)
        _, errors = server.communicate(timeout=30)
    assert server.returncode == 0, errors
    assert "Traceback" not in errors
