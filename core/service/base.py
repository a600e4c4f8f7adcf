"""The service's groundwork: who is asking, which game they mean, reading and dispatching.

Reads go through one connection per request and memoised lookups (:mod:`core.memo`);
commands go through the router."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from sqlalchemy import Connection

from core.actors import Actor, ActorKind
from core.errors import DomainError, Refusal
from core.eventstore.database import Database
from core.gate import RequestGate
from core.memo import Generation, ReadMemo, Stamp, no_generations
from core.projections import board as boards
from core.projections import directory, roster, schedule
from core.projections.directory import Membership
from core.projections.roster import PlayerView
from core.projections.schedule import GameView
from core.router import Clock, DispatchResult, Router
from core.service.views import Context, GameStatusView

T = TypeVar("T")
_NOT_ON_A_TEAM = ("You're not on a team yet. Ask your captain to add you, or start one with "
                  "/attend team create NAME tz ZONE.")
# Waits until the named read models have caught up with a position (see bootstrap).
CatchUp = Callable[[int, Sequence[str]], None]
# Waits until a condition on the read models holds; False if it timed out.
WaitUntil = Callable[[Callable[[], bool]], bool]


def poll_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Wait until ``predicate()`` holds (checking every 20 ms); False after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


class _Reading:
    """One request's reads: one connection, opened at the first query that needs it, and
    the read models' generations taken before it (see :mod:`core.memo`)."""

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


class ServiceBase:
    """What every request needs: who is asking, which game, reading and dispatching."""

    def __init__(self, db: Database, router: Router, *, clock: Clock, catch_up: CatchUp,
                 wait_until: WaitUntil | None = None,
                 generation: Generation = no_generations, request_slots: int = 3) -> None:
        self._gate = RequestGate(request_slots)
        self._db = db
        self._router = router
        self._clock = clock
        self._catch_up = catch_up
        self._wait_until = wait_until or poll_until
        self._memo = ReadMemo(generation, _MEMOISED)

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
        """Serve the reads inside from one connection, checked out at the first read that
        isn't memoised (a checkout costs more than the small queries it serves), with the
        read models' generations stamped before any of them."""
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
                raise DomainError(Refusal.NOT_ON_TEAM, "You're not on this team. Ask a captain to "
                                  "add you with /attend team add.")
            raise DomainError(Refusal.NOT_ON_A_TEAM, _NOT_ON_A_TEAM)
        if len(mine) > 1:
            names = ", ".join(sorted(m.team_name for m in mine))
            raise DomainError(
                Refusal.WHICH_TEAM, f"You're on several teams ({names}); say which one "
                "by adding --team NAME to the command (on Discord: the team "
                "option).")
        membership = mine[0]
        with self._one_connection():
            team_view = self._lookup("roster", ("team", membership.team_id), roster.team,
                                     membership.team_id)
            player_view = self._lookup("roster", ("player", membership.team_id,
                                                  membership.player_id),
                                       roster.player, membership.team_id, membership.player_id)
        if team_view is None or player_view is None:  # the read model is catching up
            raise DomainError(Refusal.NOT_ON_A_TEAM, _NOT_ON_A_TEAM)
        return Context(team=team_view, player=player_view)

    def captain_context(self, actor: Actor, team_id: str | None, doing: str) -> Context:
        ctx = self.context(actor, team_id)
        self._refuse_unless_captain(ctx, doing)
        return ctx

    def _refuse_unless_captain(self, ctx: Context, doing: str) -> None:
        if not ctx.player.captain:
            captains = ", ".join(p.name for p in self._read(roster.captains, ctx.team.team_id))
            raise DomainError(Refusal.CAPTAIN_ONLY, f"Only a captain can {doing}. Ask {captains}.")

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
            raise DomainError(
                Refusal.UNKNOWN_PLAYER, f"Nobody called {who!r} is on {ctx.team.name}. "
                "/attend team roster lists the team.")
        names = ", ".join(p.name for p in matches)
        raise DomainError(Refusal.AMBIGUOUS_PLAYER, f"{who!r} could be {names}; use their email.")

    def game(self, ctx: Context, ref: str) -> GameView:
        """A game by handle (``G3``) or ``next``."""
        ref = ref.strip()
        if ref.lower() in ("", "next"):
            found = self._read(schedule.next_game, ctx.team.team_id, self._clock())
            if found is None:
                raise DomainError(
                    Refusal.NO_UPCOMING_GAME, "There's no upcoming game. A captain can "
                    "schedule one with /attend schedule sat 7pm vs Hawks.")
            return found
        found = self._lookup("schedule", ("handle", ctx.team.team_id, ref.upper()),
                             schedule.game_by_handle, ctx.team.team_id, ref)
        if found is None:
            raise DomainError(Refusal.UNKNOWN_GAME, f"There's no game {ref.upper()} on "
                              f"{ctx.team.name}'s schedule. /attend games lists them.")
        return found

    def _status_of(self, ctx: Context, game_id: str) -> GameStatusView:
        found = self._read(schedule.game, game_id)
        assert found is not None
        return GameStatusView(team=ctx.team, game=found,
                              board=self._read(boards.board_for_game, game_id))

    def _dispatch(self, actor: Actor, command: Any) -> DispatchResult:
        return self._router.dispatch(command, actor=actor.key)
