"""The scheduler: checks that start by themselves, reminders only to those still to answer,
games started and ended on time, across restarts, daylight-saving changes and processes.

Most tests inject a clock and call ``run_due`` directly: no waiting. One shows APScheduler
really waking ``run_due``; one races two runtimes on one PostgreSQL.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.actors import Actor
from core.aggregates.check import (
    CheckBelowMinimum,
    CheckClosed,
    MinimumChecked,
    RemindersRequested,
)
from core.aggregates.common import Answer
from core.aggregates.game import (
    AttendanceCheckStarted,
    GameEnded,
    GameStarted,
    GameStatus,
)
from core.bootstrap import App, bootstrap, utc_now
from core.deliveries import jobs
from core.errors import DomainError
from core.eventstore import RecordedEvent
from core.notifications import NotificationKind
from core.projections import due_work
from core.projections import schedule as schedules
from core.projections.board import board_for_game
from core.projections.due_work import DueKind, DueStatus
from core.router import Clock
from core.runtime import RetryPolicy
from core.serve_lock import AnotherProcessRunning, ServeLock
from scheduler import Scheduler
from tests.support.clock import FakeClock
from tests.support.databases import postgres_schema_url

H = timedelta(hours=1)
GAME = datetime(2026, 12, 5, 19, 0, tzinfo=UTC)  # a week after the FakeClock's start
TORONTO = ZoneInfo("America/Toronto")
CAPTAIN = Actor.console("cap@example.org", "Cap")
NAMES = ("Ana", "Ben", "Cal", "Dee")


def player(name: str) -> Actor:
    return Actor.console(f"{name.lower()}@example.org")


def make_app(url: str, clock: Clock, *, background: bool = False) -> App:
    return bootstrap(url, clock=clock, background=background,
                     retry=RetryPolicy(delays=()))


def scheduler_for(app: App, **options: Any) -> Scheduler:
    """The scheduler as ``attend serve`` builds it; appends wake it when handlers follow
    the log in the background."""
    return Scheduler(app.service, db=app.db, runtime=app.runtime, clock=app.clock,
                     store=app.store if app.background else None, **options)


class Team:
    """A team of a captain and four players, on one app; games by id."""

    def __init__(self, app: App, timezone: str = "America/Toronto") -> None:
        self.app = app
        self.team_id = app.service.create_team(CAPTAIN, "Tigers", timezone).team.team_id
        self.ids = {"Cap": app.service.context(CAPTAIN).player.player_id}
        for name in NAMES:
            added = app.service.add_player(CAPTAIN, name, email=f"{name.lower()}@example.org")
            self.ids[name] = added.player_id

    def game(self, starts_at: datetime) -> str:
        return self.app.service.schedule_game(CAPTAIN, starts_at).game.game_id

    def answer(self, name: str, game_id: str, answer: Answer) -> None:
        handle = self.app.service.board_for_game(game_id)
        assert handle is not None
        self.app.service.answer(player(name), answer, ref=handle.game.handle)

    def names(self, player_ids: tuple[str, ...]) -> set[str]:
        by_id = {v: k for k, v in self.ids.items()}
        return {by_id[p] for p in player_ids}


@pytest.fixture
def app(database_url: str, clock: FakeClock) -> Iterator[App]:
    app = make_app(database_url, clock)
    yield app
    app.close()


@pytest.fixture
def team(app: App) -> Team:
    return Team(app)


def recorded(app: App, kind: type) -> list[RecordedEvent]:
    """Every recorded event of ``kind``, reading the log page by page."""
    found: list[RecordedEvent] = []
    position = 0
    while page := app.store.read_all(after=position, limit=1000):
        found.extend(r for r in page if isinstance(r.event, kind))
        position = page[-1].position
    return found


def events(app: App, kind: type) -> list[Any]:
    return [r.event for r in recorded(app, kind)]


def run_due_then_handlers(scheduler: Scheduler, app: App, now: datetime | None = None) -> list[str]:
    ran = scheduler.run_due(now)
    app.run_handlers()
    return ran


def status(app: App, game_id: str) -> GameStatus:
    with app.db.read() as conn:
        found = schedules.game(conn, game_id)
    assert found is not None
    return found.status


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


# -- with an injected clock ------------------------------------------------------------------
def test_the_check_starts_by_itself_at_the_lead_time(app: App, team: Team,
                                                     clock: FakeClock) -> None:
    game_id = team.game(GAME)
    scheduler = scheduler_for(app, owner="s1")

    clock.now = GAME - 48 * H - timedelta(minutes=1)
    assert run_due_then_handlers(scheduler, app) == []
    clock.now = GAME - 48 * H
    assert run_due_then_handlers(scheduler, app) == [f"{game_id}:start_check"]

    started = events(app, AttendanceCheckStarted)
    assert [(e.game_id, e.check_id) for e in started] == [(game_id, game_id)]
    with app.db.read() as conn:
        board = board_for_game(conn, game_id)
    assert board is not None and board.open
    assert {line.name for line in board.lines} == {"Cap", *NAMES}
    clock.advance(minutes=5)
    assert run_due_then_handlers(scheduler, app) == []  # done: a second wake-up finds nothing


def test_a_game_scheduled_inside_the_lead_time_gets_its_check_at_once(
        app: App, team: Team, clock: FakeClock) -> None:
    game_id = team.game(clock.now + 10 * H)
    scheduler = scheduler_for(app, owner="s1")

    assert run_due_then_handlers(scheduler, app) == [f"{game_id}:start_check"]
    assert len(events(app, AttendanceCheckStarted)) == 1
    clock.advance(hours=7, minutes=1)  # only the 3-hour reminder fits in what's left
    assert run_due_then_handlers(scheduler, app) == [f"{game_id}:remind:180@20261129T0100Z"]


def test_reminders_go_to_exactly_those_who_have_not_answered_or_said_maybe(
        app: App, team: Team, clock: FakeClock) -> None:
    game_id = team.game(GAME)
    scheduler = scheduler_for(app, owner="s1")
    clock.now = GAME - 48 * H
    run_due_then_handlers(scheduler, app)
    team.answer("Ana", game_id, Answer.YES)
    team.answer("Ben", game_id, Answer.NO)
    team.answer("Cal", game_id, Answer.MAYBE)

    clock.now = GAME - 24 * H
    assert run_due_then_handlers(scheduler, app) == [f"{game_id}:remind:1440@20261205T1900Z"]
    team.answer("Dee", game_id, Answer.YES)
    team.answer("Ana", game_id, Answer.MAYBE)
    clock.now = GAME - 3 * H
    assert run_due_then_handlers(scheduler, app) == [f"{game_id}:remind:180@20261205T1900Z"]

    first, second = events(app, RemindersRequested)
    assert team.names(first.player_ids) == {"Cal", "Dee", "Cap"}
    assert team.names(second.player_ids) == {"Ana", "Cal", "Cap"}
    assert (first.reminder_key, second.reminder_key) == ("1440@20261205T1900Z",
                                                         "180@20261205T1900Z")


def test_answers_lock_at_game_time_and_the_game_ends_after_its_length(
        app: App, team: Team, clock: FakeClock) -> None:
    app.service.change_settings(CAPTAIN, game_length_minutes=90)
    game_id = team.game(GAME)
    scheduler = scheduler_for(app, owner="s1")
    clock.now = GAME - 48 * H
    run_due_then_handlers(scheduler, app)
    team.answer("Ana", game_id, Answer.YES)

    clock.now = GAME - timedelta(seconds=1)
    run_due_then_handlers(scheduler, app)
    team.answer("Ben", game_id, Answer.YES)  # still open
    clock.now = GAME
    assert run_due_then_handlers(scheduler, app) == [f"{game_id}:start_game"]
    assert status(app, game_id) is GameStatus.STARTED
    with pytest.raises(DomainError) as refused:
        team.answer("Cal", game_id, Answer.YES)
    assert refused.value.code == "check_closed"

    clock.now = GAME + 89 * timedelta(minutes=1)
    assert run_due_then_handlers(scheduler, app) == []
    clock.now = GAME + 90 * timedelta(minutes=1)
    assert run_due_then_handlers(scheduler, app) == [f"{game_id}:end_game"]
    assert status(app, game_id) is GameStatus.ENDED
    assert len(events(app, GameStarted)) == len(events(app, GameEnded)) == 1


def test_answers_lock_at_the_captains_deadline_and_nobody_is_reminded_after_it(
        app: App, team: Team, clock: FakeClock) -> None:
    game_id = team.game(GAME)
    scheduler = scheduler_for(app, owner="s1")
    clock.now = GAME - 48 * H
    run_due_then_handlers(scheduler, app)
    deadline = GAME - 20 * H  # after the 24-hour reminder, before the 3-hour one
    app.service.set_deadline(CAPTAIN, "G1", deadline)
    team.answer("Ana", game_id, Answer.YES)

    clock.now = GAME - 24 * H
    assert run_due_then_handlers(scheduler, app) == [f"{game_id}:remind:1440@20261205T1900Z"]
    clock.now = deadline - timedelta(seconds=1)
    assert run_due_then_handlers(scheduler, app) == []
    team.answer("Ben", game_id, Answer.YES)  # still open
    clock.now = deadline
    assert run_due_then_handlers(scheduler, app) == [f"{game_id}:answer_deadline"]

    (closed,) = recorded(app, CheckClosed)
    assert (closed.event.reason, closed.event.closed_at) == ("answer deadline", deadline)
    assert closed.metadata.actor == "system:scheduler"
    with pytest.raises(DomainError) as refused:
        team.answer("Cal", game_id, Answer.YES)
    assert refused.value.code == "check_closed"
    assert "deadline" in refused.value.message
    assert status(app, game_id) is GameStatus.SCHEDULED  # the game itself is still on

    clock.now = GAME - 3 * H
    assert run_due_then_handlers(scheduler, app) == []
    assert len(events(app, RemindersRequested)) == 1
    clock.now = GAME
    assert run_due_then_handlers(scheduler, app) == [f"{game_id}:start_game"]
    assert len(events(app, CheckClosed)) == 1
    with app.db.read() as conn:
        board = board_for_game(conn, game_id)
    assert board is not None and not board.open and board.yes == 2


def test_a_deadline_cleared_after_the_scheduler_took_it_up_does_not_close_the_check(
        app: App, team: Team, clock: FakeClock) -> None:
    game_id = team.game(GAME)
    scheduler = scheduler_for(app, owner="s1")
    clock.now = GAME - 48 * H
    run_due_then_handlers(scheduler, app)
    deadline = GAME - 20 * H
    app.service.set_deadline(CAPTAIN, "G1", deadline)
    app.run_handlers()
    clock.now = deadline
    with app.db.read() as conn:
        (item,) = [i for i in due_work.items_for_game(conn, game_id)
                   if i.kind is due_work.DueKind.ANSWER_DEADLINE]
    # The scheduler holds the item when the captain clears the deadline.
    app.service.clear_deadline(CAPTAIN, "G1")
    scheduler._send(item, clock.now)
    app.run_handlers()
    assert events(app, CheckClosed) == []
    team.answer("Ana", game_id, Answer.YES)  # answers still open until the game starts


def test_a_reschedule_moves_every_job_and_a_cancel_removes_them(
        app: App, team: Team, clock: FakeClock) -> None:
    scheduler = scheduler_for(app, owner="s1", watch_seconds=0.02)
    scheduler.start(paused=True)  # jobs are kept in step, nothing fires
    try:
        game_id = team.game(GAME)
        expected = {f"due:{game_id}:start_check": GAME - 48 * H,
                    f"due:{game_id}:remind:1440@20261205T1900Z": GAME - 24 * H,
                    f"due:{game_id}:remind:180@20261205T1900Z": GAME - 3 * H,
                    f"due:{game_id}:start_game": GAME,
                    f"due:{game_id}:end_game": GAME + 2 * H}
        wait_until(lambda: _due_jobs(scheduler) == expected)

        later = GAME + 26 * H
        app.service.reschedule_game(CAPTAIN, "G1", later)
        moved = {f"due:{game_id}:start_check": later - 48 * H,
                 f"due:{game_id}:remind:1440@20261206T2100Z": later - 24 * H,
                 f"due:{game_id}:remind:180@20261206T2100Z": later - 3 * H,
                 f"due:{game_id}:start_game": later,
                 f"due:{game_id}:end_game": later + 2 * H}
        wait_until(lambda: _due_jobs(scheduler) == moved)

        clock.now = GAME - 48 * H  # the old time: nothing to do
        assert run_due_then_handlers(scheduler, app) == []
        clock.now = later - 48 * H
        assert run_due_then_handlers(scheduler, app) == [f"{game_id}:start_check"]
        wait_until(lambda: f"due:{game_id}:start_check" not in _due_jobs(scheduler))

        app.service.cancel_game(CAPTAIN, "G1", "no pitch")
        wait_until(lambda: _due_jobs(scheduler) == {})
        assert set(scheduler.jobs()) == {"sweep"}
        clock.now = later + 5 * H
        assert run_due_then_handlers(scheduler, app) == []
        with app.db.read() as conn:
            assert {i.status for i in due_work.items_for_game(conn, game_id)
                    if i.kind is not DueKind.START_CHECK} == {DueStatus.SKIPPED}
    finally:
        scheduler.stop()


def _due_jobs(scheduler: Scheduler) -> dict[str, datetime]:
    return {k: v for k, v in scheduler.jobs().items() if k.startswith("due:")}


def test_changed_team_settings_move_the_pending_jobs(app: App, team: Team,
                                                     clock: FakeClock) -> None:
    game_id = team.game(GAME)
    scheduler = scheduler_for(app, owner="s1")
    app.service.change_settings(CAPTAIN, check_lead_minutes=24 * 60, reminder_minutes=(60,))

    clock.now = GAME - 25 * H
    assert run_due_then_handlers(scheduler, app) == []
    clock.now = GAME - 24 * H
    assert run_due_then_handlers(scheduler, app) == [f"{game_id}:start_check"]
    clock.now = GAME - H
    assert run_due_then_handlers(scheduler, app) == [f"{game_id}:remind:60@20261205T1900Z"]


def test_a_failed_command_is_tried_again_after_a_backoff(
        app: App, team: Team, clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    game_id = team.game(GAME)
    scheduler = scheduler_for(app, owner="s1")
    clock.now = GAME - 48 * H
    run_due_then_handlers(scheduler, app)
    real_start = app.service.start_game

    def broken(_game_id: str) -> Any:
        raise RuntimeError("database went away")

    monkeypatch.setattr(app.service, "start_game", broken)
    clock.now = GAME
    assert run_due_then_handlers(scheduler, app) == []
    assert "start_game failed" in caplog.text
    with app.db.read() as conn:
        item = next(i for i in due_work.items_for_game(conn, game_id)
                    if i.kind is DueKind.START_GAME)
    assert item.last_error == "RuntimeError: database went away"
    assert item.claimed_until == GAME + timedelta(minutes=1)

    monkeypatch.setattr(app.service, "start_game", real_start)
    clock.now = GAME + timedelta(seconds=59)
    assert run_due_then_handlers(scheduler, app) == []
    clock.now = GAME + timedelta(seconds=60)
    assert run_due_then_handlers(scheduler, app) == [f"{game_id}:start_game"]
    assert status(app, game_id) is GameStatus.STARTED


# -- the captains' alert when a check is short ----------------------------------------------
@pytest.fixture
def short_team(database_url: str, clock: FakeClock) -> Iterator[Team]:
    """A team that needs 3 players, with Cap and Ana as captains, and the notifier running."""
    app = bootstrap(database_url, clock=clock,
                    retry=RetryPolicy(delays=()))
    team = Team(app)
    app.service.change_settings(CAPTAIN, min_players=3)
    app.service.appoint_captain(CAPTAIN, "Ana")
    yield team
    app.close()


def captain_alerts(app: App) -> list[tuple[str, dict[str, Any]]]:
    app.run_handlers()
    with app.db.read() as conn:
        return [(j.recipient_id, dict(j.details)) for j in jobs(conn)
                if j.kind is NotificationKind.CAPTAIN_BELOW_MINIMUM]


def test_the_captains_are_alerted_at_the_last_reminder_when_the_check_is_short(
        short_team: Team, clock: FakeClock) -> None:
    app, team = short_team.app, short_team
    game_id = team.game(GAME)
    scheduler = scheduler_for(app, owner="s1")
    clock.now = GAME - 48 * H
    run_due_then_handlers(scheduler, app)
    team.answer("Ben", game_id, Answer.YES)
    team.answer("Cal", game_id, Answer.NO)

    clock.now = GAME - 3 * H - timedelta(seconds=1)
    assert run_due_then_handlers(scheduler, app) == [f"{game_id}:remind:1440@20261205T1900Z"]
    assert captain_alerts(app) == []
    clock.now = GAME - 3 * H
    assert run_due_then_handlers(scheduler, app) == [f"{game_id}:remind:180@20261205T1900Z",
                                           f"{game_id}:minimum_check:20261205T1900Z"]

    (short,) = recorded(app, CheckBelowMinimum)
    assert short.event == CheckBelowMinimum(check_id=game_id, yes_count=1, min_players=3)
    assert short.metadata.actor == "system:scheduler"
    alerts = captain_alerts(app)
    assert sorted(team.names(tuple(who for who, _ in alerts))) == ["Ana", "Cap"]
    assert {(d["yes_count"], d["min_players"]) for _, d in alerts} == {(1, 3)}
    clock.advance(minutes=10)  # done: nothing left to send, and nobody is told twice
    assert run_due_then_handlers(scheduler, app) == []
    assert len(captain_alerts(app)) == 2


def test_a_team_short_when_answers_closed_at_the_deadline_is_still_warned_before_the_game(
        short_team: Team, clock: FakeClock) -> None:
    app, team = short_team.app, short_team
    game_id = team.game(GAME)
    scheduler = scheduler_for(app, owner="s1")
    clock.now = GAME - 48 * H
    run_due_then_handlers(scheduler, app)
    app.service.set_deadline(CAPTAIN, "G1", GAME - 20 * H)
    team.answer("Ben", game_id, Answer.YES)
    clock.now = GAME - 20 * H
    assert f"{game_id}:answer_deadline" in run_due_then_handlers(scheduler, app)

    clock.now = GAME - 3 * H  # no reminder after the deadline, but the warning still comes
    assert run_due_then_handlers(scheduler, app) == [f"{game_id}:minimum_check:20261205T1900Z"]
    (short,) = recorded(app, CheckBelowMinimum)
    assert short.event == CheckBelowMinimum(check_id=game_id, yes_count=1, min_players=3)
    assert len(captain_alerts(app)) == 2
    assert len(events(app, RemindersRequested)) == 1  # only the 24-hour one, before it


def test_a_check_with_enough_players_alerts_nobody(short_team: Team, clock: FakeClock) -> None:
    app, team = short_team.app, short_team
    game_id = team.game(GAME)
    scheduler = scheduler_for(app, owner="s1")
    clock.now = GAME - 48 * H
    run_due_then_handlers(scheduler, app)
    for name in ("Ben", "Cal", "Dee"):
        team.answer(name, game_id, Answer.YES)

    clock.now = GAME - 3 * H
    assert f"{game_id}:minimum_check:20261205T1900Z" in run_due_then_handlers(scheduler, app)
    assert [(e.yes_count, e.min_players) for e in events(app, MinimumChecked)] == [(3, 3)]
    assert events(app, CheckBelowMinimum) == []
    assert captain_alerts(app) == []
    with app.db.read() as conn:
        (item,) = [i for i in due_work.items_for_game(conn, game_id)
                   if i.kind is DueKind.MINIMUM_CHECK]
    assert item.status is DueStatus.DONE


# -- restarts --------------------------------------------------------------------------------
def test_after_a_restart_work_missed_while_down_runs_once_in_order(
        database_url: str, clock: FakeClock) -> None:
    first = make_app(database_url, clock)
    team = Team(first)
    game_id = team.game(GAME)
    clock.now = GAME - 48 * H
    assert run_due_then_handlers(scheduler_for(first, owner="s1"), first) == [
        f"{game_id}:start_check"]
    first.close()  # down across the 24-hour and the 3-hour reminders

    clock.now = GAME - 2 * H
    second = make_app(database_url, clock)
    scheduler = scheduler_for(second, owner="s2")
    try:
        scheduler.start()  # its first sweep runs at once
        wait_until(lambda: len(events(second, RemindersRequested)) == 2)
    finally:
        scheduler.stop()
    try:
        keys = [e.reminder_key for e in events(second, RemindersRequested)]
        assert keys == ["1440@20261205T1900Z", "180@20261205T1900Z"]
        assert run_due_then_handlers(scheduler_for(second, owner="s3"), second) == []
        assert len(events(second, RemindersRequested)) == 2
        assert len(events(second, AttendanceCheckStarted)) == 1
    finally:
        second.close()


def test_reminders_that_would_arrive_after_the_game_are_skipped(
        database_url: str, clock: FakeClock) -> None:
    first = make_app(database_url, clock)
    game_id = Team(first).game(GAME)
    clock.now = GAME - 48 * H
    run_due_then_handlers(scheduler_for(first, owner="s1"), first)
    first.close()  # down from before the first reminder until after the start

    clock.now = GAME + 30 * timedelta(minutes=1)
    second = make_app(database_url, clock)
    try:
        assert run_due_then_handlers(scheduler_for(second, owner="s2"), second) == [
            f"{game_id}:start_game"]
        assert events(second, RemindersRequested) == []
        with second.db.read() as conn:
            reminders = [i for i in due_work.items_for_game(conn, game_id)
                         if i.kind is DueKind.REMIND]
        assert [(i.status, i.note) for i in reminders] == [(DueStatus.SKIPPED,
                                                            "game started")] * 2
    finally:
        second.close()


# -- time zones ------------------------------------------------------------------------------
@pytest.mark.parametrize(("start", "local_game", "local_check", "local_reminder"), [
    # Clocks go back on Sun 1 Nov 2026: 48 hours before is 8 pm on the Saturday, 49 on the wall.
    (datetime(2026, 10, 20, 12, 0, tzinfo=UTC), datetime(2026, 11, 2, 19, 0),
     "2026-10-31T20:00:00-04:00", "2026-11-01T19:00:00-05:00"),
    # Clocks go forward on Sun 14 Mar 2027: 48 hours before is 6 pm, 47 on the wall.
    (datetime(2027, 3, 1, 12, 0, tzinfo=UTC), datetime(2027, 3, 15, 19, 0),
     "2027-03-13T18:00:00-05:00", "2027-03-14T19:00:00-04:00"),
])
def test_a_game_across_a_daylight_saving_change_gets_its_check_48_real_hours_before(
        database_url: str, start: datetime, local_game: datetime, local_check: str,
        local_reminder: str) -> None:
    clock = FakeClock(start)
    app = make_app(database_url, clock)
    try:
        team = Team(app, "America/Toronto")
        starts_at = local_game.replace(tzinfo=TORONTO).astimezone(UTC)
        game_id = team.game(starts_at)
        items = due_work_items(app, game_id)
        check = next(i for i in items if i.kind is DueKind.START_CHECK)
        reminder = next(i for i in items if i.key.endswith(f"1440@{starts_at:%Y%m%dT%H%MZ}"))
        assert check.due_at == starts_at - 48 * H
        assert (check.local_due_at.isoformat(), reminder.local_due_at.isoformat()) == (
            local_check, local_reminder)

        scheduler = scheduler_for(app, owner="s1")
        clock.now = starts_at - 48 * H - timedelta(seconds=1)
        assert run_due_then_handlers(scheduler, app) == []
        clock.now = starts_at - 48 * H
        assert run_due_then_handlers(scheduler, app) == [f"{game_id}:start_check"]
        clock.now = starts_at - 24 * H
        assert run_due_then_handlers(scheduler, app) == [reminder.key]
    finally:
        app.close()


def due_work_items(app: App, game_id: str) -> list[due_work.DueItem]:
    with app.db.read() as conn:
        return due_work.items_for_game(conn, game_id)


# -- the real timer --------------------------------------------------------------------------
@pytest.mark.slow
def test_apscheduler_wakes_run_due_when_an_item_falls_due(database_url: str) -> None:
    app = make_app(database_url, utc_now, background=True)
    app.start()
    scheduler = scheduler_for(app, owner="s1", sweep_seconds=3600)  # no help from the sweep
    try:
        team = Team(app)
        scheduler.start()
        starts_at = utc_now() + 48 * H + timedelta(seconds=0.6)
        game_id = team.game(starts_at)  # its check is due in about half a second
        due = starts_at - 48 * H
        job = f"due:{game_id}:start_check"
        wait_until(lambda: job in scheduler.jobs() or bool(events(app, AttendanceCheckStarted)))
        assert scheduler.jobs().get(job) == due
        wait_until(lambda: bool(events(app, AttendanceCheckStarted)), timeout=5)
        (started,) = recorded(app, AttendanceCheckStarted)
        assert due <= started.metadata.recorded_at < due + timedelta(seconds=2)
        assert started.metadata.actor == "system:scheduler"
        wait_until(lambda: job not in scheduler.jobs())
    finally:
        scheduler.stop()
        app.close()


# -- one process on SQLite -------------------------------------------------------------------
def test_on_sqlite_a_second_serve_is_refused(tmp_path: Path, clock: FakeClock) -> None:
    url = f"sqlite:///{tmp_path}/attend.db"
    first, second = make_app(url, clock), make_app(url, clock)
    running = scheduler_for(first, owner="s1")
    running.start(paused=True)
    try:
        with pytest.raises(AnotherProcessRunning,
                           match=r"another attend serve is already running on attend\.db"):
            scheduler_for(second, owner="s2").start(paused=True)
        # And from another process, as `attend serve` would be.
        other = subprocess.run(
            [sys.executable, "-c", "import sys; from core.serve_lock import ServeLock; "
             "ServeLock.for_database(sys.argv[1])", str(tmp_path / "attend.db")],
            capture_output=True, text=True, timeout=60)
        assert other.returncode != 0
        assert "another attend serve is already running on attend.db" in other.stderr
    finally:
        running.stop()
    lock = ServeLock.for_database(str(tmp_path / "attend.db"))  # free again
    assert lock is not None
    lock.release()
    first.close()
    second.close()


def test_on_sqlite_a_crashed_serve_leaves_the_database_free(tmp_path: Path) -> None:
    database = str(tmp_path / "attend.db")
    with subprocess.Popen(
            [sys.executable, "-c", "import sys, time; from core.serve_lock import ServeLock; "
             "held = ServeLock.for_database(sys.argv[1]); print('held', flush=True); "
             "time.sleep(120)", database], stdout=subprocess.PIPE, text=True) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            with pytest.raises(AnotherProcessRunning):
                ServeLock.for_database(database)
        finally:
            holder.kill()  # no release, no clean-up: as a crash would
            holder.wait(timeout=60)
    lock = ServeLock.for_database(database)
    assert lock is not None
    lock.release()


# -- several processes on PostgreSQL ---------------------------------------------------------
GAMES = 15


@pytest.mark.postgres
@pytest.mark.slow
def test_two_runtimes_on_postgresql_run_every_item_exactly_once(postgres_admin_url: str,
                                                                clock: FakeClock) -> None:
    for url in postgres_schema_url(postgres_admin_url):
        apps = [make_app(url, clock), make_app(url, clock)]
        try:
            _race(apps, clock)
        finally:
            for app in apps:
                app.close()


def _race(apps: list[App], clock: FakeClock) -> None:
    team = Team(apps[0])
    games = [team.game(GAME + i * timedelta(minutes=10)) for i in range(GAMES)]
    # Small claims, so that within a phase both take some (one claim of 20 would often take
    # a whole phase's items before the other runtime has looked).
    schedulers = [scheduler_for(app, owner=f"runtime-{n}", batch_size=2)
                  for n, app in enumerate(apps)]
    sent: list[list[str]] = [[], []]
    for phase, now in enumerate((GAME - 45 * H, GAME - 20 * H, GAME - H / 2, GAME + 5 * H)):
        clock.now = now
        if phase == 1:  # some answers, so reminders have someone to skip
            for game_id in games[::3]:
                team.answer("Ana", game_id, Answer.YES)
        idle = [threading.Event(), threading.Event()]
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def work(n: int, now: datetime = now, idle: list[threading.Event] = idle,
                 barrier: threading.Barrier = barrier, errors: list[BaseException] = errors
                 ) -> None:
            try:
                barrier.wait()
                deadline = time.monotonic() + 120
                while not all(e.is_set() for e in idle):
                    assert time.monotonic() < deadline, "the race did not finish"
                    sent[n].extend(schedulers[n].run_due(now))
                    apps[n].run_handlers()
                    with apps[n].db.read() as conn:
                        if not [i for i in due_work.pending(conn, due_by=now) if i.live(now)]:
                            idle[n].set()
            except BaseException as error:  # reported by the main thread
                errors.append(error)
                idle[0].set()
                idle[1].set()

        threads = [threading.Thread(target=work, args=(n,)) for n in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors

    everything = sent[0] + sent[1]
    assert len(everything) == len(set(everything)) == GAMES * 5  # each item run exactly once
    assert sent[0] and sent[1], "both runtimes should have taken part"
    with apps[0].db.read() as conn:
        plan = [i for g in games for i in due_work.items_for_game(conn, g)]
    assert {i.key for i in plan} == set(everything)
    assert {i.status for i in plan} == {DueStatus.DONE}

    checks = Counter(e.game_id for e in events(apps[0], AttendanceCheckStarted))
    reminders = Counter((e.check_id, e.reminder_key) for e in events(apps[0], RemindersRequested))
    assert checks == Counter({g: 1 for g in games})
    assert len(reminders) == GAMES * 2 and set(reminders.values()) == {1}
    assert Counter(e.game_id for e in events(apps[0], GameStarted)) == Counter(games)
    assert Counter(e.game_id for e in events(apps[0], GameEnded)) == Counter(games)
