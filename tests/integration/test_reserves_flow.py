"""Reserves through the scheduler, on SQLite and PostgreSQL, with a fake clock.

A captain adds reserves and sets when to ask them (the console grammar, as Slack's); the
check opens without them; at the reserve time the scheduler finds the check short and asks
them; one says yes and the captain is told who stepped in; once the minimum is reached the
other reserves are released, told so, and can no longer answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.commands import CommandRunner
from core.actors import Actor
from core.aggregates.check import ReservesAsked, ReservesReleased, ReserveSteppedIn
from core.aggregates.common import Answer
from core.bootstrap import App, bootstrap
from core.deliveries import jobs
from core.errors import DomainError, Refusal
from core.notifications import NotificationKind as Kind
from core.projections import due_work
from core.projections.board import board_for_game
from core.projections.due_work import DueKind, DueStatus
from core.runtime import RetryPolicy
from scheduler import Scheduler
from tests.support.clock import FakeClock

H = timedelta(hours=1)
GAME = datetime(2026, 12, 5, 19, 0, tzinfo=UTC)
CAPTAIN = Actor.console("cap@example.org", "Cap")


def player(name: str) -> Actor:
    return Actor.console(f"{name.lower()}@example.org")


@pytest.fixture
def app(database_url: str, clock: FakeClock) -> Iterator[App]:
    app = bootstrap(database_url, clock=clock, background=False, retry=RetryPolicy(delays=()))
    yield app
    app.close()


def say(app: App, line: str, who: Actor = CAPTAIN) -> str:
    reply = CommandRunner(app.service, clock=app.clock).run(who, line)
    assert reply.ok, reply.text
    return reply.text


def run_due(scheduler: Scheduler, app: App) -> list[str]:
    ran = scheduler.run_due()
    app.run_handlers()
    return ran


def events(app: App, kind: type) -> list[object]:
    return [r.event for r in app.store.read_all(after=0, limit=10_000)
            if isinstance(r.event, kind)]


def sent(app: App, kind: Kind) -> list[str]:
    """Who has a message of ``kind`` waiting or sent, by name."""
    with app.db.read() as conn:
        names = {p.player_id: p.name for p in app.service.roster(CAPTAIN)[1]}
        return sorted(names[j.recipient_id] for j in jobs(conn) if j.kind is kind)


def test_a_short_team_asks_its_reserves_and_the_first_yes_fills_it(
        app: App, clock: FakeClock) -> None:
    say(app, "/attend team create Alchemists tz America/Toronto")
    for name in ("Ana", "Ben", "Cal"):
        say(app, f"/attend team add {name} {name.lower()}@example.org")
    for name in ("Ray", "Sky"):
        assert "as a reserve" in say(app, f"/attend team add {name} {name.lower()}@example.org "
                                          "reserve")
    assert "Ray (reserve)" in say(app, "/attend team roster")
    settings = say(app, "/attend team settings min 3 reserves 24h")
    assert "reserves: asked 24h before a game still short of its min" in settings
    say(app, "/attend schedule 2026-12-05 14:00 vs Hawks")  # 19:00 UTC
    scheduler = Scheduler(app.service, db=app.db, runtime=app.runtime, clock=app.clock)

    clock.now = GAME - 48 * H  # the check opens, without the reserves
    run_due(scheduler, app)
    with app.db.read() as conn:
        board = board_for_game(conn, app.service.games(CAPTAIN)[1][0].game_id)
    assert board is not None
    assert [line.name for line in board.lines] == ["Cap", "Ana", "Ben", "Cal"]
    app.service.answer(player("Ana"), Answer.YES)

    clock.now = GAME - 24 * H  # still short (1 of 3): the reserves are asked
    game_id = board.game_id
    assert f"{game_id}:ask_reserves:20261205T1900Z" in run_due(scheduler, app)
    [asked] = events(app, ReservesAsked)
    assert isinstance(asked, ReservesAsked) and len(asked.player_ids) == 2
    assert sent(app, Kind.RESERVE_INVITATION) == ["Ray", "Sky"]
    with app.db.read() as conn:
        [item] = [i for i in due_work.items_for_game(conn, game_id)
                  if i.kind is DueKind.ASK_RESERVES]
    assert item.status is DueStatus.DONE

    reply = say(app, "/attend answer yes", player("Ray"))  # a reserve steps in
    assert "You're in" in reply
    assert [e.player_id for e in events(app, ReserveSteppedIn)] == [  # type: ignore[attr-defined]
        app.service.find_player(app.service.context(CAPTAIN), "Ray").player_id]
    assert sent(app, Kind.CAPTAIN_RESERVE_STEPPED_IN) == ["Cap"]

    say(app, "/attend answer yes", player("Ben"))  # 3 of 3: the other reserve is released
    [released] = events(app, ReservesReleased)
    assert isinstance(released, ReservesReleased) and len(released.player_ids) == 1
    assert sent(app, Kind.RESERVE_RELEASED) == ["Sky"]
    with pytest.raises(DomainError) as refused:
        app.service.answer(player("Sky"), Answer.YES)
    assert refused.value.code is Refusal.RESERVE_NOT_NEEDED
    assert "the team is full now" in refused.value.message
    status = app.service.status(CAPTAIN, "G1")
    assert status.board is not None and status.board.yes == 3
    assert "Sky" not in status.board.non_responders
    clock.advance(minutes=10)  # nothing asked twice
    run_due(scheduler, app)
    assert len(events(app, ReservesAsked)) == 1
    shown = say(app, "/attend status G1")
    assert "✅ Ray (reserve)" in shown and "· Sky (reserve, not needed)" in shown
    app.service.cancel_game(CAPTAIN, "G1")  # a released reserve isn't told of it
    assert sent(app, Kind.CANCELLATION) == ["Ana", "Ben", "Cal", "Cap", "Ray"]



def test_a_team_at_its_minimum_never_bothers_its_reserves(app: App, clock: FakeClock) -> None:
    say(app, "/attend team create Alchemists tz America/Toronto")
    say(app, "/attend team add Ana ana@example.org")
    say(app, "/attend team add Ray ray@example.org reserve")
    say(app, "/attend team settings min 2 reserves 20h")
    say(app, "/attend schedule 2026-12-05 14:00")
    scheduler = Scheduler(app.service, db=app.db, runtime=app.runtime, clock=app.clock)
    clock.now = GAME - 48 * H
    run_due(scheduler, app)
    say(app, "/attend answer yes")
    say(app, "/attend answer yes", player("Ana"))
    clock.now = GAME - 20 * H
    run_due(scheduler, app)
    [asked] = events(app, ReservesAsked)
    assert isinstance(asked, ReservesAsked) and asked.player_ids == ()
    assert sent(app, Kind.RESERVE_INVITATION) == []


def test_a_captain_moves_a_player_to_the_reserves_for_the_next_check(
        app: App, clock: FakeClock) -> None:
    say(app, "/attend team create Alchemists tz America/Toronto")
    say(app, "/attend team add Ana ana@example.org")
    assert say(app, "/attend team reserve Ana") == (
        "Ana is now a reserve: asked only when a game is short, from the next check on.")
    assert "Ana (reserve)" in say(app, "/attend team roster")
    say(app, "/attend schedule 2026-12-05 14:00")
    assert say(app, "/attend check").startswith("Asked 1 players")
    assert say(app, "/attend team reserve remove Ana") == (
        "Ana is a player again: asked every game from the next check on.")
    assert "Ana (reserve)" not in say(app, "/attend team roster")


@pytest.mark.parametrize(("line", "says"), [
    ("/attend team settings reserves soon", "reserves takes a duration like 90m"),
    ("/attend team settings reserves 0h", "reserves must be more than 0"),
    ("/attend team settings lead 24h reserves 30h", "make reserves shorter than lead"),
    ("/attend team settings reserves 72h", "make reserves shorter than lead"),
    ("/attend team add Ana ANA@example.org reserve", "A reserve who is already a player"),
])
def test_bad_input_about_reserves_gets_a_clear_reply(app: App, line: str, says: str) -> None:
    say(app, "/attend team create Alchemists tz America/Toronto")
    say(app, "/attend team add Ana ana@example.org")
    reply = CommandRunner(app.service, clock=app.clock).run(CAPTAIN, line)
    assert not reply.ok
    assert says in reply.text
