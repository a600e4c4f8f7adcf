"""The Discord bot: the ``/attend`` command group, DM button taps, and DMs for delivery.

Each sub-command's typed options become the ``/attend`` grammar's command directly
(:mod:`bot.grammar.typed`: never a line of text parsed again, so what someone typed in one
option cannot spill into another), run as the console and Slack run theirs, so the rules and
the replies are the same everywhere. Discord
wants an answer within 3 seconds: a reply ready in time is sent at once (only the person
who asked sees it); a slower one is deferred ("Attend is thinking…") and sent when ready.
A tap on Yes / No / Maybe is recorded for whoever Discord says tapped, and the DM is edited
to show the answer, the counts and the buttons to change it.

Commands reach Discord only through ``attend discord sync`` (Discord limits how often
they may be replaced), never at start-up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Literal, TypeVar

import aiohttp
import discord
from discord import app_commands

from bot import grammar
from bot.commands import CommandRunner
from bot.discord import messages
from bot.discord.actors import actor
from bot.discord.season import season_commands
from bot.edits.discord import BoardButton
from bot.grammar import Command, Mention, typed
from bot.grammar import series as series_options
from bot.links import BoardLinks
from bot.team_channel import Place
from core import safe_text
from core.aggregates.common import Answer
from core.backoff import backoff
from core.bootstrap import App
from core.errors import DomainError
from core.service import AttendService

log = logging.getLogger(__name__)

REPLY_BUDGET_S = 2.0  # Discord gives 3 s to answer an interaction
# discord.py sleeps through a 429 shorter than this; a longer one raises RateLimited, which
# the delivery worker turns into a later try instead of a stalled lane.
MAX_RATELIMIT_WAIT_S = 30.0
FAILED = ("Something went wrong on Attend's side. It may have gone through: check with "
          "/attend games or /attend status before trying again.")
T = TypeVar("T")


class AttendBot(discord.Client):
    def __init__(self, service: AttendService, *, clock: Callable[[], datetime],
                 boards: BoardLinks | None = None, default_timezone: str = "UTC",
                 reply_budget: float = REPLY_BUDGET_S) -> None:
        # Attend never joins voice: spare the operator discord.py's warnings about it.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(intents=discord.Intents.default(),
                         max_ratelimit_timeout=MAX_RATELIMIT_WAIT_S,
                         allowed_mentions=discord.AllowedMentions.none())
        self.service = service
        self.runner = CommandRunner(service, clock=clock, default_timezone=default_timezone,
                                    boards=boards)
        self.tree = app_commands.CommandTree(self)
        self.tree.add_command(attend_commands(self))
        self.tree.error(self._command_failed)
        self.logged_in = asyncio.Event()
        self._budget = reply_budget

    async def setup_hook(self) -> None:
        self.add_dynamic_items(messages.AnswerButton)  # taps on DMs sent before a restart
        self.add_dynamic_items(BoardButton)  # taps on a team channel's board (issue 16.2)
        self.logged_in.set()
        log.info("Discord: signed in as %s (application %s)", self.user, self.application_id)

    async def run_command(self, interaction: discord.Interaction[Any],
                          build: Callable[[], Command], team: str | None = None) -> None:
        """Run the command ``build`` makes as the user who typed it; reply only to them."""
        who = actor(interaction.user)
        place = None if interaction.channel_id is None else Place(
            platform="discord", channel_id=str(interaction.channel_id),
            direct=interaction.guild_id is None)
        work = asyncio.ensure_future(asyncio.to_thread(self.runner.run_command, who, build,
                                                       team=team, place=place))
        if await self._in_time(work):
            await interaction.response.send_message(_reply(work.result().text),
                                                    ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send(_reply((await work).text), ephemeral=True)

    async def _command_failed(self, interaction: discord.Interaction[Any],
                              error: app_commands.AppCommandError) -> None:
        """A command that failed unexpectedly (a bug, the database out of reach); discord.py
        would only log it, leaving the person waiting."""
        command = interaction.command.qualified_name if interaction.command else "?"
        await self._failed(interaction, f"the Discord command /{command}", error)

    async def _failed(self, interaction: discord.Interaction[Any], what: str,
                      error: BaseException) -> None:
        """Log ``error`` with its traceback, and tell the person, only them."""
        log.error("%s failed", what, exc_info=error)
        try:
            if interaction.response.is_done():
                await interaction.followup.send(_reply(FAILED), ephemeral=True)
            else:
                await interaction.response.send_message(_reply(FAILED), ephemeral=True)
        except (discord.HTTPException, TimeoutError, aiohttp.ClientError) as sending:
            log.info("could not tell them (%s)", sending)

    async def record_tap(self, interaction: discord.Interaction[Any], check_id: str,
                         answer: Answer) -> None:
        work = asyncio.ensure_future(asyncio.to_thread(
            self.service.answer_in_check, actor(interaction.user), check_id, answer))
        deferred = not await self._in_time(work)
        if deferred:
            await interaction.response.defer()
        try:
            result = await work
        except DomainError as error:
            refusal = _reply(str(error))
            if deferred:
                await interaction.followup.send(refusal, ephemeral=True)
            else:
                await interaction.response.send_message(refusal, ephemeral=True)
            return
        except Exception as error:
            await self._failed(interaction, f"a Discord tap on {answer.value} in {check_id}",
                               error)
            return
        content, view = messages.answered(result)
        if deferred:
            await interaction.edit_original_response(content=content, view=view)
        else:
            await interaction.response.edit_message(content=content, view=view)

    async def _in_time(self, work: asyncio.Future[T]) -> bool:
        done, _ = await asyncio.wait({work}, timeout=self._budget)
        return work in done


def _reply(text: str) -> str:
    return messages.clip(messages.escape(text))


def _mention(user: discord.User | discord.Member) -> Mention:
    return Mention(platform="discord", user_id=str(user.id))


# discord.py reads the options from the annotations, in this module's globals.
Interaction = discord.Interaction[Any]
Team = str | None
_WHICH_TEAM = "Which of your teams, if you're on several"
_GAME = "G3, or next"
_PLAYER = "Their name or email"
_ON_A_GAME = (("check", "Ask everyone about a game now (captains)"),
              ("status", "Who is coming"),
              ("board", "A private link to a game's live board (captains)"),
              ("remind", "Nudge those who haven't answered or said maybe (captains)"))


def _on_a_game(run: Callable[[Interaction, Team, Callable[[], Command]], Awaitable[None]],
               word: str, description: str) -> app_commands.Command[Any, Any, None]:
    """``/attend <word> [game] [team]``."""
    @app_commands.describe(game=_GAME, team=_WHICH_TEAM)
    async def command(interaction: Interaction, game: str = "next", team: Team = None) -> None:
        await run(interaction, team, lambda: typed.on_a_game(word, game))

    return app_commands.Command(name=word, description=description, callback=command)


def attend_commands(bot: AttendBot) -> app_commands.Group:
    """``/attend`` and ``/attend team``: typed options, each made into its command.
    Every command but help and team create takes ``team``, for someone on several."""
    attend = app_commands.Group(name="attend", description="Schedule games, ask the team, "
                                "see who's coming")
    group = app_commands.Group(name="team", description="The team and its players",
                               parent=attend)
    def run(interaction: Interaction, team: Team,
            build: Callable[[], Command]) -> Awaitable[None]:
        return bot.run_command(interaction, build, team)

    def describe(**options: str) -> Callable[[T], T]:
        return app_commands.describe(team=_WHICH_TEAM, **options)

    @attend.command(name="help", description="How to use Attend")
    @app_commands.describe(topic="A command to explain, like schedule")
    async def help_(interaction: Interaction, topic: str | None = None) -> None:
        await run(interaction, None, lambda: typed.help_(topic))

    @attend.command(description="Schedule a game (captains)")
    @describe(when="When, in the team's time: sat 7pm, tomorrow 18:30, 2026-12-05 19:00",
              opponent="Who you play", location="Where you play")
    async def schedule(interaction: Interaction, when: str, opponent: str | None = None,
                       location: str | None = None, team: Team = None) -> None:
        await run(interaction, team, lambda: typed.schedule(when=when, location=location,
                                                           opponent=opponent))

    @attend.command(description="The upcoming games")
    @describe()
    async def games(interaction: Interaction, team: Team = None) -> None:
        await run(interaction, team, grammar.Games)

    # The commands that take only a game: /attend check, status, board, remind.
    for word, description in _ON_A_GAME:
        attend.add_command(_on_a_game(run, word, description))

    @attend.command(description="Cancel a game (captains)")
    @describe(game=_GAME, reason="Told to the players")
    async def cancel(interaction: Interaction, game: str, reason: str | None = None,
                     team: Team = None) -> None:
        await run(interaction, team, lambda: typed.cancel(game=game, reason=reason))

    @attend.command(description="Move a game; answers are kept (captains)")
    @describe(game=_GAME, when="The new time")
    async def reschedule(interaction: Interaction, game: str, when: str,
                         team: Team = None) -> None:
        await run(interaction, team, lambda: typed.reschedule(game=game, when=when))

    @attend.command(description="Close answers at a time before the game (captains)")
    @describe(when="When answers close, or none", game=_GAME)
    async def deadline(interaction: Interaction, when: str, game: str = "next",
                       team: Team = None) -> None:
        await run(interaction, team, lambda: typed.deadline(game=game, when=when))

    @attend.command(description="Answer for yourself, or as a captain for a player")
    @describe(answer="Are you coming?", game=_GAME, note="A note for the captain",
              player="Answer for this player (captains)")
    async def answer(interaction: Interaction, answer: Literal["yes", "no", "maybe"],
                     game: str = "next", note: str | None = None,
                     player: discord.User | None = None, team: Team = None) -> None:
        await run(interaction, team, lambda: typed.answer(
            game=game, answer=answer, note=note, player=_mention(player) if player else None))

    @attend.command(description="Your upcoming games and answers")
    @describe()
    async def me(interaction: Interaction, team: Team = None) -> None:
        await run(interaction, team, grammar.Me)

    # The season (issue 17): /attend season, /attend calendar.
    for command in season_commands(run):
        attend.add_command(command)

    @group.command(description="Start a team; you become its captain")
    @app_commands.describe(name="The team's name",
                           timezone="Where its games are played, like America/Toronto")
    async def create(interaction: Interaction, name: str, timezone: str | None = None) -> None:
        await run(interaction, None, lambda: typed.create_team(name=name, timezone=timezone))

    @group.command(description="Add a player, by Discord account and/or email (captains)")
    @describe(member="Their Discord account", email="Their email address",
              name="Their name (default: their Discord name)",
              reserve="A reserve: asked only when a game is short")
    async def add(interaction: Interaction, member: discord.User | None = None,
                  email: str | None = None, name: str | None = None, reserve: bool = False,
                  team: Team = None) -> None:
        # Discord's name for them is theirs, not typed here: cleaned rather than refused.
        shown = name or (safe_text.shown(member.display_name, " ") if member else None)
        await run(interaction, team, lambda: typed.add_player(
            name=shown, email=email, mention=_mention(member) if member else None,
            reserve=reserve))

    @group.command(description="Take a player off the roster (captains)")
    @describe(player=_PLAYER)
    async def remove(interaction: Interaction, player: str, team: Team = None) -> None:
        await run(interaction, team, lambda: typed.remove_player(player))

    @group.command(description="The players and how each is reached")
    @describe()
    async def roster(interaction: Interaction, team: Team = None) -> None:
        await run(interaction, team, grammar.Roster)

    @group.command(description="Make a player a captain, or stop them being one (captains)")
    @describe(player=_PLAYER, relieve="Stop them being a captain")
    async def captain(interaction: Interaction, player: str, relieve: bool = False,
                      team: Team = None) -> None:
        await run(interaction, team, lambda: typed.captain(player, relieve=relieve))

    @group.command(description="Move a player to the reserves, or back (captains)")
    @describe(player=_PLAYER, remove="Back among the players, asked every game")
    async def reserve(interaction: Interaction, player: str, remove: bool = False,
                      team: Team = None) -> None:
        await run(interaction, team, lambda: typed.set_reserve(player, remove=remove))

    @group.command(description="Show the team's settings, or change some (captains)")
    @describe(changes="Like: tz America/Toronto lead 48h reminders 24h,3h min 8 max 14")
    async def settings(interaction: Interaction, changes: str | None = None,
                       team: Team = None) -> None:
        await run(interaction, team, lambda: typed.settings(changes))

    add_series_commands(attend, run)
    # -- the team's channel (issue 16.2) -------------------------------------------------------
    @attend.command(name="channel", description="Post each game's board in this channel, or "
                    "stop (captains)")
    @describe(where="here: this channel; none: no channel")
    async def channel(interaction: Interaction, where: Literal["here", "none"],
                      team: Team = None) -> None:
        await run(interaction, team, lambda: grammar.TeamChannel(bind=where == "here"))

    return attend


_SERIES = "S1"
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
Weeks = app_commands.Range[int, 1, 52]


def add_series_commands(attend: app_commands.Group, run: Callable[
        [Interaction, Team, Callable[[], Command]], Awaitable[None]]) -> None:
    """``/attend series schedule|cancel|reschedule``: weekly games, each a game of its own."""
    group = app_commands.Group(name="series", description="Weekly games (captains)",
                               parent=attend)

    @group.command(description="A game every week (or every n weeks), at most 52")
    @app_commands.describe(day="The day of the week", time="The time: 7pm, 19:00",
                           first="The first date, like jan 9 (default: the next one)",
                           until="The last date, like mar 27", weeks="For this many weeks",
                           every="Every this many weeks (default 1)",
                           opponent="Who you play", location="Where you play",
                           team=_WHICH_TEAM)
    async def schedule(interaction: Interaction, day: Weekday, time: str,
                       until: str | None = None, weeks: Weeks | None = None,
                       first: str | None = None, every: Weeks = 1,
                       opponent: str | None = None, location: str | None = None,
                       team: Team = None) -> None:
        await run(interaction, team, lambda: series_options.typed_schedule(
            day=day, at=time, start=first, until=until, weeks=weeks, every=every,
            location=location, opponent=opponent))

    @group.command(description="Cancel a series' games still to play")
    @app_commands.describe(series=_SERIES, reason="Told to the players", team=_WHICH_TEAM)
    async def cancel(interaction: Interaction, series: str, reason: str | None = None,
                     team: Team = None) -> None:
        await run(interaction, team, lambda: series_options.typed_cancel(series=series,
                                                                         reason=reason))

    @group.command(description="Move a series' games still to play to another day or time")
    @app_commands.describe(series=_SERIES, day="The new day", time="The new time: 6pm, 18:00",
                           team=_WHICH_TEAM)
    async def reschedule(interaction: Interaction, series: str, day: Weekday | None = None,
                         time: str | None = None, team: Team = None) -> None:
        await run(interaction, team, lambda: series_options.typed_reschedule(
            series=series, day=day, at=time))


async def keep_connected(bot: AttendBot, token: str, *, gateway: bool = True,
                         first_wait: float = 5.0, longest_wait: float = 300.0) -> None:
    """Sign the bot in and, with ``gateway``, run its gateway connection until it is closed
    (without, sign in only: enough to send DMs). discord.py reconnects a dropped gateway by
    itself; this also retries when it cannot sign in or connect at all (Discord or the
    network down at start-up), waiting longer each time. A refused token is a setup
    mistake: said once, and Attend runs on without Discord."""
    failures = 0
    while not bot.is_closed():
        try:
            await (bot.start(token) if gateway else bot.login(token))
            return
        except discord.LoginFailure:
            log.error("Discord refused ATTEND_DISCORD_BOT_TOKEN: copy it again from the "
                      "application's Bot page and restart. Running without Discord; Discord "
                      "DMs wait.")
            await bot.close()  # so they wait at once, not after a sign-in timeout each
            return
        except Exception as error:
            if bot.is_closed():
                return
            failures += 1
            wait = backoff(failures, first=first_wait, longest=longest_wait)
            log.warning("cannot connect to Discord (%s); trying again in %.0f s", error, wait)
            await asyncio.sleep(wait)


async def sync_commands(app: App, token: str, *, guild: int | None = None) -> list[str]:
    """Replace the application's commands with this version's (``attend discord sync``):
    in one server at once, or everywhere."""
    bot = AttendBot(app.service, clock=app.clock)
    try:
        await bot.login(token)
        target = discord.Object(id=guild) if guild is not None else None
        if target is not None:
            bot.tree.copy_global_to(guild=target)
        synced = await bot.tree.sync(guild=target)
    finally:
        await bot.close()
    return [command.name for command in synced]
