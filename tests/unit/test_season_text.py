"""The season's chat reply: every player of a 40-player team (names of
about 12 characters) fits one Discord message with the captain's link."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.discord.messages import LIMIT
from bot.season import season_text
from core.projections.roster import TeamView
from core.projections.season import SeasonLine
from core.service import SeasonView

TEAM = TeamView(team_id="t1", name="The Alchemists of Monarch Park", timezone="America/Toronto",
                check_lead_minutes=2880, reminder_minutes=(1440,), min_players=8,
                max_players=14, game_length_minutes=120, slack_workspace=None,
                discord_guild=None, channel=None,
                registered_at=datetime(2026, 9, 1, tzinfo=UTC))
LINK = 250  # the captain's link and its sentence


def test_forty_players_and_the_link_fit_a_discord_message() -> None:
    lines = tuple(SeasonLine(player_id=f"p{i}", name=f"Firstname {i:02}", invited=30,
                             yes=22, no=4, maybe=2, no_answer=2, late_dropouts=11)
                  for i in range(40))
    text = season_text(SeasonView(team=TEAM, games_asked=30, lines=lines))
    assert len(text) + LINK <= LIMIT
    assert text.splitlines()[2] == "• Firstname 00: 73% · 30/22/4/2/2/11"


def test_a_season_with_nobody_asked_says_how_to_start() -> None:
    text = season_text(SeasonView(team=TEAM, games_asked=0, lines=()))
    assert text.endswith("Nobody has been asked about a game yet: /attend check asks the team.")
