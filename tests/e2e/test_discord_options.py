"""Discord's typed options reach Attend as typed: each option is its command's field, never
text joined into a line and read again, so nothing typed in one option (a "vs" in a place,
a "--team" in a reason) spills into another.

Through discord.py's real client against the local Discord stand-in, as in
``test_discord.py`` (whose fixtures these tests share): the captain (11) and Alice (12).
"""

from __future__ import annotations

from datetime import timedelta

import discord

from core.actors import Actor
from core.aggregates.common import Answer
from tests.e2e import test_discord as harness
from tests.e2e.test_discord import ALICE, CAPTAIN, Discord, team_with_a_game

dc, fake_discord = harness.dc, harness.fake_discord  # the fixtures
SPILL = " --team Nobody"  # was read as the team option when options became one line


def captain() -> Actor:
    return Actor.discord(str(CAPTAIN))


def team_id(dc: Discord, name: str) -> str:
    [found] = [m.team_id for m in dc.app.service.memberships(captain()) if m.team_name == name]
    return found


async def test_a_place_and_an_opponent_are_kept_as_typed(dc: Discord) -> None:
    await team_with_a_game(dc)
    day = (dc.clock.now + timedelta(days=4)).strftime("%Y-%m-%d")

    reply = await dc.say(CAPTAIN, "schedule", when=f"{day} 19:00",
                         location="Park vs Rec Center", opponent="Hawks")
    assert reply.startswith("Scheduled G2 · ") and "vs Hawks at Park vs Rec Center" in reply
    reply = await dc.say(CAPTAIN, "schedule", when=f"{day} 21:00",
                         location=f"Gym{SPILL}", opponent="Owls at home")
    assert reply.startswith("Scheduled G3 · ")

    _, games = dc.app.service.games(captain())
    assert [(g.opponent, g.location) for g in games[1:]] == [
        ("Hawks", "Park vs Rec Center"), ("Owls at home", f"Gym{SPILL}")]


async def test_a_cancel_reason_naming_another_team_stays_the_reason(dc: Discord) -> None:
    await team_with_a_game(dc)
    await dc.say(CAPTAIN, "team", "create", name="Night Owls")

    reply = await dc.say(CAPTAIN, "cancel", game="G1", reason="Rain --team Night Owls",
                         team="The Alchemists")

    assert reply == "Cancelled G1; the players will be told."
    game = dc.app.service.status(captain(), "G1", team_id(dc, "The Alchemists")).game
    assert (game.status, game.cancel_reason) == ("cancelled", "Rain --team Night Owls")


async def test_a_note_stays_the_note(dc: Discord) -> None:
    await team_with_a_game(dc)
    await dc.say(CAPTAIN, "check", game="G1")

    mine = await dc.say(ALICE, "answer", answer="yes", game="G1",
                        note=f"for Bob: bring the ball{SPILL}")
    for_alice = await dc.say(CAPTAIN, "answer", answer="maybe", game="G1",
                             note="-- late, vs traffic", player=discord.Object(ALICE))

    assert mine.startswith("You're in for G1.")
    assert for_alice.startswith("alice is a maybe for G1.")
    lines = {line.name: (line.answer, line.note) for line in dc.board().lines}
    assert lines["alice"] == (Answer.MAYBE, "-- late, vs traffic")
    assert lines["casey"] == (None, None) and lines["Bob"] == (None, None)


async def test_times_are_read_in_the_teams_zone_and_a_game_is_only_a_game(dc: Discord) -> None:
    await team_with_a_game(dc)
    await dc.say(CAPTAIN, "check", game="G1")
    day = (dc.clock.now + timedelta(days=5)).strftime("%Y-%m-%d")

    moved = await dc.say(CAPTAIN, "reschedule", game="G1", when=f"{day} 20:00")
    assert moved.startswith("Moved G1 to ") and "8:00 PM EST" in moved  # Toronto's time
    closes = await dc.say(CAPTAIN, "deadline", game="G1", when=f"{day} 12:00")
    assert closes.startswith("Answers for G1 close ") and "12:00 PM EST" in closes
    assert await dc.say(CAPTAIN, "deadline", game="G1", when="none") == \
        "Answers for G1 now close when the game starts."

    refused = await dc.say(CAPTAIN, "deadline", game="G1", when=f"{day} 12:00{SPILL}")
    assert refused.startswith("I couldn't read ")
    refused = await dc.say(CAPTAIN, "status", game=f"G1{SPILL}")
    assert refused.startswith("'G1 --team Nobody' isn't a game.")


async def test_team_and_player_names_are_kept_as_typed(dc: Discord) -> None:
    created = await dc.say(CAPTAIN, "team", "create", name="Rec tz Europe/Paris vs Hawks",
                           timezone="America/Toronto")
    assert created.startswith("Created Rec tz Europe/Paris vs Hawks (time zone "
                              "America/Toronto)")
    name = f"Carl vs Dan{SPILL}"

    assert await dc.say(CAPTAIN, "team", "add", name=name, email="carl@example.org",
                        team="  rec tz europe/paris  vs hawks ") == \
        f"Added {name} to Rec tz Europe/Paris vs Hawks."
    assert await dc.say(CAPTAIN, "team", "add", name="Ann @ the park",
                        member=discord.Object(ALICE)) == \
        "Added Ann @ the park to Rec tz Europe/Paris vs Hawks."
    assert await dc.say(CAPTAIN, "team", "captain", player=name) == f"{name} is now a captain."
    assert await dc.say(CAPTAIN, "team", "captain", player=name, relieve=True) == \
        f"{name} is no longer a captain."
    assert (await dc.say(CAPTAIN, "team", "remove", player=name)).startswith(
        f"Removed {name};")

    _, players = dc.app.service.roster(captain())
    assert sorted((p.name, p.discord_user) for p in players) == [
        ("Ann @ the park", str(ALICE)), ("casey", str(CAPTAIN))]


async def test_settings_changes_are_settings_only(dc: Discord) -> None:
    await team_with_a_game(dc)

    refused = await dc.say(CAPTAIN, "team", "settings", changes=f"min 3{SPILL}")
    assert refused.startswith("I don't know the setting '--team'")
    saved = await dc.say(CAPTAIN, "team", "settings", changes="min 3 max 14")
    assert saved.startswith("Saved.")
    team = dc.app.service.context(captain()).team
    assert (team.min_players, team.max_players) == (3, 14)
    assert "/attend team add" in await dc.say(CAPTAIN, "help", topic="team add")
