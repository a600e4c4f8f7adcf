"""The application service: the one door every adapter goes through.

It resolves who is asking to a player on a team (through the directory read model),
enforces who may do what (captains schedule, players answer for themselves), validates
input, sends one command through the router, waits until the read models the caller will
look at have caught up, and returns plain results for the adapter to render. Every refusal
is a :class:`DomainError` with a stable code and a message fit to show a person.
"""

from __future__ import annotations

import functools
import inspect
import re
import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import Connection

from attend.core.actors import Actor, ActorKind
from attend.core.aggregates import check, game, team
from attend.core.aggregates.common import Answer, AnswerSource, PlayerProfile
from attend.core.errors import DomainError
from attend.core.eventstore.database import Database
from attend.core.gate import RequestGate
from attend.core.limits import MAX_NAME, MAX_NOTE, MAX_PLACE, MAX_REASON
from attend.core.memo import Generation, ReadMemo, Stamp, no_generations
from attend.core.projections import board as boards
from attend.core.projections import directory, player_games, roster, schedule, season
from attend.core.projections.board import BoardView
from attend.core.projections.directory import Membership
from attend.core.projections.player_games import PlayerGameView
from attend.core.projections.roster import PlayerView, TeamView
from attend.core.projections.schedule import GameView
from attend.core.projections.season import SeasonLine
from attend.core.router import Clock, DispatchResult, Router, new_id

T = TypeVar("T")
# Waits until the named read models have caught up with a position (see bootstrap).
Settle = Callable[[int, Sequence[str]], None]

EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


@dataclass(frozen=True, kw_only=True, slots=True)
class Context:
    """The asking player on the team the request is about."""

    team: TeamView
    player: PlayerView

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.team.timezone)


@dataclass(frozen=True, kw_only=True, slots=True)
class GameStatusView:
    team: TeamView
    game: GameView
    board: BoardView | None


@dataclass(frozen=True, kw_only=True, slots=True)
class AnswerResult:
    team: TeamView
    game: GameView
    player: PlayerView
    answer: Answer
    changed: bool  # False when the same answer was given again
    board: BoardView


@dataclass(frozen=True, kw_only=True, slots=True)
class Invitation:
    """What an email answer page shows."""

    team: TeamView
    game: GameView
    player: PlayerView | None  # None when the player has left the team
    board: BoardView

    @property
    def line(self) -> boards.BoardLine | None:
        return next((ln for ln in self.board.lines if self.player is not None
                     and ln.player_id == self.player.player_id), None)


class _Reading:
    """One request's reads: one connection, opened at the first query that needs it, and
    the read models' generations taken before it (see :mod:`attend.core.memo`)."""

    def __init__(self, db: Database, stamp: Stamp) -> None:
        self.stamp = stamp
        self._db = db
        self._exit = ExitStack()
        self._conn: Connection | None = None

    def connection(self) -> Connection:
        if self._conn is None:
            self._conn = self._exit.enter_context(self._db.read())
        return self._conn

    def close(self) -> None:
        self._exit.close()


_reading: ContextVar[_Reading | None] = ContextVar("attend_reading", default=None)
# Lookups worth memoising come from these read models.
_MEMOISED = ("directory", "roster", "schedule")


def _admitted(cls: type[T]) -> type[T]:
    """Every public method of ``cls`` runs inside the service's :class:`RequestGate`."""
    def admitted(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def wrapper(self: AttendService, *args: Any, **kwargs: Any) -> Any:
            with self._gate:
                return method(self, *args, **kwargs)
        return wrapper

    for name, member in list(vars(cls).items()):
        if not name.startswith("_") and inspect.isfunction(member):
            setattr(cls, name, admitted(member))
    return cls


@_admitted
class AttendService:
    """Every public method is a request: at most ``request_slots`` run at once per process
    and the rest wait their turn in order (see :mod:`attend.core.gate`)."""

    def __init__(self, db: Database, router: Router, *, clock: Clock, settle: Settle,
                 settle_until: Callable[[Callable[[], bool]], bool] | None = None,
                 generation: Generation = no_generations, request_slots: int = 3) -> None:
        self._gate = RequestGate(request_slots)
        self._db = db
        self._router = router
        self._clock = clock
        self._settle = settle
        self._settle_until = settle_until or poll_until
        self._memo = ReadMemo(generation, _MEMOISED)

    # -- reading -----------------------------------------------------------------------------
    def _read(self, query: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        reading = _reading.get()
        if reading is not None:
            return query(reading.connection(), *args, **kwargs)
        with self._db.read() as conn:
            return query(conn, *args, **kwargs)

    def _lookup(self, model: str, key: Hashable, query: Callable[..., T], *args: Any) -> T:
        """``query(conn, *args)``, memoised while read model ``model`` stands still."""
        reading = _reading.get()
        stamp = reading.stamp if reading is not None else self._memo.stamp()
        return self._memo.get(stamp, model, key, lambda: self._read(query, *args))

    @contextmanager
    def _one_connection(self) -> Iterator[None]:
        """Serve the reads inside from one connection (resolving who asks and which game
        takes four or five queries; each checkout costs more than the query)."""
        if _reading.get() is not None:
            yield
            return
        reading = _Reading(self._db, self._memo.stamp())
        token = _reading.set(reading)
        try:
            yield
        finally:
            _reading.reset(token)
            reading.close()

    def memberships(self, actor: Actor) -> list[Membership]:
        return list(self._lookup("directory" if actor.kind is not ActorKind.PLAYER
                                 else "roster", ("actor", actor.key), self._memberships, actor))

    def _memberships(self, conn: Connection, actor: Actor) -> tuple[Membership, ...]:
        if actor.kind is ActorKind.CONSOLE:
            return tuple(directory.memberships(conn, email=actor.ref))
        if actor.kind is ActorKind.SLACK:
            return tuple(directory.memberships(conn, slack_user=actor.ref))
        if actor.kind is ActorKind.DISCORD:
            return tuple(directory.memberships(conn, discord_user=actor.ref))
        if actor.kind is ActorKind.PLAYER:
            team_id, _, player_id = actor.ref.partition(":")
            found = roster.player(conn, team_id, player_id)
            team_view = roster.team(conn, team_id)
            if found is None or team_view is None:
                return ()
            return (Membership(team_id=team_id, team_name=team_view.name, player_id=player_id,
                               player_name=found.name, captain=found.captain),)
        return ()

    def context(self, actor: Actor, team_id: str | None = None) -> Context:
        """Resolve the actor to a player; ``team_id`` picks one of several teams."""
        with self._one_connection():
            return self._context(actor, team_id)

    def _context(self, actor: Actor, team_id: str | None) -> Context:
        mine = self.memberships(actor)
        if team_id is not None:
            mine = [m for m in mine if m.team_id == team_id]
        if not mine:
            if team_id is not None and self._read(roster.team, team_id) is not None:
                raise DomainError("not_on_team", "You're not on this team. Ask a captain to "
                                  "add you with /attend team add.")
            raise DomainError("not_on_a_team", "You're not on a team yet. Ask your captain to "
                              "add you, or start one with /attend team create NAME tz ZONE.")
        if len(mine) > 1:
            names = ", ".join(sorted(m.team_name for m in mine))
            raise DomainError("which_team", f"You're on several teams ({names}); say which one "
                              "(for example with --team).")
        membership = mine[0]
        with self._one_connection():
            team_view = self._lookup("roster", ("team", membership.team_id), roster.team,
                                     membership.team_id)
            player_view = self._lookup("roster", ("player", membership.team_id,
                                                  membership.player_id),
                                       roster.player, membership.team_id, membership.player_id)
        if team_view is None or player_view is None:  # the read model is catching up
            raise DomainError("not_on_a_team", "You're not on a team yet.")
        return Context(team=team_view, player=player_view)

    def captain_context(self, actor: Actor, team_id: str | None, doing: str) -> Context:
        ctx = self.context(actor, team_id)
        if not ctx.player.captain:
            captains = ", ".join(p.name for p in self._read(roster.captains, ctx.team.team_id))
            raise DomainError("captain_only", f"Only a captain can {doing}. Ask {captains}.")
        return ctx

    def roster(self, actor: Actor, team_id: str | None = None) -> tuple[TeamView,
                                                                        list[PlayerView]]:
        ctx = self.context(actor, team_id)
        return ctx.team, self._read(roster.roster, ctx.team.team_id)

    def games(self, actor: Actor, team_id: str | None = None) -> tuple[TeamView,
                                                                       list[GameView]]:
        ctx = self.context(actor, team_id)
        return ctx.team, self._read(schedule.games, ctx.team.team_id,
                                    upcoming_after=self._clock())

    def game(self, ctx: Context, ref: str) -> GameView:
        """A game by handle (``G3``) or ``next``."""
        ref = ref.strip()
        if ref.lower() in ("", "next"):
            found = self._read(schedule.next_game, ctx.team.team_id, self._clock())
            if found is None:
                raise DomainError("no_upcoming_game", "There's no upcoming game. A captain can "
                                  "schedule one with /attend schedule sat 7pm vs Hawks.")
            return found
        found = self._lookup("schedule", ("handle", ctx.team.team_id, ref.upper()),
                             schedule.game_by_handle, ctx.team.team_id, ref)
        if found is None:
            raise DomainError("unknown_game", f"There's no game {ref.upper()} on "
                              f"{ctx.team.name}'s schedule. /attend games lists them.")
        return found

    def status(self, actor: Actor, ref: str = "next",
               team_id: str | None = None) -> GameStatusView:
        with self._one_connection():
            ctx = self.context(actor, team_id)
            found = self.game(ctx, ref)
            return GameStatusView(team=ctx.team, game=found,
                                  board=self._read(boards.board_for_game, found.game_id))

    def board_for_game(self, game_id: str) -> GameStatusView | None:
        """For the captain's board page (the adapter checked the signed link)."""
        with self._one_connection():
            found = self._read(schedule.game, game_id)
            if found is None:
                return None
            team_view = self._read(roster.team, found.team_id)
            assert team_view is not None
            return GameStatusView(team=team_view, game=found,
                                  board=self._read(boards.board_for_game, game_id))

    def my_games(self, actor: Actor, team_id: str | None = None) -> tuple[
            Context, list[PlayerGameView]]:
        ctx = self.context(actor, team_id)
        return ctx, self._read(player_games.upcoming_for_player, ctx.team.team_id,
                               ctx.player.player_id, self._clock())

    def season(self, actor: Actor, team_id: str | None = None) -> tuple[TeamView,
                                                                        list[SeasonLine]]:
        ctx = self.context(actor, team_id)
        return ctx.team, self._read(season.season_attendance, ctx.team.team_id)

    def invitation(self, check_id: str, player_id: str) -> Invitation:
        """What a signed email link shows; refuses links to withdrawn invitations."""
        found_board = self._read(boards.board, check_id)
        if found_board is None:
            raise DomainError("unknown_check", "This link is for a game we can't find.")
        found_game = self._read(schedule.game, found_board.game_id)
        team_view = self._read(roster.team, found_board.team_id)
        assert found_game is not None and team_view is not None
        return Invitation(team=team_view, game=found_game, board=found_board,
                          player=self._read(roster.player, found_board.team_id, player_id))

    # -- teams -------------------------------------------------------------------------------
    def create_team(self, actor: Actor, name: str, timezone: str,
                    player_name: str | None = None) -> Context:
        name = _text(name, "team name", MAX_NAME)
        _zone(timezone)
        profile = self._profile(actor, player_name or actor.name)
        team_id = new_id()
        result = self._dispatch(actor, team.RegisterTeam(
            team_id=team_id, name=name, timezone=timezone, captain=profile,
            slack_workspace=actor.ref.split(":")[0] if actor.kind is ActorKind.SLACK else None))
        self._settle(result.position, ("roster", "directory"))
        return self.context(actor, team_id)

    def add_player(self, actor: Actor, name: str, *, email: str | None = None,
                   slack_user: str | None = None, discord_user: str | None = None,
                   team_id: str | None = None) -> PlayerView:
        ctx = self.captain_context(actor, team_id, "add players")
        name = _text(name, "player name", MAX_NAME)
        email = _email(email) if email else None
        if not (email or slack_user or discord_user):
            raise DomainError("no_contact", f"How do we reach {name}? Give an email address "
                              "or a Slack or Discord mention.")
        player_id = new_id()
        result = self._dispatch(actor, team.AddPlayer(team_id=ctx.team.team_id, player=(
            PlayerProfile(player_id=player_id, name=name, email=email, slack_user=slack_user,
                          discord_user=discord_user))))
        self._settle(result.position, ("roster", "directory"))
        added = self._read(roster.player, ctx.team.team_id, player_id)
        assert added is not None
        return added

    def find_player(self, ctx: Context, who: str) -> PlayerView:
        """A teammate by email, mention or (unambiguous, case-insensitive) name."""
        who = who.strip()
        players = self._read(roster.roster, ctx.team.team_id)
        lowered = who.lower()
        matches = [p for p in players if lowered in (
            (p.email or "").lower(), p.name.lower(), f"<@{(p.slack_user or '').split(':')[-1]}>"
            .lower(), f"<@{p.discord_user}>")]
        if not matches:
            matches = [p for p in players if p.name.lower().startswith(lowered)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise DomainError("unknown_player", f"Nobody called {who!r} is on {ctx.team.name}. "
                              "/attend team roster lists the team.")
        names = ", ".join(p.name for p in matches)
        raise DomainError("ambiguous_player", f"{who!r} could be {names}; use their email.")

    def remove_player(self, actor: Actor, who: str, team_id: str | None = None) -> PlayerView:
        ctx = self.captain_context(actor, team_id, "remove players")
        target = self.find_player(ctx, who)
        result = self._dispatch(actor, team.RemovePlayer(team_id=ctx.team.team_id,
                                                         player_id=target.player_id))
        self._settle(result.position, ("roster", "directory"))
        return target

    def appoint_captain(self, actor: Actor, who: str, team_id: str | None = None) -> PlayerView:
        ctx = self.captain_context(actor, team_id, "appoint captains")
        target = self.find_player(ctx, who)
        result = self._dispatch(actor, team.AppointCaptain(team_id=ctx.team.team_id,
                                                           player_id=target.player_id))
        self._settle(result.position, ("roster", "directory"))
        return target

    def relieve_captain(self, actor: Actor, who: str, team_id: str | None = None) -> PlayerView:
        ctx = self.captain_context(actor, team_id, "relieve captains")
        target = self.find_player(ctx, who)
        result = self._dispatch(actor, team.RelieveCaptain(team_id=ctx.team.team_id,
                                                           player_id=target.player_id))
        self._settle(result.position, ("roster", "directory"))
        return target

    def change_settings(self, actor: Actor, *, team_id: str | None = None,
                        **changes: Any) -> TeamView:
        ctx = self.captain_context(actor, team_id, "change team settings")
        if changes.get("timezone") is not None:
            _zone(changes["timezone"])
        result = self._dispatch(actor, team.ChangeTeamSettings(team_id=ctx.team.team_id,
                                                               **changes))
        self._settle(result.position, ("roster",))
        updated = self._read(roster.team, ctx.team.team_id)
        assert updated is not None
        return updated

    def unsubscribe_email(self, team_id: str, player_id: str) -> None:
        result = self._dispatch(Actor.player(team_id, player_id), team.UnsubscribeEmail(
            team_id=team_id, player_id=player_id))
        self._settle(result.position, ("roster",))

    def _profile(self, actor: Actor, name: str | None) -> PlayerProfile:
        player_id = new_id()
        if actor.kind is ActorKind.CONSOLE:
            email = _email(actor.ref)
            display = name or email.split("@")[0].replace(".", " ").title()
            return PlayerProfile(player_id=player_id, name=_text(display, "name", MAX_NAME),
                                 email=email)
        if actor.kind is ActorKind.SLACK:
            return PlayerProfile(player_id=player_id, name=name or "Captain",
                                 slack_user=actor.ref)
        if actor.kind is ActorKind.DISCORD:
            return PlayerProfile(player_id=player_id, name=name or "Captain",
                                 discord_user=actor.ref)
        raise DomainError("cannot_create_team", "Teams are created from chat or the console.")

    # -- games -------------------------------------------------------------------------------
    def schedule_game(self, actor: Actor, starts_at: datetime, *, location: str | None = None,
                      opponent: str | None = None, original_text: str | None = None,
                      team_id: str | None = None) -> GameStatusView:
        ctx = self.captain_context(actor, team_id, "schedule games")
        game_id = new_id()
        result = self._dispatch(actor, game.ScheduleGame(
            game_id=game_id, team_id=ctx.team.team_id, starts_at=starts_at,
            location=_text(location, "location", MAX_PLACE) if location else None,
            opponent=_text(opponent, "opponent", MAX_NAME) if opponent else None,
            original_text=original_text))
        self._settle(result.position, ("schedule",))
        found = self._read(schedule.game, game_id)
        assert found is not None
        return GameStatusView(team=ctx.team, game=found, board=None)

    def reschedule_game(self, actor: Actor, ref: str, starts_at: datetime, *,
                        original_text: str | None = None,
                        team_id: str | None = None) -> GameStatusView:
        ctx = self.captain_context(actor, team_id, "reschedule games")
        found = self.game(ctx, ref)
        result = self._dispatch(actor, game.RescheduleGame(
            game_id=found.game_id, starts_at=starts_at, original_text=original_text))
        self._settle(result.position, ("schedule",))
        return self._status_of(ctx, found.game_id)

    def cancel_game(self, actor: Actor, ref: str, reason: str | None = None,
                    team_id: str | None = None) -> GameStatusView:
        ctx = self.captain_context(actor, team_id, "cancel games")
        found = self.game(ctx, ref)
        result = self._dispatch(actor, game.CancelGame(
            game_id=found.game_id, reason=_text(reason, "reason", MAX_REASON) if reason
            else None))
        self._settle(result.position, ("schedule",))
        return self._status_of(ctx, found.game_id)

    def start_check(self, actor: Actor, ref: str = "next",
                    team_id: str | None = None) -> GameStatusView:
        ctx = self.captain_context(actor, team_id, "start attendance checks")
        found = self.game(ctx, ref)
        self.start_check_for(actor, found.game_id, found.team_id)
        return self._status_of(ctx, found.game_id)

    def start_check_for(self, actor: Actor, game_id: str, team_id: str) -> DispatchResult:
        """Start a game's check (one per game, so its id is the game's): idempotent."""
        result = self._dispatch(actor, game.CheckAttendance(game_id=game_id, team_id=team_id,
                                                            check_id=game_id))
        self._settle(result.position, ("schedule",))
        # The process manager snapshots the roster and opens the check a moment later.
        self._settle_until(lambda: self._read(boards.board, game_id) is not None)
        return result

    def remind(self, actor: Actor, ref: str = "next", team_id: str | None = None,
               key: str | None = None) -> GameStatusView:
        ctx = self.captain_context(actor, team_id, "send reminders")
        found = self.game(ctx, ref)
        if found.check_id is None:
            raise _no_check(found)
        # A captain's reminder gets its own key: each press reminds once.
        result = self._dispatch(actor, check.RemindNonResponders(
            check_id=found.check_id, reminder_key=key or f"manual:{new_id()[:12]}"))
        self._settle(result.position, ("board",))
        return self._status_of(ctx, found.game_id)

    def set_deadline(self, actor: Actor, ref: str, deadline: datetime,
                     team_id: str | None = None) -> GameStatusView:
        """Close a game's answers at ``deadline`` rather than at its start (the start still
        closes them if it comes first)."""
        ctx = self.captain_context(actor, team_id, "set answer deadlines")
        found = self.game(ctx, ref)
        if found.check_id is None:
            raise _no_check(found)
        try:
            result = self._dispatch(actor, check.SetAnswerDeadline(check_id=found.check_id,
                                                                   deadline=deadline))
        except DomainError as error:
            raise _deadline_refused(error, found) from None
        self._settle(result.position, ("board",))
        return self._status_of(ctx, found.game_id)

    def clear_deadline(self, actor: Actor, ref: str,
                       team_id: str | None = None) -> GameStatusView:
        """Answers for a game close at its start again."""
        ctx = self.captain_context(actor, team_id, "clear answer deadlines")
        found = self.game(ctx, ref)
        if found.check_id is None:
            raise _no_check(found)
        try:
            result = self._dispatch(actor, check.ClearAnswerDeadline(check_id=found.check_id))
        except DomainError as error:
            raise _deadline_refused(error, found, "clear") from None
        self._settle(result.position, ("board",))
        return self._status_of(ctx, found.game_id)

    def _status_of(self, ctx: Context, game_id: str) -> GameStatusView:
        found = self._read(schedule.game, game_id)
        assert found is not None
        return GameStatusView(team=ctx.team, game=found,
                              board=self._read(boards.board_for_game, game_id))

    # -- answers -----------------------------------------------------------------------------
    def answer(self, actor: Actor, answer: Answer, *, ref: str = "next",
               note: str | None = None, on_behalf_of: str | None = None,
               team_id: str | None = None) -> AnswerResult:
        with self._one_connection():
            ctx = self.context(actor, team_id)
            found = self.game(ctx, ref)
        target, source = ctx.player, actor.answer_source
        if on_behalf_of is not None:
            if not ctx.player.captain:
                raise DomainError("captain_only", "Only a captain can answer for someone else.")
            target, source = self.find_player(ctx, on_behalf_of), AnswerSource.CAPTAIN
        if found.check_id is None:
            raise _no_check(found)
        return self._record(actor, ctx.team, found, target, answer, note, source)

    def answer_by_link(self, check_id: str, player_id: str, answer: Answer,
                       note: str | None = None) -> AnswerResult:
        invitation = self.invitation(check_id, player_id)
        if invitation.player is None:
            raise DomainError("not_invited", "You're no longer on this team, so this "
                              "invitation was withdrawn.")
        return self._record(Actor.player(invitation.team.team_id, player_id), invitation.team,
                            invitation.game, invitation.player, answer, note,
                            AnswerSource.EMAIL)

    def _record(self, actor: Actor, team_view: TeamView, found: GameView, target: PlayerView,
                answer: Answer, note: str | None, source: AnswerSource) -> AnswerResult:
        assert found.check_id is not None
        note = _text(note, "note", MAX_NOTE) if note else None
        try:
            result = self._dispatch(actor, check.RecordAnswer(
                check_id=found.check_id, player_id=target.player_id, answer=answer, note=note,
                source=source))
        except DomainError as error:
            raise _friendlier(error, found, self._clock()) from None
        self._settle(result.position, ("board",))
        found_board = self._read(boards.board, found.check_id, with_history=False)
        assert found_board is not None
        return AnswerResult(team=team_view, game=found, player=target, answer=answer,
                            changed=result.changed, board=found_board)

    # -- the scheduler's door ----------------------------------------------------------------
    def start_game(self, game_id: str) -> DispatchResult:
        return self._dispatch(Actor.system("scheduler"), game.StartGame(game_id=game_id))

    def end_game(self, game_id: str) -> DispatchResult:
        return self._dispatch(Actor.system("scheduler"), game.EndGame(game_id=game_id))

    def remind_by_schedule(self, check_id: str, key: str) -> DispatchResult:
        return self._dispatch(Actor.system("scheduler"), check.RemindNonResponders(
            check_id=check_id, reminder_key=key))

    # -- plumbing ----------------------------------------------------------------------------
    def _dispatch(self, actor: Actor, command: Any) -> DispatchResult:
        return self._router.dispatch(command, actor=actor.key)



def _no_check(found: GameView) -> DomainError:
    return DomainError("no_check", f"{found.handle} has no attendance check yet. A captain can "
                       f"start it with /attend check {found.handle}.")


def _friendlier(error: DomainError, found: GameView, now: datetime) -> DomainError:
    if error.code == "check_closed":
        if found.status == game.GameStatus.SCHEDULED and found.starts_at > now:
            # Only the captain's deadline closes a check before its game starts.
            return DomainError("check_closed", f"Answers for {found.handle} are closed: the "
                               "captain's deadline has passed.")
        return DomainError("check_closed", f"Answers for {found.handle} are closed: the game "
                           "has started, ended or was cancelled.")
    if error.code == "not_invited":
        return DomainError("not_invited", f"You're not on the list for {found.handle} "
                           "(you joined or left the team after it was sent?).")
    return error


def _deadline_refused(error: DomainError, found: GameView, verb: str = "set") -> DomainError:
    if error.code == "check_closed":
        return DomainError("check_closed", f"Answers for {found.handle} are closed already, so "
                           f"there's no deadline left to {verb}.")
    if error.code == "deadline_after_start":
        return DomainError("deadline_after_start", f"Answers for {found.handle} can't close "
                           "after the game starts; pick an earlier time.")
    return error


def _text(value: str | None, what: str, limit: int) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise DomainError("empty_text", f"The {what} can't be empty.")
    if len(text) > limit:
        raise DomainError("too_long", f"The {what} is {len(text)} characters; "
                          f"keep it to {limit}.")
    return text


def _email(value: str) -> str:
    email = value.strip().lower()
    if not EMAIL.match(email):
        raise DomainError("invalid_email", f"{value!r} doesn't look like an email address.")
    return email


def _zone(name: str) -> ZoneInfo:
    try:
        if name not in _known_zones() and name != "UTC":
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DomainError("invalid_timezone", f"{name!r} isn't a time zone we know; use a name "
                          "like America/Toronto or Europe/London.") from None


_known_zones = functools.cache(available_timezones)


def poll_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Wait until ``predicate()`` holds (checking every 20 ms); False after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
