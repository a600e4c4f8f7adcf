"""The due-work read model: what the scheduler must do and when, worked out from events.

Stories go through the real router and runtime (``tests/domain_fixtures.Story``) on every
backend; the check is opened by hand, as the process manager would.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from core.aggregates.check import (
    AlertIfBelowMinimum,
    ClearAnswerDeadline,
    CloseCheck,
    RemindNonResponders,
    SetAnswerDeadline,
)
from core.aggregates.game import (
    CancelGame,
    EndGame,
    RescheduleGame,
    ScheduleGame,
    StartGame,
)
from core.aggregates.team import ChangeTeamSettings
from core.eventstore.database import Database
from core.projections import due_work
from core.projections.due_work import DueItem, DueKind, DueStatus, DueWorkProjection, claims
from core.projections.rebuild import rebuild
from tests.support.clock import FakeClock
from tests.support.databases import postgres_schema_url
from tests.support.domain_fixtures import Story, person

H = timedelta(hours=1)
NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)  # the FakeClock's start
GAME = datetime(2026, 12, 5, 19, 0, tzinfo=UTC)  # a week ahead
ANA, BEN = person("Ana"), person("Ben")

PENDING, DONE, SKIPPED = DueStatus.PENDING, DueStatus.DONE, DueStatus.SKIPPED


@pytest.fixture
def story(db: Database, clock: FakeClock) -> Story:
    story = Story(db, clock, handlers=[DueWorkProjection()])
    story.team("t1", "Tigers", ANA, BEN, timezone="America/Toronto")
    return story


def schedule(story: Story, game_id: str = "g1", starts_at: datetime = GAME) -> None:
    story.do(ScheduleGame(game_id=game_id, team_id="t1", starts_at=starts_at))


def items(story: Story, game_id: str = "g1") -> list[DueItem]:
    return story.read(due_work.items_for_game, game_id)


def plan(story: Story, game_id: str = "g1") -> list[tuple[str, datetime, DueStatus]]:
    """(key without the game id, due at, status) in due order."""
    return [(i.key.removeprefix(f"{game_id}:"), i.due_at, i.status)
            for i in items(story, game_id)]


def test_a_scheduled_game_gets_its_check_reminders_start_and_end(story: Story) -> None:
    schedule(story)

    assert plan(story) == [
        ("start_check", GAME - 48 * H, PENDING),
        ("remind:1440@20261205T1900Z", GAME - 24 * H, PENDING),
        ("remind:180@20261205T1900Z", GAME - 3 * H, PENDING),
        ("start_game", GAME, PENDING),
        ("end_game", GAME + 2 * H, PENDING),
    ]
    by_kind = {i.kind: i for i in items(story)}
    # Nothing before the game may go out after it starts.
    assert by_kind[DueKind.START_CHECK].expires_at == GAME
    assert by_kind[DueKind.REMIND].expires_at == GAME
    assert by_kind[DueKind.START_GAME].expires_at is None
    assert [i.reminder_key for i in items(story) if i.kind is DueKind.REMIND] == [
        "1440@20261205T1900Z", "180@20261205T1900Z"]
    assert by_kind[DueKind.START_CHECK].local_due_at.isoformat() == "2026-12-03T14:00:00-05:00"
    assert by_kind[DueKind.START_CHECK].timezone == "America/Toronto"


def test_a_game_inside_the_lead_time_gets_its_check_at_once_and_no_past_reminders(
        story: Story) -> None:
    schedule(story, "soon", NOW + 30 * H)
    schedule(story, "sooner", NOW + 20 * H)

    assert [(k, due) for k, due, _ in plan(story, "soon")] == [
        ("start_check", NOW),
        ("remind:1440@20261129T2100Z", NOW + 6 * H),
        ("remind:180@20261129T2100Z", NOW + 27 * H),
        ("start_game", NOW + 30 * H),
        ("end_game", NOW + 32 * H),
    ]
    assert [k for k, _, _ in plan(story, "sooner")] == [
        "start_check", "remind:180@20261129T1100Z", "start_game", "end_game"]


def test_done_and_skipped_come_from_events(story: Story) -> None:
    schedule(story)
    story.clock.now = GAME - 48 * H
    check_id = story.check("t1", "g1")
    assert plan(story)[0] == ("start_check", GAME - 48 * H, DONE)
    assert {i.check_id for i in items(story)} == {check_id}

    story.clock.now = GAME - 24 * H
    story.do(RemindNonResponders(check_id=check_id, reminder_key="1440@20261205T1900Z"))
    story.do(RemindNonResponders(check_id=check_id, reminder_key="manual:1"))  # no item
    story.clock.now = GAME
    story.do(StartGame(game_id="g1"))

    assert [(k, s) for k, _, s in plan(story)] == [
        ("start_check", DONE), ("remind:1440@20261205T1900Z", DONE),
        ("remind:180@20261205T1900Z", SKIPPED), ("start_game", DONE), ("end_game", PENDING)]
    assert items(story)[2].note == "game started"

    story.do(EndGame(game_id="g1"))
    assert plan(story)[-1] == ("end_game", GAME + 2 * H, DONE)


def test_a_check_opened_late_skips_the_reminders_already_due(story: Story) -> None:
    schedule(story)
    story.clock.now = GAME - 20 * H  # the scheduler was down for the check and first reminder
    story.check("t1", "g1")

    assert [(k, s) for k, _, s in plan(story)][:3] == [
        ("start_check", DONE), ("remind:1440@20261205T1900Z", SKIPPED),
        ("remind:180@20261205T1900Z", PENDING)]
    assert items(story)[1].note == "the check opened after this reminder was due"


def test_a_reschedule_moves_every_pending_item_and_arms_reminders_for_the_new_time(
        story: Story, db: Database) -> None:
    schedule(story)
    story.clock.now = GAME - 48 * H
    check_id = story.check("t1", "g1")
    story.clock.now = GAME - 24 * H
    story.do(RemindNonResponders(check_id=check_id, reminder_key="1440@20261205T1900Z"))
    story.run_handlers()
    with db.write() as conn:  # a claim on the old start is forgotten
        conn.execute(update(due_work.due_work).values(claimed_by="someone",
                                                      claimed_until=GAME, attempts=3))
    later = GAME + 48 * H

    story.do(RescheduleGame(game_id="g1", starts_at=later))

    assert [(k, due, s) for k, due, s in plan(story)] == [
        ("start_check", GAME - 48 * H, DONE),
        ("remind:1440@20261205T1900Z", GAME - 24 * H, DONE),
        ("remind:180@20261205T1900Z", GAME - 3 * H, SKIPPED),
        ("remind:1440@20261207T1900Z", later - 24 * H, PENDING),
        ("remind:180@20261207T1900Z", later - 3 * H, PENDING),
        ("start_game", later, PENDING),
        ("end_game", later + 2 * H, PENDING),
    ]
    moved = [i for i in items(story) if i.status is PENDING]
    assert {(i.claimed_by, i.attempts, i.expires_at) for i in moved if i.kind is DueKind.REMIND
            } == {(None, 0, later)}
    assert all(i.claimed_by is None for i in moved)
    assert "no longer planned" in (items(story)[2].note or "")
    assert {i.check_id for i in items(story)} == {check_id}


def test_changed_settings_replan_the_teams_games_still_to_play(story: Story) -> None:
    schedule(story, "g1")
    schedule(story, "g2", GAME + 7 * 24 * H)
    schedule(story, "g0", NOW + 5 * H)
    story.clock.now = NOW + 5 * H
    story.do(StartGame(game_id="g0"))
    before_g0 = plan(story, "g0")

    story.do(ChangeTeamSettings(team_id="t1", check_lead_minutes=72 * 60,
                                reminder_minutes=(600,), game_length_minutes=90))

    for game_id, starts in (("g1", GAME), ("g2", GAME + 7 * 24 * H)):
        stamp = f"{starts:%Y%m%dT%H%MZ}"
        assert [(k, due, s) for k, due, s in plan(story, game_id)] == [
            ("start_check", starts - 72 * H, PENDING),
            (f"remind:1440@{stamp}", starts - 24 * H, SKIPPED),
            (f"remind:600@{stamp}", starts - 10 * H, PENDING),
            (f"remind:180@{stamp}", starts - 3 * H, SKIPPED),
            ("start_game", starts, PENDING),
            ("end_game", starts + timedelta(minutes=90), PENDING),
        ]
    assert plan(story, "g0") == before_g0


# -- the minimum check ------------------------------------------------------------------------
MINIMUM = "minimum_check:20261205T1900Z"


def minimum_checks(story: Story, game_id: str = "g1") -> list[tuple[str, datetime, DueStatus]]:
    return [(k, due, s) for k, due, s in plan(story, game_id) if k.startswith("minimum_check")]


def test_a_minimum_check_is_planned_at_the_last_reminder_only_while_there_is_a_minimum(
        story: Story) -> None:
    schedule(story)
    assert minimum_checks(story) == []

    story.do(ChangeTeamSettings(team_id="t1", min_players=3))
    assert minimum_checks(story) == [(MINIMUM, GAME - 3 * H, PENDING)]
    (item,) = [i for i in items(story) if i.kind is DueKind.MINIMUM_CHECK]
    assert (item.expires_at, item.reminder_key, item.key) == (GAME, None, f"g1:{MINIMUM}")
    # It runs right after the reminder due at the same time.
    assert [k for k, _, _ in plan(story)][2:4] == ["remind:180@20261205T1900Z", MINIMUM]

    story.do(ChangeTeamSettings(team_id="t1", reminder_minutes=(1440, 90)))
    assert minimum_checks(story) == [(MINIMUM, GAME - 90 * timedelta(minutes=1), PENDING)]
    story.do(ChangeTeamSettings(team_id="t1", reminder_minutes=()))
    assert minimum_checks(story) == [(MINIMUM, GAME - 3 * H, PENDING)]

    story.do(ChangeTeamSettings(team_id="t1", clear_min_players=True))
    assert minimum_checks(story) == [(MINIMUM, GAME - 3 * H, SKIPPED)]
    schedule(story, "g2", GAME + 24 * H)
    assert minimum_checks(story, "g2") == []


def test_a_minimum_check_is_done_once_checked_and_checked_again_for_a_new_start(
        story: Story, db: Database) -> None:
    story.do(ChangeTeamSettings(team_id="t1", min_players=2))
    schedule(story)
    story.run_handlers()
    at = GAME - 3 * H
    with db.write() as conn:  # not before the check is open: there is nobody to count
        claimed = claims.claim(conn, owner="a", now=at, until=at)
    assert [i.kind for i in claimed] == [DueKind.START_CHECK]

    story.clock.now = GAME - 48 * H
    check_id = story.check("t1", "g1")
    story.run_handlers()
    with db.write() as conn:
        claimed = claims.claim(conn, owner="a", now=at, until=at + H)
    assert [i.kind for i in claimed] == [DueKind.REMIND, DueKind.REMIND, DueKind.MINIMUM_CHECK]
    assert claimed[-1].check_id == check_id

    story.clock.now = at
    story.do(AlertIfBelowMinimum(check_id=check_id, key=claimed[-1].key))
    story.do(AlertIfBelowMinimum(check_id=check_id, key="manual:1"))  # no item
    assert minimum_checks(story) == [(MINIMUM, at, DONE)]

    later = GAME + 24 * H
    story.do(RescheduleGame(game_id="g1", starts_at=later))
    assert minimum_checks(story) == [(MINIMUM, at, DONE),
                                     ("minimum_check:20261206T1900Z", later - 3 * H, PENDING)]
    story.do(CloseCheck(check_id=check_id, reason="game cancelled"))
    moved = next(i for i in items(story) if i.key == "g1:minimum_check:20261206T1900Z")
    assert (moved.status, moved.note) == (SKIPPED, "check closed")


def test_a_minimum_check_expires_with_the_game_and_skips_a_check_opened_after_it(
        story: Story) -> None:
    story.do(ChangeTeamSettings(team_id="t1", min_players=2))
    schedule(story)
    schedule(story, "g2", GAME + 24 * H)
    story.clock.now = GAME - 2 * H  # the scheduler was down until after the minimum check
    story.check("t1", "g1")
    story.do(StartGame(game_id="g2"))

    (item,) = [i for i in items(story) if i.kind is DueKind.MINIMUM_CHECK]
    assert (item.status, item.note) == (SKIPPED, "the check opened after this minimum check "
                                                 "was due")
    (other,) = [i for i in items(story, "g2") if i.kind is DueKind.MINIMUM_CHECK]
    assert (other.status, other.note) == (SKIPPED, "game started")


# -- the answer deadline ---------------------------------------------------------------------
def deadline_item(story: Story, game_id: str = "g1") -> DueItem:
    (item,) = [i for i in items(story, game_id) if i.kind is DueKind.ANSWER_DEADLINE]
    return item


def test_an_answer_deadline_is_planned_at_the_deadline_and_done_once_the_check_closes(
        story: Story, db: Database) -> None:
    schedule(story)
    story.clock.now = GAME - 48 * H
    check_id = story.check("t1", "g1")
    assert DueKind.ANSWER_DEADLINE not in {i.kind for i in items(story)}

    story.do(SetAnswerDeadline(check_id=check_id, deadline=GAME - 20 * H))
    item = deadline_item(story)
    assert (item.key, item.due_at, item.expires_at, item.status, item.check_id) == (
        "g1:answer_deadline", GAME - 20 * H, GAME, PENDING, check_id)

    # Moved to the time of the 24-hour reminder: answers close first, nobody is reminded.
    story.do(SetAnswerDeadline(check_id=check_id, deadline=GAME - 24 * H))
    assert deadline_item(story).due_at == GAME - 24 * H
    story.run_handlers()
    at = GAME - 24 * H
    with db.write() as conn:
        claimed = claims.claim(conn, owner="a", now=at, until=at)  # until=at: no lease
    assert [i.kind for i in claimed] == [DueKind.ANSWER_DEADLINE, DueKind.REMIND]

    story.clock.now = at
    story.do(CloseCheck(check_id=check_id, reason="answer deadline"))
    assert (deadline_item(story).status, deadline_item(story).note) == (DONE, None)
    assert {(i.status, i.note) for i in items(story) if i.kind is DueKind.REMIND} == {
        (SKIPPED, "check closed")}


def test_an_answer_deadline_stays_where_the_captain_put_it_and_expires_at_the_start(
        story: Story, db: Database) -> None:
    schedule(story)
    schedule(story, "g2", GAME + 24 * H)
    story.clock.now = GAME - 48 * H
    check_id = story.check("t1", "g1")
    other = story.check("t1", "g2")
    story.do(SetAnswerDeadline(check_id=check_id, deadline=GAME - 20 * H))
    story.do(SetAnswerDeadline(check_id=other, deadline=GAME))

    story.do(ChangeTeamSettings(team_id="t1", reminder_minutes=(600,)))
    sooner = GAME - 30 * H  # the game moves in front of its deadline
    story.do(RescheduleGame(game_id="g1", starts_at=sooner))
    item = deadline_item(story)
    assert (item.due_at, item.expires_at, item.status) == (GAME - 20 * H, sooner, PENDING)
    story.run_handlers()
    with db.write() as conn:  # the start closes the check, not the deadline after it
        claimed = claims.claim(conn, owner="a", now=GAME - 20 * H, until=GAME)
    assert DueKind.ANSWER_DEADLINE not in {i.kind for i in claimed}

    story.clock.now = sooner
    story.do(StartGame(game_id="g1"))
    story.do(CancelGame(game_id="g2"))
    assert (deadline_item(story).status, deadline_item(story).note) == (SKIPPED, "game started")
    assert (deadline_item(story, "g2").status, deadline_item(story, "g2").note) == (
        SKIPPED, "game cancelled")


def test_a_cleared_answer_deadline_is_skipped_and_planned_afresh_when_set_again(
        story: Story, db: Database) -> None:
    schedule(story)
    story.clock.now = GAME - 48 * H
    check_id = story.check("t1", "g1")
    story.do(SetAnswerDeadline(check_id=check_id, deadline=GAME - 20 * H))

    story.do(ClearAnswerDeadline(check_id=check_id))
    assert (deadline_item(story).status, deadline_item(story).note) == (SKIPPED,
                                                                        "deadline cleared")
    story.run_handlers()
    with db.write() as conn:  # the scheduler leaves the check open
        claimed = claims.claim(conn, owner="a", now=GAME - 20 * H, until=GAME - 20 * H)
    assert DueKind.ANSWER_DEADLINE not in {i.kind for i in claimed}

    story.do(SetAnswerDeadline(check_id=check_id, deadline=GAME - 10 * H))
    item = deadline_item(story)
    assert (item.due_at, item.expires_at, item.status, item.note) == (
        GAME - 10 * H, GAME, PENDING, None)


def test_a_cancelled_game_has_nothing_left_to_do(story: Story) -> None:
    schedule(story)
    story.do(CancelGame(game_id="g1", reason="rain"))

    assert {(i.status, i.note) for i in items(story)} == {(SKIPPED, "game cancelled")}
    assert story.read(due_work.pending) == []


def test_changes_carry_the_position_of_the_event_that_made_them(story: Story) -> None:
    schedule(story, "g1")
    story.run_handlers()
    seen = story.read(due_work.last_change)
    schedule(story, "g2")
    story.do(CancelGame(game_id="g1"))

    changed = story.read(due_work.changed_since, seen)
    assert {i.game_id for i in changed} == {"g1", "g2"}
    assert all(i.seq > seen for i in changed)
    assert [i.seq for i in changed] == sorted(i.seq for i in changed)
    assert story.read(due_work.changed_since, story.read(due_work.last_change)) == []


# -- claims ----------------------------------------------------------------------------------
def test_claims_take_due_items_in_order_once_until_they_lapse(story: Story,
                                                              db: Database) -> None:
    schedule(story, "g1")
    schedule(story, "g2", GAME + H)
    story.run_handlers()
    at = GAME - 47 * H  # both checks are due, nothing else

    with db.write() as conn:
        first = claims.claim(conn, owner="a", now=at, until=at + H, limit=1)
        second = claims.claim(conn, owner="b", now=at, until=at + H)
        third = claims.claim(conn, owner="c", now=at, until=at + H)
    assert [i.key for i in first] == ["g1:start_check"]
    assert [i.key for i in second] == ["g2:start_check"]
    assert third == []
    assert (second[0].claimed_by, second[0].attempts) == ("b", 1)

    with db.write() as conn:
        claims.postpone(conn, "g1:start_check", owner="a", until=at + 2 * H, error="boom")
        claims.postpone(conn, "g2:start_check", owner="a", until=at, error="not mine")
        lapsed = claims.claim(conn, owner="c", now=at + H, until=at + 2 * H)
    assert [i.key for i in lapsed] == ["g2:start_check"]
    assert lapsed[0].last_error is None and lapsed[0].attempts == 2
    failed = next(i for i in items(story) if i.kind is DueKind.START_CHECK)
    assert (failed.claimed_by, failed.last_error) == ("a", "boom")


def test_a_reminder_is_claimable_only_once_its_check_is_open(story: Story,
                                                             db: Database) -> None:
    schedule(story)
    story.run_handlers()
    at = GAME - 23 * H
    with db.write() as conn:
        claimed = claims.claim(conn, owner="a", now=at, until=at)  # until=at: no lease
    assert [i.kind for i in claimed] == [DueKind.START_CHECK]

    story.clock.now = GAME - 48 * H
    story.check("t1", "g1")
    story.run_handlers()
    with db.write() as conn:
        claimed = claims.claim(conn, owner="a", now=at, until=at + H)
    assert [i.key for i in claimed] == ["g1:remind:1440@20261205T1900Z"]
    with db.write() as conn:  # the check and reminders expired at the start of the game
        claimed = claims.claim(conn, owner="a", now=GAME, until=GAME + H)
    assert [i.kind for i in claimed] == [DueKind.START_GAME]


def test_the_end_of_a_game_is_claimable_only_once_it_started(story: Story,
                                                             db: Database) -> None:
    schedule(story)
    story.run_handlers()
    at = GAME + 3 * H  # down across the start and the end
    with db.write() as conn:
        claimed = claims.claim(conn, owner="a", now=at, until=at + H)
    assert [i.kind for i in claimed] == [DueKind.START_GAME]  # the end waits for it

    story.do(StartGame(game_id="g1"))
    story.run_handlers()
    with db.write() as conn:
        claimed = claims.claim(conn, owner="b", now=at, until=at + H)
    assert [i.kind for i in claimed] == [DueKind.END_GAME]


@pytest.mark.postgres
def test_on_postgresql_a_claim_skips_rows_another_transaction_holds(
        postgres_admin_url: str, clock: FakeClock) -> None:
    for url in postgres_schema_url(postgres_admin_url):
        from core.migrations import upgrade

        db = Database(url)
        try:
            upgrade(db)
            story = Story(db, clock, handlers=[DueWorkProjection()])
            story.team("t1", "Tigers", ANA, BEN)
            for n in range(6):
                schedule(story, f"g{n}", GAME + n * H)
            story.run_handlers()
            at = GAME
            with db.write() as holder:
                held = claims.claim(holder, owner="a", now=at, until=at + H, limit=3)
                # Still uncommitted: the other process must skip those rows, not wait.
                with db.write() as other:
                    taken = claims.claim(other, owner="b", now=at, until=at + H, limit=100)
            assert len(held) == 3
            assert not {i.key for i in held} & {i.key for i in taken}
            assert len(held) + len(taken) == 6
        finally:
            db.dispose()


# -- rebuild ---------------------------------------------------------------------------------
CLAIM_COLUMNS = {"claimed_by", "claimed_until", "attempts", "last_error"}


def dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    with db.read() as conn:
        for table in DueWorkProjection.tables:
            columns = [c for c in table.c if c.name not in CLAIM_COLUMNS]
            out[table.name] = sorted((tuple(r) for r in conn.execute(select(*columns))),
                                     key=repr)
    return out


def test_a_rebuild_gives_the_same_plan_and_resets_claims(story: Story, db: Database) -> None:
    story.do(ChangeTeamSettings(team_id="t1", min_players=2))
    schedule(story, "g1")
    schedule(story, "g2", GAME + 24 * H)
    schedule(story, "g3", GAME + 48 * H)
    story.clock.now = GAME - 48 * H
    check_id = story.check("t1", "g1")
    story.do(SetAnswerDeadline(check_id=check_id, deadline=GAME - 20 * H))
    story.clock.now = GAME - 24 * H
    story.do(RemindNonResponders(check_id=check_id, reminder_key="1440@20261205T1900Z"))
    story.do(RescheduleGame(game_id="g2", starts_at=GAME + 30 * H))
    story.do(CancelGame(game_id="g3"))
    story.do(ChangeTeamSettings(team_id="t1", reminder_minutes=(120,)))
    story.clock.now = GAME - 2 * H
    story.do(AlertIfBelowMinimum(check_id=check_id, key=f"g1:{MINIMUM}"))
    story.clock.now = GAME
    story.do(StartGame(game_id="g1"))
    story.run_handlers()
    with db.write() as conn:
        claims.claim(conn, owner="a", now=GAME + 100 * H, until=GAME + 101 * H)
    before = dump(db)
    story.runtime.stop()

    rebuild(story.store, [DueWorkProjection()], owner="test-rebuild")

    assert dump(db) == before
    assert all(i.claimed_by is None for i in story.read(due_work.pending))
    assert {(i.game_id, i.status) for i in story.read(due_work.items_for_game, "g1")
            if i.kind is DueKind.MINIMUM_CHECK} == {("g1", DONE)}
