"""Who is asking and which game they mean, as a running server resolves them.

A serving process memoises these lookups while the read models behind them stand still
(core/memo.py); these tests change each read model through the service and check
that the very next request sees the change, and that a process that doesn't run the read
models memoises nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from core.actors import Actor
from core.aggregates.common import Answer
from core.bootstrap import App, bootstrap
from core.errors import DomainError
from tests.support.clock import FakeClock

CAPTAIN = Actor.console("captain@example.com", name="Casey Captain")
ALICE = Actor.console("alice@example.com")
BOB = Actor.console("bob@example.com")
SATURDAY_7PM = datetime(2026, 12, 6, 0, 0, tzinfo=UTC)


def serving(database_url: str, clock: FakeClock, *, start: bool = True) -> App:
    app = bootstrap(database_url, clock=clock,
                    background=True, poll_interval=0.05)
    if start:
        app.start()
    return app


@pytest.fixture
def app(database_url: str, clock: FakeClock) -> Iterator[App]:
    built = serving(database_url, clock)
    service = built.service
    service.create_team(CAPTAIN, "The Alchemists", "America/Toronto")
    service.add_player(CAPTAIN, "Alice", email="alice@example.com")
    service.add_player(CAPTAIN, "Bob", email="bob@example.com")
    service.schedule_game(CAPTAIN, SATURDAY_7PM)
    service.start_check(CAPTAIN, "G1")
    yield built
    built.close()


def refused(code: str) -> pytest.RaisesExc[DomainError]:
    return pytest.raises(DomainError, check=lambda e: e.code == code)


def test_a_removed_player_is_refused_on_their_very_next_tap(app: App) -> None:
    service = app.service
    assert service.answer(ALICE, Answer.YES, ref="G1").player.name == "Alice"
    assert service.answer(ALICE, Answer.NO, ref="G1").board.no == 1  # resolved twice now
    service.remove_player(CAPTAIN, "Alice")
    with refused("not_on_a_team"):
        service.answer(ALICE, Answer.YES, ref="G1")


def test_a_new_captain_may_act_as_one_at_once(app: App) -> None:
    service = app.service
    with refused("captain_only"):
        service.remind(BOB, "G1")
    service.appoint_captain(CAPTAIN, "Bob")
    assert service.remind(BOB, "G1").game.handle == "G1"


def test_a_moved_game_shows_its_new_time_in_the_next_answer(app: App) -> None:
    service = app.service
    assert service.answer(ALICE, Answer.YES, ref="G1").game.starts_at == SATURDAY_7PM
    later = SATURDAY_7PM + timedelta(hours=2)
    service.reschedule_game(CAPTAIN, "G1", later)
    assert service.answer(ALICE, Answer.MAYBE, ref="G1").game.starts_at == later


def test_a_process_that_does_not_run_the_read_models_sees_changes_made_elsewhere(
        app: App, database_url: str, clock: FakeClock) -> None:
    """Like `attend say` next to `attend serve`: the server holds every read model."""
    console = serving(database_url, clock, start=False)
    try:
        assert console.service.context(ALICE).player.name == "Alice"
        assert console.service.context(ALICE).player.name == "Alice"
        app.service.remove_player(CAPTAIN, "Alice")
        with refused("not_on_a_team"):
            console.service.context(ALICE)
    finally:
        console.close()
