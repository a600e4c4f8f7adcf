"""Weekly games: a series schedules ordinary games, each at the same local time across a
daylight-saving change; the scheduler opens each one's check in turn; the series is moved
and cancelled as a whole or a game at a time; and it all rebuilds from the log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot import cli
from core.actors import Actor
from core.aggregates.game import GameStatus
from core.bootstrap import App, bootstrap
from core.errors import DomainError, Refusal
from core.projections import read_models
from core.projections.board import board_for_game
from core.runtime import RetryPolicy
from scheduler import Scheduler
from tests.support.clock import FakeClock

TORONTO = ZoneInfo("America/Toronto")
CAPTAIN = Actor.console("cap@example.org", "Cap")
ALICE = Actor.console("alice@example.org")
SATURDAY = 5
H = timedelta(hours=1)


@pytest.fixture
def app(database_url: str, clock: FakeClock) -> Iterator[App]:
    clock.now = datetime(2027, 2, 20, 15, 0, tzinfo=UTC)  # a fortnight before the series
    app = bootstrap(database_url, clock=clock, retry=RetryPolicy(delays=()))
    app.service.create_team(CAPTAIN, "Tigers", "America/Toronto")
    for name in ("Alice", "Ben", "Cal"):
        app.service.add_player(CAPTAIN, name, email=f"{name.lower()}@example.org")
    yield app
    app.close()


# The scheduler's claims on due work are its own bookkeeping, not read from the events.
CLAIMS = {"claimed_by", "claimed_until", "attempts", "last_error"}


def dump(app: App) -> dict[str, list[tuple[Any, ...]]]:
    with app.db.read() as conn:
        return {table.name: sorted((tuple(row) for row in conn.execute(select(
            *(c for c in table.columns if c.name not in CLAIMS)))), key=repr)
                for projection in read_models() for table in projection.tables}


def test_a_twelve_week_series_keeps_7pm_across_dst_opens_each_check_and_rebuilds(
        app: App, clock: FakeClock, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Toronto moves its clocks forward on Sun Mar 14 2027: games 2 and 3 straddle it.
    made = app.service.schedule_series(CAPTAIN, weekday=SATURDAY, at=time(19, 0),
                                       first_day=date(2027, 3, 1), games=12,
                                       location="Monarch Park", opponent="TBD")

    assert made.series.handle == "S1"
    assert [g.handle for g in made.games] == [f"G{n}" for n in range(1, 13)]
    local = [g.starts_at.astimezone(TORONTO) for g in made.games]
    assert [t.date() for t in local] == [date(2027, 3, 6) + timedelta(weeks=n)
                                         for n in range(12)]
    assert {(t.hour, t.minute, t.weekday()) for t in local} == {(19, 0, SATURDAY)}
    assert [t.tzname() for t in local[:3]] == ["EST", "EST", "EDT"]
    assert made.games[2].starts_at - made.games[1].starts_at == timedelta(days=7) - H
    assert {(g.location, g.opponent, g.status) for g in made.games} == {
        ("Monarch Park", "TBD", GameStatus.SCHEDULED)}

    scheduler = Scheduler(app.service, db=app.db, runtime=app.runtime, clock=app.clock,
                          owner="s1")
    for game in made.games:
        clock.now = game.starts_at - 48 * H  # the team's check lead time
        ran = scheduler.run_due()
        app.run_handlers()
        assert f"{game.game_id}:start_check" in ran
        with app.db.read() as conn:
            board = board_for_game(conn, game.game_id)
        assert board is not None and board.open and len(board.lines) == 4
    clock.now = made.games[-1].starts_at + 3 * H
    scheduler.run_due()
    app.run_handlers()
    _, left = app.service.series_list(CAPTAIN)
    assert left == []  # every game played

    before = dump(app)
    assert before["series"] and len(before["series_games"]) == 12
    app.close()  # as `attend serve` must be stopped before a rebuild
    monkeypatch.setenv("ATTEND_DATABASE_URL", database_url)
    assert cli.main(["projections", "rebuild"]) == 0
    again = bootstrap(database_url, clock=clock)
    try:
        assert dump(again) == before
        with again.db.read() as conn:
            from core.projections.series import series_of_team
            (view,) = series_of_team(conn, made.team.team_id)
        assert (view.handle, view.games, view.played, view.first_game, view.last_game) == (
            "S1", 12, 12, "G1", "G12")
    finally:
        again.close()


def test_one_game_moves_alone_and_the_rest_move_or_stop_with_the_series(
        app: App, clock: FakeClock) -> None:
    made = app.service.schedule_series(CAPTAIN, weekday=SATURDAY, at=time(19, 0),
                                       first_day=date(2027, 3, 1), last_day=date(2027, 4, 3))
    assert len(made.games) == 5
    first, second = made.games[0], made.games[1]
    app.service.cancel_game(CAPTAIN, second.handle, "pitch closed")
    clock.now = first.starts_at + H  # the first game is under way
    app.service.start_game(first.game_id)
    app.run_handlers()

    moved = app.service.reschedule_series(CAPTAIN, "s1", weekday=6, at=time(18, 30))
    by_handle = {g.handle: g for g in moved.games}
    assert by_handle[first.handle].starts_at == first.starts_at  # played: stays
    assert by_handle[second.handle].status is GameStatus.CANCELLED
    later = [by_handle[g.handle].starts_at.astimezone(TORONTO) for g in made.games[2:]]
    assert [(t.weekday(), t.hour, t.minute) for t in later] == [(6, 18, 30)] * 3
    assert [t.date() for t in later] == [date(2027, 3, 21), date(2027, 3, 28),
                                         date(2027, 4, 4)]
    _, (listed,) = app.service.series_list(CAPTAIN)
    assert (listed.weekday, listed.hour, listed.minute) == (6, 18, 30)
    # A game moved alone comes back in line when the series is moved to where it is.
    last = made.games[-1]
    app.service.reschedule_game(CAPTAIN, last.handle, by_handle[last.handle].starts_at + H)
    realigned = app.service.reschedule_series(CAPTAIN, "S1", weekday=6, at=time(18, 30))
    assert [g.starts_at for g in realigned.games] == [g.starts_at for g in moved.games]
    assert app.service.reschedule_series(CAPTAIN, "S1", at=time(18, 30)).games == \
        realigned.games
    assert (listed.games, listed.played, listed.called_off, listed.to_play) == (5, 1, 1, 3)

    cancelled = app.service.cancel_series(CAPTAIN, "S1", "league folded")
    statuses = [g.status for g in cancelled.games]
    assert statuses == [GameStatus.STARTED] + [GameStatus.CANCELLED] * 4
    assert {g.cancel_reason for g in cancelled.games[2:]} == {"league folded"}
    assert app.service.series_list(CAPTAIN)[1] == []
    with pytest.raises(DomainError) as again:
        app.service.reschedule_series(CAPTAIN, "S1", at=time(20, 0))
    assert again.value.code in (Refusal.SERIES_OVER, Refusal.SERIES_CANCELLED)


@pytest.mark.parametrize(("options", "code", "words"), [
    ({}, Refusal.SERIES_NO_END, "needs an end"),
    ({"games": 53}, Refusal.SERIES_TOO_LONG, "at most 52"),
    ({"last_day": date(2028, 6, 1)}, Refusal.SERIES_TOO_LONG, "at most"),
    ({"games": 3, "at": time(2, 30), "weekday": 6}, Refusal.SERIES_TIME_SKIPPED,
     "Sun Mar 14"),
    ({"games": 3, "first_day": date(2027, 2, 1)}, Refusal.START_IN_PAST, "passed"),
])
def test_a_series_that_cannot_be_is_refused_and_nothing_is_scheduled(
        app: App, options: dict[str, Any], code: Refusal, words: str) -> None:
    asked: dict[str, Any] = {"weekday": SATURDAY, "at": time(19, 0),
                             "first_day": date(2027, 3, 1), **options}
    with pytest.raises(DomainError) as refused:
        app.service.schedule_series(CAPTAIN, **asked)
    assert refused.value.code is code and words in refused.value.message
    assert app.service.games(CAPTAIN)[1] == [] and app.service.series_list(CAPTAIN)[1] == []


def test_only_a_captain_schedules_moves_or_cancels_a_series(app: App) -> None:
    with pytest.raises(DomainError) as refused:
        app.service.schedule_series(ALICE, weekday=SATURDAY, at=time(19, 0),
                                    first_day=date(2027, 3, 1), games=4)
    assert refused.value.code is Refusal.CAPTAIN_ONLY
    app.service.schedule_series(CAPTAIN, weekday=SATURDAY, at=time(19, 0),
                                first_day=date(2027, 3, 1), games=4)
    for attempt in (lambda: app.service.cancel_series(ALICE, "S1"),
                    lambda: app.service.reschedule_series(ALICE, "S1", at=time(20, 0))):
        with pytest.raises(DomainError) as refused:
            attempt()
        assert refused.value.code is Refusal.CAPTAIN_ONLY
    with pytest.raises(DomainError) as unknown:
        app.service.cancel_series(CAPTAIN, "S7")
    assert unknown.value.code is Refusal.UNKNOWN_SERIES
    assert [g.status for g in app.service.games(CAPTAIN)[1]] == [GameStatus.SCHEDULED] * 4
