"""The scheduling rules: given a game's state and its team's timing, what is due and when.

Pure functions, no database: :mod:`core.projections.due_work.plan`. The read model that
writes these items from events is tested in ``tests/integration/test_due_work.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.projections.due_work.plan import (
    DueKind,
    DueStatus,
    Existing,
    GameState,
    Planned,
    TeamTiming,
    check_starts_at,
    plan_deadline,
    plan_game,
    replan,
)

H = timedelta(hours=1)
NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
GAME = datetime(2026, 12, 5, 19, 0, tzinfo=UTC)  # a week ahead
TIMING = TeamTiming(check_lead_minutes=48 * 60, reminder_minutes=(1440, 180),
                    game_length_minutes=120, min_players=None)


def due(planned: list[Planned]) -> list[tuple[str, datetime]]:
    """(key without the game id, due at), in the plan's order."""
    return [(p.key.removeprefix("g1:"), p.due_at) for p in planned]


def game(starts_at: datetime = GAME, *, check_start_pending: bool = True,
         check_opened_at: datetime | None = None, deadline: datetime | None = None) -> GameState:
    return GameState(game_id="g1", starts_at=starts_at, check_start_pending=check_start_pending,
                     check_opened_at=check_opened_at, deadline=deadline)


def test_a_game_a_week_ahead_gets_check_reminders_start_and_end() -> None:
    planned = plan_game(game(), TIMING, at=NOW)

    assert due(planned) == [
        ("start_check", GAME - 48 * H),
        ("remind:1440@20261205T1900Z", GAME - 24 * H),
        ("remind:180@20261205T1900Z", GAME - 3 * H),
        ("start_game", GAME),
        ("end_game", GAME + 2 * H),
    ]
    # Nothing before the game may go out after it starts; the start and end never expire.
    assert [p.expires_at for p in planned] == [GAME, GAME, GAME, None, None]
    assert [p.reminder_key for p in planned if p.kind is DueKind.REMIND] == [
        "1440@20261205T1900Z", "180@20261205T1900Z"]


def test_the_check_starts_at_once_inside_the_lead_time_and_past_reminders_are_dropped() -> None:
    soon = NOW + 20 * H
    assert check_starts_at(soon, lead_minutes=48 * 60, at=NOW) == NOW
    assert check_starts_at(GAME, lead_minutes=48 * 60, at=NOW) == GAME - 48 * H

    assert due(plan_game(game(starts_at=soon), TIMING, at=NOW)) == [
        ("start_check", NOW),
        ("remind:180@20261129T1100Z", soon - 3 * H),
        ("start_game", soon),
        ("end_game", soon + 2 * H),
    ]


def test_reminders_follow_the_check_whether_planned_or_already_opened() -> None:
    # The check starts 30 hours before: the 48-hour reminder would come before it.
    timing = TeamTiming(check_lead_minutes=30 * 60, reminder_minutes=(2880, 1440),
                        game_length_minutes=90, min_players=None)
    assert due(plan_game(game(), timing, at=NOW))[:2] == [
        ("start_check", GAME - 30 * H), ("remind:1440@20261205T1900Z", GAME - 24 * H)]

    # The check opened 20 hours before (its item done): the 24-hour reminder is behind it.
    opened = game(check_start_pending=False, check_opened_at=GAME - 20 * H)
    assert due(plan_game(opened, TIMING, at=NOW)) == [
        ("remind:180@20261205T1900Z", GAME - 3 * H),
        ("start_game", GAME),
        ("end_game", GAME + 2 * H),
    ]


def test_a_minimum_check_comes_at_the_last_reminder_only_while_there_is_a_minimum() -> None:
    with_minimum = TeamTiming(check_lead_minutes=48 * 60, reminder_minutes=(1440, 300),
                              game_length_minutes=120, min_players=8)
    planned = plan_game(game(), with_minimum, at=NOW)
    (minimum,) = [p for p in planned if p.kind is DueKind.MINIMUM_CHECK]
    # Its key holds the start, not the minutes: a moved game is checked again.
    assert (minimum.key, minimum.due_at, minimum.expires_at) == (
        "g1:minimum_check:20261205T1900Z", GAME - 5 * H, GAME)

    no_reminders = TeamTiming(check_lead_minutes=48 * 60, reminder_minutes=(),
                              game_length_minutes=120, min_players=8)
    assert [p.due_at for p in plan_game(game(), no_reminders, at=NOW)
            if p.kind is DueKind.MINIMUM_CHECK] == [GAME - 3 * H]

    # Too late for it: the check opens after the minimum check would be due.
    assert [p for p in plan_game(game(starts_at=NOW + 2 * H), with_minimum, at=NOW)
            if p.kind is DueKind.MINIMUM_CHECK] == []
    assert [p for p in plan_game(game(), TIMING, at=NOW)
            if p.kind is DueKind.MINIMUM_CHECK] == []


def test_a_captains_deadline_stays_where_it_is_and_expires_at_the_start() -> None:
    deadline = GAME - 30 * H
    planned = plan_game(game(deadline=deadline, starts_at=GAME + 24 * H), TIMING, at=NOW)

    (closing,) = [p for p in planned if p.kind is DueKind.ANSWER_DEADLINE]
    assert (closing.key, closing.due_at, closing.expires_at) == (
        "g1:answer_deadline", deadline, GAME + 24 * H)
    assert plan_deadline("g1", deadline, starts_at=GAME) == Planned(
        key="g1:answer_deadline", kind=DueKind.ANSWER_DEADLINE, due_at=deadline,
        expires_at=GAME)


def test_a_plan_is_on_utc_instants_across_a_daylight_saving_change() -> None:
    # Toronto leaves summer time on 2026-11-01 at 06:00 UTC: 48 hours stay 48 real hours.
    starts = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
    planned = plan_game(game(starts_at=starts), TIMING, at=datetime(2026, 10, 1, tzinfo=UTC))
    assert planned[0].due_at == starts - 48 * H


def test_a_new_plan_adds_moves_and_drops_only_pending_items() -> None:
    moved = plan_game(game(GAME + H, check_start_pending=False), TIMING, at=NOW)
    existing = {
        "g1:start_check": Existing(status=DueStatus.DONE, due_at=GAME - 48 * H,
                                   expires_at=GAME),
        "g1:remind:1440@20261205T1900Z": Existing(status=DueStatus.PENDING,
                                                  due_at=GAME - 24 * H, expires_at=GAME),
        "g1:remind:180@20261205T1900Z": Existing(status=DueStatus.SKIPPED,
                                                 due_at=GAME - 3 * H, expires_at=GAME),
        "g1:start_game": Existing(status=DueStatus.PENDING, due_at=GAME, expires_at=None),
        "g1:end_game": Existing(status=DueStatus.PENDING, due_at=GAME + 2 * H,
                                expires_at=None),
    }

    changes = replan(existing, moved)

    # The reminders for the new start are new items; the old pending one is dropped, the
    # skipped one stays skipped; the start and end move; the done check is left alone.
    assert [p.key for p in changes.new] == [
        "g1:remind:1440@20261205T2000Z", "g1:remind:180@20261205T2000Z"]
    assert [(p.key, p.due_at) for p in changes.moved] == [
        ("g1:start_game", GAME + H), ("g1:end_game", GAME + 3 * H)]
    assert changes.dropped == ("g1:remind:1440@20261205T1900Z",)


def test_the_same_plan_again_changes_nothing() -> None:
    planned = plan_game(game(), TIMING, at=NOW)
    existing = {p.key: Existing(status=DueStatus.PENDING, due_at=p.due_at,
                                expires_at=p.expires_at) for p in planned}

    changes = replan(existing, plan_game(game(), TIMING, at=NOW + H))

    assert (changes.new, changes.moved, changes.dropped) == ((), (), ())
