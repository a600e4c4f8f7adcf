"""Read models as a captain and a player see them, on every backend."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text, update

from core.aggregates.check import (
    CHECK,
    ClearAnswerDeadline,
    CloseCheck,
    InvitePlayer,
    MoveCheck,
    SetAnswerDeadline,
    WithdrawInvitation,
)
from core.aggregates.common import AnswerSource, Channel, Invitee
from core.aggregates.game import (
    CancelGame,
    EndGame,
    GameStatus,
    RescheduleGame,
    StartGame,
)
from core.aggregates.team import (
    AddPlayer,
    AppointCaptain,
    ChangeTeamSettings,
    MarkContactUnreachable,
    RemovePlayer,
    RenameTeam,
    UnsubscribeEmail,
    UpdatePlayerContact,
)
from core.eventstore.database import Database
from core.eventstore.schema import subscriptions
from core.migrations import upgrade
from core.projections import board as boards
from core.projections import directory, player_games, roster, schedule, season
from tests.support.clock import FakeClock
from tests.support.domain_fixtures import MAYBE, NO, YES, Story, person

ANA = person("Ana", slack="T1:U-ana")
BEN = person("Ben", discord="4242")
CAL, DEE, EVE, FAY = (person(n) for n in ("Cal", "Dee", "Eve", "Fay"))


@pytest.fixture
def story(db: Database, clock: FakeClock) -> Story:
    return Story(db, clock)


# -- roster ----------------------------------------------------------------------------------
def test_roster_shows_the_team_its_settings_and_players_in_joining_order(story: Story) -> None:
    story.team("t1", "Tigers", ANA, BEN, CAL)
    registered = story.clock.now
    story.do(ChangeTeamSettings(team_id="t1", min_players=2, max_players=9,
                                reminder_minutes=(60, 600)))
    story.do(RenameTeam(team_id="t1", name="Tigers FC"))

    team = story.read(roster.team, "t1")
    assert team is not None
    assert (team.name, team.timezone, team.min_players, team.max_players) == (
        "Tigers FC", "Europe/Berlin", 2, 9)
    assert team.reminder_minutes == (600, 60)
    assert team.registered_at == registered and team.registered_at.tzinfo is not None
    assert [p.name for p in story.read(roster.roster, "t1")] == ["Ana", "Ben", "Cal"]
    assert [p.name for p in story.read(roster.captains, "t1")] == ["Ana"]
    assert [t.name for t in story.read(roster.teams)] == ["Tigers FC"]
    assert story.read(roster.team, "nope") is None


def test_roster_follows_captains_contacts_and_departures(story: Story) -> None:
    story.team("t1", "Tigers", ANA, BEN, CAL)
    story.do(AppointCaptain(team_id="t1", player_id=BEN.player_id))
    story.do(RemovePlayer(team_id="t1", player_id=ANA.player_id))  # relieved, then gone
    story.do(MarkContactUnreachable(team_id="t1", player_id=BEN.player_id,
                                    channel=Channel.DISCORD, reason="DMs closed"))
    story.do(UnsubscribeEmail(team_id="t1", player_id=CAL.player_id))

    ben = story.read(roster.player, "t1", BEN.player_id)
    assert ben is not None and ben.captain and ben.unreachable == (Channel.DISCORD,)
    assert [p.player_id for p in story.read(roster.roster, "t1")] == [BEN.player_id,
                                                                      CAL.player_id]
    assert story.read(roster.player, "t1", ANA.player_id) is None
    cal = story.read(roster.player, "t1", CAL.player_id)
    assert cal is not None and cal.email_unsubscribed and not cal.captain

    # A new Discord account is worth trying again.
    story.do(UpdatePlayerContact(team_id="t1", player_id=BEN.player_id,
                                 email="ben@new.example", discord_user="9999"))
    ben = story.read(roster.player, "t1", BEN.player_id)
    assert ben is not None
    assert (ben.email, ben.discord_user, ben.unreachable) == ("ben@new.example", "9999", ())


# -- directory -------------------------------------------------------------------------------
def test_directory_finds_a_player_by_any_identity_across_teams(story: Story) -> None:
    story.team("t1", "Tigers", ANA, BEN)
    story.team("t2", "Bears", person("Cal"), ANA)

    found = story.read(directory.memberships, email="  ANA@Example.ORG ")
    assert [(m.team_name, m.player_name, m.captain) for m in found] == [
        ("Bears", "Ana", False), ("Tigers", "Ana", True)]
    assert [m.team_id for m in story.read(directory.memberships, slack_user="T1:U-ana")] == [
        "t2", "t1"]
    [ben] = story.read(directory.memberships, discord_user="4242")
    assert (ben.team_id, ben.player_id) == ("t1", BEN.player_id)
    assert story.read(directory.memberships, email="nobody@example.org") == []
    assert story.read(directory.memberships) == []


def test_directory_keeps_up_with_renames_contacts_captains_and_leaving(story: Story) -> None:
    story.team("t1", "Tigers", ANA, BEN)
    story.do(RenameTeam(team_id="t1", name="Tigers FC"))
    story.do(AppointCaptain(team_id="t1", player_id=BEN.player_id))
    story.do(UpdatePlayerContact(team_id="t1", player_id=BEN.player_id,
                                 email="Benjamin@Example.org"))
    [ben] = story.read(directory.memberships, email="benjamin@example.org")
    assert (ben.team_name, ben.captain) == ("Tigers FC", True)
    assert story.read(directory.memberships, email="ben@example.org") == []
    assert story.read(directory.memberships, discord_user="4242") == []  # contact removed

    story.do(RemovePlayer(team_id="t1", player_id=BEN.player_id))
    assert story.read(directory.memberships, email="benjamin@example.org") == []
    story.do(AddPlayer(team_id="t1", player=BEN))  # back again
    assert len(story.read(directory.memberships, discord_user="4242")) == 1


# -- schedule --------------------------------------------------------------------------------
def test_games_get_handles_per_team_in_scheduling_order(story: Story) -> None:
    story.team("t1", "Tigers", ANA)
    story.team("t2", "Bears", BEN)
    story.game("t1", "late", in_days=10)
    story.game("t2", "bears-1", in_days=2)
    story.game("t1", "early", in_days=3, location=None, opponent=None)

    assert [(g.handle, g.game_id) for g in story.read(schedule.games, "t1")] == [
        ("G2", "early"), ("G1", "late")]  # by start time, named in scheduling order
    bears = story.read(schedule.game_by_handle, "t2", "g1")
    assert bears is not None and bears.game_id == "bears-1" and bears.number == 1
    assert story.read(schedule.game_by_handle, "t1", " G2 ") == story.read(schedule.game,
                                                                           "early")
    for bad in ("G3", "x1", "G", "1"):
        assert story.read(schedule.game_by_handle, "t1", bad) is None
    early = story.read(schedule.game, "early")
    assert early is not None and early.location is None and early.status == "scheduled"
    assert early.starts_at == story.clock.now + timedelta(days=3)


def test_schedule_follows_reschedules_checks_cancellations_and_play(story: Story) -> None:
    story.team("t1", "Tigers", ANA)
    first = story.game("t1", "g1", in_days=2)
    story.game("t1", "g2", in_days=4)
    story.game("t1", "g3", in_days=6)
    story.check("t1", "g2")
    moved = first + timedelta(days=3)  # now after g2
    story.do(RescheduleGame(game_id="g1", starts_at=moved, original_text="fri 8pm"))
    story.do(CancelGame(game_id="g3", reason="pitch flooded"))

    g1 = story.read(schedule.game, "g1")
    assert g1 is not None and (g1.starts_at, g1.original_text) == (moved, "fri 8pm")
    g2 = story.read(schedule.game, "g2")
    assert g2 is not None and g2.check_id == "c-g2"
    g3 = story.read(schedule.game, "g3")
    assert g3 is not None and (g3.status, g3.cancel_reason) == (GameStatus.CANCELLED,
                                                                "pitch flooded")
    now = story.clock.now
    assert [g.game_id for g in story.read(schedule.games, "t1", upcoming_after=now)] == [
        "g2", "g1"]
    next_up = story.read(schedule.next_game, "t1", now)
    assert next_up is not None and next_up.handle == "G2"

    story.do(StartGame(game_id="g2"))  # a captain may start early
    story.do(EndGame(game_id="g2"))
    assert story.read(schedule.game, "g2").status == "ended"  # type: ignore[union-attr]
    next_up = story.read(schedule.next_game, "t1", now)
    assert next_up is not None and next_up.game_id == "g1"
    assert story.read(schedule.next_game, "t1", moved) is None
    assert len(story.read(schedule.games, "t1")) == 3


# -- board -----------------------------------------------------------------------------------
def test_board_counts_answers_notes_and_keeps_the_history(story: Story) -> None:
    story.team("t1", "Tigers", ANA, BEN, CAL, DEE, min_players=3)
    story.game("t1", "g1")
    check_id = story.check("t1", "g1")
    story.answer(check_id, BEN, YES, note="bringing the ball")
    story.answer(check_id, CAL, MAYBE, source=AnswerSource.EMAIL)
    story.clock.advance(hours=1)
    story.answer(check_id, CAL, NO, note="injured")
    story.answer(check_id, BEN, YES)  # a tap again: nothing new

    board = story.read(boards.board, check_id)
    assert board is not None and board.open and board.game_id == "g1"
    assert (board.yes, board.no, board.maybe, board.waiting) == (1, 1, 0, 2)
    assert board.non_responders == ("Ana", "Dee")
    assert board.below_minimum and board.min_players == 3
    ben = board.lines[1]
    assert (ben.name, ben.answer, ben.note, ben.source) == ("Ben", YES, "bringing the ball",
                                                            AnswerSource.SLACK)
    cal = board.lines[2]
    assert (cal.answer, cal.note, cal.answered_at) == (NO, "injured", story.clock.now)
    assert [(c.name, c.answer, c.previous, c.note) for c in board.history] == [
        ("Ben", YES, None, "bringing the ball"), ("Cal", MAYBE, None, None),
        ("Cal", NO, MAYBE, "injured")]
    assert board.history[1].source is AnswerSource.EMAIL

    story.answer(check_id, ANA, YES)
    story.answer(check_id, DEE, YES)
    assert not story.read(boards.board_for_game, "g1").below_minimum  # type: ignore[union-attr]


def test_board_follows_the_waitlist_promotion_and_withdrawals(story: Story) -> None:
    story.team("t1", "Tigers", ANA, BEN, CAL, DEE, EVE, max_players=2)
    story.game("t1", "g1")
    check_id = story.check("t1", "g1")
    for player in (ANA, BEN, CAL, DEE, EVE):
        story.answer(check_id, player, YES)

    def places() -> dict[str, int | None]:
        board = story.read(boards.board, check_id)
        assert board is not None
        return {line.name: line.waitlist_position for line in board.lines}

    assert places() == {"Ana": None, "Ben": None, "Cal": 1, "Dee": 2, "Eve": 3}
    story.answer(check_id, ANA, NO)  # Cal is promoted, the queue moves up
    assert places() == {"Ana": None, "Ben": None, "Cal": None, "Dee": 1, "Eve": 2}
    story.answer(check_id, DEE, MAYBE)  # leaves the queue; nobody is promoted
    assert places() == {"Ana": None, "Ben": None, "Cal": None, "Dee": None, "Eve": 1}
    story.do(WithdrawInvitation(check_id=check_id, player_id=BEN.player_id))
    board = story.read(boards.board, check_id)
    assert board is not None
    assert [line.name for line in board.lines] == ["Ana", "Cal", "Dee", "Eve"]
    assert (board.yes, board.waitlisted, board.no, board.maybe) == (2, 0, 1, 1)
    assert [(c.name, c.answer) for c in board.history][-2:] == [("Ana", NO), ("Dee", MAYBE)]

    story.do(InvitePlayer(check_id=check_id, invitee=Invitee(player_id=FAY.player_id,
                                                             name="Fay")))
    story.answer(check_id, FAY, YES)
    assert places()["Fay"] == 1
    assert story.read(boards.board, check_id).non_responders == ()  # type: ignore[union-attr]


def test_board_matches_the_check_through_random_answers(story: Story) -> None:
    people = [person(f"P{i}") for i in range(8)]
    story.team("t1", "Tigers", *people, max_players=2, min_players=2)
    story.game("t1", "g1")
    check_id = story.check("t1", "g1")
    rng = random.Random(7)
    answers = (YES, YES, YES, NO, MAYBE)
    queued_then_left = 0
    for _ in range(150):
        who = rng.choice(people)
        state = story.router.state_of(CHECK, check_id)[1]
        if state.invitee(who.player_id) is None:
            story.do(InvitePlayer(check_id=check_id,
                                  invitee=Invitee(player_id=who.player_id, name=who.name)))
        elif rng.random() < 0.08:
            queued_then_left += who.player_id in state.waitlist
            story.do(WithdrawInvitation(check_id=check_id, player_id=who.player_id))
        else:
            answer = rng.choice(answers)
            queued_then_left += who.player_id in state.waitlist and answer is not YES
            story.answer(check_id, who, answer, note=rng.choice((None, "", "late")))
        state = story.router.state_of(CHECK, check_id)[1]
        board = story.read(boards.board, check_id)
        assert board is not None
        assert [line.player_id for line in board.waitlist] == list(state.waitlist)
        assert [line.waitlist_position for line in board.waitlist] == list(
            range(1, len(state.waitlist) + 1))
        assert board.yes == len(state.confirmed)
        assert [(i.player_id, i.answer, i.note) for i in state.invitees] == [
            (line.player_id, line.answer, line.note) for line in board.lines]
    assert queued_then_left >= 5  # the story did exercise the queue


def test_board_shows_a_moved_or_closed_check(story: Story) -> None:
    story.team("t1", "Tigers", ANA)
    starts_at = story.game("t1", "g1")
    check_id = story.check("t1", "g1")
    later = starts_at + timedelta(hours=2)
    story.do(MoveCheck(check_id=check_id, starts_at=later))
    story.do(CloseCheck(check_id=check_id, reason="game cancelled"))
    board = story.read(boards.board_for_game, "g1")
    assert board is not None and not board.open and board.starts_at == later
    assert story.read(boards.board, "nope") is None
    assert story.read(boards.board_for_game, "nope") is None


def test_board_shows_the_answer_deadline_until_the_captain_clears_it(story: Story) -> None:
    story.team("t1", "Tigers", ANA)
    starts_at = story.game("t1", "g1")
    check_id = story.check("t1", "g1")
    board = story.read(boards.board, check_id)
    assert board is not None and board.deadline is None  # answers close at the start
    friday = starts_at - timedelta(days=1)
    story.do(SetAnswerDeadline(check_id=check_id, deadline=friday))
    board = story.read(boards.board, check_id)
    assert board is not None and board.deadline == friday
    assert board.deadline.tzinfo is not None
    story.do(ClearAnswerDeadline(check_id=check_id))
    board = story.read(boards.board_for_game, "g1")
    assert board is not None and board.deadline is None


def test_migration_0006_replays_the_board_so_an_earlier_deadline_shows(
        database_url: str, clock: FakeClock) -> None:
    db = Database(database_url)
    try:
        upgrade(db, "0005")
        if not db.is_sqlite:  # this release's appends take positions from 0007's sequence
            with db.write() as conn:
                conn.execute(text("CREATE SEQUENCE event_positions"))
        story = Story(db, clock, handlers=[boards.BoardProjection()])
        story.team("t1", "Tigers", ANA)
        starts_at = story.game("t1", "g1")
        check_id = story.check("t1", "g1")
        story.run_handlers()
        friday = starts_at - timedelta(days=1)
        last = story.do(SetAnswerDeadline(check_id=check_id, deadline=friday)).position
        with db.write() as conn:  # the release before passed over the deadline
            conn.execute(update(subscriptions).where(subscriptions.c.handler == "board")
                         .values(position=last))
            if not db.is_sqlite:
                conn.execute(text("DROP SEQUENCE event_positions"))

        upgrade(db)
        board = Story(db, clock, handlers=[boards.BoardProjection()]).read(boards.board,
                                                                          check_id)
        assert board is not None and board.deadline == friday
        assert [line.name for line in board.lines] == ["Ana"]  # replayed once, not twice
    finally:
        db.dispose()


# -- a player's games and the season ---------------------------------------------------------
def test_a_player_sees_their_coming_games_with_their_answers(story: Story) -> None:
    story.team("t1", "Tigers", ANA, BEN, max_players=1)
    story.game("t1", "soon", in_days=1)
    story.game("t1", "later", in_days=5)
    story.game("t1", "off", in_days=2)
    story.game("t1", "past", in_days=0.5)
    check_id = story.check("t1", "soon")
    story.answer(check_id, ANA, YES)
    story.answer(check_id, BEN, YES, note="if there is room")
    story.do(CancelGame(game_id="off"))
    now = story.clock.advance(hours=13)  # "past" has begun

    ben = story.read(player_games.upcoming_for_player, "t1", BEN.player_id, now)
    assert [(g.handle, g.game_id) for g in ben] == [("G1", "soon"), ("G2", "later")]
    assert (ben[0].check_id, ben[0].answer, ben[0].note, ben[0].waitlist_position) == (
        check_id, YES, "if there is room", 1)
    assert (ben[1].check_id, ben[1].answer, ben[1].status) == (None, None, "scheduled")
    assert ben[0].location == "Monarch Park" and ben[0].opponent == "Hawks"
    ana = story.read(player_games.upcoming_for_player, "t1", ANA.player_id, now)
    assert (ana[0].answer, ana[0].waitlist_position) == (YES, None)


def test_season_counts_latest_answers_per_invitation_but_not_cancelled_games(
        story: Story) -> None:
    story.team("t1", "Tigers", ANA, BEN, CAL)
    story.team("t2", "Bears", DEE)
    for game_id, days in (("g1", 1), ("g2", 2), ("g3", 3), ("g4", 4)):
        story.game("t1", game_id, in_days=days)
        story.check("t1", game_id)
    story.game("t2", "b1")
    story.check("t2", "b1")
    story.answer("c-g1", ANA, NO)
    story.answer("c-g1", ANA, YES)  # the latest answer counts
    story.answer("c-g1", BEN, NO)
    story.answer("c-g2", ANA, MAYBE)
    story.answer("c-g2", CAL, YES)
    story.do(WithdrawInvitation(check_id="c-g2", player_id=BEN.player_id))
    story.answer("c-g3", ANA, YES)
    story.answer("c-g4", BEN, YES)
    story.do(CancelGame(game_id="g4"))

    lines = story.read(season.season_attendance, "t1")
    assert [(s.name, s.invited, s.yes, s.no, s.maybe, s.no_answer) for s in lines] == [
        ("Ana", 3, 2, 0, 1, 0),
        ("Ben", 2, 0, 1, 0, 1),
        ("Cal", 3, 1, 0, 0, 2),
    ]
    assert [s.player_id for s in story.read(season.season_attendance, "t2")] == [
        DEE.player_id]


def test_times_come_back_in_utc_whatever_zone_went_in(story: Story) -> None:
    story.team("t1", "Tigers", ANA)
    story.game("t1", "g1")
    zoned = datetime(2026, 12, 24, 20, 0, tzinfo=UTC).astimezone(ZoneInfo("America/New_York"))
    story.do(RescheduleGame(game_id="g1", starts_at=zoned))
    g1 = story.read(schedule.game, "g1")
    assert g1 is not None and g1.starts_at == zoned and g1.starts_at.utcoffset() == timedelta(0)
    assert story.read(schedule.next_game, "t1", zoned - timedelta(minutes=1)) == g1
    assert story.read(schedule.next_game, "t1", zoned) is None
