"""Stories about teams, games and checks, told through the real router and runtime.

``Story(db, clock)`` wires an :class:`SqlEventStore`, the :class:`Router` with the domain
aggregates and a :class:`HandlerRuntime` running the read models. Its helpers send the same
commands captains and players would, then ``run_handlers()`` lets the handlers catch up. The check
is opened by hand (as the attendance-check process manager would), so these stories need
nothing but the aggregates and the projections.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from core.aggregates.check import (
    ClearAnswerDeadline,
    CloseCheck,
    InvitePlayer,
    OpenCheck,
    RecordAnswer,
    SetAnswerDeadline,
    WithdrawInvitation,
)
from core.aggregates.common import Answer, AnswerSource, Channel, Invitee, PlayerProfile
from core.aggregates.game import (
    CancelGame,
    CheckAttendance,
    EndGame,
    RescheduleGame,
    ScheduleGame,
    StartGame,
)
from core.aggregates.registry import AGGREGATES, register_domain_messages
from core.aggregates.series import (
    CancelSeries,
    Recurrence,
    RescheduleSeries,
    ScheduleSeries,
    SeriesGame,
)
from core.aggregates.team import (
    AddPlayer,
    AppointCaptain,
    ChangeTeamSettings,
    MarkContactUnreachable,
    RegisterTeam,
    RemovePlayer,
    RenameTeam,
    RequestTeamAttendance,
    TeamAttendanceRequested,
    UnsubscribeEmail,
    UpdatePlayerContact,
)
from core.eventstore.database import Database
from core.eventstore.sql import SqlEventStore
from core.messages import MessageRegistry
from core.projections import read_models
from core.router import DispatchResult, Router
from core.runtime import Handler, HandlerRuntime, RetryPolicy
from tests.support.clock import FakeClock

T = TypeVar("T")
YES, NO, MAYBE = Answer.YES, Answer.NO, Answer.MAYBE


def domain_registry() -> MessageRegistry:
    registry = MessageRegistry()
    register_domain_messages(registry)
    return registry


def person(name: str, *, email: bool = True, slack: str | None = None,
           discord: str | None = None) -> PlayerProfile:
    """A player called ``name``, id ``p-<name>``, email ``<name>@example.org``."""
    key = name.lower()
    return PlayerProfile(player_id=f"p-{key}", name=name,
                         email=f"{key}@example.org" if email else None,
                         slack_user=slack, discord_user=discord)


class Story:
    def __init__(self, db: Database, clock: FakeClock,
                 handlers: Sequence[Handler] | None = None) -> None:
        self.db = db
        self.clock = clock
        self.store = SqlEventStore(db, domain_registry())
        self.router = Router(self.store, AGGREGATES, clock=clock)
        self.handlers = list(read_models() if handlers is None else handlers)
        self.runtime = self.new_runtime()

    def new_runtime(self) -> HandlerRuntime:
        return HandlerRuntime(self.store, self.router, self.handlers,
                              retry=RetryPolicy(delays=()))

    def do(self, command: Any, *, actor: str = "console:captain") -> DispatchResult:
        return self.router.dispatch(command, actor=actor)

    def run_handlers(self) -> None:
        assert self.runtime.run_until_idle(), "another process holds a handler's lease"
        assert not self.store.parked(), self.store.parked()[0].error

    def read(self, query: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Settle, then run a read-model query."""
        self.run_handlers()
        with self.db.read() as conn:
            return query(conn, *args, **kwargs)

    # -- teams -------------------------------------------------------------------------------
    def team(self, team_id: str, name: str, captain: PlayerProfile,
             *players: PlayerProfile, timezone: str = "Europe/Berlin",
             min_players: int | None = None, max_players: int | None = None) -> None:
        self.do(RegisterTeam(team_id=team_id, name=name, timezone=timezone, captain=captain))
        for player in players:
            self.do(AddPlayer(team_id=team_id, player=player))
        if min_players is not None or max_players is not None:
            self.do(ChangeTeamSettings(team_id=team_id, min_players=min_players,
                                       max_players=max_players))

    # -- games and checks --------------------------------------------------------------------
    def game(self, team_id: str, game_id: str, *, in_days: float = 3,
             location: str | None = "Monarch Park", opponent: str | None = "Hawks") -> datetime:
        starts_at = self.clock.now + timedelta(days=in_days)
        self.do(ScheduleGame(game_id=game_id, team_id=team_id, starts_at=starts_at,
                             location=location, opponent=opponent,
                             original_text=f"in {in_days} days"))
        return starts_at

    def check(self, team_id: str, game_id: str, check_id: str | None = None) -> str:
        """Start the game's attendance check and open it with the team's roster, as the
        process manager does; returns the check id (``c-<game_id>`` by default)."""
        check_id = check_id or f"c-{game_id}"
        started = self.do(CheckAttendance(game_id=game_id, team_id=team_id, check_id=check_id))
        starts_at = started.events[0].event.starts_at
        requested = self.do(RequestTeamAttendance(team_id=team_id, check_id=check_id,
                                                  game_id=game_id))
        snapshot = requested.events[0].event
        assert isinstance(snapshot, TeamAttendanceRequested)
        self.do(OpenCheck(check_id=check_id, game_id=game_id, team_id=team_id,
                          starts_at=starts_at, invitees=snapshot.invitees,
                          min_players=snapshot.min_players, max_players=snapshot.max_players))
        return check_id

    def answer(self, check_id: str, player: PlayerProfile | str, answer: Answer, *,
               note: str | None = None,
               source: AnswerSource = AnswerSource.SLACK) -> DispatchResult:
        player_id = player if isinstance(player, str) else player.player_id
        return self.do(RecordAnswer(check_id=check_id, player_id=player_id, answer=answer,
                                    note=note, source=source), actor=f"player:{player_id}")


def tell_a_season(story: Story) -> None:
    """A bit of everything the read models follow: two teams, roster changes, games moved,
    cancelled and played, a full check with a waitlist, changed answers and withdrawals,
    answer deadlines set and cleared."""
    ana, ben = person("Ana", slack="T1:U1"), person("Ben", discord="42")
    cal, dee, eve, fay = (person(n) for n in ("Cal", "Dee", "Eve", "Fay"))
    story.team("t1", "Tigers", ana, ben, cal, dee, max_players=3, min_players=2)
    story.team("t2", "Bears", person("Gus"), ana)
    story.do(RenameTeam(team_id="t1", name="Tigers FC"))
    story.do(AppointCaptain(team_id="t1", player_id=ben.player_id))
    story.do(MarkContactUnreachable(team_id="t1", player_id=ben.player_id,
                                    channel=Channel.DISCORD, reason="DMs closed"))
    story.do(UnsubscribeEmail(team_id="t1", player_id=cal.player_id))

    first = story.game("t1", "g1", in_days=2)
    story.game("t1", "g2", in_days=4, location=None)
    story.game("t2", "b1", in_days=3, opponent=None)
    story.game("t1", "g3", in_days=9)
    story.do(RescheduleGame(game_id="g2", starts_at=first + timedelta(days=5),
                            original_text="next sat 7pm"))
    c1 = story.check("t1", "g1")
    story.do(AddPlayer(team_id="t1", player=eve))
    story.do(InvitePlayer(check_id=c1, invitee=Invitee(player_id=eve.player_id, name="Eve")))
    for who in (ana, ben, cal, dee, eve):
        story.clock.advance(minutes=7)
        story.answer(c1, who, YES, note="keen" if who is dee else None)
    story.answer(c1, ben, NO, note="work")  # Dee is promoted
    story.answer(c1, cal, MAYBE)
    story.do(WithdrawInvitation(check_id=c1, player_id=eve.player_id))
    story.do(RemovePlayer(team_id="t1", player_id=eve.player_id))
    story.do(AddPlayer(team_id="t1", player=fay))
    story.do(UpdatePlayerContact(team_id="t1", player_id=ben.player_id,
                                 email="ben@new.example", discord_user="43"))

    c2 = story.check("t2", "b1")
    story.answer(c2, ana, MAYBE, source=AnswerSource.EMAIL)
    story.do(SetAnswerDeadline(check_id=c2, deadline=story.clock.now + timedelta(days=1)))
    story.do(SetAnswerDeadline(check_id=c1, deadline=story.clock.now + timedelta(days=1)))
    story.do(ClearAnswerDeadline(check_id=c1))
    story.do(CancelGame(game_id="g3", reason="no pitch"))

    story.clock.advance(days=2)
    story.do(StartGame(game_id="g1"))
    story.do(EndGame(game_id="g1"))
    story.do(CloseCheck(check_id=c1, reason="game ended"))

    # A series of the Bears' (its games scheduled as the series manager would).
    starts = story.clock.now + timedelta(days=3)
    games = tuple(SeriesGame(game_id=f"bs{n}", starts_at=starts + timedelta(weeks=n))
                  for n in range(3))
    rule = Recurrence(weekday=starts.weekday(), hour=starts.hour, minute=starts.minute,
                      timezone="Europe/Berlin", first_day=starts.date(), count=3)
    story.do(ScheduleSeries(series_id="s1", team_id="t2", rule=rule, games=games,
                            location="Rink", opponent="Owls"))
    for g in games:
        story.do(ScheduleGame(game_id=g.game_id, team_id="t2", starts_at=g.starts_at,
                              location="Rink", opponent="Owls"))
    story.do(RescheduleSeries(series_id="s1", rule=replace(rule, hour=(rule.hour + 1) % 24),
                              games=games[1:]))
    story.do(CancelSeries(series_id="s1", game_ids=("bs2",), reason="ice out"))
