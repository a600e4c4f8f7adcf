"""Runs one line of the ``/attend`` grammar against the service and returns the reply.

Shared by the local console (``attend say``) and chat adapters that take typed commands.
Every refusal, from the grammar, the date reader or the domain, comes back as a short reply
saying what was wrong, never as a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import grammar, team_channel, text, words
from bot import season as seasons
from bot.links import LINK_LIFETIME, BoardLinks
from bot.series import SeriesRunner
from bot.when import WhenError, describe, parse_when
from core.actors import Actor
from core.aggregates.common import Answer
from core.errors import DomainError, Refusal
from core.projections.due_work.plan import check_starts_at
from core.safe_text import excerpt, refuse_unsafe, shown
from core.service import AttendService, Context


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    ok: bool = True


def _settings_changes(change: grammar.SettingsChange) -> dict[str, object]:
    changes: dict[str, object] = {
        "timezone": change.timezone, "check_lead_minutes": change.lead_minutes,
        "reminder_minutes": change.reminder_minutes, "min_players": change.min_players,
        "max_players": change.max_players, "game_length_minutes": change.game_minutes,
        "clear_min_players": "min_players" in change.cleared,
        "clear_max_players": "max_players" in change.cleared,
        "reserve_minutes": change.reserve_minutes,
        "clear_reserve_minutes": "reserve_minutes" in change.cleared, "dms": change.dms,
    }
    return {k: v for k, v in changes.items() if v is not None}


def _team_option(line: str) -> tuple[str, str | None]:
    """``"status G1 --team The Alchemists"`` -> ``("status G1", "The Alchemists")``."""
    head, found, name = line.partition(" --team ")
    if not found or not name.strip():
        return line, None
    return head, " ".join(name.split())


class CommandRunner:
    def __init__(self, service: AttendService, *, clock: Callable[[], datetime],
                 default_timezone: str = "UTC", boards: BoardLinks | None = None) -> None:
        self._service = service
        self._clock = clock
        self._default_timezone = default_timezone
        self._boards = boards
        self._series = SeriesRunner(service, clock=clock)

    def run(self, actor: Actor, line: str, *, team: str | None = None,
            timezone: str | None = None, place: team_channel.Place | None = None) -> Reply:
        """Run ``line``; ``team``, or ``--team NAME`` at the end of the line, names the team
        for someone on several; ``timezone`` (where the platform says the person is) is a
        new team's zone when they name none."""
        line, named = _team_option(line)

        def build() -> grammar.Command:
            refuse_unsafe(line, "command")
            return grammar.parse(line)

        return self.run_command(actor, build, team=named or team, timezone=timezone,
                                place=place)

    def run_command(self, actor: Actor, build: Callable[[], grammar.Command], *,
                    team: str | None = None, timezone: str | None = None,
                    place: team_channel.Place | None = None) -> Reply:
        """Run the command ``build`` makes (from typed options, say, with
        :mod:`bot.grammar.typed`); a value it refuses is a reply like any other. ``team`` and
        ``timezone`` as for :meth:`run`; ``place`` is the chat channel it was typed in."""
        try:
            named = " ".join(team.split()) if team else None
            team_id = None if not named else self._team_named(actor, named)
            command = build()
            if isinstance(command, grammar.TeamChannel):  # needs where it was typed
                return Reply(shown(team_channel.run(self._service, actor, bind=command.bind,
                                                    place=place, team_id=team_id)))
            # Stored text goes out through the one rule (names kept from before it).
            return Reply(shown(self._execute(actor, command, team_id,
                                             timezone or self._default_timezone)))
        except grammar.GrammarError as error:
            return Reply(f"{error.message}\nUsage: {error.usage}", ok=False)
        except (WhenError, DomainError) as error:
            return Reply(str(error), ok=False)

    def _team_named(self, actor: Actor, name: str) -> str:
        refuse_unsafe(name, "team")
        mine = self._service.memberships(actor)
        named = {m.team_id for m in mine if m.team_name.casefold() == name.casefold()}
        if len(named) == 1:
            return named.pop()
        if named:  # only teams named before namesakes were refused
            raise DomainError(Refusal.WHICH_TEAM, f"You're on {len(named)} teams called "
                              f"{excerpt(name)!r}; ask a captain of one to take you off it.")
        teams = ", ".join(sorted(m.team_name for m in mine)) or "none yet"
        raise DomainError(Refusal.UNKNOWN_TEAM, f"You're not on a team called {excerpt(name)!r} "
                          f"(yours: {teams}).")

    def _when(self, ctx: Context, when_text: str) -> datetime:
        return parse_when(when_text, zone=ZoneInfo(ctx.team.timezone), now=self._clock())

    def _execute(self, actor: Actor, command: grammar.Command, team_id: str | None,
                 default_timezone: str) -> str:
        service = self._service
        match command:
            case grammar.Help(topic=topic):
                return grammar.help_text(topic)
            case grammar.CreateTeam(name=name, timezone=zone):
                ctx = service.create_team(actor, name, zone or default_timezone)
                return (f"Created {ctx.team.name} (time zone {ctx.team.timezone}); you're its "
                        "captain. Add players with /attend team add NAME EMAIL.")
            case grammar.AddPlayer(name=name, email=email, mention=mention, reserve=reserve):
                ctx = service.context(actor, team_id)
                slack = discord = None
                if mention is not None and mention.platform == "slack":
                    if not ctx.team.slack_workspace:
                        raise DomainError(Refusal.NO_WORKSPACE, "Slack mentions work from Slack; "
                                          "give an email address here.")
                    slack = f"{ctx.team.slack_workspace}:{mention.user_id}"
                elif mention is not None:
                    discord = mention.user_id
                player, new = service.add_or_reach_player(
                    actor, name, email=email, slack_user=slack, discord_user=discord,
                    team_id=ctx.team.team_id, reserve=reserve)
                if new and reserve:
                    return (f"Added {player.name} to {ctx.team.name} as a reserve: asked only "
                            "when a game is short (see reserves in /attend team settings).")
                if new:
                    return f"Added {player.name} to {ctx.team.name}."
                ways = [w for w, on in (("email", player.email), ("Slack", player.slack_user),
                                        ("Discord", player.discord_user)) if on]
                return f"{player.name} is already on {ctx.team.name}; now reached by " \
                    f"{' and '.join(ways)}."
            case grammar.RemovePlayer(who=who):
                removed = service.remove_player(actor, who, team_id)
                return f"Removed {removed.name}; their open invitations are withdrawn."
            case grammar.Roster():
                team, players = service.roster(actor, team_id)
                return text.roster_text(team, players)
            case grammar.AppointCaptain(who=who):
                return f"{service.appoint_captain(actor, who, team_id).name} is now a captain."
            case grammar.RelieveCaptain(who=who):
                return f"{service.relieve_captain(actor, who, team_id).name} is no longer a " \
                       "captain."
            case grammar.SetReserve(who=who, reserve=reserve):
                moved = service.set_reserve(actor, who, reserve, team_id)
                if reserve:
                    return (f"{moved.name} is now a reserve: asked only when a game is short, "
                            "from the next check on.")
                return f"{moved.name} is a player again: asked every game from the next check on."
            case grammar.Settings(changes=None):
                return text.settings_text(service.context(actor, team_id).team)
            case grammar.Settings(changes=change) if change is not None:
                updated = service.change_settings(actor, team_id=team_id,
                                                  **_settings_changes(change))
                return "Saved.\n" + text.settings_text(updated)
            case grammar.Schedule(when_text=when_text, location=location, opponent=opponent):
                ctx = service.captain_context(actor, team_id, "schedule games")
                starts_at = self._when(ctx, when_text)
                status = service.schedule_game(actor, starts_at, location=location,
                                               opponent=opponent, original_text=when_text,
                                               team_id=ctx.team.team_id)
                now = self._clock()
                asked_at = check_starts_at(status.game.starts_at, at=now,
                                           lead_minutes=status.team.check_lead_minutes)
                if asked_at <= now:  # the scheduler starts such a check at once
                    when = "The game is close, so the players are being asked now."
                else:
                    when = (f"The players will be asked on {describe(asked_at, ctx.zone)}; "
                            f"/attend check {status.game.handle} asks them now.")
                return f"Scheduled {text.game_line(status.team, status.game)}.\n{when}"
            case grammar.Games():
                team, games = service.games(actor, team_id)
                if not games:
                    return "No upcoming games. /attend schedule sat 7pm vs Hawks adds one."
                return "\n".join([*self._series.lines(actor, team.team_id),
                                  *(text.game_line(team, g) for g in games)])
            case grammar.Check(game=ref):
                status = service.start_check(actor, ref, team_id)
                invited = len(status.board.lines) if status.board else 0
                return (f"Asked {invited} players about {status.game.handle}.\n"
                        + text.board_text(status.team, status.game, status.board))
            case grammar.Status(game=ref):
                status = service.status(actor, ref, team_id)
                return text.board_text(status.team, status.game, status.board)
            case grammar.Board(game=ref):
                ctx = service.captain_context(actor, team_id, "open the live board")
                found = service.game(ctx, ref)
                if self._boards is None:
                    return "The live board is a page of attend serve, which isn't set up here."
                url = self._boards.url(found.game_id, ctx.team.team_id, ctx.player.player_id,
                                       found.starts_at)
                hours = int(LINK_LIFETIME.total_seconds() // 3600)
                return (f"Live board for {found.handle}, yours alone (don't share it), until "
                        f"{hours} hours after the start:\n{url}")
            case grammar.Remind(game=ref):
                status = service.remind(actor, ref, team_id)
                waiting = len(status.board.non_responders) if status.board else 0
                return f"Reminding {waiting} players who haven't answered or said maybe."
            case grammar.Deadline(game=ref, when_text=when_text):
                ctx = service.captain_context(actor, team_id, "set answer deadlines")
                deadline = self._when(ctx, when_text)
                try:
                    status = service.set_deadline(actor, ref, deadline, ctx.team.team_id)
                except DomainError as error:
                    if error.code is not Refusal.DEADLINE_AFTER_START:
                        raise
                    # The refusal's words, and when the game starts, in the team's zone.
                    found = service.game(ctx, ref)
                    raise DomainError(error.code, f"{error.message} {found.handle} starts "
                                      f"{describe(found.starts_at, ctx.zone)}.") from None
                return (f"Answers for {status.game.handle} close "
                        f"{describe(deadline, ctx.zone)}.")
            case grammar.ClearDeadline(game=ref):
                status = service.clear_deadline(actor, ref, team_id)
                return (f"Answers for {status.game.handle} now close when the game "
                        "starts.")
            case grammar.Cancel(game=ref, reason=reason):
                status = service.cancel_game(actor, ref, reason, team_id)
                return f"Cancelled {status.game.handle}; the players will be told."
            case grammar.Reschedule(game=ref, when_text=when_text):
                ctx = service.captain_context(actor, team_id, "reschedule games")
                starts_at = self._when(ctx, when_text)
                status = service.reschedule_game(actor, ref, starts_at, original_text=when_text,
                                                 team_id=ctx.team.team_id)
                return (f"Moved {status.game.handle} to "
                        f"{describe(status.game.starts_at, ctx.zone)}; answers are kept and "
                        "the players will be told.")
            case grammar.Answer(game=ref, answer=word, note=note, on_behalf_of=behalf):
                result = service.answer(actor, Answer(word), ref=ref, note=note,
                                        on_behalf_of=behalf, team_id=team_id)
                who = "You're" if behalf is None else f"{result.player.name} is"
                said = words.ANSWER[Answer(word)].state
                head = (f"{who} {said} for {result.game.handle}." if result.changed
                        else f"{who} already {said} for {result.game.handle}.")
                line = next((ln for ln in result.board.lines
                             if ln.player_id == result.player.player_id), None)
                if line is not None and line.waitlist_position is not None:
                    head += f" The game is full: waitlist #{line.waitlist_position}."
                return f"{head}\n{text.counts(result.board)}"
            # Series of games (bot/series.py)
            case grammar.ScheduleSeries():
                return self._series.schedule(actor, command, team_id)
            case grammar.RescheduleSeries():
                return self._series.reschedule(actor, command, team_id)
            case grammar.CancelSeries():
                return self._series.cancel(actor, command, team_id)
            case grammar.Me():
                ctx, upcoming = service.my_games(actor, team_id)
                return text.my_games_text(ctx.team, ctx.player, upcoming)
            # -- the season (issue 17): bot/season.py --
            case grammar.Season():
                return seasons.season_reply(service, actor, team_id, self._boards,
                                            self._clock())
            case grammar.Calendar():
                return seasons.calendar_reply(service, actor, team_id, self._boards)
        raise AssertionError(f"unhandled command {command!r}")
