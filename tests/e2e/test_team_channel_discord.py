"""A team's channel on Discord, end to end: ``/attend channel here`` typed in a server's
channel, the board posted there and edited as answers arrive, DMs that follow the answer,
and a bot without access to the channel; discord.py's real client against the stand-in.

The captain (11) and Alice (12) are on Discord; Bob has only an email address.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.edits.discord import DiscordEditor
from bot.edits.worker import EditWorker
from bot.serve import delivery_worker
from core.actors import Actor
from core.aggregates.common import Answer
from tests.e2e import test_discord as discord_story
from tests.e2e.test_discord import ALICE, CAPTAIN, STRANGER, Discord, team_with_a_game
from tests.support.discord_api import Message
from tests.support.waiting import eventually

GUILD, CHANNEL = "777", "4100"
fake_discord, dc = discord_story.fake_discord, discord_story.dc  # the Discord tests' fixtures
EPHEMERAL = 64


def edit_worker(dc: Discord) -> EditWorker:
    return EditWorker(dc.app.db, dc.app.router, {"discord": DiscordEditor(dc.bot)},
                      clock=dc.app.clock, delay=timedelta(0), interval=timedelta(0))


def in_the_channel(dc: Discord, user: int, kind: int, data: dict[str, Any],
                   **extra: Any) -> dict[str, Any]:
    """An interaction from the server's text channel CHANNEL, as the gateway sends it."""
    member = {"user": dc.fake.user_object(user), "roles": [], "joined_at":
              "2026-01-01T00:00:00+00:00", "deaf": False, "mute": False, "flags": 0,
              "permissions": "0"}
    return dc._interaction(dc.fake.interaction(
        user, kind, data, guild_id=GUILD, member=member, channel_id=CHANNEL,
        channel={"id": CHANNEL, "type": 0, "guild_id": GUILD, "name": "general",
                 "position": 0, "permission_overwrites": []}, context=0, **extra))


async def bind_here(dc: Discord) -> str:
    data = {"id": "1", "name": "attend", "type": 1, "options": [
        {"type": 1, "name": "channel", "options": [{"type": 3, "name": "where",
                                                     "value": "here"}]}]}
    payload = in_the_channel(dc, CAPTAIN, 2, data)
    assert await eventually(lambda: dc.fake.callbacks(payload["id"]))
    [callback] = dc.fake.callbacks(payload["id"])
    assert callback["data"]["flags"] == EPHEMERAL
    content: str = callback["data"]["content"]
    return content


async def tap_board(dc: Discord, user: int, board: Message, answer: str) -> dict[str, Any]:
    [custom_id] = [b["custom_id"] for row in board.components for b in row["components"]
                   if b["custom_id"].endswith(answer)]
    payload = in_the_channel(dc, user, 3, {"custom_id": custom_id, "component_type": 2},
                             message=dc.fake.message_object(board))
    assert await eventually(lambda: dc.fake.callbacks(payload["id"]))
    [callback] = dc.fake.callbacks(payload["id"])
    return callback


def the_board(dc: Discord) -> Message:
    [board] = dc.fake.messages(CHANNEL)
    return board


async def test_the_board_in_the_channel_and_the_dms_follow_every_answer(dc: Discord) -> None:
    await team_with_a_game(dc)
    bound = await bind_here(dc)
    assert "posted in this channel" in bound and "View Channel" in bound
    assert f"the Discord channel {CHANNEL}" in await dc.say(CAPTAIN, "team", "settings")
    await dc.say(CAPTAIN, "check", game="G1")
    await delivery_worker(dc.app, dc.config, discord_bot=dc.bot).run_once()
    edits = edit_worker(dc)
    await edits.run_once()
    board = the_board(dc)
    assert board.content.startswith("**Are you coming? (G1)**")
    assert "Not answered yet: casey, alice, Bob" in board.content
    [row] = board.components
    assert [b["custom_id"].rsplit(":", 1)[1] for b in row["components"]] == \
        ["yes", "no", "maybe"]

    # Alice answers by email: her Discord DM and the board both show it.
    check_id = dc.board().check_id
    alice = next(ln for ln in dc.board().lines if ln.name == "alice")
    dc.app.service.answer_by_link(check_id, alice.player_id, Answer.YES)
    await edits.run_once()
    [dm] = dc.fake.dm_messages(ALICE)
    assert dm.edits == 1 and dm.content.startswith("**✅ You're in.**")
    assert "✅ Yes: alice" in the_board(dc).content

    # A tap on the board answers for the tapper, in a reply only they see.
    callback = await tap_board(dc, ALICE, the_board(dc), "maybe")
    assert callback["type"] == 4 and callback["data"]["flags"] == EPHEMERAL
    assert "You're a maybe" in callback["data"]["content"]
    # Someone not on the team: a note only they see, and nothing changes.
    refused = await tap_board(dc, STRANGER, the_board(dc), "yes")
    assert refused["data"]["flags"] == EPHEMERAL
    await edits.run_once()
    final = the_board(dc).content
    assert "❔ Maybe: alice" in final and "Yes:" not in final
    status = dc.app.service.status(Actor.discord(str(CAPTAIN)), "G1").board
    assert status is not None and f"In {status.yes} · Out {status.no} · Maybe " \
        f"{status.maybe} · No answer {status.waiting}" in final
    assert dc.fake.dm_messages(ALICE)[0].content.startswith("**❔ You're a maybe.**")

    # Rescheduled, then cancelled: the board follows, and loses its buttons.
    day = (dc.clock.now + timedelta(days=4)).strftime("%Y-%m-%d")
    await dc.say(CAPTAIN, "reschedule", game="G1", when=f"{day} 18:00")
    await edits.run_once()
    assert "6:00 PM" in the_board(dc).content
    await dc.say(CAPTAIN, "cancel", game="G1", reason="Field flooded")
    await edits.run_once()
    assert the_board(dc).content.startswith("**Cancelled.** Field flooded")
    assert the_board(dc).components == []


async def test_a_bot_without_access_to_the_channel_tells_the_captain_once(
        dc: Discord) -> None:
    await team_with_a_game(dc)
    await bind_here(dc)
    dc.fake.forbid_channel(CHANNEL, 50013)
    await dc.say(CAPTAIN, "check", game="G1")
    await delivery_worker(dc.app, dc.config, discord_bot=dc.bot).run_once()
    edits = edit_worker(dc)
    await edits.run_once()
    assert dc.fake.messages(CHANNEL) == []
    invitation, note = dc.fake.dm_messages(CAPTAIN)  # DMs carry on; the captain is told
    assert invitation.content.startswith("**Are you coming?**")
    assert "can't post" in note.content and "Missing Permissions" in note.content
    assert "View Channel, Send Messages and Read Message History" in note.content
    day = (dc.clock.now + timedelta(days=4)).strftime("%Y-%m-%d")
    await dc.say(CAPTAIN, "schedule", when=f"{day} 19:00", opponent="Owls")
    await dc.say(CAPTAIN, "check", game="G2")
    await delivery_worker(dc.app, dc.config, discord_bot=dc.bot).run_once()
    await edits.run_once()
    notes = [m for m in dc.fake.dm_messages(CAPTAIN) if "can't post" in m.content]
    assert len(notes) == 1
    assert len(dc.fake.dm_messages(ALICE)) == 2  # both invitations went out
