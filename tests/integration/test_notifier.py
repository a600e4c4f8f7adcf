"""The notifier: which messages a check's events ask for, and that each is asked for once.

A team's story is told through the service (the composition root with the notifier added),
then the ``deliveries`` table is read: who is to be told what. Runs on every backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.config import Config
from core.actors import Actor
from core.aggregates.common import Answer
from core.bootstrap import App, bootstrap
from core.deliveries import Job, jobs
from core.notifications import NotificationKind
from core.projections.roster import PlayerView
from core.projections.schedule import GameView
from tests.support.clock import FakeClock

CAPTAIN = Actor.console("cap@example.org")


class Team:
    """The Tigers (Toronto): Cap the captain, Ana, Ben and Cal, all on email."""

    def __init__(self, app: App, clock: FakeClock) -> None:
        self.app, self.clock, self.service = app, clock, app.service
        self.cap = self.service.create_team(CAPTAIN, "Tigers", "America/Toronto",
                                            player_name="Cap").player
        self.ana, self.ben, self.cal = (
            self.service.add_player(CAPTAIN, name, email=f"{name.lower()}@example.org")
            for name in ("Ana", "Ben", "Cal"))

    def game(self) -> GameView:
        return self.service.schedule_game(CAPTAIN, self.clock.now + timedelta(days=2),
                                          opponent="Hawks", location="Monarch Park").game

    def check(self) -> GameView:
        self.game()
        return self.service.start_check(CAPTAIN, "G1").game

    def answer(self, player: PlayerView, answer: Answer) -> None:
        assert player.email is not None
        self.service.answer(Actor.console(player.email), answer, ref="G1")

    def jobs(self) -> list[Job]:
        self.app.run_handlers()
        with self.app.db.read() as conn:
            return jobs(conn)

    def to(self, kind: NotificationKind) -> list[str]:
        """Names of the recipients of every job of ``kind``, in order."""
        names = {p.player_id: p.name for p in (self.cap, self.ana, self.ben, self.cal)}
        return [names[j.recipient_id] for j in self.jobs() if j.kind is kind]


@pytest.fixture
def app(database_url: str, clock: FakeClock) -> Iterator[App]:
    config = Config(database_url=database_url, secret_keys=("x" * 32,))
    built = bootstrap(config.database_url, clock=clock)
    yield built
    built.close()


@pytest.fixture
def tigers(app: App, clock: FakeClock) -> Team:
    return Team(app, clock)


def test_each_invitee_gets_one_invitation_and_replays_add_nothing(tigers: Team) -> None:
    tigers.check()
    before = tigers.jobs()
    assert tigers.to(NotificationKind.INVITATION) == ["Cap", "Ana", "Ben", "Cal"]
    assert {(j.message_key, j.status, j.attempts) for j in before} == {("invite", "pending", 0)}

    tigers.app.store.reset_checkpoint("notifier")  # a rebuild: replay the whole log
    tigers.app.run_handlers()
    tigers.service.start_check(CAPTAIN, "G1")  # and a check started twice

    assert tigers.jobs() == before


def test_a_player_who_joins_an_open_check_is_invited_too(tigers: Team) -> None:
    tigers.check()
    tigers.service.add_player(CAPTAIN, "Dee", email="dee@example.org")

    invited = [j for j in tigers.jobs() if j.kind is NotificationKind.INVITATION]
    assert len(invited) == 5


def test_reminders_go_only_to_the_players_the_check_lists(tigers: Team) -> None:
    tigers.check()
    tigers.answer(tigers.ana, Answer.YES)
    tigers.answer(tigers.ben, Answer.MAYBE)
    tigers.answer(tigers.cal, Answer.NO)

    tigers.service.remind(CAPTAIN, "G1", key="1440")
    tigers.service.remind(CAPTAIN, "G1", key="1440")  # the scheduler's resend records nothing

    assert tigers.to(NotificationKind.REMINDER) == ["Cap", "Ben"]
    assert {j.message_key for j in tigers.jobs()
            if j.kind is NotificationKind.REMINDER} == {"remind:1440"}


def test_cancellation_goes_to_every_current_invitee(tigers: Team) -> None:
    tigers.check()
    tigers.service.remove_player(CAPTAIN, "Cal")  # withdrawn: not told

    tigers.service.cancel_game(CAPTAIN, "G1", reason="Field flooded")

    assert tigers.to(NotificationKind.CANCELLATION) == ["Cap", "Ana", "Ben"]


def test_a_game_cancelled_before_its_check_tells_nobody(tigers: Team) -> None:
    tigers.game()
    tigers.service.cancel_game(CAPTAIN, "G1")

    assert tigers.jobs() == []


def test_reschedule_tells_invitees_once_per_new_time(tigers: Team) -> None:
    game = tigers.check()
    later = game.starts_at + timedelta(hours=1)

    tigers.service.reschedule_game(CAPTAIN, "G1", later)

    moved = [j for j in tigers.jobs() if j.kind is NotificationKind.RESCHEDULE]
    assert len(moved) == 4
    assert {j.message_key for j in moved} == {f"reschedule:{later.isoformat()}"}
    assert {j.details["previous_starts_at"] for j in moved} == {game.starts_at.isoformat()}


def test_captains_hear_of_a_shortfall_and_a_late_drop_out_but_not_of_themselves(
        tigers: Team) -> None:
    tigers.service.change_settings(CAPTAIN, min_players=2)
    tigers.check()
    tigers.answer(tigers.cap, Answer.YES)
    tigers.answer(tigers.ana, Answer.YES)  # the minimum is reached
    tigers.clock.advance(days=1, hours=12)  # within a day of the start
    tigers.answer(tigers.ana, Answer.NO)  # a late drop-out, and short again
    tigers.answer(tigers.cap, Answer.NO)  # the captain drops out: nobody else to tell

    assert tigers.to(NotificationKind.CAPTAIN_LATE_DROPOUT) == ["Cap"]
    assert tigers.to(NotificationKind.CAPTAIN_BELOW_MINIMUM) == ["Cap"]
    alerts = [j for j in tigers.jobs() if j.kind.for_captain]
    assert alerts[0].details["player_name"] == "Ana"
    assert alerts[1].details == {"yes_count": 1, "min_players": 2}


def test_waitlist_moves_tell_the_player_concerned(tigers: Team) -> None:
    tigers.service.change_settings(CAPTAIN, max_players=1)
    tigers.check()
    tigers.answer(tigers.ana, Answer.YES)
    tigers.answer(tigers.ben, Answer.YES)  # waitlisted
    tigers.answer(tigers.ana, Answer.NO)  # Ben is promoted

    assert tigers.to(NotificationKind.WAITLISTED) == ["Ben"]
    assert tigers.to(NotificationKind.WAITLIST_PROMOTION) == ["Ben"]


def test_a_big_team_is_told_in_invitation_order_without_the_ones_who_left(
        tigers: Team) -> None:
    extra = [tigers.service.add_player(CAPTAIN, f"Player {i:02d}", email=f"p{i}@example.org")
             for i in range(70)]  # more invitees than the notifier keeps in one state row
    tigers.check()
    tigers.service.remove_player(CAPTAIN, "Ben")
    tigers.service.remove_player(CAPTAIN, "p65@example.org")

    tigers.service.cancel_game(CAPTAIN, "G1")

    told = [j.recipient_id for j in tigers.jobs() if j.kind is NotificationKind.CANCELLATION]
    expected = [tigers.cap, tigers.ana, tigers.cal, *extra[:65], *extra[66:]]
    assert told == [p.player_id for p in expected]
