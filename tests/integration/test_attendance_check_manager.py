"""AttendanceCheckManager: from CheckAttendance to every player invited, and after.

Each test drives the real aggregates through a router and lets the handler runtime run the
manager, then reads the check's stream: who was invited (exactly once), who was withdrawn,
whether and why the check closed. The full flow and the restarts run on every backend.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core.aggregates.check import (
    CHECK,
    CheckClosed,
    CheckMoved,
    CheckOpened,
    InvitationWithdrawn,
    InvitePlayer,
    PlayerInvited,
)
from core.aggregates.common import PlayerProfile
from core.aggregates.game import (
    CancelGame,
    CheckAttendance,
    EndGame,
    RescheduleGame,
    ScheduleGame,
    StartGame,
)
from core.aggregates.registry import AGGREGATES, register_domain_messages
from core.aggregates.team import (
    AddPlayer,
    ChangeTeamSettings,
    RegisterTeam,
    RemovePlayer,
    TeamAttendanceRequested,
)
from core.errors import DomainError
from core.eventstore import EventStore
from core.eventstore.database import Database
from core.eventstore.memory import MemoryEventStore
from core.eventstore.sql import SqlEventStore
from core.messages import MessageRegistry
from core.migrations import upgrade
from core.process_managers import AttendanceCheckManager
from core.router import DispatchResult, Router
from core.runtime import HandlerRuntime, RetryPolicy
from tests.support.clock import FakeClock
from tests.support.databases import backends, make_database_url

MANAGER = "attendance_check_manager"
GAME_AT = datetime(2026, 12, 5, 19, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 6, 18, 0, tzinfo=UTC)
ROSTER = ("cap", "ana", "ben")


def domain_registry() -> MessageRegistry:
    registry = MessageRegistry()
    register_domain_messages(registry)
    return registry


@pytest.fixture
def memory() -> EventStore:
    return MemoryEventStore(domain_registry())


@pytest.fixture(params=["memory", *backends()])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    if request.param == "memory":
        yield MemoryEventStore(domain_registry())
        return
    for url in make_database_url(request.param, request, tmp_path):
        db = Database(url)
        upgrade(db)
        yield SqlEventStore(db, domain_registry())
        db.dispose()


class Crash(Exception):
    """The process dies on the spot."""


class Deployment:
    """Attend as it runs: one process at a time, each with its own router and runtime.

    A process can be made to die just before, or just after, the n-th command the manager
    sends (counting resends); after the latter the command is sent but not marked as sent.
    Every command the manager got through is kept with its ids, to resend them all later.
    """

    def __init__(self, store: EventStore, clock: FakeClock, *, die_before_send: int = 0,
                 die_after_send: int = 0, batch_size: int = 500) -> None:
        self.store, self.clock, self.batch_size = store, clock, batch_size
        self.die_before_send, self.die_after_send = die_before_send, die_after_send
        self.sends = 0
        self.sent: list[tuple[Any, dict[str, Any]]] = []
        self.processes = 0
        self.restart()

    def restart(self) -> None:
        """A new process; the last one's lease has run out by the time it starts."""
        self.processes += 1
        later = 3600.0 * self.processes
        self.router = _ProcessRouter(self)
        self.runtime = HandlerRuntime(self.store, self.router, [AttendanceCheckManager()],
                                      retry=RetryPolicy(delays=()), batch_size=self.batch_size,
                                      wall_clock=lambda: time.time() + later)

    def do(self, command: Any) -> DispatchResult:
        return self.router.dispatch(command, actor="console:captain")

    def run_handlers(self) -> None:
        self.runtime.run_until_idle()

    def run_handlers_through_crashes(self) -> None:
        while True:
            try:
                self.run_handlers()
                return
            except Crash:
                self.restart()

    def step(self) -> None:
        self.runtime.step(MANAGER)

    def resend_everything(self) -> None:
        """What a process that died after each send, before marking it, would do."""
        for command, ids in self.sent:
            with contextlib.suppress(DomainError):  # a refusal: the runtime drops it too
                Router.dispatch(self.router, command, actor=f"process:{MANAGER}", dedupe=True,
                                **ids)


class _ProcessRouter(Router):
    def __init__(self, deployment: Deployment) -> None:
        super().__init__(deployment.store, AGGREGATES, clock=deployment.clock)
        self._deployment = deployment

    def dispatch(self, command: Any, *, actor: str, command_id: str | None = None,
                 correlation_id: str | None = None, causation_id: str | None = None,
                 dedupe: bool = False) -> DispatchResult:
        ids = {"command_id": command_id, "correlation_id": correlation_id,
               "causation_id": causation_id}
        if not actor.startswith("process:"):
            return super().dispatch(command, actor=actor, dedupe=dedupe, **ids)
        d = self._deployment
        d.sends += 1
        if d.sends == d.die_before_send:
            raise Crash
        result = super().dispatch(command, actor=actor, dedupe=dedupe, **ids)
        d.sent.append((command, ids))
        if d.sends == d.die_after_send:
            raise Crash
        return result


def player(player_id: str) -> PlayerProfile:
    return PlayerProfile(player_id=player_id, name=player_id.title())


def hawks(app: Deployment, *players: str, games: tuple[str, ...] = ("g1",)) -> None:
    """Team t1 with its captain and players, and its games (not yet checked)."""
    app.do(RegisterTeam(team_id="t1", name="Hawks", timezone="Europe/Berlin",
                        captain=player("cap")))
    for player_id in players:
        app.do(AddPlayer(team_id="t1", player=player(player_id)))
    for game_id in games:
        app.do(ScheduleGame(game_id=game_id, team_id="t1", starts_at=GAME_AT))


def check(app: Deployment, game_id: str = "g1", check_id: str = "c1") -> DispatchResult:
    return app.do(CheckAttendance(game_id=game_id, team_id="t1", check_id=check_id))


def story(store: EventStore, check_id: str = "c1") -> list[tuple[str, str]]:
    """What happened on the check, as players and the captain would see it."""
    lines: list[tuple[str, str]] = []
    for recorded in store.read_stream(CHECK.stream_id(check_id)):
        match recorded.event:
            case CheckOpened(starts_at=starts_at):
                lines.append(("opened", starts_at.isoformat()))
            case CheckMoved(starts_at=starts_at):
                lines.append(("moved", starts_at.isoformat()))
            case PlayerInvited(invitee=invitee):
                lines.append(("invited", invitee.player_id))
            case InvitationWithdrawn(player_id=player_id):
                lines.append(("withdrawn", player_id))
            case CheckClosed(reason=reason):
                lines.append(("closed", reason))
    return lines


def invited(store: EventStore, check_id: str = "c1") -> list[str]:
    return [who for what, who in story(store, check_id) if what == "invited"]


def opened(at: datetime = GAME_AT) -> tuple[str, str]:
    return ("opened", at.isoformat())


def manager_state(store: EventStore, key: str) -> dict[str, Any] | None:
    lease = store.acquire_lease(MANAGER, owner="inspector", now=1e12, ttl=1)
    assert lease is not None
    with store.handler_transaction(lease) as tx:
        return tx.load_state(key)


# -- the flow ---------------------------------------------------------------------------------


def test_every_player_on_the_roster_is_invited(store: EventStore, clock: FakeClock) -> None:
    app = Deployment(store, clock)
    hawks(app, "ana", "ben")
    app.do(ChangeTeamSettings(team_id="t1", min_players=2, max_players=3))
    started = check(app)
    app.run_handlers()

    assert story(store) == [opened(), ("invited", "cap"), ("invited", "ana"),
                            ("invited", "ben")]
    first = store.read_stream(CHECK.stream_id("c1"))[0]
    assert (first.event.min_players, first.event.max_players) == (2, 3)
    # The whole fan-out is one story, traceable to the captain's CheckAttendance.
    assert first.metadata.correlation_id == started.events[0].metadata.correlation_id
    assert first.metadata.actor == f"process:{MANAGER}"


def test_a_player_who_joins_an_open_check_is_invited(memory: EventStore,
                                                     clock: FakeClock) -> None:
    app = Deployment(memory, clock)
    hawks(app, "ana")
    check(app)
    app.run_handlers()
    app.do(AddPlayer(team_id="t1", player=player("dan")))
    app.run_handlers()
    assert invited(memory) == ["cap", "ana", "dan"]


def test_a_player_who_joins_while_the_roster_is_requested_is_invited_once(
        memory: EventStore, clock: FakeClock) -> None:
    app = Deployment(memory, clock)
    hawks(app, "ana")
    check(app)
    app.do(AddPlayer(team_id="t1", player=player("dan")))  # before the roster snapshot
    app.run_handlers()
    assert invited(memory) == ["cap", "ana", "dan"]


@pytest.mark.parametrize("batch_size", [1, 500], ids=["own-batch", "same-batch"])
def test_a_player_who_joins_between_the_roster_and_the_opening_is_invited_once(
        memory: EventStore, clock: FakeClock, batch_size: int) -> None:
    app = Deployment(memory, clock, batch_size=batch_size)
    hawks(app, "ana")
    app.run_handlers()
    check(app)
    app.step()  # sends RequestTeamAttendance: the roster snapshot is recorded
    joined = app.do(AddPlayer(team_id="t1", player=player("dan")))
    app.run_handlers()

    positions = {type(r.event): r.position for r in memory.read_all()}
    assert positions[TeamAttendanceRequested] < joined.position < positions[CheckOpened]
    assert invited(memory) == ["cap", "ana", "dan"]


def test_a_player_who_leaves_is_withdrawn(memory: EventStore, clock: FakeClock) -> None:
    app = Deployment(memory, clock)
    hawks(app, "ana", "ben")
    check(app)
    app.run_handlers()
    app.do(RemovePlayer(team_id="t1", player_id="ben"))
    app.run_handlers()
    assert story(memory)[-1] == ("withdrawn", "ben")
    board = app.router.state_of(CHECK, "c1")[1]
    assert [i.player_id for i in board.invitees] == ["cap", "ana"]


def test_a_player_who_leaves_before_the_check_opens_is_not_left_on_it(
        memory: EventStore, clock: FakeClock) -> None:
    app = Deployment(memory, clock)
    hawks(app, "ana", "ben")
    app.run_handlers()
    check(app)
    app.step()  # the roster snapshot, with Ben, is recorded
    app.do(RemovePlayer(team_id="t1", player_id="ben"))
    app.run_handlers()
    board = app.router.state_of(CHECK, "c1")[1]
    assert [i.player_id for i in board.invitees] == ["cap", "ana"]


def test_a_player_who_joins_is_invited_to_every_open_check_of_the_team(
        memory: EventStore, clock: FakeClock) -> None:
    app = Deployment(memory, clock)
    hawks(app, "ana", games=("g1", "g2"))
    check(app, "g1", "c1")
    check(app, "g2", "c2")
    app.run_handlers()
    app.do(AddPlayer(team_id="t1", player=player("dan")))
    app.do(CancelGame(game_id="g1"))
    app.do(AddPlayer(team_id="t1", player=player("eve")))
    app.run_handlers()
    assert invited(memory, "c1") == ["cap", "ana", "dan"]
    assert invited(memory, "c2") == ["cap", "ana", "dan", "eve"]


def test_a_rescheduled_game_moves_its_check(memory: EventStore, clock: FakeClock) -> None:
    app = Deployment(memory, clock)
    hawks(app, "ana")
    check(app)
    app.run_handlers()
    app.do(RescheduleGame(game_id="g1", starts_at=LATER))
    app.run_handlers()
    assert story(memory)[-1] == ("moved", LATER.isoformat())


def test_a_game_rescheduled_before_the_check_opens_opens_it_at_the_new_time(
        memory: EventStore, clock: FakeClock) -> None:
    app = Deployment(memory, clock)
    hawks(app, "ana")
    check(app)
    app.do(RescheduleGame(game_id="g1", starts_at=LATER))
    app.run_handlers()
    assert story(memory)[0] == opened(LATER)
    assert "moved" not in {what for what, _ in story(memory)}


@pytest.mark.parametrize(("commands", "reason"), [
    ([StartGame(game_id="g1")], "game started"),
    ([StartGame(game_id="g1"), EndGame(game_id="g1")], "game started"),
    ([CancelGame(game_id="g1", reason="pitch flooded")], "game cancelled: pitch flooded"),
    ([CancelGame(game_id="g1")], "game cancelled"),
], ids=["started", "started-and-ended", "cancelled-with-reason", "cancelled"])
def test_the_check_closes_once_when_the_game_starts_ends_or_is_cancelled(
        memory: EventStore, clock: FakeClock, commands: list[Any], reason: str) -> None:
    app = Deployment(memory, clock)
    hawks(app, "ana")
    check(app)
    app.run_handlers()
    for command in commands:
        app.do(command)
        app.run_handlers()
    closings = [line for line in story(memory) if line[0] == "closed"]
    assert closings == [("closed", reason)]
    # The instance is finished: nothing of it is left in the manager's state.
    assert [manager_state(memory, k) for k in ("check:c1", "team:t1", "game:g1")] == [None] * 3


def test_a_game_cancelled_before_the_roster_arrives_never_opens_its_check(
        memory: EventStore, clock: FakeClock) -> None:
    app = Deployment(memory, clock)
    hawks(app, "ana")
    app.run_handlers()
    check(app)
    app.do(CancelGame(game_id="g1", reason="rain"))
    app.do(AddPlayer(team_id="t1", player=player("dan")))
    app.run_handlers()
    assert story(memory) == []
    assert [manager_state(memory, k) for k in ("check:c1", "team:t1", "game:g1")] == [None] * 3


def test_a_game_cancelled_after_the_roster_arrived_opens_and_closes_its_check(
        memory: EventStore, clock: FakeClock) -> None:
    app = Deployment(memory, clock)
    hawks(app, "ana")
    app.run_handlers()
    check(app)
    app.step()  # the roster snapshot is recorded; OpenCheck is on its way
    app.do(CancelGame(game_id="g1", reason="rain"))
    app.run_handlers()
    assert story(memory) == [opened(), ("invited", "cap"), ("invited", "ana"),
                             ("closed", "game cancelled: rain")]


def test_after_the_check_closes_nobody_is_invited_or_withdrawn(
        memory: EventStore, clock: FakeClock) -> None:
    app = Deployment(memory, clock)
    hawks(app, "ana")
    check(app)
    app.run_handlers()
    app.do(StartGame(game_id="g1"))
    app.run_handlers()
    before = story(memory)
    app.do(AddPlayer(team_id="t1", player=player("dan")))
    app.do(RemovePlayer(team_id="t1", player_id="ana"))
    app.run_handlers()
    assert story(memory) == before
    assert before[-1] == ("closed", "game started")


# -- restarts and crashes ---------------------------------------------------------------------


def test_a_restart_mid_flow_invites_everyone_once(store: EventStore, clock: FakeClock) -> None:
    # The first process dies right after committing OpenCheck to its outbox, before sending it.
    app = Deployment(store, clock, die_before_send=2, die_after_send=4)
    hawks(app, "ana", "ben")
    check(app)
    with pytest.raises(Crash):
        app.run_handlers()
    assert story(store) == []
    # While no process runs, Dan joins: after the roster snapshot, before the opening.
    app.do(AddPlayer(team_id="t1", player=player("dan")))
    # The next process sends OpenCheck, invites Dan, and dies before marking that as sent.
    app.restart()
    with pytest.raises(Crash):
        app.run_handlers()
    # The third resends Dan's invitation with the same id, then stops gracefully.
    app.restart()
    app.run_handlers()
    app.runtime.stop()
    app.restart()
    app.do(AddPlayer(team_id="t1", player=player("eve")))
    app.run_handlers()

    assert app.processes == 4
    to_dan = [ids["command_id"] for command, ids in app.sent
              if isinstance(command, InvitePlayer) and command.invitee.player_id == "dan"]
    assert len(to_dan) == 2 and to_dan[0] == to_dan[1]
    assert story(store) == [opened(), ("invited", "cap"), ("invited", "ana"), ("invited", "ben"),
                            ("invited", "dan"), ("invited", "eve")]
    assert store.pending_commands(MANAGER) == []


def test_commands_resent_after_a_crash_change_nothing(store: EventStore,
                                                      clock: FakeClock) -> None:
    app = Deployment(store, clock)
    hawks(app, "ana", "ben")
    check(app)
    app.run_handlers()
    for change in (AddPlayer(team_id="t1", player=player("dan")),
                   RemovePlayer(team_id="t1", player_id="dan"),
                   RescheduleGame(game_id="g1", starts_at=LATER)):
        app.do(change)
        app.run_handlers()
    # As if the process had died after every send and before marking it: all of it again,
    # Dan's invitation included, which without the ids would invite him back.
    app.resend_everything()
    app.do(StartGame(game_id="g1"))
    app.run_handlers()
    app.resend_everything()
    assert story(store) == [
        opened(), ("invited", "cap"), ("invited", "ana"), ("invited", "ben"),
        ("invited", "dan"), ("withdrawn", "dan"), ("moved", LATER.isoformat()),
        ("closed", "game started")]


def season(app: Deployment) -> None:
    """A check with joins and leaves at every stage, letting the manager run in between."""
    hawks(app, "ana", "ben")
    check(app)
    app.do(AddPlayer(team_id="t1", player=player("dan")))
    app.run_handlers_through_crashes()
    app.do(AddPlayer(team_id="t1", player=player("eve")))
    app.do(RemovePlayer(team_id="t1", player_id="ben"))
    app.run_handlers_through_crashes()
    app.do(RescheduleGame(game_id="g1", starts_at=LATER))
    app.do(AddPlayer(team_id="t1", player=player("fay")))
    app.run_handlers_through_crashes()
    app.do(StartGame(game_id="g1"))
    app.do(AddPlayer(team_id="t1", player=player("gus")))
    app.run_handlers_through_crashes()


def test_a_crash_at_any_send_misses_nobody_and_invites_nobody_twice(clock: FakeClock) -> None:
    calm = Deployment(MemoryEventStore(domain_registry()), clock)
    season(calm)
    expected = story(calm.store)
    assert expected == [opened(), ("invited", "cap"), ("invited", "ana"), ("invited", "ben"),
                        ("invited", "dan"), ("invited", "eve"), ("withdrawn", "ben"),
                        ("moved", LATER.isoformat()), ("invited", "fay"),
                        ("closed", "game started")]
    for n in range(1, calm.sends + 1):
        for when in ("before", "after"):
            store = MemoryEventStore(domain_registry())
            app = Deployment(store, clock, **{f"die_{when}_send": n})
            season(app)
            assert app.processes == 2, (n, when)
            assert story(store) == expected, (n, when)
