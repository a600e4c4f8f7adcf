"""Weekly games from the console, from Slack (the same text grammar) and from Discord (typed
options of ``/attend series``), through the real slack-bolt and discord.py against the local
stand-ins: the same series, the same refusals, the same replies."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import discord

from bot.commands import CommandRunner
from core.actors import Actor
from core.bootstrap import bootstrap
from tests.e2e import test_discord as discord_harness
from tests.e2e import test_slack as slack_harness
from tests.e2e.test_discord import Discord
from tests.e2e.test_slack import WORKSPACE, Slack
from tests.support.clock import FakeClock

dc, fake_discord = discord_harness.dc, discord_harness.fake_discord  # the fixtures
slack, fake_slack = slack_harness.slack, slack_harness.fake_slack
TORONTO = ZoneInfo("America/Toronto")


async def test_a_captain_runs_a_series_from_slack(slack: Slack) -> None:
    captain, alice = slack_harness.CAPTAIN, slack_harness.ALICE
    await slack.say(captain, "team create The Alchemists tz America/Toronto")
    await slack.say(captain, f"team add <@{alice}|alice>")

    made = await slack.say(captain, "schedule every sat 7pm at Monarch Park vs TBD "
                                    "for 4 weeks")
    assert made.startswith("Scheduled S1 · every Sat 7:00 PM · 4 games, 0 played · G1–G4 "
                           "vs TBD at Monarch Park.")
    games = (await slack.say(alice, "games")).splitlines()
    assert games[0] == "S1 · every Sat 7:00 PM · 4 games, 0 played · G1–G4 vs TBD at " \
                       "Monarch Park"
    assert [line.split(" · ")[1].split(" vs ")[0] for line in games[1:]] == [
        "Sat Nov 28, 7:00 PM EST", "Sat Dec 5, 7:00 PM EST", "Sat Dec 12, 7:00 PM EST",
        "Sat Dec 19, 7:00 PM EST"]

    assert (await slack.say(alice, "cancel series S1")).startswith("Only a captain can")
    refused = await slack.say(captain, "schedule every sonday 7pm for 3 weeks")
    assert refused.startswith("'sonday' isn't a day of the week. Did you mean sunday?")
    refused = await slack.say(captain, "schedule every sat 7pm vs Hawks")
    assert refused.startswith("A series needs an end")

    assert (await slack.say(captain, "cancel G2 pitch closed")).startswith("Cancelled G2")
    refused = await slack.say(captain, "reschedule series S1 fri 8pm")  # G1 is tonight
    assert refused.startswith("G1 would move to a time that has passed.")
    moved = await slack.say(captain, "reschedule series S1 sun 8pm")
    assert moved.startswith("Moved the games of S1 still to play: S1 · every Sun 8:00 PM · "
                            "4 games, 0 played, 1 cancelled")
    _, left = slack.app.service.games(Actor.slack(WORKSPACE, captain))
    assert [(g.handle, g.starts_at.astimezone(TORONTO).strftime("%a %b %d %H:%M"))
            for g in left] == [("G1", "Sun Nov 29 20:00"), ("G3", "Sun Dec 13 20:00"),
                               ("G4", "Sun Dec 20 20:00")]
    cancelled = await slack.say(captain, "cancel series S1")
    assert cancelled.startswith("Cancelled S1: 4 of its 4 games are cancelled, 0 played.")


async def test_a_captain_runs_a_series_from_discord_with_typed_options(dc: Discord) -> None:
    captain, alice = discord_harness.CAPTAIN, discord_harness.ALICE
    await dc.say(captain, "team", "create", name="The Alchemists", timezone="America/Toronto")
    await dc.say(captain, "team", "add", member=discord.Object(alice))

    made = await dc.say(captain, "series", "schedule", day="sunday", time="6:30pm",
                        first="dec 6", weeks=3, location="Park vs Rec Center",
                        opponent="Hawks")
    assert made.startswith("Scheduled S1 · every Sun 6:30 PM · 3 games, 0 played · G1–G3 "
                           "vs Hawks at Park vs Rec Center.")
    _, games = dc.app.service.games(Actor.discord(str(alice)))
    assert [g.starts_at.astimezone(TORONTO).strftime("%b %d %H:%M") for g in games] == [
        "Dec 06 18:30", "Dec 13 18:30", "Dec 20 18:30"]

    refused = await dc.say(captain, "series", "schedule", day="sunday", time="6:30pm")
    assert refused.startswith("A series needs an end")
    refused = await dc.say(alice, "series", "reschedule", series="S1", time="8pm")
    assert refused.startswith("Only a captain can")

    moved = await dc.say(captain, "series", "reschedule", series="s1", day="saturday")
    assert moved.startswith("Moved the games of S1 still to play: S1 · every Sat 6:30 PM")
    cancelled = await dc.say(captain, "series", "cancel", series="S1", reason="Rain")
    assert cancelled.startswith("Cancelled S1: 3 of its 3 games are cancelled, 0 played.")
    assert dc.app.service.games(Actor.discord(str(alice)))[1] == []


def test_the_console_schedules_the_example_and_refuses_bad_input_changing_nothing(
        database_url: str, clock: FakeClock) -> None:
    app = bootstrap(database_url, clock=clock)
    try:
        runner = CommandRunner(app.service, clock=clock)
        captain, alice = Actor.console("cap@example.org"), Actor.console("alice@example.org")

        def say(who: Actor, line: str) -> str:
            return runner.run(who, f"/attend {line}").text

        say(captain, "team create Tigers tz America/Toronto")
        say(captain, "team add Alice alice@example.org")
        refusals = {
            "schedule every sat 7pm at Park": "A series needs an end",
            "schedule every sat 7pm for 53 weeks": "That makes 53 games; a series holds at "
                                                   "most 52.",
            "schedule every sat 7pm from jan 9 until 2028-06-01": "a series holds at most 52",
            "schedule every satday 7pm for 3 weeks": "'satday' isn't a day of the week. Did "
                                                     "you mean saturday?",
            "schedule every sun 2:30am from mar 14 for 3 weeks": "On Sun Mar 14 the clocks jump "
                                                                 "forward from 2:00 AM to 3:00 AM",
            "schedule every sun 2:30am from mar 7 for 3 weeks": "On Sun Mar 14 the clocks "
                                                                "change in America/Toronto",
            "schedule every sat 7pm from feb 30 for 3 weeks": "I couldn't read 'feb 30' as a "
                                                              "date",
        }
        for line, words in refusals.items():
            assert words in say(captain, line), line
        assert say(alice, "schedule every sat 7pm for 3 weeks").startswith("Only a captain")
        assert say(captain, "games").startswith("No upcoming games.")

        made = say(captain, "schedule every sat 7pm at Monarch Park vs TBD from jan 9 until "
                            "mar 27")
        assert made.splitlines()[:3] == [
            "Scheduled S1 · every Sat 7:00 PM · 12 games, 0 played · G1–G12 vs TBD at "
            "Monarch Park.",
            "First: G1 · Sat Jan 9, 7:00 PM EST vs TBD at Monarch Park",
            "Last: G12 · Sat Mar 27, 7:00 PM EDT vs TBD at Monarch Park"]
        listed = say(alice, "games").splitlines()
        assert listed[0].startswith("S1 · every Sat 7:00 PM · 12 games, 0 played")
        assert len(listed) == 13
    finally:
        app.close()
