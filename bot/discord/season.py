"""``/attend season`` and ``/attend calendar`` on Discord: no options but the team."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands

from bot import grammar
from bot.grammar import Command

# discord.py reads the options from the annotations, in this module's globals.
Interaction = discord.Interaction[Any]
Team = str | None
Run = Callable[[Interaction, Team, Callable[[], Command]], Awaitable[None]]
_WHICH_TEAM = "Which of your teams, if you're on several"


def season_commands(run: Run) -> list[app_commands.Command[Any, Any, None]]:
    @app_commands.describe(team=_WHICH_TEAM)
    async def season(interaction: Interaction, team: Team = None) -> None:
        await run(interaction, team, grammar.Season)

    @app_commands.describe(team=_WHICH_TEAM)
    async def calendar(interaction: Interaction, team: Team = None) -> None:
        await run(interaction, team, grammar.Calendar)

    return [
        app_commands.Command(name="season", callback=season, description=(
            "Each player's season: asked, in, out, maybe, late drop-outs, rate")),
        app_commands.Command(name="calendar", callback=calendar, description=(
            "Your private calendar link to the team's games")),
    ]
