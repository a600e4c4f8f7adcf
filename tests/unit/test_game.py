"""Game: given past events, when a command, then these events or this refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.aggregates.game import (
    GAME,
    AttendanceCheckStarted,
    CancelGame,
    CheckAttendance,
    EndGame,
    GameCancelled,
    GameEnded,
    GameRescheduled,
    GameScheduled,
    GameStarted,
    GameState,
    GameStatus,
    RescheduleGame,
    ScheduleGame,
    StartGame,
)
from core.errors import DomainError

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
KICKOFF = datetime(2026, 5, 2, 17, 0, tzinfo=UTC)
G = "g1"
SCHEDULED = GameScheduled(
    game_id=G,
    team_id="t1",
    starts_at=KICKOFF,
    location="Monarch Park",
    opponent="Owls",
    original_text="sat 7pm",
)
CANCELLED = GameCancelled(game_id=G, reason="rain", cancelled_at=NOW)
STARTED = GameStarted(game_id=G, started_at=KICKOFF)
ENDED = GameEnded(game_id=G, ended_at=KICKOFF + timedelta(hours=2))
CHECKED = AttendanceCheckStarted(game_id=G, team_id="t1", check_id="c1", starts_at=KICKOFF)


def given(*events: object) -> GameState:
    return GAME.replay(events)


def when(state: GameState, command: object, *, now: datetime = NOW) -> list[object]:
    events = list(GAME.decide(state, command, now=now))
    GAME.replay(events, state)  # whatever decide emits, evolve must accept
    return events


def refused(state: GameState, command: object, *, now: datetime = NOW) -> str:
    with pytest.raises(DomainError) as caught:
        GAME.decide(state, command, now=now)
    assert caught.value.message.strip()
    return caught.value.code


def test_a_game_is_scheduled_in_the_future() -> None:
    command = ScheduleGame(
        game_id=G,
        team_id="t1",
        starts_at=KICKOFF,
        location="Monarch Park",
        opponent="Owls",
        original_text="sat 7pm",
    )
    assert when(given(), command) == [SCHEDULED]


def test_a_game_is_scheduled_once() -> None:
    command = ScheduleGame(game_id=G, team_id="t1", starts_at=KICKOFF)
    assert refused(given(SCHEDULED), command) == "game_already_scheduled"


@pytest.mark.parametrize("starts_at", [NOW, NOW - timedelta(minutes=1)], ids=["now", "past"])
def test_a_start_that_is_not_in_the_future_is_refused(starts_at: datetime) -> None:
    schedule = ScheduleGame(game_id=G, team_id="t1", starts_at=starts_at)
    assert refused(given(), schedule) == "start_in_past"
    reschedule = RescheduleGame(game_id=G, starts_at=starts_at)
    assert refused(given(SCHEDULED), reschedule) == "start_in_past"


@pytest.mark.parametrize(
    "command",
    [
        RescheduleGame(game_id=G, starts_at=KICKOFF),
        CancelGame(game_id=G),
        StartGame(game_id=G),
        EndGame(game_id=G),
        CheckAttendance(game_id=G, team_id="t1", check_id="c1"),
    ],
    ids=lambda c: type(c).__name__,
)
def test_an_unknown_game_refuses_everything_but_scheduling(command: object) -> None:
    assert refused(given(), command) == "game_not_found"


# Rescheduling


def test_rescheduling_records_the_previous_time() -> None:
    later = KICKOFF + timedelta(days=1)
    command = RescheduleGame(game_id=G, starts_at=later, original_text="sun 7pm")
    assert when(given(SCHEDULED), command) == [
        GameRescheduled(
            game_id=G, previous_starts_at=KICKOFF, starts_at=later, original_text="sun 7pm"
        )
    ]


def test_rescheduling_to_the_same_time_records_nothing() -> None:
    assert when(given(SCHEDULED), RescheduleGame(game_id=G, starts_at=KICKOFF)) == []


@pytest.mark.parametrize(
    ("past", "code"),
    [
        ((CANCELLED,), "game_cancelled"),
        ((STARTED, ENDED), "game_ended"),
        ((STARTED,), "game_started"),
    ],
    ids=["cancelled", "ended", "started"],
)
def test_a_game_is_rescheduled_only_before_it_starts(past: tuple[object, ...], code: str) -> None:
    command = RescheduleGame(game_id=G, starts_at=KICKOFF + timedelta(days=1))
    assert refused(given(SCHEDULED, *past), command) == code


def test_a_refusal_says_what_the_game_has_become_and_what_cant_be_done() -> None:
    command = RescheduleGame(game_id=G, starts_at=KICKOFF + timedelta(days=1))
    with pytest.raises(DomainError) as caught:
        GAME.decide(given(SCHEDULED, STARTED), command, now=NOW)
    assert caught.value.message == "That game has started, so it can't be rescheduled."


# Cancelling


def test_a_game_is_cancelled_until_it_ends() -> None:
    command = CancelGame(game_id=G, reason="rain")
    assert when(given(SCHEDULED), command) == [CANCELLED]
    assert when(given(SCHEDULED, STARTED), command) == [CANCELLED]
    assert refused(given(SCHEDULED, STARTED, ENDED), command) == "game_ended"


def test_cancelling_twice_records_nothing() -> None:
    assert when(given(SCHEDULED, CANCELLED), CancelGame(game_id=G, reason="again")) == []


# Starting and ending


def test_a_game_starts_once() -> None:
    assert when(given(SCHEDULED), StartGame(game_id=G), now=KICKOFF) == [STARTED]
    assert when(given(SCHEDULED, STARTED), StartGame(game_id=G)) == []


@pytest.mark.parametrize(
    ("past", "code"),
    [((CANCELLED,), "game_cancelled"), ((STARTED, ENDED), "game_ended")],
    ids=["cancelled", "ended"],
)
def test_a_cancelled_or_ended_game_does_not_start(past: tuple[object, ...], code: str) -> None:
    assert refused(given(SCHEDULED, *past), StartGame(game_id=G)) == code


def test_a_game_ends_only_after_it_started() -> None:
    end = EndGame(game_id=G)
    assert refused(given(SCHEDULED), end) == "game_not_started"
    assert refused(given(SCHEDULED, CANCELLED), end) == "game_cancelled"
    assert when(given(SCHEDULED, STARTED), end, now=ENDED.ended_at) == [ENDED]


def test_ending_twice_records_nothing() -> None:
    assert when(given(SCHEDULED, STARTED, ENDED), EndGame(game_id=G)) == []


# Attendance


def test_a_check_starts_for_the_current_start_time() -> None:
    later = KICKOFF + timedelta(days=1)
    moved = GameRescheduled(game_id=G, previous_starts_at=KICKOFF, starts_at=later)
    command = CheckAttendance(game_id=G, team_id="t1", check_id="c1")
    assert when(given(SCHEDULED, moved), command) == [
        AttendanceCheckStarted(game_id=G, team_id="t1", check_id="c1", starts_at=later)
    ]


def test_a_check_is_only_for_the_games_own_team() -> None:
    command = CheckAttendance(game_id=G, team_id="t2", check_id="c1")
    assert refused(given(SCHEDULED), command) == "wrong_team"


def test_a_game_has_at_most_one_check() -> None:
    state = given(SCHEDULED, CHECKED)
    assert when(state, CheckAttendance(game_id=G, team_id="t1", check_id="c1")) == []
    command = CheckAttendance(game_id=G, team_id="t1", check_id="c2")
    assert refused(state, command) == "check_already_started"


@pytest.mark.parametrize(
    ("past", "code"),
    [
        ((CANCELLED,), "game_cancelled"),
        ((STARTED, ENDED), "game_ended"),
        ((STARTED,), "game_started"),
    ],
    ids=["cancelled", "ended", "started"],
)
def test_no_check_once_a_game_is_cancelled_started_or_over(
    past: tuple[object, ...], code: str
) -> None:
    command = CheckAttendance(game_id=G, team_id="t1", check_id="c1")
    assert refused(given(SCHEDULED, *past), command) == code


def test_the_state_shows_where_a_game_stands() -> None:
    state = given(SCHEDULED, CHECKED, STARTED, ENDED)
    assert (state.status, state.check_id, state.started_at, state.ended_at) == (
        GameStatus.ENDED,
        "c1",
        KICKOFF,
        KICKOFF + timedelta(hours=2),
    )
    cancelled = given(SCHEDULED, CANCELLED)
    assert (cancelled.status, cancelled.cancel_reason) == (GameStatus.CANCELLED, "rain")
